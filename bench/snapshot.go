package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/procs"
)

// The snapshot measurement: an initial snapshot (snapshot.mode=initial_only)
// of one table of ordinary columns with 1, 2 and 4 threads, against
// `COPY (SELECT * FROM snap) TO STDOUT` of the same table in the same run.
const (
	snapTable       = "snap"
	snapPublication = "bench_snap_pub"
	snapPrefix      = "snap"
	snapTopic       = snapPrefix + ".public." + snapTable
	snapConnector   = "snapshot"
	offsetsTopic    = "connect-offsets" // pgmotion's default offset.storage.topic
	// snapTarget is the goal of issue 4: with 2 threads, at least 0.7× the
	// COPY rate.
	snapTarget        = 0.7
	snapTargetThreads = 2
	snapPoll          = 20 * time.Millisecond
	snapStall         = 60 * time.Second // no new record for this long fails a run
	snapOffsetWait    = 30 * time.Second // last record → snapshot_completed in connect-offsets
	snapSamples       = 8                // spots per partition where value sizes are sampled
	snapSampleLen     = 500              // records read at each spot
)

const (
	snapCreateSQL = `CREATE TABLE snap (id bigint PRIMARY KEY, n int, price numeric(10,2), name text, created timestamptz, active boolean)`
	// snapFillSQL inserts rows 1..$1 in one statement.
	snapFillSQL = `INSERT INTO snap (id, n, price, name, created, active)
SELECT g, (g % 100000)::int, (g % 1000000) / 100.0, 'name-' || g || '-abcdefghij',
       now() - g * interval '1 second', g % 2 = 0
FROM generate_series(1, $1::bigint) AS g`
	snapCopySQL = `COPY (SELECT * FROM snap) TO STDOUT`
)

// Tools of the COPY baseline.
const (
	copyPsql = "psql"
	copyPgx  = "pgx CopyTo"
)

// snapshotResult is the snapshot measurement: the table, the COPY runs and
// the snapshot runs.
type snapshotResult struct {
	rows       int64
	heapBytes  int64 // pg_relation_size of the table
	relpages   int64
	reltuples  int64
	fill       time.Duration // INSERT, VACUUM ANALYZE and CHECKPOINT
	copyBytes  int64         // the table as COPY text, counted by pgx
	copies     []*copyRun
	runs       []*snapshotRun
	connector  string // the first run's connector file
	psqlAbsent string // why there is no psql run, or ""
	err        error  // a failure outside the runs, e.g. while filling the table
}

// copyRun is one COPY of the table to nowhere.
type copyRun struct {
	tool  string
	rep   int
	wall  time.Duration
	bytes int64 // COPY text received (pgx only)
	rows  int64
	err   error
}

// snapshotRun is one snapshot of the table by a fresh worker into a fresh
// broker.
type snapshotRun struct {
	threads int
	schemas bool // key and value converters with schemas.enable=true
	slot    string
	// With -before, the build that ran it, its binary and its round
	// (the snapshot group's; snapcpu keeps its own).
	build, bin string
	rep        int

	// Times. The finish line is the moment the table topic's end offsets
	// add up to the table's rows: Kafka has acknowledged every record.
	total    time.Duration // worker process start → finish line
	startup  time.Duration // worker process start → its "snapshot starting" log line
	snapshot time.Duration // "snapshot starting" → finish line; total if the line was not found
	fromLog  bool          // snapshot was measured from the log line
	stored   time.Duration // worker process start → connect-offsets holds snapshot_completed:true
	emitted  time.Duration // "snapshot starting" → "snapshot done", the worker's own timing

	records    int64   // records in the topic at the finish line
	loggedRows int64   // rows in the worker's "snapshot done" line, or -1
	split      string  // threads and ranges, as the worker logged them, or ""
	avgKey     float64 // bytes per record key, sampled
	avgValue   float64 // bytes per record value, sampled

	cpu, brokerCPU         time.Duration
	peakKiB, brokerPeakKiB int64
	notes                  []string
	err                    error
}

// label names a run's configuration in the report.
func (r *snapshotRun) label() string {
	s := fmt.Sprintf("%d thread", r.threads)
	if r.threads != 1 {
		s += "s"
	}
	if r.schemas {
		return s + ", schemas"
	}
	return s + ", schemaless"
}

// snapshotConfigs are the runs, in order: 1, 2 and 4 threads without
// schemas, then 2 threads with the Debezium default, schemas in every
// record.
func snapshotConfigs() []snapshotRun {
	return []snapshotRun{
		{threads: 1, slot: "bench_snap_t1"},
		{threads: 2, slot: "bench_snap_t2"},
		{threads: 4, slot: "bench_snap_t4"},
		{threads: 2, schemas: true, slot: "bench_snap_t2_schemas"},
	}
}

// snapshotSchedule lists the group's pgmotion runs in the order they
// run: each configuration once, by the -bin build; with -before, each
// configuration reps times per build, in builds' ABBA order, so that the
// two builds' runs of a configuration are next to each other in time.
func (e *env) snapshotSchedule() []*snapshotRun {
	var runs []*snapshotRun
	for _, cfg := range snapshotConfigs() {
		if e.beforeBin == "" {
			r := cfg
			runs = append(runs, &r)
			continue
		}
		for rep := 1; rep <= e.opts.reps; rep++ {
			for _, b := range e.builds(rep) {
				r := cfg
				r.build, r.bin, r.rep = b.label, b.bin, rep
				r.slot = fmt.Sprintf("%s_%s_%d", cfg.slot, b.label, rep)
				runs = append(runs, &r)
			}
		}
	}
	return runs
}

// name is a run's configuration, and with -before its build and round.
func (r *snapshotRun) name() string {
	if r.build == "" {
		return r.label()
	}
	return fmt.Sprintf("%s, %s %d", r.label(), r.build, r.rep)
}

// bestSnapshot returns the fastest successful run of the configuration
// labelled label by build, or nil.
func (s *snapshotResult) bestSnapshot(label, build string) *snapshotRun {
	var b *snapshotRun
	for _, r := range s.runs {
		if r.label() == label && r.build == build && r.err == nil && (b == nil || r.snapshot < b.snapshot) {
			b = r
		}
	}
	return b
}

// copyRef returns the COPY reference: psql's best run if there is one,
// else pgx's.
func (s *snapshotResult) copyRef() *copyRun {
	if b := s.bestCopy(copyPsql); b != nil {
		return b
	}
	return s.bestCopy(copyPgx)
}

// bestCopy returns the fastest successful COPY run of tool, or nil.
func (s *snapshotResult) bestCopy(tool string) *copyRun {
	var b *copyRun
	for _, c := range s.copies {
		if c.tool == tool && c.err == nil && (b == nil || c.wall < b.wall) {
			b = c
		}
	}
	return b
}

// failed reports whether any part of the measurement failed. A ratio
// below the target is not a failure.
func (s *snapshotResult) failed() bool {
	return s.err != nil || slices.ContainsFunc(s.copies, func(c *copyRun) bool { return c.err != nil }) ||
		slices.ContainsFunc(s.runs, func(r *snapshotRun) bool { return r.err != nil })
}

// snapshotBench runs the snapshot measurement on a table of rows rows.
func (e *env) snapshotBench(ctx context.Context, rows int64) *snapshotResult {
	res := &snapshotResult{rows: rows}
	if res.err = e.fillSnapTable(ctx, res); res.err != nil {
		return res
	}
	psql := filepath.Join(e.pg.BinDir(), "psql")
	if _, err := os.Stat(psql); err != nil {
		psql = ""
		res.psqlAbsent = fmt.Sprintf("psql not found in %s: the pgx run is the reference", e.pg.BinDir())
	}
	for rep := 1; rep <= e.opts.reps; rep++ {
		if psql != "" {
			e.logf("snapshot: COPY run %d/%d: %s", rep, e.opts.reps, copyPsql)
			c := e.copyPsql(ctx, psql, rep)
			res.copies = append(res.copies, c)
			e.logCopy(c)
		}
		e.logf("snapshot: COPY run %d/%d: %s", rep, e.opts.reps, copyPgx)
		c := e.copyPgx(ctx, rep)
		res.copies = append(res.copies, c)
		e.logCopy(c)
		if c.err == nil {
			res.copyBytes = c.bytes
		}
		if ctx.Err() != nil {
			return res
		}
	}
	ref := res.copyRef()
	if ref == nil {
		res.err = errors.New("no COPY run succeeded: nothing to compare the snapshots with")
		return res
	}
	limit := max(5*time.Minute, 20*ref.wall)
	for _, r := range e.snapshotSchedule() {
		if r.build == "" {
			e.logf("snapshot: pgmotion, %s", r.label())
		} else {
			e.logf("snapshot: pgmotion %s run %d/%d, %s", r.build, r.rep, e.opts.reps, r.label())
		}
		e.withBuild(build{r.build, r.bin}, func() { e.runSnapshot(ctx, res, r, limit) })
		res.runs = append(res.runs, r)
		e.logSnapshot(res, r)
		if ctx.Err() != nil {
			return res
		}
	}
	return res
}

// fillSnapTable creates the table and its publication, fills it and
// vacuums it, so that relpages and reltuples, by which the snapshot splits
// the table into ctid ranges, are right and every tuple's hint bits are
// set before anything reads it.
func (e *env) fillSnapTable(ctx context.Context, res *snapshotResult) error {
	d := e.db
	for _, sql := range []string{`DROP PUBLICATION IF EXISTS ` + snapPublication, `DROP TABLE IF EXISTS ` + snapTable, snapCreateSQL,
		`CREATE PUBLICATION ` + snapPublication + ` FOR TABLE ` + snapTable} {
		if err := d.exec(ctx, sql); err != nil {
			return err
		}
	}
	e.logf("snapshot: filling table %s with %s rows", snapTable, commas(res.rows))
	start := time.Now()
	if err := d.exec(ctx, snapFillSQL, res.rows); err != nil {
		return err
	}
	for _, sql := range []string{`VACUUM ANALYZE ` + snapTable, `CHECKPOINT`} {
		if err := d.exec(ctx, sql); err != nil {
			return err
		}
	}
	res.fill = time.Since(start)
	for _, q := range []struct {
		dst *int64
		sql string
	}{
		{&res.heapBytes, `SELECT pg_relation_size('snap')::text`},
		{&res.relpages, `SELECT relpages::text FROM pg_class WHERE oid = 'snap'::regclass`},
		{&res.reltuples, `SELECT reltuples::bigint::text FROM pg_class WHERE oid = 'snap'::regclass`},
	} {
		v, err := d.scalar(ctx, q.sql)
		if err != nil {
			return err
		}
		if *q.dst, err = strconv.ParseInt(v, 10, 64); err != nil {
			return fmt.Errorf("%s: %q: %w", q.sql, v, err)
		}
	}
	e.logf("snapshot: filled in %s: %s MB of heap, relpages %s, reltuples %s", secs(res.fill), commas(res.heapBytes>>20), commas(res.relpages), commas(res.reltuples))
	return nil
}

// countWriter counts the bytes written to it and throws them away.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// copyPgx copies the table through pgx's CopyTo on the control
// connection into a counting io.Discard.
func (e *env) copyPgx(ctx context.Context, rep int) *copyRun {
	c := &copyRun{tool: copyPgx, rep: rep}
	var w countWriter
	start := time.Now()
	tag, err := e.db.conn.PgConn().CopyTo(ctx, &w, snapCopySQL)
	c.wall = time.Since(start)
	if err != nil {
		c.err = fmt.Errorf("%s: %w", snapCopySQL, err)
		return c
	}
	c.bytes, c.rows = w.n, tag.RowsAffected()
	return c
}

// copyPsql runs `psql -c "COPY …"` with its output to /dev/null and times
// it from process start to exit, connecting included, as a user would.
func (e *env) copyPsql(ctx context.Context, psql string, rep int) *copyRun {
	c := &copyRun{tool: copyPsql, rep: rep}
	argv := []string{psql, "-X", "-q", "-d", e.dsn, "-c", snapCopySQL}
	e.noteCommand("COPY baseline", shellQuote(argv)+" > /dev/null")
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		c.err = err
		return c
	}
	defer devnull.Close()
	dir := filepath.Join(e.dir, "snapshot")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.err = err
		return c
	}
	logPath := filepath.Join(dir, fmt.Sprintf("psql-%d.log", rep))
	logFile, err := os.Create(logPath)
	if err != nil {
		c.err = err
		return c
	}
	defer logFile.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = clientEnv()
	cmd.Stdout, cmd.Stderr = devnull, logFile
	p, err := e.procs.Start(copyPsql, cmd, logPath)
	if err != nil {
		c.err = err
		return c
	}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	if err := p.Wait(wctx); err != nil {
		p.Stop(5 * time.Second)
		c.err = fmt.Errorf("psql: %w; its output:\n%s", err, p.LogTail(10))
		return c
	}
	c.wall = p.Ended().Sub(p.Started())
	return c
}

// logCopy prints a COPY run on the progress stream.
func (e *env) logCopy(c *copyRun) {
	if c.err != nil {
		e.logf("  %s failed: %v", c.tool, c.err)
		return
	}
	s := fmt.Sprintf("  %s: %s", c.tool, secs(c.wall))
	if c.bytes > 0 {
		s += fmt.Sprintf(", %s rows, %s MB, %s rows/s", commas(c.rows), commas(c.bytes>>20), short(rate(c.rows, c.wall)))
	}
	e.logf("%s", s)
}

// runSnapshot runs one snapshot: a fresh broker, a fresh worker with the
// connector file, and its own slot, which it drops afterwards.
func (e *env) runSnapshot(ctx context.Context, res *snapshotResult, r *snapshotRun, limit time.Duration) {
	dir := filepath.Join(e.dir, "snapshot", r.slot)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.err = err
		return
	}
	defer func() {
		if !e.opts.keep {
			// Millions of records take gigabytes; the next run has its own
			// broker.
			_ = os.RemoveAll(filepath.Join(dir, "broker", "data"))
		}
		// The worker created the slot; it is gone once the worker is.
		if err := e.db.dropSlot(context.WithoutCancel(ctx), r.slot); err != nil {
			e.logf("warning: %v", err)
		}
	}()
	r.err = e.snapshotOnce(ctx, res, r, dir, limit)
}

func (e *env) snapshotOnce(ctx context.Context, res *snapshotResult, r *snapshotRun, dir string, limit time.Duration) error {
	b, err := e.startBroker(ctx, filepath.Join(dir, "broker"))
	if err != nil {
		return err
	}
	defer b.Stop(15 * time.Second)
	ow, err := newOffsetWatcher(b.addr)
	if err != nil {
		return err
	}
	defer ow.close()
	// Connect before the clock starts.
	if _, err := ow.eventsIn(ctx, snapTopic); err != nil {
		return err
	}
	oc, err := newTopicConsumer(b.addr, offsetsTopic, "pgmotion-bench-offsets-reader")
	if err != nil {
		return err
	}
	defer oc.Close()
	completed := make(chan time.Time, 1)
	cctx, stopConsumer := context.WithCancel(ctx)
	var cwg sync.WaitGroup
	cwg.Go(func() { watchSnapshotCompleted(cctx, oc, snapConnector, snapPrefix, completed) })
	defer func() { stopConsumer(); cwg.Wait() }()

	w, err := e.startSnapshotWorker(dir, b, r)
	if err != nil {
		return err
	}
	defer w.Stop(15 * time.Second)
	if res.connector == "" {
		if body, err := os.ReadFile(w.connectorPath); err == nil {
			res.connector = string(body)
		}
	}

	var (
		got          int64
		lastProgress = time.Now()
		errSince     time.Time
		finish       time.Time
		stored       time.Time
	)
	tick := time.NewTicker(snapPoll)
	defer tick.Stop()
	for finish.IsZero() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		n, err := ow.eventsIn(ctx, snapTopic)
		now := time.Now()
		switch {
		case err == nil:
			errSince = time.Time{}
			if n > got {
				got, lastProgress = n, now
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errSince.IsZero():
			errSince = now
		case now.Sub(errSince) > 10*time.Second:
			return fmt.Errorf("broker stopped answering: %w", err)
		}
		select {
		case stored = <-completed:
		default:
		}
		switch {
		case got >= res.rows:
			finish = now
		case w.Exited():
			return w.failure(fmt.Sprintf("only %s of %s records arrived", commas(got), commas(res.rows)))
		case !stored.IsZero():
			return w.failure(fmt.Sprintf("connect-offsets says the snapshot is complete, but only %s of %s records are in %s", commas(got), commas(res.rows), snapTopic))
		case now.Sub(lastProgress) > snapStall:
			return w.failure(fmt.Sprintf("stalled: %s of %s records arrived, none in the last %s", commas(got), commas(res.rows), snapStall))
		case now.Sub(w.Started()) > limit:
			return w.failure(fmt.Sprintf("gave up after %s (20× the COPY, at least 5 minutes): %s of %s records arrived", limit.Round(time.Second), commas(got), commas(res.rows)))
		}
	}
	r.records = got
	r.total = finish.Sub(w.Started())
	// Read CPU and memory at the finish line, before anything else.
	if s, err := procs.Measure(w.Pid()); err == nil {
		r.cpu, r.peakKiB = s.CPU, s.PeakKiB
	} else {
		r.notes = append(r.notes, "could not read the worker's /proc: "+err.Error())
	}
	if s, err := procs.Measure(b.Pid()); err == nil {
		r.brokerCPU, r.brokerPeakKiB = s.CPU, s.PeakKiB
	}

	// The snapshot is acknowledged once connect-offsets says so; offsets
	// are written every offset.flush.interval.ms (1 s by default).
	if stored.IsZero() {
		select {
		case stored = <-completed:
		case <-time.After(snapOffsetWait):
			r.notes = append(r.notes, fmt.Sprintf("connect-offsets held no offset with snapshot_completed:true %s after the last record: a restarted worker would snapshot again", snapOffsetWait))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if !stored.IsZero() {
		r.stored = stored.Sub(w.Started())
	}

	// Time the snapshot itself from the worker's log, which leaves out
	// the process start-up: connecting to Kafka, joining the group,
	// creating the slot. Log times have millisecond precision.
	r.snapshot, r.loggedRows = r.total, -1
	if f, err := os.Open(w.LogPath()); err == nil {
		lt := scanSnapshotLog(f)
		f.Close()
		if !lt.start.IsZero() {
			r.fromLog = true
			r.startup = lt.start.Sub(w.Started().Round(0))
			r.snapshot = finish.Round(0).Sub(lt.start)
			if !lt.done.IsZero() {
				r.emitted = lt.done.Sub(lt.start)
			}
		}
		r.loggedRows = lt.rows
		r.split = describeSplit(lt.threads, lt.ranges)
		for _, msg := range lt.warnings {
			r.notes = append(r.notes, "the worker warned: "+msg)
		}
	}
	if !r.fromLog {
		r.notes = append(r.notes, `no "snapshot starting" line in the worker's log: the snapshot is timed from process start`)
	}
	if r.loggedRows >= 0 && r.loggedRows != res.rows {
		r.notes = append(r.notes, fmt.Sprintf("the worker logged %s rows snapshotted, not %s", commas(r.loggedRows), commas(res.rows)))
	}

	// A snapshot emits each row once: the count must stay put.
	time.Sleep(time.Second)
	ends, err := ow.endOffsets(ctx, snapTopic)
	if err == nil {
		var n int64
		for _, o := range ends {
			n += o
		}
		if n != res.rows {
			r.notes = append(r.notes, fmt.Sprintf("%s records in %s 1 s after the finish line, for %s rows", commas(n), snapTopic, commas(res.rows)))
		}
		if r.avgKey, r.avgValue, err = sampleRecordSizes(ctx, b.addr, snapTopic, ends); err != nil {
			r.notes = append(r.notes, "could not sample record sizes: "+err.Error())
		}
	}
	if !w.Stop(15 * time.Second) {
		r.notes = append(r.notes, "the worker did not exit within 15 s of SIGTERM and was killed")
	} else if st := w.DescribeExit(); st != "exited with status 0" {
		r.notes = append(r.notes, "on SIGTERM the worker "+st)
	}
	return nil
}

// startSnapshotWorker writes the run's connector file and starts `pgmotion
// connect` on it, logging JSON, with its REST API on a free port so that
// nothing else on the machine stands in its way.
func (e *env) startSnapshotWorker(dir string, b *broker, r *snapshotRun) (*worker, error) {
	cfg := e.pgConfig(snapPrefix, r.slot)
	cfg[options.PropPublicationName] = snapPublication
	cfg[options.PropSnapshotMode] = string(options.SnapshotInitialOnly)
	cfg[options.PropTableInclude] = "public." + snapTable
	cfg[options.PropSnapshotMaxThreads] = strconv.Itoa(r.threads)
	cfg[options.PropKeySchemasEnable] = strconv.FormatBool(r.schemas)
	cfg[options.PropValueSchemasEnable] = strconv.FormatBool(r.schemas)
	body, err := json.MarshalIndent(map[string]any{"name": snapConnector, "config": cfg}, "", "  ")
	if err != nil {
		return nil, err
	}
	cpath := filepath.Join(dir, "connector.json")
	if err := os.WriteFile(cpath, body, 0o644); err != nil {
		return nil, fmt.Errorf("write connector file: %w", err)
	}
	port, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	argv := append(e.connectArgs(b.addr), "--rest", fmt.Sprintf("127.0.0.1:%d", port),
		"--data-dir", filepath.Join(dir, "worker"), "--log-format", "json", cpath)
	e.noteCommand("pgmotion connect, snapshot", shellQuote(argv))
	p, err := e.procs.Start("pgmotion connect", exec.Command(argv[0], argv[1:]...), filepath.Join(dir, "worker.log"))
	if err != nil {
		return nil, err
	}
	return &worker{Proc: p, argv: argv, connectorPath: cpath}, nil
}

// watchSnapshotCompleted reads connect-offsets from the start and sends
// the time it first sees an offset of connector (topic.prefix server)
// with snapshot_completed:true, then returns. It owns cl's polling.
func watchSnapshotCompleted(ctx context.Context, cl *kgo.Client, connector, server string, completed chan<- time.Time) {
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		now := time.Now()
		found := false
		fs.EachRecord(func(rec *kgo.Record) {
			if !found && offsetKeyIs(rec.Key, connector, server) && snapshotCompleted(rec.Value) {
				found = true
			}
		})
		if found {
			completed <- now
			return
		}
	}
}

// offsetKeyIs reports whether key is Kafka Connect's offset key of a
// connector's source partition, ["<connector>",{"server":"<server>"}].
func offsetKeyIs(key []byte, connector, server string) bool {
	var k []json.RawMessage
	if json.Unmarshal(key, &k) != nil || len(k) != 2 {
		return false
	}
	var name string
	var part map[string]any
	if json.Unmarshal(k[0], &name) != nil || json.Unmarshal(k[1], &part) != nil {
		return false
	}
	s, ok := part["server"].(string)
	return name == connector && ok && s == server && len(part) == 1
}

// snapshotCompleted reports whether an offset value says the initial
// snapshot is complete: Debezium's "snapshot_completed":true. A tombstone
// or anything else is not.
func snapshotCompleted(value []byte) bool {
	var v struct {
		SnapshotCompleted bool `json:"snapshot_completed"`
	}
	return json.Unmarshal(value, &v) == nil && v.SnapshotCompleted
}

// snapshotLog is what the worker's log says about a snapshot.
type snapshotLog struct {
	start, done time.Time // the "snapshot starting" and "snapshot done" lines
	rows        int64     // rows_scanned in the "snapshot done" line, or -1
	// threads and ranges are the attributes of the "snapshot starting"
	// line, "" when it has none: how the worker split the work.
	threads, ranges string
	warnings        []string // the distinct messages of WARN and ERROR lines, the first few
}

// maxLogWarnings caps snapshotLog.warnings.
const maxLogWarnings = 5

// scanSnapshotLog finds the first "snapshot starting" and "snapshot done"
// lines in a worker's log, written by slog's JSON or text handler.
func scanSnapshotLog(r io.Reader) snapshotLog {
	out := snapshotLog{rows: -1}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		at, msg, attrs, ok := parseLogLine(sc.Bytes())
		if !ok {
			continue
		}
		if lvl := attrs["level"]; (lvl == "WARN" || lvl == "ERROR") && len(out.warnings) < maxLogWarnings && !slices.Contains(out.warnings, msg) {
			out.warnings = append(out.warnings, msg)
		}
		switch {
		case msg == "snapshot starting" && out.start.IsZero():
			out.start = at
			out.threads, out.ranges = attrs["threads"], attrs["ranges"]
		case msg == "snapshot done" && out.done.IsZero():
			out.done = at
			if n, err := strconv.ParseInt(attrs["rows_scanned"], 10, 64); err == nil {
				out.rows = n
			}
		}
	}
	return out
}

// describeSplit renders the "snapshot starting" line's threads and ranges
// attributes, or "" without them.
func describeSplit(threads, ranges string) string {
	var parts []string
	if threads != "" {
		parts = append(parts, threads+" thread"+plural(threads))
	}
	if ranges != "" {
		parts = append(parts, ranges+" range"+plural(ranges))
	}
	return strings.Join(parts, ", ")
}

func plural(n string) string {
	if n == "1" {
		return ""
	}
	return "s"
}

// parseLogLine reads the time, message and other attributes of one slog
// line, JSON ({"time":…,"msg":…}) or text (time=… msg="…" k=v).
func parseLogLine(line []byte) (at time.Time, msg string, attrs map[string]string, ok bool) {
	attrs = map[string]string{}
	line = bytes.TrimSpace(line)
	if len(line) > 0 && line[0] == '{' {
		var m map[string]any
		if json.Unmarshal(line, &m) != nil {
			return at, "", nil, false
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				attrs[k] = v
			case float64:
				attrs[k] = strconv.FormatFloat(v, 'f', -1, 64)
			}
		}
	} else {
		for s := string(line); s != ""; {
			k, rest, found := strings.Cut(s, "=")
			if !found {
				break
			}
			var v string
			if strings.HasPrefix(rest, `"`) {
				q, err := strconv.QuotedPrefix(rest)
				if err != nil {
					return at, "", nil, false
				}
				v, _ = strconv.Unquote(q)
				rest = rest[len(q):]
			} else {
				v, rest, _ = strings.Cut(rest, " ")
			}
			attrs[k] = v
			s = strings.TrimLeft(rest, " ")
		}
	}
	t, err := time.Parse(time.RFC3339Nano, attrs["time"])
	if err != nil || attrs["msg"] == "" {
		return at, "", nil, false
	}
	return t, attrs["msg"], attrs, true
}

// sampleRecordSizes returns the average key and value sizes of topic's
// records, read at snapSamples evenly spaced spots of each partition,
// snapSampleLen records at each: reading every record of a large snapshot
// back would take longer than the snapshot.
func sampleRecordSizes(ctx context.Context, addr, topic string, ends map[int32]int64) (avgKey, avgValue float64, err error) {
	var keyBytes, valueBytes, n int64
	for p, end := range ends {
		for _, at := range samplePoints(end, snapSamples, snapSampleLen) {
			k, v, m, err := readRecords(ctx, addr, topic, p, at, min(snapSampleLen, end-at))
			if err != nil {
				return 0, 0, err
			}
			keyBytes, valueBytes, n = keyBytes+k, valueBytes+v, n+m
		}
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("no record read from %s", topic)
	}
	return float64(keyBytes) / float64(n), float64(valueBytes) / float64(n), nil
}

// samplePoints returns up to k offsets evenly spaced in [0, end-length],
// the starts of k runs of length records that stay inside the partition.
func samplePoints(end int64, k int, length int64) []int64 {
	if end <= 0 || k <= 0 {
		return nil
	}
	last := max(end-length, 0)
	if last == 0 {
		return []int64{0}
	}
	pts := make([]int64, 0, k)
	for i := range k {
		at := last * int64(i) / int64(max(k-1, 1))
		if len(pts) == 0 || at != pts[len(pts)-1] {
			pts = append(pts, at)
		}
	}
	return pts
}

// readRecords reads count records of one partition from offset at and
// returns the bytes of their keys and values and how many it read.
func readRecords(ctx context.Context, addr, topic string, partition int32, at, count int64) (keyBytes, valueBytes, n int64, err error) {
	err = eachRecord(ctx, addr, topic, partition, at, count, func(r *kgo.Record) {
		keyBytes += int64(len(r.Key))
		valueBytes += int64(len(r.Value))
		n++
	})
	if err != nil {
		return 0, 0, 0, err
	}
	return keyBytes, valueBytes, n, nil
}

// eachRecord reads count records of one partition from offset at and
// calls fn with each, in order.
func eachRecord(ctx context.Context, addr, topic string, partition int32, at, count int64, fn func(*kgo.Record)) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID("pgmotion-bench-sampler"),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(at)}}),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		return fmt.Errorf("kafka client for %s: %w", addr, err)
	}
	defer cl.Close()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var n int64
	for n < count {
		fs := cl.PollFetches(rctx)
		if rctx.Err() != nil {
			return fmt.Errorf("read %s[%d] from offset %d: %d of %d records within 30 s", topic, partition, at, n, count)
		}
		if err := fs.Err0(); err != nil {
			return fmt.Errorf("read %s[%d] from offset %d: %w", topic, partition, at, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= at && r.Offset < at+count && n < count {
				fn(r)
				n++
			}
		})
	}
	return nil
}

// logSnapshot prints a one-line summary of a snapshot run on the progress
// stream.
func (e *env) logSnapshot(res *snapshotResult, r *snapshotRun) {
	if r.err != nil {
		e.logf("  failed: %v", r.err)
		return
	}
	e.logf("  %s", res.summary(r))
	for _, n := range r.notes {
		e.logf("  note: %s", n)
	}
}

// summary is a run's headline: its rate and its ratio to COPY.
func (s *snapshotResult) summary(r *snapshotRun) string {
	line := fmt.Sprintf("snapshot %s rows, %s: %s rows/s (%s), %s COPY",
		commas(s.rows), r.label(), short(rate(s.rows, r.snapshot)), mbPerSec(s.copyBytes, r.snapshot),
		ratio(rate(s.rows, r.snapshot), s.copyRate()))
	if ref := s.copyRef(); ref != nil {
		line += fmt.Sprintf(" (%s rows/s, %s)", short(s.copyRate()), ref.tool)
	}
	if r.threads == snapTargetThreads && !r.schemas {
		line += "   " + verdict(rate(s.rows, r.snapshot)/s.copyRate(), snapTarget)
	}
	return line
}

// copyRate is the reference COPY's rows per second, or 0.
func (s *snapshotResult) copyRate() float64 {
	ref := s.copyRef()
	if ref == nil {
		return 0
	}
	return rate(s.rows, ref.wall)
}

// verdict compares a ratio with its target: PASS at or above it, BELOW
// under it.
func verdict(got, target float64) string {
	if math.IsNaN(got) || math.IsInf(got, 0) || got <= 0 {
		return fmt.Sprintf("n/a (target %.2f×)", target)
	}
	if got >= target {
		return fmt.Sprintf("PASS (target %.2f×)", target)
	}
	return fmt.Sprintf("BELOW (target %.2f×)", target)
}

// mbPerSec formats bytes per second in MB/s (MiB, as the report counts
// memory).
func mbPerSec(bytes int64, d time.Duration) string {
	if bytes <= 0 || d <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MB/s", float64(bytes)/(1<<20)/d.Seconds())
}

// short formats a rate with 3 significant figures and a k or M suffix:
// 812345 → "812k", 1104000 → "1.10M".
func short(v float64) string {
	switch {
	case v <= 0 || math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case v < 1e3:
		return fmt.Sprintf("%.0f", v)
	case v < 1e4:
		return fmt.Sprintf("%.2fk", v/1e3)
	case v < 1e5:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v < 999.5e3:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v < 9.995e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	default:
		return fmt.Sprintf("%.1fM", v/1e6)
	}
}

func (r *report) printSnapshot(w *printer) {
	s := r.snapshot
	w.line("")
	w.line("5. Snapshot: snapshot.mode=initial_only of one %s-row table, against COPY of the same table", commas(s.rows))
	w.line("   Time runs from the worker's \"snapshot starting\" log line (process start-up left out) until the")
	w.line("   topic's end offsets add up to every row (Kafka has acknowledged them all). MB/s is the table's")
	w.line("   COPY text size over that time, as for COPY; Kafka values/s is what the worker actually produced.")
	if s.err != nil && s.heapBytes == 0 {
		w.line("")
		w.line("   FAILED before the runs: %s", indent(s.err.Error(), "     "))
		return
	}
	w.kv("table", fmt.Sprintf("%s rows, %s MB of heap (relpages %s, reltuples %s), %s MB as COPY text; filled, vacuumed and checkpointed in %s",
		commas(s.rows), commas(s.heapBytes>>20), commas(s.relpages), commas(s.reltuples), commas(s.copyBytes>>20), secs(s.fill)))
	w.line("")
	reps := r.env.opts.reps
	w.line("   COPY (SELECT * FROM snap) TO STDOUT to nowhere, best of %d:", reps)
	tw := w.table()
	fmt.Fprintf(tw, "      \ttime\trows/s\tMB/s\truns\t\n")
	ref := s.copyRef()
	for _, tool := range []string{copyPsql, copyPgx} {
		b := s.bestCopy(tool)
		var runs []string
		for _, c := range s.copies {
			if c.tool != tool {
				continue
			}
			if c.err != nil {
				runs = append(runs, "failed")
			} else {
				runs = append(runs, fmt.Sprintf("%.2f", c.wall.Seconds()))
			}
		}
		if len(runs) == 0 {
			continue
		}
		name := tool
		switch tool {
		case copyPsql:
			name = "psql > /dev/null"
		case copyPgx:
			name = "pgx CopyTo(io.Discard)"
		}
		if b == nil {
			fmt.Fprintf(tw, "      %s\tFAILED\t\t\t%s s\t\n", name, strings.Join(runs, ", "))
			continue
		}
		mark := ""
		if b == ref {
			mark = "  <- reference"
		}
		fmt.Fprintf(tw, "      %s\t%s\t%s\t%s\t%s s%s\t\n", name, secs(b.wall), short(rate(s.rows, b.wall)), mbPerSec(s.copyBytes, b.wall), strings.Join(runs, ", "), mark)
	}
	tw.Flush()
	if s.psqlAbsent != "" {
		w.kv("note", s.psqlAbsent)
	}
	for _, c := range s.copies {
		if c.err != nil {
			w.kv(fmt.Sprintf("%s run %d", c.tool, c.rep), "FAILED: "+indent(c.err.Error(), "         "))
		}
	}
	if len(s.runs) == 0 {
		if s.err != nil {
			w.kv("FAILED", indent(s.err.Error(), "                     "))
		}
		return
	}

	before := r.env.beforeBin != ""
	w.line("")
	if before {
		w.line("   pgmotion, %d run%s of each build per configuration, alternating ABBA (before first in odd rounds);", reps, map[bool]string{true: "s"}[reps != 1])
		w.line("   a fresh broker, worker, connector and slot per run:")
	} else {
		w.line("   pgmotion, 1 run each (a fresh broker, worker, connector and slot per run):")
	}
	tw = w.table()
	fmt.Fprintf(tw, "      \tsnapshot\trows/s\tMB/s\t/ COPY\tKafka values/s\tstart-up\tprocess start→done\t/ COPY\toffset stored\t\n")
	for _, run := range s.runs {
		if run.err != nil {
			fmt.Fprintf(tw, "      %s\tFAILED\t\n", run.name())
			continue
		}
		values := "n/a"
		if run.avgValue > 0 {
			values = mbPerSec(int64(run.avgValue*float64(s.rows)), run.snapshot)
		}
		startup, stored := "n/a", "n/a"
		if run.fromLog {
			startup = secs(run.startup)
		}
		if run.stored > 0 {
			stored = secs(run.stored)
		}
		fmt.Fprintf(tw, "      %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", run.name(),
			secs(run.snapshot), short(rate(s.rows, run.snapshot)), mbPerSec(s.copyBytes, run.snapshot), ratio(rate(s.rows, run.snapshot), s.copyRate()),
			values, startup, secs(run.total), ratio(rate(s.rows, run.total), s.copyRate()), stored)
	}
	tw.Flush()
	w.line("      snapshot: \"snapshot starting\" → every record acknowledged; start-up: process start → \"snapshot starting\";")
	w.line("      offset stored: process start → connect-offsets holds snapshot_completed:true (flushed every 1 s).")

	ok := slices.ContainsFunc(s.runs, func(r *snapshotRun) bool { return r.err == nil })
	if ok {
		w.line("")
		w.line("   Cost, read at the finish line (start-up included):")
	}
	tw = w.table()
	if ok {
		fmt.Fprintf(tw, "      \tworker peak RSS\tworker CPU\tbroker peak RSS\tbroker CPU\trecord key, value\tworker's \"snapshot done\"\tworker's split\t\n")
	}
	for _, run := range s.runs {
		if run.err != nil {
			continue
		}
		sizes, emitted, split := "n/a", "n/a", "n/a"
		if run.split != "" {
			split = run.split
		}
		if run.avgValue > 0 {
			sizes = fmt.Sprintf("%.0f B, %.0f B", run.avgKey, run.avgValue)
		}
		if run.emitted > 0 {
			emitted = "after " + secs(run.emitted)
		}
		fmt.Fprintf(tw, "      %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", run.name(), mib(run.peakKiB), secs(run.cpu), mib(run.brokerPeakKiB), secs(run.brokerCPU), sizes, emitted, split)
	}
	tw.Flush()

	w.line("")
	if before {
		s.printBeforeAfter(w)
	} else {
		for _, run := range s.runs {
			if run.err == nil {
				w.line("   %s", s.summary(run))
			}
		}
	}
	for _, run := range s.runs {
		for _, n := range run.notes {
			w.kv("note", fmt.Sprintf("(%s) %s", run.name(), n))
		}
		if run.err != nil {
			w.kv("FAILED", fmt.Sprintf("(%s) %s", run.name(), indent(run.err.Error(), "                     ")))
		}
	}
	if s.err != nil {
		w.kv("FAILED", indent(s.err.Error(), "                     "))
	}
}

// printBeforeAfter prints, for each configuration, the headline of each
// build's fastest run and the after ÷ before ratios of its figures.
func (s *snapshotResult) printBeforeAfter(w *printer) {
	first := true
	for _, cfg := range snapshotConfigs() {
		label := cfg.label()
		b, a := s.bestSnapshot(label, "before"), s.bestSnapshot(label, "after")
		if b == nil && a == nil {
			continue
		}
		if !first {
			w.line("")
		}
		first = false
		for _, x := range []struct {
			build string
			run   *snapshotRun
		}{{"before", b}, {"after", a}} {
			if x.run != nil {
				w.line("   %-7s %s", x.build+":", s.summary(x.run))
			} else {
				w.line("   %-7s snapshot %s rows, %s: FAILED", x.build+":", commas(s.rows), label)
			}
		}
		var fb, fa snapshotRun
		if b != nil {
			fb = *b
		}
		if a != nil {
			fa = *a
		}
		w.line("           after ÷ before: %s", afterBefore(
			figure{"rows/s", rate(s.rows, fb.snapshot), rate(s.rows, fa.snapshot), short},
			figure{"worker peak RSS", float64(fb.peakKiB), float64(fa.peakKiB), func(v float64) string { return mib(int64(v)) }},
			figure{"worker CPU", float64(fb.cpu), float64(fa.cpu), func(v float64) string { return secs(time.Duration(v)) }}))
	}
}
