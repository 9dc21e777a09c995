// Command chaos runs pgmotion under faults and checks that nothing is lost
// and, under exactly-once, nothing duplicated. `make chaos` runs it:
//
//	go run ./chaos -faults 100
//
// It starts, all on loopback, a throwaway PostgreSQL (internal/pglocal), a
// `pgmotion broker` with a data directory, and two `pgmotion connect`
// workers in one group that reach PostgreSQL and the broker through TCP
// proxies of its own. Under a steady load of inserts, updates and deletes
// that number each key's changes, it injects faults drawn from a seeded
// generator, waits after each for the connector to run and events to flow
// again, and at the end compares the topic with the table. See README.md,
// "Chaos run".
package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pgmotion/pgmotion/internal/pglocal"
	"github.com/pgmotion/pgmotion/internal/procs"
)

// options are the command line's settings.
type options struct {
	faults          int
	seed            uint64
	seedSet         bool
	duration        time.Duration
	mode            string
	kinds           string
	keep            bool
	bin             string
	keys            int
	maxOps          int
	period          time.Duration
	recoveryTimeout time.Duration
	catchUp         time.Duration
}

func defaultOptions() options {
	return options{
		faults:          100,
		duration:        14 * time.Minute,
		mode:            "both",
		kinds:           "all",
		bin:             "bin/pgmotion",
		keys:            500,
		maxOps:          20,
		period:          40 * time.Millisecond, // ~260 changes a second
		recoveryTimeout: 60 * time.Second,
		catchUp:         2 * time.Minute,
	}
}

func main() {
	o := defaultOptions()
	fs := flag.NewFlagSet("chaos", flag.ExitOnError)
	fs.IntVar(&o.faults, "faults", o.faults, "faults to inject in all; -mode both splits them between the two runs")
	seed := fs.Uint64("seed", 0, "seed of the fault generator and the load (default: a random one, printed)")
	fs.DurationVar(&o.duration, "duration", o.duration, "cap on the whole run; faults stop when it is reached, which fails the run")
	fs.StringVar(&o.mode, "mode", o.mode, "at-least-once, exactly-once or both")
	fs.StringVar(&o.kinds, "kinds", o.kinds, "comma-separated faults to draw from: worker-kill, broker-kill, pg-restart-fast, pg-restart-immediate, cut-postgres, cut-kafka, broker-pause (all)")
	fs.BoolVar(&o.keep, "keep", false, "keep the run's directory (PostgreSQL, broker data, every process's log)")
	fs.StringVar(&o.bin, "bin", o.bin, "the pgmotion binary")
	fs.DurationVar(&o.recoveryTimeout, "recovery-timeout", o.recoveryTimeout, "fault healed → connector RUNNING and events flowing, or the fault fails")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./chaos [-faults 100] [-seed S] [-duration 14m] [-mode at-least-once|exactly-once|both] [-kinds worker-kill,...] [-keep] [-bin bin/pgmotion]\n\n")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "seed" {
			o.seedSet = true
		}
	})
	o.seed = *seed
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, ok, err := run(ctx, o, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// run runs the chaos test with o, printing progress to logw and the report
// to out. It returns each mode's result and whether every check passed;
// an error means the run could not take place.
func run(ctx context.Context, o options, out, logw io.Writer) (_ []*result, ok bool, _ error) {
	var modes []mode
	switch o.mode {
	case "at-least-once":
		modes = []mode{atLeastOnce}
	case "exactly-once":
		modes = []mode{exactlyOnce}
	case "both":
		modes = []mode{atLeastOnce, exactlyOnce}
	default:
		return nil, false, fmt.Errorf("-mode %q: use at-least-once, exactly-once or both", o.mode)
	}
	kinds, err := parseKinds(o.kinds)
	if err != nil {
		return nil, false, err
	}
	if o.faults < 0 {
		return nil, false, fmt.Errorf("-faults %d: use 0 or more", o.faults)
	}
	if !o.seedSet {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.seed = binary.LittleEndian.Uint64(b[:]) >> 1
	}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return nil, false, err
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
		return nil, false, fmt.Errorf("%s not found: run make build (go build -o bin/pgmotion ./cmd/pgmotion), or point -bin at the binary", o.bin)
	}
	if out, err := exec.Command(bin, "connect", "--help").CombinedOutput(); err != nil {
		return nil, false, fmt.Errorf("%s connect --help: %v: %s", bin, err, out)
	}
	o.bin = bin

	start := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(logw, "chaos %6.1fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	dir, err := pglocal.MkdirTemp("pgmotion-chaos-")
	if err != nil {
		return nil, false, err
	}
	e := &env{opts: o, procs: &procs.Set{Banner: "chaos"}, dir: dir, logf: logf}
	defer func() {
		e.procs.StopAll(stopGrace)
		if e.pg != nil {
			sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			_ = e.pg.Stop(sctx)
			cancel()
		}
		if o.keep {
			logf("kept %s", dir)
		} else {
			_ = os.RemoveAll(dir)
		}
	}()

	all := plan(o.seed, o.faults, kinds)
	logf("seed %d: %d faults (go run ./chaos -seed %d -faults %d -mode %s -kinds %s replays them); directory %s",
		o.seed, o.faults, o.seed, o.faults, o.mode, o.kinds, dir)
	logf("starting PostgreSQL")
	e.pg, err = pglocal.Start(ctx, pglocal.Options{
		Dir: filepath.Join(dir, "pg"), Logical: true, Fast: true,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, false, err
	}

	var results []*result
	for i, m := range modes {
		// Each mode gets its share of the faults and of the time left,
		// less a reserve for catching up and checking.
		faults := all[len(all)*i/len(modes) : len(all)*(i+1)/len(modes)]
		left := o.duration - time.Since(start)
		deadline := time.Now().Add(left/time.Duration(len(modes)-i) - o.catchUp/2)
		logf("%s: %d faults", m.name, len(faults))
		r := e.runMode(ctx, m, faults, deadline)
		results = append(results, r)
		if ctx.Err() != nil {
			break
		}
	}
	ok = report(out, o, results, time.Since(start))
	if ctx.Err() != nil {
		return results, false, errors.New("interrupted")
	}
	return results, ok, nil
}
