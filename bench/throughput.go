package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pgmotion/pgmotion/internal/procs"
)

// workload is a backlog of inserted rows for the catch-up measurement.
type workload struct {
	key    string // "a", "b": names its slots and directories
	title  string
	rows   int64
	txRows int64 // rows per transaction
}

func workloads(rows int64) []workload {
	return []workload{
		{key: "a", title: fmt.Sprintf("%s rows in 1 transaction", commas(rows)), rows: rows, txRows: rows},
		{key: "b", title: fmt.Sprintf("%s rows in transactions of 1,000", commas(rows)), rows: rows, txRows: 1000},
	}
}

// Tools measured.
const (
	toolBaseline = "pg_recvlogical"
	toolPgmotion = "pgmotion"
)

// runResult is one catch-up run of one tool.
type runResult struct {
	tool    string
	rep     int
	wall    time.Duration // process start → all events delivered
	events  int64
	cpu     time.Duration // user+system of the tool's process
	peakKiB int64         // peak RSS of the tool's process
	slot    slotStats     // the server's decoding work for this run's slot
	// The broker's CPU and peak RSS, for pgmotion runs: Kafka's cost, shown
	// apart from pgmotion's own.
	brokerCPU     time.Duration
	brokerPeakKiB int64
	// checked says what a check of the delivered events found, and
	// checkErr why it failed; the run's figures stand either way.
	checked  string
	checkErr error
	notes    []string
	err      error
}

func (r *runResult) eventsPerSec() float64 {
	if r == nil || r.err != nil {
		return 0
	}
	return rate(r.events, r.wall)
}

// throughputResult is one workload's runs.
type throughputResult struct {
	w        workload
	insert   time.Duration
	rowBytes int
	walBytes int64
	runs     runList // in the order they ran
	err      error   // a failure outside the runs, e.g. while inserting
}

// runList is the runs of one measurement, in the order they ran.
type runList []*runResult

// best returns the fastest successful run of tool, or nil.
func (rs runList) best(tool string) *runResult {
	var b *runResult
	for _, r := range rs {
		if r.tool == tool && r.err == nil && (b == nil || r.wall < b.wall) {
			b = r
		}
	}
	return b
}

// failed returns the first failed run of tool, or nil.
func (rs runList) failed(tool string) *runResult {
	for _, r := range rs {
		if r.tool == tool && r.err != nil {
			return r
		}
	}
	return nil
}

func (t *throughputResult) best(tool string) *runResult   { return t.runs.best(tool) }
func (t *throughputResult) failed(tool string) *runResult { return t.runs.failed(tool) }
func (t *throughputResult) runTimes(tool string) string   { return t.runs.times(tool) }

// throughput measures one workload: it builds the backlog once behind a
// source slot that nobody consumes, then, for each repetition, copies that
// slot for pg_recvlogical, runs it, copies it again for pgmotion and runs
// that. Both tools decode the very same WAL on the same server.
func (e *env) throughput(ctx context.Context, w workload) *throughputResult {
	res := &throughputResult{w: w}
	end, err := e.buildBacklog(ctx, w, res)
	if err != nil {
		res.err = err
		return res
	}
	src := "bench_" + w.key + "_src"
	defer func() {
		if err := e.db.dropSlot(context.WithoutCancel(ctx), src); err != nil {
			e.logf("warning: %v", err)
		}
	}()
	pgmotionFailed := false
	for rep := 1; rep <= e.opts.reps; rep++ {
		e.logf("throughput (%s) run %d/%d: %s", w.key, rep, e.opts.reps, toolBaseline)
		base := e.slotRun(ctx, w, rep, toolBaseline, src, func(slot, dir string) *runResult {
			return e.runBaseline(ctx, slot, publication, end, w.rows, dir)
		})
		res.runs = append(res.runs, base)
		e.logRun(base)
		if ctx.Err() != nil {
			return res
		}
		if pgmotionFailed {
			e.logf("throughput (%s) run %d/%d: %s skipped after its failure above", w.key, rep, e.opts.reps, toolPgmotion)
			continue
		}
		e.logf("throughput (%s) run %d/%d: %s", w.key, rep, e.opts.reps, toolPgmotion)
		pgm := e.slotRun(ctx, w, rep, toolPgmotion, src, func(slot, dir string) *runResult {
			limit := max(2*time.Minute, 20*base.wall)
			return e.runPgmotion(ctx, slot, w.rows, dir, limit)
		})
		res.runs = append(res.runs, pgm)
		e.logRun(pgm)
		if ctx.Err() != nil {
			return res
		}
		pgmotionFailed = pgm.err != nil
	}
	return res
}

// buildBacklog recreates the table and publication, creates the source
// slot and inserts the rows. It returns the end position: the WAL insert
// position after the last commit.
func (e *env) buildBacklog(ctx context.Context, w workload, res *throughputResult) (end string, err error) {
	d := e.db
	if err := d.resetTable(ctx); err != nil {
		return "", err
	}
	src := "bench_" + w.key + "_src"
	if err := d.createSlot(ctx, src); err != nil {
		return "", err
	}
	e.noteCommand("slot", createSlotSQL+"   -- once per workload: the source slot, never consumed")
	startLSN, err := d.scalar(ctx, endLSNSQL)
	if err != nil {
		return "", err
	}
	e.logf("throughput (%s): inserting %s", w.key, w.title)
	if res.insert, err = d.insert(ctx, 1, w.rows, w.txRows); err != nil {
		return "", err
	}
	if end, err = d.scalar(ctx, endLSNSQL); err != nil {
		return "", err
	}
	walBytes, err := d.scalar(ctx, `SELECT pg_wal_lsn_diff($1::text::pg_lsn, $2::text::pg_lsn)::bigint::text`, end, startLSN)
	if err != nil {
		return "", err
	}
	res.walBytes, _ = strconv.ParseInt(walBytes, 10, 64)
	rowBytes, err := d.scalar(ctx, `SELECT avg(pg_column_size(t.*))::int::text FROM t`)
	if err != nil {
		return "", err
	}
	res.rowBytes, _ = strconv.Atoi(rowBytes)
	// Write the dirty pages out now rather than during a measurement.
	if err := d.exec(ctx, "CHECKPOINT"); err != nil {
		return "", err
	}
	e.logf("throughput (%s): inserted in %s; %s MB of WAL up to %s", w.key, secs(res.insert), commas(res.walBytes>>20), end)
	return end, nil
}

// slotRun gives one run a copy of the source slot and a directory, reads
// the slot's decoding statistics afterwards and drops it.
func (e *env) slotRun(ctx context.Context, w workload, rep int, tool, src string, run func(slot, dir string) *runResult) *runResult {
	slot := fmt.Sprintf("bench_%s_%s_%d", w.key, map[string]string{toolBaseline: "recvlogical", toolPgmotion: "pgmotion"}[tool], rep)
	r := e.copiedSlotRun(ctx, "throughput", slot, src, run)
	r.tool, r.rep = tool, rep
	return r
}

// copiedSlotRun runs one catch-up of a group on slot, a copy of src made
// for it, in the directory group/slot: it reads the slot's decoding
// statistics afterwards and drops it. The caller names the run.
func (e *env) copiedSlotRun(ctx context.Context, group, slot, src string, run func(slot, dir string) *runResult) *runResult {
	dir := filepath.Join(e.dir, group, slot)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &runResult{err: err}
	}
	if err := e.db.copySlot(ctx, src, slot); err != nil {
		return &runResult{err: err}
	}
	e.noteCommand("copy slot", fmt.Sprintf("SELECT pg_copy_logical_replication_slot('%s', '%s', false, 'pgoutput')", src, slot))
	r := run(slot, dir)
	if !e.opts.keep {
		// A million ~3 KB events take a few hundred MB even compressed;
		// the next run has its own broker.
		_ = os.RemoveAll(filepath.Join(dir, "broker", "data"))
	}
	sctx := context.WithoutCancel(ctx)
	if st, err := e.db.slotStats(sctx, slot); err == nil {
		r.slot = st
	}
	if err := e.db.dropSlot(sctx, slot); err != nil {
		e.logf("warning: %v", err)
	}
	return r
}

// runBaseline runs pg_recvlogical from the slot to end with the
// publication pub, discarding its output, and times it from process start
// to exit.
func (e *env) runBaseline(ctx context.Context, slot, pub, end string, events int64, dir string) *runResult {
	r := &runResult{events: events}
	argv := []string{e.recvlogical, "-d", e.dsn, "--slot", slot, "--start", "--no-loop",
		"-o", "proto_version=1", "-o", "publication_names=" + pub,
		"--endpos", end, "-f", "/dev/null"}
	e.noteCommand("pg_recvlogical", shellQuote(argv))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = clientEnv()
	p, err := e.procs.Start(toolBaseline, cmd, filepath.Join(dir, "pg_recvlogical.log"))
	if err != nil {
		r.err = err
		return r
	}
	// Its peak RSS is sampled from /proc while it runs: the rusage of an
	// exec'd child counts the parent's memory too (Go starts children
	// with vfork semantics, and the kernel folds the old address space's
	// high-water mark into ru_maxrss at exec).
	peak := make(chan int64, 1)
	go func() {
		var hwm int64
		for {
			if s, err := procs.Measure(p.Pid()); err == nil {
				hwm = max(hwm, s.PeakKiB)
			}
			select {
			case <-p.Done():
				peak <- hwm
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	wctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	if err := p.Wait(wctx); err != nil {
		p.Stop(5 * time.Second)
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("pg_recvlogical did not reach %s within 15 minutes", end)
		}
		r.err = fmt.Errorf("%w; its output:\n%s", err, p.LogTail(10))
		return r
	}
	r.wall = p.Ended().Sub(p.Started())
	var rusagePeak int64
	r.cpu, rusagePeak = p.Usage()
	r.peakKiB = <-peak
	if r.peakKiB == 0 {
		r.peakKiB = rusagePeak // an upper bound
		r.notes = append(r.notes, "peak RSS from rusage, which includes the benchmark's own memory")
	}
	return r
}

// runPgmotion starts a broker with a fresh data directory, then the
// worker on slot, and times the worker from process start until the
// topic holds all the events, polling its end offsets every 20 ms.
func (e *env) runPgmotion(ctx context.Context, slot string, events int64, dir string, limit time.Duration) *runResult {
	return e.runPgmotionWith(ctx, e.connectorConfig(slot), []string{topic}, events, dir, limit, nil)
}

// runPgmotionWith runs a worker with the connector body until topics
// hold events records between them. Then, once the worker has stopped and
// while the broker still runs, check (if not nil) may read the events
// back: it says what it found, or why the events are wrong.
func (e *env) runPgmotionWith(ctx context.Context, body map[string]any, topics []string, events int64, dir string, limit time.Duration,
	check func(ctx context.Context, brokerAddr string) (string, error)) *runResult {
	r := &runResult{events: events}
	b, err := e.startBroker(ctx, filepath.Join(dir, "broker"))
	if err != nil {
		r.err = err
		return r
	}
	defer b.Stop(15 * time.Second)
	e.noteCommand("pgmotion broker", shellQuote(b.argv))
	ow, err := newOffsetWatcher(b.addr)
	if err != nil {
		r.err = err
		return r
	}
	defer ow.close()
	count := func(ctx context.Context) (int64, error) {
		var n int64
		for _, t := range topics {
			m, err := ow.eventsIn(ctx, t)
			if err != nil {
				return 0, err
			}
			n += m
		}
		return n, nil
	}
	// Connect the watcher before the clock starts.
	if _, err := count(ctx); err != nil {
		r.err = err
		return r
	}

	w, err := e.startWorkerWith(dir, b, body)
	if err != nil {
		r.err = err
		return r
	}
	defer w.Stop(15 * time.Second)
	e.noteCommand("pgmotion connect", shellQuote(w.argv))
	e.noteConnector(w.connectorPath)

	const (
		poll       = 20 * time.Millisecond
		stallLimit = 60 * time.Second
	)
	var (
		got          int64
		lastProgress = time.Now()
		errSince     time.Time
		reached      time.Time
	)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		n, err := count(ctx)
		now := time.Now()
		switch {
		case err == nil:
			errSince = time.Time{}
			if n > got {
				got, lastProgress = n, now
			}
		case ctx.Err() != nil:
			r.err = ctx.Err()
			return r
		case errSince.IsZero():
			errSince = now
		case now.Sub(errSince) > 10*time.Second:
			r.err = fmt.Errorf("broker stopped answering: %w", err)
			return r
		}
		if got >= events {
			reached = now
			break
		}
		if w.Exited() {
			r.err = w.failure(fmt.Sprintf("only %s of %s events arrived", commas(got), commas(events)))
			return r
		}
		if now.Sub(lastProgress) > stallLimit {
			r.err = w.failure(fmt.Sprintf("stalled: %s of %s events arrived, none in the last %s", commas(got), commas(events), stallLimit))
			return r
		}
		if now.Sub(w.Started()) > limit {
			r.err = w.failure(fmt.Sprintf("gave up after %s (20× the baseline, at least 2 minutes): %s of %s events arrived", limit.Round(time.Second), commas(got), commas(events)))
			return r
		}
		select {
		case <-ctx.Done():
			r.err = ctx.Err()
			return r
		case <-tick.C:
		}
	}
	r.wall = reached.Sub(w.Started())
	// Read CPU and memory at the finish line, before shutdown work.
	if s, err := procs.Measure(w.Pid()); err == nil {
		r.cpu, r.peakKiB = s.CPU, s.PeakKiB
	} else {
		r.notes = append(r.notes, "could not read the worker's /proc: "+err.Error())
	}
	if s, err := procs.Measure(b.Pid()); err == nil {
		r.brokerCPU, r.brokerPeakKiB = s.CPU, s.PeakKiB
	}
	// A correct worker delivers each change once: the count must stay put.
	time.Sleep(time.Second)
	if n, err := count(ctx); err == nil && n != got {
		r.notes = append(r.notes, fmt.Sprintf("%s events in the topic 1 s later (%s extra, duplicates)", commas(n), commas(n-events)))
	} else if got > events {
		r.notes = append(r.notes, fmt.Sprintf("%s events in the topic (%s extra, duplicates)", commas(got), commas(got-events)))
	}
	if !w.Stop(15 * time.Second) {
		r.notes = append(r.notes, "the worker did not exit within 15 s of SIGTERM and was killed")
	} else if st := w.DescribeExit(); st != "exited with status 0" {
		r.notes = append(r.notes, "on SIGTERM the worker "+st)
	}
	if check != nil {
		r.checked, r.checkErr = check(ctx, b.addr)
	}
	return r
}

// logRun prints a one-line summary of a run on the progress stream.
func (e *env) logRun(r *runResult) {
	if r.err != nil {
		e.logf("  %s failed: %v", r.tool, r.err)
		return
	}
	e.logf("  %s: %s, %s events/s, peak RSS %s, CPU %s", r.tool, secs(r.wall), commas(int64(r.eventsPerSec())), mib(r.peakKiB), secs(r.cpu))
	for _, n := range r.notes {
		e.logf("  note: %s", n)
	}
}
