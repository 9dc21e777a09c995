package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pgmotion/pgmotion/internal/procs"
)

// The big transaction group: one INSERT of rows of about 1 kB, committed
// while the worker streams, and how long after the commit its last event
// is in Kafka, with the worker's peak RSS. On PostgreSQL 14 and later the
// server streams it (pgoutput protocol 2) and the worker buffers it within
// pgmotion.buffer.memory.bytes (64 MiB by default), spilling the rest.
const (
	bigTxnSlot     = "bench_bigtxn"
	bigTxnRowBytes = 1024
	// bigTxnInsertSQL fills name with 992 bytes, the row to about 1 kB.
	bigTxnInsertSQL = `INSERT INTO t (id, name, qty, price, active, created)
SELECT g, repeat(md5(g::text), 31), (g % 1000)::int, (g % 100000) / 100.0, g % 2 = 0, now()
FROM generate_series(1, $1::bigint) AS g`
	// bigTxnAbortSQL inserts rows $1..$2 like bigTxnInsertSQL, in a
	// transaction the benchmark then rolls back.
	bigTxnAbortSQL = `INSERT INTO t (id, name, qty, price, active, created)
SELECT g, repeat(md5(g::text), 31), (g % 1000)::int, (g % 100000) / 100.0, g % 2 = 0, now()
FROM generate_series($1::bigint, $2::bigint) AS g`
)

// bigTxnResult is the outcome of the big transaction run.
type bigTxnResult struct {
	rows int64
	// The rolled-back transaction before the big one: its rows, how long
	// its INSERT ran, and the events beyond the big one's rows counted a
	// second after they all arrived (any would be the aborted rows').
	abortRows int64
	abortIns  time.Duration
	extra     int64
	tableMB   int64
	insert    time.Duration // the INSERT and its commit
	toLast    time.Duration // commit to the last event in Kafka
	total     time.Duration // start of the INSERT to the last event
	peakKiB   int64         // the worker's VmHWM
	cpu       time.Duration // the worker's CPU time
	spilled   bool          // the worker spilled to its data dir
	server    slotStats
	protocol  string
	err       error
}

// bigTxn runs the group with a transaction of about bytes bytes.
func (e *env) bigTxn(ctx context.Context, bytes int64) *bigTxnResult {
	res := &bigTxnResult{rows: bytes / bigTxnRowBytes}
	res.err = e.runBigTxn(ctx, res)
	return res
}

func (e *env) runBigTxn(ctx context.Context, res *bigTxnResult) error {
	dir, done, err := e.freshRun(ctx, "bigtxn", bigTxnSlot)
	if err != nil {
		return err
	}
	defer done()
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
	if _, err := ow.events(ctx); err != nil {
		return err
	}
	w, err := e.startWorker(dir, b, bigTxnSlot)
	if err != nil {
		return err
	}
	defer w.Stop(15 * time.Second)
	// The worker must be streaming before the transaction starts.
	for {
		active, err := e.db.scalar(ctx, `SELECT active::text FROM pg_replication_slots WHERE slot_name = $1`, bigTxnSlot)
		if err != nil {
			return err
		}
		if active == "true" {
			break
		}
		if w.Exited() {
			return w.failure("before streaming")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if v, err := e.db.scalar(ctx, `SELECT current_setting('server_version_num')`); err == nil && atoi(v) >= 140000 {
		res.protocol = "pgoutput protocol 2 with streaming"
	} else {
		res.protocol = "pgoutput protocol 1 (the server is older than 14)"
	}

	// First a transaction half the size that rolls back: the worker
	// buffers and spills it as it streams in, then drops it at the
	// abort, and none of its rows may reach Kafka.
	res.abortRows = res.rows / 2
	e.logf("bigtxn: inserting %s rows of about 1 kB in one transaction, then rolling it back", commas(res.abortRows))
	abortStart := time.Now()
	if err := e.db.exec(ctx, "BEGIN"); err != nil {
		return err
	}
	if err := e.db.exec(ctx, bigTxnAbortSQL, res.rows+1, res.rows+res.abortRows); err != nil {
		return err
	}
	if err := e.db.exec(ctx, "ROLLBACK"); err != nil {
		return err
	}
	res.abortIns = time.Since(abortStart)

	e.logf("bigtxn: inserting %s rows of about 1 kB in one transaction", commas(res.rows))
	start := time.Now()
	if err := e.db.exec(ctx, bigTxnInsertSQL, res.rows); err != nil {
		return err
	}
	committed := time.Now()
	res.insert = committed.Sub(start)
	if mb, err := e.db.scalar(ctx, `SELECT (pg_total_relation_size('t') >> 20)::text`); err == nil {
		fmt.Sscan(mb, &res.tableMB)
	}
	e.logf("bigtxn: committed in %s; waiting for the events", secs(res.insert))

	const stallLimit = 120 * time.Second
	var got int64
	last := time.Now()
	for got < res.rows {
		n, err := ow.events(ctx)
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		now := time.Now()
		if n > got {
			got, last = n, now
		}
		if got >= res.rows {
			break
		}
		if w.Exited() {
			return w.failure(fmt.Sprintf("only %s of %s events arrived", commas(got), commas(res.rows)))
		}
		if now.Sub(last) > stallLimit {
			return w.failure(fmt.Sprintf("stalled: %s of %s events arrived, none in the last %s", commas(got), commas(res.rows), stallLimit))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	end := time.Now()
	res.toLast, res.total = end.Sub(committed), end.Sub(start)
	if s, err := procs.Measure(w.Pid()); err == nil {
		res.peakKiB, res.cpu = s.PeakKiB, s.CPU
	}
	time.Sleep(time.Second)
	n, err := ow.events(ctx)
	if err != nil {
		return fmt.Errorf("count the events a second after the last: %w", err)
	}
	if res.extra = n - res.rows; res.extra != 0 {
		return fmt.Errorf("%s events in Kafka for the %s committed rows: the rolled-back transaction's rows, or duplicates, were emitted", commas(n), commas(res.rows))
	}
	if out, err := os.ReadFile(w.LogPath()); err == nil {
		res.spilled = bytes.Contains(out, []byte("spilling to disk"))
	}
	res.server, _ = e.db.slotStats(ctx, bigTxnSlot)
	return nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// printBigTxn prints the group's section of the report.
func (r *report) printBigTxn(w *printer) {
	b := r.bigTxn
	w.line("")
	w.line("6. One big transaction: a single INSERT of %s rows of about 1 kB, committed while the worker streams", commas(b.rows))
	w.line("   Time to last event runs from the commit until the topic's end offsets add up to every row.")
	if b.err != nil {
		w.line("   FAILED: %v", b.err)
		return
	}
	w.kv("read with", b.protocol+"; pgmotion.buffer.memory.bytes at its default (64 MiB)")
	w.kv("aborted first", fmt.Sprintf("%s rows of about 1 kB (%s MB) inserted in %s and rolled back: none of its rows reached Kafka", commas(b.abortRows), commas(b.abortRows>>10), secs(b.abortIns)))
	w.kv("table", fmt.Sprintf("%s MB, inserted and committed in %s", commas(b.tableMB), secs(b.insert)))
	w.kv("to last event", fmt.Sprintf("%s after the commit, %s after the INSERT began (%s events/s overall)", secs(b.toLast), secs(b.total), commas(int64(rate(b.rows, b.total)))))
	spill := "no"
	if b.spilled {
		spill = "yes, to its data dir"
	}
	w.kv("worker", fmt.Sprintf("peak RSS %s, CPU %s, spilled: %s", mib(b.peakKiB), secs(b.cpu), spill))
	w.kv("server", fmt.Sprintf("pg_stat_replication_slots: spill_bytes %s, stream_bytes %s", commas(b.server.spillBytes), commas(b.server.streamBytes)))
}
