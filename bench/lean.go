package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pgmotion/pgmotion/internal/procs"
)

// The lean groups of issue 17, each run with the measured build and, with
// -before, with an earlier build in the same invocation, alternating
// (ABBA: before, after, then after, before, ...), so that the load of a
// shared machine falls on both alike:
//
//   - memory: the worker's peak RSS while it drains 1,000,000 changes in
//     transactions of 1,000 (schemas enabled), then its RSS while it
//     streams a steady 2,000 rows/s;
//   - snapcpu: the worker's CPU time per row for a 2,000,000-row snapshot
//     with 2 threads, schemaless and with schemas.
//
// Both read /proc: RSS from VmHWM and VmRSS, CPU from utime+stime, which
// unlike wall time hardly moves with the load of other processes.
const (
	memTxRows       = 1000
	memSteadyBatch  = 100
	memSteadyPeriod = 50 * time.Millisecond // 2,000 rows/s
	memDrainGoal    = 100 << 10             // KiB: issue 17, peak RSS while draining
	memSteadyGoal   = 64 << 10              // KiB: issue 17, RSS while streaming 2,000 rows/s
	snapCPUThreads  = 2
	snapCPUGoal     = 2 * time.Microsecond // issue 17: worker CPU per snapshot row
	snapCPUPrefix   = "bench_snapcpu"
)

// build is one binary the lean, throughput and snapshot groups measure.
type build struct {
	label string // "after" (the -bin build) or "before"
	bin   string
}

// builds returns the builds in the order of round rep (1-based): ABBA,
// before first in odd rounds, after first in even ones; the -bin build
// alone without -before.
func (e *env) builds(rep int) []build {
	after := build{"after", e.bin}
	if e.beforeBin == "" {
		return []build{after}
	}
	before := build{"before", e.beforeBin}
	if rep%2 == 1 {
		return []build{before, after}
	}
	return []build{after, before}
}

// figure is one measurement of both builds, for afterBefore: its name,
// the before and after values, and how to print a value.
type figure struct {
	name          string
	before, after float64
	format        func(float64) string
}

// afterBefore prints figures of the two builds as "events/s 1.02×
// (85,000 → 86,700), …": the ratio after ÷ before, then before → after.
// A missing value (a build whose runs all failed) is n/a.
func afterBefore(figs ...figure) string {
	val := func(f figure, v float64) string {
		if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return "n/a"
		}
		return f.format(v)
	}
	parts := make([]string, len(figs))
	for i, f := range figs {
		r := "n/a"
		if val(f, f.before) != "n/a" && val(f, f.after) != "n/a" {
			r = ratio(f.after, f.before)
		}
		parts[i] = fmt.Sprintf("%s %s (%s → %s)", f.name, r, val(f, f.before), val(f, f.after))
	}
	return strings.Join(parts, ", ")
}

// memoryRun is one build's drain and steady streaming.
type memoryRun struct {
	build string
	rep   int

	rows        int64
	drain       time.Duration // worker start → every change of the backlog in Kafka
	drainCPU    time.Duration // the worker's CPU at that moment
	drainPeak   int64         // KiB, VmHWM at that moment
	steadyRows  int64         // rows the writer committed in the steady phase
	steadyPeak  int64         // KiB, VmHWM over the measured window (reset at its start)
	steadyMax   int64         // KiB, the largest VmRSS sampled in the window
	steadyMean  int64         // KiB, the mean VmRSS sampled in the window
	steadyCPU   time.Duration // the worker's CPU over the window
	window      time.Duration
	hwmResetErr error
	notes       []string
	err         error
}

type memoryResult struct {
	rows   int64
	steady time.Duration // writer duration
	settle time.Duration // first part of it, not measured
	runs   []*memoryRun
	err    error
}

func (m *memoryResult) failed() bool {
	return m.err != nil || slices.ContainsFunc(m.runs, func(r *memoryRun) bool { return r.err != nil })
}

// memoryBench runs the memory group: per round and build a fresh slot, a
// fresh backlog behind it, a fresh broker and a fresh worker.
func (e *env) memoryBench(ctx context.Context) *memoryResult {
	res := &memoryResult{rows: e.opts.rows, steady: 30 * time.Second, settle: 10 * time.Second}
	if e.opts.quick {
		res.steady, res.settle = 12*time.Second, 4*time.Second
	}
	if res.err = e.db.resetTable(ctx); res.err != nil {
		return res
	}
	next := int64(1)
	for rep := 1; rep <= e.opts.reps; rep++ {
		for _, b := range e.builds(rep) {
			e.logf("memory run %d/%d: %s (%s)", rep, e.opts.reps, b.label, b.bin)
			r := &memoryRun{build: b.label, rep: rep, rows: e.opts.rows}
			r.err = e.memoryOnce(ctx, res, r, b, &next)
			res.runs = append(res.runs, r)
			if r.err != nil {
				e.logf("  failed: %v", r.err)
			} else {
				e.logf("  drained %s changes in %s (%s/s), peak RSS %s, CPU %s; steady %s rows/s: peak RSS %s, mean %s, CPU %s",
					commas(r.rows), secs(r.drain), commas(int64(rate(r.rows, r.drain))), mib(r.drainPeak), secs(r.drainCPU),
					commas(int64(rate(r.steadyRows, res.steady))), mib(r.steadyPeak), mib(r.steadyMean), secs(r.steadyCPU))
			}
			if ctx.Err() != nil {
				return res
			}
		}
	}
	return res
}

func (e *env) memoryOnce(ctx context.Context, res *memoryResult, r *memoryRun, b build, next *int64) error {
	slot := fmt.Sprintf("bench_mem_%s_%d", b.label, r.rep)
	dir := filepath.Join(e.dir, "memory", slot)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := e.db.createSlot(ctx, slot); err != nil {
		return err
	}
	defer func() {
		if !e.opts.keep {
			_ = os.RemoveAll(filepath.Join(dir, "broker", "data"))
		}
		if err := e.db.dropSlot(context.WithoutCancel(ctx), slot); err != nil {
			e.logf("warning: %v", err)
		}
	}()
	first := *next
	ins, err := e.db.insert(ctx, first, first+r.rows-1, memTxRows)
	*next += r.rows
	if err != nil {
		return err
	}
	e.logf("  inserted %s rows in transactions of %s in %s", commas(r.rows), commas(memTxRows), secs(ins))
	if err := e.db.exec(ctx, "CHECKPOINT"); err != nil {
		return err
	}

	br, err := e.startBroker(ctx, filepath.Join(dir, "broker"))
	if err != nil {
		return err
	}
	defer br.Stop(15 * time.Second)
	ow, err := newOffsetWatcher(br.addr)
	if err != nil {
		return err
	}
	defer ow.close()
	if _, err := ow.events(ctx); err != nil {
		return err
	}
	w, err := e.startWorkerBin(b.bin, dir, br, e.connectorConfig(slot))
	if err != nil {
		return err
	}
	defer w.Stop(15 * time.Second)

	waitFor := func(target int64, limit time.Duration) (time.Time, error) {
		var got int64
		last := time.Now()
		for {
			n, err := ow.events(ctx)
			now := time.Now()
			if err == nil && n > got {
				got, last = n, now
			}
			if got >= target {
				return now, nil
			}
			if w.Exited() {
				return now, w.failure(fmt.Sprintf("only %s of %s events arrived", commas(got), commas(target)))
			}
			if now.Sub(last) > limit {
				return now, w.failure(fmt.Sprintf("stalled: %s of %s events arrived, none in the last %s", commas(got), commas(target), limit))
			}
			select {
			case <-ctx.Done():
				return now, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	done, err := waitFor(r.rows, 60*time.Second)
	if err != nil {
		return err
	}
	r.drain = done.Sub(w.Started())
	s, err := procs.Measure(w.Pid())
	if err != nil {
		return err
	}
	r.drainCPU, r.drainPeak = s.CPU, s.PeakKiB

	// The steady phase: the writer runs res.steady; the window measured is
	// what follows the first res.settle of it.
	type wres struct {
		r   writerResult
		err error
	}
	wch := make(chan wres, 1)
	go func() {
		wr, err := writeSteady(ctx, e.dsn, *next, memSteadyBatch, memSteadyPeriod, res.steady)
		wch <- wres{wr, err}
	}()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(res.settle):
	}
	r.hwmResetErr = procs.ResetPeakRSS(w.Pid())
	start, err := procs.Measure(w.Pid())
	if err != nil {
		return err
	}
	var sum, n int64
	var wr wres
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
sampling:
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case wr = <-wch:
			break sampling
		case <-tick.C:
			if s, err := procs.Measure(w.Pid()); err == nil {
				sum, n = sum+s.RSSKiB, n+1
				r.steadyMax = max(r.steadyMax, s.RSSKiB)
			}
		}
	}
	end, err := procs.Measure(w.Pid())
	if err != nil {
		return err
	}
	*next += wr.r.rows
	if wr.err != nil {
		return wr.err
	}
	r.steadyRows, r.window = wr.r.rows, end.At.Sub(start.At)
	r.steadyCPU = end.CPU - start.CPU
	if n > 0 {
		r.steadyMean = sum / n
	}
	r.steadyPeak = end.PeakKiB
	if r.hwmResetErr != nil {
		r.steadyPeak = r.steadyMax
		r.notes = append(r.notes, "could not reset VmHWM ("+r.hwmResetErr.Error()+"): the steady peak is the largest VmRSS sampled every 100 ms")
	}
	if wr.r.behind > 0 {
		r.notes = append(r.notes, fmt.Sprintf("the writer fell behind its schedule %d times", wr.r.behind))
	}
	if _, err := waitFor(r.rows+r.steadyRows, 30*time.Second); err != nil {
		r.notes = append(r.notes, "not every steady row reached Kafka: "+err.Error())
	}
	if !w.Stop(15 * time.Second) {
		r.notes = append(r.notes, "the worker did not exit within 15 s of SIGTERM and was killed")
	}
	return nil
}

// startWorkerBin is startWorkerWith for another build of pgmotion.
func (e *env) startWorkerBin(bin, dir string, b *broker, connector map[string]any) (w *worker, err error) {
	e.withBuild(build{bin: bin}, func() { w, err = e.startWorkerWith(dir, b, connector) })
	return w, err
}

// withBuild runs fn with workers started from b's binary (the broker is
// always the -bin build's, so that Kafka's side is the same for both).
func (e *env) withBuild(b build, fn func()) {
	e.mu.Lock()
	e.workerBin = b.bin
	e.mu.Unlock()
	defer func() { e.mu.Lock(); e.workerBin = ""; e.mu.Unlock() }()
	fn()
}

// workerBinary is the binary workers run: the -bin build unless a lean
// group is running another.
func (e *env) workerBinary() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.workerBin != "" {
		return e.workerBin
	}
	return e.bin
}

// snapCPURun is one build's snapshot of the table.
type snapCPURun struct {
	build string
	rep   int
	run   *snapshotRun
}

type snapCPUResult struct {
	snap *snapshotResult // the table; its runs are ours too
	runs []*snapCPURun
	err  error
}

func (s *snapCPUResult) failed() bool {
	return s.err != nil || slices.ContainsFunc(s.runs, func(r *snapCPURun) bool { return r.run.err != nil })
}

// snapCPUBench fills the snapshot table with rows rows and snapshots it
// with 2 threads, schemaless then with schemas, per round and build.
func (e *env) snapCPUBench(ctx context.Context, rows int64) *snapCPUResult {
	res := &snapCPUResult{snap: &snapshotResult{rows: rows}}
	if res.err = e.fillSnapTable(ctx, res.snap); res.err != nil {
		return res
	}
	for rep := 1; rep <= e.opts.reps; rep++ {
		for _, b := range e.builds(rep) {
			for _, schemas := range []bool{false, true} {
				r := &snapshotRun{threads: snapCPUThreads, schemas: schemas,
					slot: fmt.Sprintf("%s_%s_%d_%s", snapCPUPrefix, b.label, rep, map[bool]string{false: "nos", true: "s"}[schemas])}
				e.logf("snapcpu run %d/%d: %s, %s", rep, e.opts.reps, b.label, r.label())
				e.withBuild(b, func() { e.runSnapshot(ctx, res.snap, r, 10*time.Minute) })
				res.runs = append(res.runs, &snapCPURun{build: b.label, rep: rep, run: r})
				if r.err != nil {
					e.logf("  failed: %v", r.err)
				} else {
					e.logf("  %s rows: worker CPU %s, %.2f µs/row, snapshot %s, peak RSS %s", commas(rows), secs(r.cpu),
						perRow(r.cpu, rows), secs(r.snapshot), mib(r.peakKiB))
				}
				if ctx.Err() != nil {
					return res
				}
			}
		}
	}
	return res
}

// perRow is CPU time per row in microseconds.
func perRow(cpu time.Duration, rows int64) float64 {
	if rows <= 0 {
		return 0
	}
	return float64(cpu.Microseconds()) / float64(rows)
}

// median returns the median of xs (the lower middle for an even count).
func median[T int64 | float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := append([]T(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)/2]
}

// printLean prints the lean groups.
func (r *report) printLean(w *printer) {
	e := r.env
	builds := "the -bin build only (run with -before PATH to measure an earlier build alongside)"
	if e.beforeBin != "" {
		builds = fmt.Sprintf("after = %s%s; before = %s%s; alternating ABBA by round",
			e.bin, buildDescription(e.bin), e.beforeBin, buildDescription(e.beforeBin))
	}
	if m := r.memory; m != nil {
		w.line("")
		w.line("9. Memory: draining %s changes in transactions of %s, then streaming %s rows/s",
			commas(m.rows), commas(memTxRows), commas(int64(rate(memSteadyBatch, memSteadyPeriod))))
		w.line("   builds: %s", builds)
		w.line("   Per run: a fresh slot, its backlog, a fresh broker and worker (schemas enabled). Drain: worker start")
		w.line("   until every change is in Kafka, peak RSS = VmHWM then. Steady: a writer commits %d rows every %s",
			memSteadyBatch, memSteadyPeriod)
		w.line("   for %s; over its last %s VmHWM (reset by clear_refs at the window's start), mean VmRSS (every 100 ms), CPU.",
			secs(m.steady), secs(m.steady-m.settle))
		if m.err != nil {
			w.line("   FAILED before the runs: %v", m.err)
		}
		tw := w.table()
		fmt.Fprintf(tw, "   build\trun\tdrain\tevents/s\tdrain peak RSS\tdrain CPU\tsteady peak RSS\tsteady mean RSS\tsteady CPU/s\t\n")
		peaks := map[string][]int64{}
		for _, run := range m.runs {
			if run.err != nil {
				fmt.Fprintf(tw, "   %s\t%d\tFAILED\t\t\t\t\t\t\t\n", run.build, run.rep)
				continue
			}
			cpuPerSec := 0.0
			if run.window > 0 {
				cpuPerSec = run.steadyCPU.Seconds() / run.window.Seconds()
			}
			fmt.Fprintf(tw, "   %s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f%%\t\n", run.build, run.rep, secs(run.drain),
				commas(int64(rate(run.rows, run.drain))), mib(run.drainPeak), secs(run.drainCPU),
				mib(run.steadyPeak), mib(run.steadyMean), 100*cpuPerSec)
			peaks[run.build+" drain"] = append(peaks[run.build+" drain"], run.drainPeak)
			peaks[run.build+" steady"] = append(peaks[run.build+" steady"], run.steadyPeak)
		}
		tw.Flush()
		for _, b := range []string{"before", "after"} {
			d, s := peaks[b+" drain"], peaks[b+" steady"]
			if len(d) == 0 {
				continue
			}
			line := fmt.Sprintf("   %s: worst drain peak %s, worst steady peak %s", b, mib(maxOf(d)), mib(maxOf(s)))
			if b == "after" {
				line += fmt.Sprintf("   goals < %s and < %s: %s, %s", mib(memDrainGoal), mib(memSteadyGoal),
					verdictBelow(maxOf(d), memDrainGoal), verdictBelow(maxOf(s), memSteadyGoal))
			}
			w.line("%s", line)
		}
		for _, run := range m.runs {
			for _, n := range run.notes {
				w.line("   note (%s run %d): %s", run.build, run.rep, n)
			}
			if run.err != nil {
				w.line("   %s run %d FAILED: %s", run.build, run.rep, indent(run.err.Error(), "     "))
			}
		}
	}
	if s := r.snapCPU; s != nil {
		w.line("")
		w.line("10. Snapshot CPU: %s rows, %d threads, worker CPU (utime+stime from /proc at the finish line) per row",
			commas(s.snap.rows), snapCPUThreads)
		w.line("   builds: %s", builds)
		if s.err != nil {
			w.line("   FAILED before the runs: %v", s.err)
		}
		tw := w.table()
		fmt.Fprintf(tw, "   build\trun\tvalues\tworker CPU\tµs/row\tsnapshot\trows/s\tpeak RSS\tvalue bytes\t\n")
		per := map[string][]float64{}
		for _, c := range s.runs {
			run := c.run
			vals := "schemaless"
			if run.schemas {
				vals = "schemas"
			}
			if run.err != nil {
				fmt.Fprintf(tw, "   %s\t%d\t%s\tFAILED\t\t\t\t\t\t\n", c.build, c.rep, vals)
				continue
			}
			us := perRow(run.cpu, s.snap.rows)
			per[c.build+" "+vals] = append(per[c.build+" "+vals], us)
			fmt.Fprintf(tw, "   %s\t%d\t%s\t%s\t%.2f\t%s\t%s\t%s\t%.0f\t\n", c.build, c.rep, vals, secs(run.cpu), us,
				secs(run.snapshot), short(rate(s.snap.rows, run.snapshot)), mib(run.peakKiB), run.avgValue)
		}
		tw.Flush()
		for _, b := range []string{"before", "after"} {
			var parts []string
			for _, vals := range []string{"schemaless", "schemas"} {
				if xs := per[b+" "+vals]; len(xs) > 0 {
					parts = append(parts, fmt.Sprintf("%s median %.2f µs/row (%s)", vals, median(xs), floats(xs)))
				}
			}
			if len(parts) == 0 {
				continue
			}
			line := "   " + b + ": " + strings.Join(parts, ", ")
			if xs := per[b+" schemaless"]; b == "after" && len(xs) > 0 {
				line += fmt.Sprintf("   goal ≤ %.1f µs/row schemaless: %s", float64(snapCPUGoal)/float64(time.Microsecond),
					map[bool]string{true: "PASS", false: "ABOVE"}[median(xs) <= float64(snapCPUGoal)/float64(time.Microsecond)])
			}
			w.line("%s", line)
		}
		for _, c := range s.runs {
			for _, n := range c.run.notes {
				w.line("   note (%s run %d, %s): %s", c.build, c.rep, c.run.label(), n)
			}
			if c.run.err != nil {
				w.line("   %s run %d (%s) FAILED: %s", c.build, c.rep, c.run.label(), indent(c.run.err.Error(), "     "))
			}
		}
	}
}

func maxOf(xs []int64) int64 {
	var m int64
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func floats(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strings.Join(s, ", ")
}

func verdictBelow(kib, goal int64) string {
	if kib < goal {
		return "PASS"
	}
	return "ABOVE"
}
