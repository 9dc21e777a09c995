package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/debezium"
	"github.com/pgmotion/pgmotion/internal/metrics"
	"github.com/pgmotion/pgmotion/internal/pgsource"
	"github.com/pgmotion/pgmotion/internal/progress"
	"github.com/pgmotion/pgmotion/internal/record"
	"github.com/pgmotion/pgmotion/internal/snapshot"
)

// snapshotTables lists the captured tables that
// snapshot.include.collection.list selects.
func (t *Task) snapshotTables(ctx context.Context) ([]pgsource.TableName, error) {
	all, err := t.src.Tables(ctx)
	if err != nil {
		return nil, err
	}
	inc := t.cfg.Snapshot.Include
	if len(inc) == 0 {
		return all, nil
	}
	var out []pgsource.TableName
	for _, tb := range all {
		for _, re := range inc {
			if re.MatchString(tb.String()) {
				out = append(out, tb)
				break
			}
		}
	}
	return out, nil
}

// planSnapshot sizes and splits the tables, and, for a resumed snapshot,
// marks the ranges that the stored progress says Kafka already holds.
func (t *Task) planSnapshot(ctx context.Context, resume string) ([]*pgsource.SnapshotTable, bool, error) {
	tables, err := t.snapshotTables(ctx)
	if err != nil {
		return nil, false, err
	}
	for name := range t.cfg.Snapshot.Overrides {
		found := false
		for _, tb := range tables {
			found = found || tb.String() == name
		}
		if !found {
			t.log.Warn("snapshot.select.statement.overrides names a table that is not snapshotted; check the spelling and the include lists", "table", name)
		}
	}
	plan, err := t.src.PlanSnapshot(ctx, tables, t.cfg.Snapshot.Threads, t.cfg.Snapshot.Overrides)
	if err != nil || resume == "" {
		return plan, false, err
	}
	return plan, snapshot.ResumePlan(plan, resume, t.log), nil
}

// snapshot runs the snapshot of plan and seals its final offset once Kafka
// holds every row. Progress is sealed range by range, so that the offsets
// topic says which ranges a restarted worker may skip.
func (t *Task) snapshot(ctx context.Context, plan []*pgsource.SnapshotTable, name string, lsn change.LSN, resumed bool) error {
	var total, done, pending int
	var names []string
	for _, st := range plan {
		names = append(names, st.Table.String())
		for _, d := range st.Done {
			total++
			if d {
				done++
			}
		}
	}
	pending = total - done
	t.log.Info("snapshot starting", "tables", len(plan), "list", strings.Join(names, ","), "ranges", total,
		"ranges_done", done, "threads", t.cfg.Snapshot.Threads, "lsn", lsn.String(), "resumed", resumed, planSummary(plan))

	m := t.snapshotMetrics(plan)
	clock := newCoarseClock(time.Millisecond)
	defer clock.Close()
	sink, err := newSnapshotSink(t, t.cfg.Snapshot.Threads, pending, m, clock)
	if err != nil {
		return err
	}
	repCtx, stopReport := context.WithCancel(ctx)
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		progress.Report(repCtx, m, t.log, t.progressOut, 10*time.Second)
	}()
	defer func() {
		if !m.Progress().State.Over() {
			m.Aborted()
		}
		// The reporter logs the snapshot's one end line as it stops.
		stopReport()
		<-reported
	}()
	// Progress: the only user of the tracker while the snapshot runs.
	sealProgress := func() {
		t.seal(Offset{LSN: lsn, TsUsec: time.Now().UnixMicro(), Snapshot: "INITIAL", SnapshotProgress: snapshot.EncodeProgress(plan)})
	}
	rangeDone := func(r pgsource.SnapshotRange) {
		r.T.Done[r.Index] = true
		pending--
		if !slices.Contains(r.T.Done, false) {
			m.TableDone(r.T.Table.String())
		}
	}
	// Under exactly-once delivery a transaction commits whole ranges
	// with the progress that lists them (eos.go): the readers finish the
	// ranges they are in and wait, the ranges Kafka now holds are marked
	// done, and their rows and the progress are committed together.
	commit := func() error {
		if err := sink.gate.close(ctx); err != nil {
			return context.Cause(ctx)
		}
		defer sink.gate.open()
		if err := t.sink.Flush(ctx); err != nil {
			return &txnError{fmt.Errorf("exactly-once delivery: flush the producer transaction: %w", err)}
		}
		for drained := false; !drained; {
			select {
			case r := <-sink.done:
				rangeDone(r)
			default:
				drained = true
			}
		}
		sealProgress()
		return t.eosCommit()
	}
	sealProgress()
	if t.eos != nil {
		// The snapshot's position goes first, alone: a restart resumes
		// this snapshot rather than starting one at another position.
		if err := t.eosCommit(); err != nil {
			return err
		}
	}
	// The readers stop with runCtx when the snapshot fails here: waiting
	// for them must not mean waiting for them to read every table.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	errc := make(chan error, 1)
	go func() {
		errc <- t.src.RunSnapshot(runCtx, plan, pgsource.SnapshotOptions{SnapshotName: name, LSN: lsn, Threads: t.cfg.Snapshot.Threads, Resumed: resumed}, sink)
	}()
	runDone := false
	for pending > 0 || !runDone {
		select {
		case r := <-sink.done:
			rangeDone(r)
			sealProgress()
			if t.eos != nil && t.eos.due(t.lastOff, time.Now()) {
				if err := commit(); err != nil {
					stopRun()
					<-errc
					return err
				}
			}
		case err := <-errc:
			if err != nil {
				return err
			}
			runDone = true
		case <-t.tr.failed:
			return fmt.Errorf("deliver to Kafka: %w", t.tr.Err())
		case <-ctx.Done():
			<-errc
			return context.Cause(ctx)
		}
	}
	t.seal(Offset{LSN: lsn, LSNProc: lsn, TxID: int64(sink.xid.Load()), TsUsec: time.Now().UnixMicro(), Snapshot: "INITIAL", LastSnapshotRecord: true, SnapshotCompleted: true})
	if t.eos != nil {
		if err := t.eosCommit(); err != nil {
			return err
		}
	}
	sink.flushCounts()
	m.Completed()
	t.inBatch = 0
	return nil
}

// snapshotSink encodes snapshot rows with one encoder per reader and
// counts each range's deliveries, so that a range is reported once Kafka
// holds all of its rows.
type snapshotSink struct {
	t       *Task
	workers []*snapshotWorker
	done    chan pgsource.SnapshotRange
	xid     atomic.Uint32
	m       *metrics.SnapshotMetrics

	mu      sync.Mutex
	batches map[pgsource.SnapshotRange]*batch
	// gate holds readers between ranges while a transaction commits
	// (exactly-once delivery only).
	gate *rangeGate
}

type snapshotWorker struct {
	enc  *debezium.Encoder
	recs []record.Record
	rng  pgsource.SnapshotRange
	b    *batch
	rows int64
	// inRange: the reader has entered the gate for rng.
	inRange bool
	// The metrics' counter of the table being read, and the rows not yet
	// added to it.
	counter *metrics.TableCounter
	counted *pgsource.SnapshotTable // counter's table
	uncount int64
}

// countEvery is how many rows a reader counts before it adds them to
// the metrics.
const countEvery = 1024

// count counts a row of table for the metrics, adding them in steps of
// countEvery.
func (w *snapshotWorker) count(m *metrics.SnapshotMetrics, table *pgsource.SnapshotTable) {
	if w.counted != table {
		w.flush()
		w.counter, w.counted = m.Table(table.Table.String()), table
	}
	if w.uncount++; w.uncount >= countEvery {
		w.flush()
	}
}

func (w *snapshotWorker) flush() {
	if w.counter != nil && w.uncount > 0 {
		w.counter.AddRows(w.uncount)
	}
	w.uncount = 0
}

// flushCounts adds the rows every reader has not counted yet; call it
// once the readers are done.
func (s *snapshotSink) flushCounts() {
	for _, w := range s.workers {
		w.flush()
	}
}

// newSnapshotSink returns a sink for ranges ranges: its done channel
// holds them all, so that an acknowledgement never waits on the reader
// of the channel.
func newSnapshotSink(t *Task, threads, ranges int, m *metrics.SnapshotMetrics, clock *coarseClock) (*snapshotSink, error) {
	s := &snapshotSink{t: t, done: make(chan pgsource.SnapshotRange, ranges), batches: map[pgsource.SnapshotRange]*batch{}, m: m, gate: newRangeGate(t.eos != nil)}
	for i := 0; i < max(threads, 1); i++ {
		enc, err := debezium.NewEncoder(t.cfg.Encoder, t.log.With("snapshot_reader", i))
		if err != nil {
			return nil, err
		}
		// A row's envelope time is its read time, to the millisecond.
		enc.SetClock(clock.Now)
		enc.RecycleSlabs() // Row calls Handed; the encoder declines with transforms
		s.workers = append(s.workers, &snapshotWorker{enc: enc})
	}
	return s, nil
}

// batchFor returns the batch counting r's records.
func (s *snapshotSink) batchFor(w *snapshotWorker, r pgsource.SnapshotRange) *batch {
	if w.b != nil && w.rng == r {
		return w.b
	}
	s.mu.Lock()
	b := s.batches[r]
	if b == nil {
		b = &batch{t: s.t.tr}
		b.onDone = func() { s.done <- r }
		s.batches[r] = b
	}
	s.mu.Unlock()
	w.rng, w.b = r, b
	return b
}

// Row implements pgsource.SnapshotSink.
func (s *snapshotSink) Row(worker int, r pgsource.SnapshotRange, c *change.Change) error {
	w := s.workers[worker]
	if !w.inRange {
		s.gate.enter()
		w.inRange = true
	}
	b := s.batchFor(w, r)
	var err error
	if w.recs, err = w.enc.Encode(w.recs[:0], c); err != nil {
		return err
	}
	if err := s.t.out.send(w.enc, w.recs, b, c.LSN); err != nil {
		return err
	}
	if w.rows++; w.rows == 1 {
		s.xid.Store(c.Xid)
	}
	w.count(s.m, r.T)
	return s.t.tr.Err()
}

// RangeDone implements pgsource.SnapshotSink.
func (s *snapshotSink) RangeDone(worker int, r pgsource.SnapshotRange, rows int64) error {
	w := s.workers[worker]
	b := s.batchFor(w, r)
	s.mu.Lock()
	delete(s.batches, r)
	s.mu.Unlock()
	if w.inRange {
		w.inRange = false
		s.gate.leave()
	}
	w.flush()
	s.m.ChunkDone(r.T.Table.String())
	b.seal()
	return nil
}

// snapshotMetrics returns the snapshot's metrics, started with plan's
// estimates and, for a resumed snapshot, the share of each table already
// delivered. The metrics stay registered until the task ends, so that
// SnapshotCompleted can be read after the snapshot.
func (t *Task) snapshotMetrics(plan []*pgsource.SnapshotTable) *metrics.SnapshotMetrics {
	if t.snapMetrics != nil {
		t.snapMetrics.Unregister()
	}
	m, err := metrics.NewSnapshotMetrics(t.metrics, t.cfg.TopicPrefix, t.cfg.MetricTags)
	if err != nil {
		t.log.Warn("snapshot metrics are not exported", "err", err)
		m, _ = metrics.NewSnapshotMetrics(nil, t.cfg.TopicPrefix, nil)
	}
	t.snapMetrics = m
	est := make([]metrics.TableEstimate, len(plan))
	for i, st := range plan {
		est[i] = metrics.TableEstimate{Name: st.Table.String(), Rows: st.Rows, Chunks: st.Ranges}
	}
	m.Start(est)
	for _, st := range plan {
		done := 0
		for _, d := range st.Done {
			if d {
				done++
			}
		}
		if done == 0 {
			continue
		}
		var rows int64
		if st.Rows > 0 {
			rows = st.Rows * int64(done) / int64(st.Ranges)
		}
		m.Resume(st.Table.String(), rows, done)
		if done == st.Ranges {
			m.TableDone(st.Table.String())
		}
	}
	return m
}

// planSummary is a log attribute of a plan's estimated size.
func planSummary(plan []*pgsource.SnapshotTable) slog.Attr {
	var pages, rows int64
	for _, t := range plan {
		pages += t.Pages
		if t.Rows > 0 {
			rows += t.Rows
		}
	}
	return slog.Group("estimate", "rows", rows, "pages", pages)
}
