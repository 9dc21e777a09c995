package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/options"
)

// The exactly-once group: one backlog of rows in transactions of 1,000,
// streamed by pgmotion at-least-once (the default) and with the worker's
// exactly.once.source.support=enabled (transaction.boundary=poll: a
// producer transaction per 2,048 events or 500 ms, each with its offset),
// so that the cost of exactly-once reads against at-least-once measured on
// the same WAL in the same run. The events are counted from the end
// offsets, which under exactly-once include one commit marker per
// transaction: the run ends that many events early, well under 1%, and a
// read_committed consumer then counts the events themselves.
const (
	eosTable = "eos_bench"
	eosPub   = "bench_eos_pub"
	eosSlot  = "bench_eos_src"
	eosTxn   = 1000
)

type eosResult struct {
	rows   int64
	insert time.Duration
	runs   []*runResult // at-least-once, then exactly-once
	err    error
}

func (e *env) eosBench(ctx context.Context, rows int64) *eosResult {
	res := &eosResult{rows: rows}
	d := e.db
	for _, sql := range []string{
		"DROP PUBLICATION IF EXISTS " + eosPub, "DROP TABLE IF EXISTS " + eosTable,
		"CREATE TABLE " + eosTable + " (id bigint PRIMARY KEY, payload text NOT NULL)",
		"CREATE PUBLICATION " + eosPub + " FOR TABLE " + eosTable,
	} {
		if res.err = d.exec(ctx, sql); res.err != nil {
			return res
		}
	}
	if res.err = d.createSlot(ctx, eosSlot); res.err != nil {
		return res
	}
	defer func() {
		if err := d.dropSlot(context.WithoutCancel(ctx), eosSlot); err != nil {
			e.logf("warning: %v", err)
		}
	}()
	e.logf("exactly-once: inserting %s rows in transactions of %s", commas(rows), commas(eosTxn))
	start := time.Now()
	for lo := int64(1); lo <= rows; lo += eosTxn {
		if res.err = d.exec(ctx, "INSERT INTO "+eosTable+" SELECT g, repeat('x', 100) FROM generate_series($1::bigint, $2::bigint) g", lo, min(lo+eosTxn-1, rows)); res.err != nil {
			return res
		}
	}
	res.insert = time.Since(start)
	if res.err = d.exec(ctx, "CHECKPOINT"); res.err != nil {
		return res
	}
	for i, v := range []struct {
		name    string
		support string
	}{{"at-least-once", "disabled"}, {"exactly-once", "enabled"}} {
		slot := fmt.Sprintf("bench_eos_%d", i)
		dir := filepath.Join(e.dir, "eos", slot)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			res.err = err
			return res
		}
		if err := d.copySlot(ctx, eosSlot, slot); err != nil {
			res.err = err
			return res
		}
		cfg := e.pgConfig("eos", slot)
		cfg[options.PropPublicationName], cfg[options.PropPublicationAutocreate] = eosPub, "disabled"
		cfg[options.PropTableInclude] = "public." + eosTable
		e.logf("exactly-once: %s", v.name)
		e.workerEnv = []string{"PGMOTION_EXACTLY_ONCE_SOURCE_SUPPORT=" + v.support}
		topic := "eos.public." + eosTable
		var check func(context.Context, string) (string, error)
		if v.support == "enabled" {
			check = func(ctx context.Context, addr string) (string, error) { return countCommitted(ctx, addr, topic, rows) }
		}
		r := e.runPgmotionWith(ctx, map[string]any{"name": "bench-eos", "config": cfg}, []string{topic}, rows, dir, 10*time.Minute, check)
		e.workerEnv = nil
		r.tool = v.name
		if check != nil {
			// The end offsets count a commit marker per transaction
			// besides the events: the read_committed count stands instead.
			notes := r.notes[:0]
			for _, n := range r.notes {
				if !strings.Contains(n, "duplicates") {
					notes = append(notes, n)
				}
			}
			r.notes = notes
			if r.checkErr != nil {
				r.notes = append(r.notes, "check: "+r.checkErr.Error())
			} else if r.checked != "" {
				r.notes = append(r.notes, r.checked)
			}
		}
		e.logRun(r)
		res.runs = append(res.runs, r)
		if err := d.dropSlot(context.WithoutCancel(ctx), slot); err != nil {
			e.logf("warning: %v", err)
		}
		if !e.opts.keep {
			_ = os.RemoveAll(filepath.Join(dir, "broker", "data"))
		}
		if ctx.Err() != nil {
			return res
		}
	}
	return res
}

// countCommitted reads topic with a read_committed consumer and checks it
// holds want events.
func countCommitted(ctx context.Context, addr, topic string, want int64) (string, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		return "", err
	}
	defer cl.Close()
	var n int64
	deadline := time.Now().Add(2 * time.Minute)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if k := int64(fs.NumRecords()); k > 0 {
			n += k
			quiet = 0
		} else if n >= want {
			quiet++
		}
	}
	if n != want {
		return "", fmt.Errorf("a read_committed consumer read %s events, want %s", commas(n), commas(want))
	}
	return fmt.Sprintf("a read_committed consumer read %s events, each once", commas(n)), nil
}

func (o *eosResult) failed() bool {
	return o.err != nil || slices.ContainsFunc(o.runs, func(r *runResult) bool { return r.err != nil })
}

func (r *report) printEOS(w *printer) {
	o := r.eos
	w.line("")
	w.line("Exactly-once: %s rows (~120 B) in transactions of %s, caught up from a slot, at-least-once against exactly.once.source.support=enabled",
		commas(o.rows), commas(eosTxn))
	if o.err != nil {
		w.line("   FAILED: %v", o.err)
		return
	}
	var base *runResult
	for _, run := range o.runs {
		if run.err != nil {
			w.line("   %-16s FAILED: %v", run.tool, run.err)
			continue
		}
		rate := run.eventsPerSec()
		ratio := ""
		if base == nil {
			base = run
		} else if base.eventsPerSec() > 0 && base.cpu > 0 {
			ratio = fmt.Sprintf("  throughput %.2fx, CPU %.2fx at-least-once", rate/base.eventsPerSec(), float64(run.cpu)/float64(base.cpu))
		}
		w.line("   %-16s %8s  %9s events/s  peak RSS %s  CPU %s  broker CPU %s%s", run.tool, secs(run.wall), commas(int64(rate)), mib(run.peakKiB), secs(run.cpu), secs(run.brokerCPU), ratio)
		for _, n := range run.notes {
			w.line("   %-16s note: %s", "", n)
		}
	}
}
