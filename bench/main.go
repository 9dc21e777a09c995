// Command bench measures pgmotion against pg_recvlogical, PostgreSQL's own
// logical decoding client, on the same server, the same workload and in the
// same run: catch-up throughput on a backlog, latency while streaming a
// steady load live, and what each costs in memory and CPU; then how long a
// connector takes to move to another worker when its worker dies; then an
// initial snapshot of a large table against COPY of the same table; then a
// big transaction, an outbox table, and wide rows with TOASTed text.
// `make bench` runs it after building bin/pgmotion; see README.md for how
// to read the report.
//
// Everything lives in a temporary directory under /tmp: a throwaway
// PostgreSQL server (internal/pglocal), a fresh `pgmotion broker` process per
// pgmotion run, and the logs of every process. Each child runs in its own
// process group and is stopped on exit, on failure and on Ctrl-C.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pgmotion/pgmotion/internal/kafkasink"
	"github.com/pgmotion/pgmotion/internal/pglocal"
	"github.com/pgmotion/pgmotion/internal/procs"
)

// options are the command-line flags.
type flags struct {
	quick  bool
	keep   bool
	only   string
	bin    string
	before string
	reps   int
	// compression is every worker's --compression (producer.compression.type).
	compression string
	rows        int64
	latency     time.Duration
	// snapRows is the size of the snapshot group's table.
	snapRows int64
	// bigBytes is the size of the big transaction group's transaction.
	bigBytes int64
	// outboxRows is the outbox group's backlog.
	outboxRows int64
	// toastRows is the toast group's table.
	toastRows int64
	// snapCPURows is the snapcpu group's table.
	snapCPURows int64
	// eosRows is the exactly-once group's backlog.
	eosRows int64
}

func parseFlags() (flags, error) {
	var o flags
	flag.BoolVar(&o.quick, "quick", false, "development and CI smoke run: 100,000 rows, a 5 s latency run, a 200,000-row snapshot, a 50 MB transaction, 20,000 outbox rows, 1,000 TOAST rows and 100,000 exactly-once rows")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (server, broker data, logs) after the run")
	flag.StringVar(&o.only, "only", "", "run one group only: throughput, latency, failover, snapshot, bigtxn, outbox, toast, memory, snapcpu or eos")
	flag.StringVar(&o.bin, "bin", "bin/pgmotion", "the pgmotion binary to measure")
	flag.StringVar(&o.before, "before", "", "an earlier pgmotion build that the memory and snapcpu groups measure alongside -bin, in the same run")
	flag.IntVar(&o.reps, "reps", 2, "runs of each catch-up measurement and of each COPY baseline; the best is reported")
	flag.StringVar(&o.compression, "compression", kafkasink.DefaultCompression, "the workers' producer compression, as pgmotion connect --compression: "+kafkasink.Compressions+"; the default is pgmotion's")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./bench [-quick] [-keep] [-only throughput|latency|failover|snapshot|bigtxn|outbox|toast|memory|snapcpu|eos] [-compression none|gzip|snappy|lz4|zstd] [-bin bin/pgmotion] [-before path/to/pgmotion]\n\n"+
			"Measures pgmotion against pg_recvlogical on a throwaway PostgreSQL server; see bench/README.md.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q: bench takes flags only", flag.Arg(0))
	}
	switch o.only {
	case "", "throughput", "latency", "failover", "snapshot", "bigtxn", "outbox", "toast", "memory", "snapcpu", "eos":
	default:
		return o, fmt.Errorf("-only %q: want throughput, latency, failover, snapshot, bigtxn, outbox, toast, memory, snapcpu or eos", o.only)
	}
	if err := kafkasink.CheckCompression(o.compression); err != nil {
		return o, fmt.Errorf("-compression %q: want %s", o.compression, kafkasink.Compressions)
	}
	if o.reps < 1 {
		return o, fmt.Errorf("-reps %d: want 1 or more", o.reps)
	}
	o.rows, o.latency, o.snapRows, o.bigBytes, o.outboxRows, o.toastRows = 1_000_000, 20*time.Second, 5_000_000, 2<<30, 500_000, 10_000
	o.snapCPURows = 2_000_000
	o.eosRows = 1_000_000
	if o.quick {
		o.rows, o.latency, o.snapRows, o.bigBytes, o.outboxRows, o.toastRows = 100_000, 5*time.Second, 200_000, 50<<20, 20_000, 1_000
		o.snapCPURows = 200_000
		o.eosRows = 100_000
	}
	return o, nil
}

// env is one benchmark run: its directory, server, processes and the
// commands it ran, for the report.
type env struct {
	opts        flags
	dir         string
	bin         string // absolute path of bin/pgmotion
	beforeBin   string // absolute path of -before, or ""
	recvlogical string // absolute path of pg_recvlogical
	procs       *procs.Set
	pg          *pglocal.Server
	dsn         string
	db          *db
	began       time.Time

	mu        sync.Mutex
	workerBin string // the build workers run, when not bin (lean.go)
	commands  []command
	connector string // the connector file of the first pgmotion run
	// workerEnv is added to the environment of the workers started next
	// (the exactly-once group's worker setting).
	workerEnv []string
}

// command is a representative command line the benchmark ran, for the
// report; the first of each kind is kept.
type command struct{ kind, text string }

func main() { os.Exit(run()) }

func run() int {
	opts, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	e := &env{opts: opts, procs: &procs.Set{}, began: time.Now()}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "\nbench: %s: stopping every process it started (again to kill them at once)\n", s)
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "bench: killing")
		e.procs.KillAll()
		if e.pg != nil {
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = e.pg.Stop(sctx)
			scancel()
		}
		os.Exit(130)
	}()

	if err := e.check(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	rep := &report{env: e, loadStart: loadAverage()}
	rep.busyBefore, _ = cpuBusy(time.Second)
	err = e.setup(ctx, rep)
	if err == nil {
		err = e.measure(ctx, rep)
	}
	rep.loadEnd = loadAverage()
	e.cleanup()
	rep.interrupted = ctx.Err() != nil
	if !rep.when.IsZero() { // setup got as far as describing the machine
		rep.print(os.Stdout)
	}

	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "bench: interrupted")
		return 130
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	case rep.failed():
		fmt.Fprintln(os.Stderr, "bench: some measurements failed; see the report")
		return 1
	}
	return 0
}

// check finds the binaries before anything starts, so that a missing one
// fails at once with what to do about it.
func (e *env) check() error {
	bin, err := filepath.Abs(e.opts.bin)
	if err != nil {
		return err
	}
	fi, err := os.Stat(bin)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s not found or not executable: run make build (go build -o bin/pgmotion ./cmd/pgmotion) from the repository root, or point -bin at the binary", e.opts.bin)
	}
	e.bin = bin
	for _, sub := range []string{"broker", "connect"} {
		if out, err := exec.Command(bin, sub, "--help").CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s --help failed (%v): %s: rebuild it with make build", e.opts.bin, sub, err, strings.TrimSpace(string(out)))
		}
	}
	if e.opts.before != "" {
		if e.beforeBin, err = filepath.Abs(e.opts.before); err != nil {
			return err
		}
		if out, err := exec.Command(e.beforeBin, "connect", "--help").CombinedOutput(); err != nil {
			return fmt.Errorf("-before %s: connect --help failed (%v): %s: point -before at a pgmotion binary", e.opts.before, err, strings.TrimSpace(string(out)))
		}
	}
	binDir, err := pglocal.FindBinDir()
	if err != nil {
		return err
	}
	e.recvlogical = filepath.Join(binDir, "pg_recvlogical")
	if e.opts.only == "" || e.opts.only == "throughput" || e.opts.only == "toast" {
		if _, err := os.Stat(e.recvlogical); err != nil {
			return fmt.Errorf("pg_recvlogical, the baseline, not found in %s beside the server binaries: install PostgreSQL's client tools (apt-get install postgresql-client), or run -only latency, failover, snapshot, bigtxn or outbox", binDir)
		}
	}
	return nil
}

// setup creates the temporary directory, starts PostgreSQL and creates
// the bench database.
func (e *env) setup(ctx context.Context, rep *report) error {
	dir, err := os.MkdirTemp("/tmp", "pgmotion-bench-")
	if err != nil {
		return fmt.Errorf("create a temporary directory: %w", err)
	}
	// As root, the server runs as an unprivileged user that must reach
	// its directory inside this one.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	e.dir = dir
	e.logf("working in %s", dir)

	e.logf("starting PostgreSQL")
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e.pg, err = pglocal.Start(ctx, pglocal.Options{Dir: filepath.Join(dir, "pg"), Logical: true, Fast: true, Log: log})
	if err != nil {
		return err
	}
	e.recvlogical = filepath.Join(e.pg.BinDir(), "pg_recvlogical")
	if err := e.pg.CreateDatabase(ctx, benchDB); err != nil {
		return err
	}
	e.dsn = e.pg.DSN(benchDB)
	if e.db, err = connectDB(ctx, e.dsn); err != nil {
		return err
	}
	if err := rep.describeSetup(ctx); err != nil {
		return err
	}
	// The server's default, synchronous_commit=off, would leave a commit
	// out of the walsender's reach until the WAL writer's next flush (up to
	// wal_writer_delay, 200 ms): the benchmark's own sessions commit
	// synchronously, as production servers do; fsync=off keeps it cheap.
	return e.db.exec(ctx, "SET synchronous_commit = on")
}

// measure runs the groups the flags ask for.
func (e *env) measure(ctx context.Context, rep *report) error {
	if e.opts.only == "" || e.opts.only == "throughput" {
		for _, w := range workloads(e.opts.rows) {
			rep.throughput = append(rep.throughput, e.throughput(ctx, w))
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	if e.opts.only == "" || e.opts.only == "latency" {
		e.logf("latency: %s at %s events/s", e.opts.latency, commas(int64(rate(latencyBatch, latencyPeriod))))
		rep.latency = e.latency(ctx, e.opts.latency)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if e.opts.only == "" || e.opts.only == "failover" {
		e.logf("failover: %d workers, the owner killed with SIGKILL under %s events/s", failoverWorkers, commas(int64(rate(failoverBatch, failoverPeriod))))
		rep.failover = e.failover(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if e.opts.only == "" || e.opts.only == "snapshot" {
		e.logf("snapshot: a %s-row table, COPY against pgmotion with 1, 2 and 4 threads", commas(e.opts.snapRows))
		rep.snapshot = e.snapshotBench(ctx, e.opts.snapRows)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if e.opts.only == "" || e.opts.only == "bigtxn" {
		rep.bigTxn = e.bigTxn(ctx, e.opts.bigBytes)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if e.opts.only == "" || e.opts.only == "outbox" {
		rep.outbox = e.outboxBench(ctx, e.opts.outboxRows)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if e.opts.only == "" || e.opts.only == "toast" {
		rep.toast = e.toastBench(ctx, e.opts.toastRows)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if e.opts.only == "" || e.opts.only == "memory" {
		rep.memory = e.memoryBench(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if e.opts.only == "" || e.opts.only == "snapcpu" {
		e.logf("snapcpu: a %s-row table, %d threads", commas(e.opts.snapCPURows), snapCPUThreads)
		rep.snapCPU = e.snapCPUBench(ctx, e.opts.snapCPURows)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if e.opts.only == "" || e.opts.only == "eos" {
		rep.eos = e.eosBench(ctx, e.opts.eosRows)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// cleanup stops every process, then the server, and removes the directory
// unless -keep.
func (e *env) cleanup() {
	e.procs.StopAll(5 * time.Second)
	if e.db != nil {
		e.db.close()
	}
	if e.pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := e.pg.Stop(ctx); err != nil {
			e.logf("warning: %v", err)
		}
	}
	if e.dir == "" {
		return
	}
	if e.opts.keep {
		e.logf("kept %s (server, broker data and process logs)", e.dir)
		return
	}
	if err := os.RemoveAll(e.dir); err != nil {
		e.logf("warning: remove %s: %v", e.dir, err)
	}
}

// logf prints a progress line on stderr; the report goes to stdout.
func (e *env) logf(format string, args ...any) {
	el := time.Since(e.began)
	fmt.Fprintf(os.Stderr, "[%3d:%02d] %s\n", int(el.Minutes()), int(el.Seconds())%60, fmt.Sprintf(format, args...))
}

// noteCommand records the first command line of each kind for the report.
func (e *env) noteCommand(kind, text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.commands {
		if c.kind == kind {
			return
		}
	}
	e.commands = append(e.commands, command{kind, text})
}

// noteConnector keeps the first connector file's contents for the report.
func (e *env) noteConnector(path string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.connector != "" {
		return
	}
	if b, err := os.ReadFile(path); err == nil {
		e.connector = string(b)
	}
}

// clientEnv is the environment for PostgreSQL client tools: without PG*
// variables, which could point them elsewhere or change their behaviour.
func clientEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

// shellQuote renders argv as a command line that a POSIX shell would run
// unchanged.
func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@%+", r))
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
