package pipeline

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/record"
)

// Exactly-once source delivery (KIP-618). With the worker's
// exactly.once.source.support=enabled, a task produces through a
// transactional producer of its own, with Connect's transactional.id
// (<group.id>-<connector>-<task>). Its records and the offset they lead to
// go to Kafka in one producer transaction: the offset record is written to
// the offsets topic by the same producer just before the commit, and the
// slot is confirmed only once the commit succeeded. A task that stops or
// fails leaves its open transaction aborted, by itself or by the next
// producer with its ID, which fences it first; that one resumes from the
// offset of the last committed transaction, so a read_committed consumer
// sees every change once.
//
// Kafka Connect commits when its task hands over a batch (poll), every
// interval, or when the connector says so; Debezium falls back to
// at-least-once during snapshots. Here a transaction ends only where the
// task seals a position, so that the offset in it covers exactly the
// records in it: after a whole PostgreSQL transaction, a slice of a large
// one, an idle position, or a set of whole snapshot ranges (the initial
// snapshot's readers pause between ranges while a transaction commits;
// the snapshot's progress is in its offset), or an incremental snapshot
// chunk with its window.

// Transaction boundaries (transaction.boundary).
const (
	BoundaryPoll      = "poll"
	BoundaryInterval  = "interval"
	BoundaryConnector = "connector"
)

// EOSConfig is a task's exactly-once configuration.
type EOSConfig struct {
	// Required is exactly.once.support=required.
	Required bool
	// Enabled: the worker has exactly.once.source.support=enabled, so
	// the task is transactional (Connect: whether or not Required).
	Enabled bool
	// Boundary is transaction.boundary; Interval its
	// transaction.boundary.interval.ms (0: offset.flush.interval.ms).
	Boundary string
	Interval time.Duration
	// MaxBatch and PollInterval bound a poll boundary's transaction, as
	// Debezium's max.batch.size and poll.interval.ms bound a poll.
	MaxBatch     int
	PollInterval time.Duration
	// TransactionTimeout is the producer's transaction.timeout.ms.
	TransactionTimeout time.Duration
}

// eosConfigFrom reads the connector's exactly-once options.
func eosConfigFrom(c *options.Config) EOSConfig {
	e := EOSConfig{
		Required:     strings.EqualFold(strings.TrimSpace(c.Str(options.PropExactlyOnceSupport)), "required"),
		Boundary:     strings.ToLower(strings.TrimSpace(c.Str(options.PropTransactionBoundary))),
		MaxBatch:     c.Int(options.PropMaxBatchSize),
		PollInterval: time.Duration(c.Long(options.PropPollInterval)) * time.Millisecond,
	}
	if c.IsSet(options.PropTransactionBoundaryMillis) {
		e.Interval = time.Duration(c.Long(options.PropTransactionBoundaryMillis)) * time.Millisecond
	}
	return e
}

// TransactionalID is the transactional.id Kafka Connect gives a source
// task under exactly-once support.
func TransactionalID(groupID, connector string, task int) string {
	return fmt.Sprintf("%s-%s-%d", groupID, connector, task)
}

// errEOSUnsupported is Kafka Connect's validation message for
// exactly.once.support=required on a worker without it.
const errEOSUnsupported = "This worker does not have exactly-once source support enabled."

// EOSCheck returns what is wrong with a connector config on a worker whose
// exactly.once.source.support is support, or "".
func EOSCheck(config map[string]string, support string) string {
	for k, v := range config {
		if k == options.PropExactlyOnceSupport && strings.EqualFold(strings.TrimSpace(v), "required") && support != "enabled" {
			return errEOSUnsupported
		}
	}
	return ""
}

// eosState is a transactional task's open transaction.
type eosState struct {
	cfg EOSConfig
	// ctx bounds commits: the task's run.
	ctx         context.Context
	offsetTopic string
	// began is when the open transaction got its first record or
	// position (zero: it is empty); records counts its records; sealed
	// says a position was sealed since the last commit.
	began   time.Time
	records int
	sealed  bool
	// failed is set once a commit failed: the producer is unusable.
	failed bool
}

// txnError is a failure of the producer transaction. The task restarts
// from the last committed offset with a new producer, so it is retriable
// (Temporary); a fenced task meets the same error, and its restart fences
// the other in turn, which is what Connect's restart does too.
type txnError struct{ err error }

func (e *txnError) Error() string   { return e.err.Error() }
func (e *txnError) Unwrap() error   { return e.err }
func (e *txnError) Temporary() bool { return true }

// eosStart fences earlier producers of the task's transactional ID (their
// open transaction is aborted), reads the offsets topic to its end, so
// that the stored offset is the last committed one, and opens the first
// transaction.
func (t *Task) eosStart(ctx context.Context) error {
	t.eos.ctx = ctx
	if err := t.sink.Fence(ctx); err != nil {
		return &txnError{err}
	}
	if err := t.store.ReadToEnd(ctx); err != nil {
		return err
	}
	if err := t.sink.Begin(); err != nil {
		return &txnError{err}
	}
	t.log.Info("exactly-once delivery: records and offsets go to Kafka in producer transactions", "boundary", t.eos.cfg.Boundary)
	return nil
}

// produced counts n records produced in the open transaction.
func (e *eosState) produced(n int) {
	if e.began.IsZero() {
		e.began = time.Now()
	}
	e.records += n
}

// noteSeal notes a sealed position.
func (e *eosState) noteSeal() {
	if e.began.IsZero() {
		e.began = time.Now()
	}
	e.sealed = true
}

// due reports whether the open transaction should commit at the position
// just sealed, off, by the transaction boundary.
func (e *eosState) due(off Offset, now time.Time) bool {
	if !e.sealed || e.failed {
		return false
	}
	age := now.Sub(e.began)
	switch e.cfg.Boundary {
	case BoundaryInterval:
		return age >= e.cfg.Interval
	case BoundaryConnector:
		// PostgreSQL's transaction boundaries, or snapshot progress;
		// a transaction too large to fit in the producer's timeout is
		// committed in slices.
		return off.MessageType == "COMMIT" || off.Snapshot != "" || age >= e.cfg.TransactionTimeout/2
	}
	return e.records >= e.cfg.MaxBatch || age >= e.cfg.PollInterval
}

// eosMaybeCommit commits the open transaction when no record is produced
// past the last sealed position and the boundary says so. It runs on the
// streaming goroutine, after each event.
func (t *Task) eosMaybeCommit(now time.Time) error {
	if t.eos == nil || t.tr.cur != nil || !t.eos.due(t.lastOff, now) {
		return nil
	}
	return t.eosCommit()
}

// eosCommit ends the open transaction with the offset of its last sealed
// position, confirms that position to the slot, and opens the next one.
// Nothing may be produced meanwhile.
func (t *Task) eosCommit() error {
	e := t.eos
	if !e.sealed {
		return nil
	}
	began := time.Now()
	err := t.eosCommitOnce()
	if t.sm != nil {
		t.sm.OffsetCommit(time.Since(began), err)
	}
	if err != nil {
		e.failed = true
		return &txnError{fmt.Errorf("exactly-once delivery: %w", err)}
	}
	return nil
}

func (t *Task) eosCommitOnce() error {
	e := t.eos
	ctx := e.ctx
	if err := t.sink.Flush(ctx); err != nil {
		return fmt.Errorf("flush the producer transaction: %w", err)
	}
	if err := t.tr.Err(); err != nil {
		return fmt.Errorf("deliver to Kafka: %w", err)
	}
	off, ok := t.tr.advance()
	if !ok {
		return fmt.Errorf("no acknowledged position to commit") // unreachable: sealed and flushed
	}
	val, _ := off.MarshalJSON()
	rec := &record.Record{Topic: e.offsetTopic, Partition: -1, Key: OffsetKey(t.cfg.Name, t.cfg.TopicPrefix), Value: val}
	ack := &batch{t: t.tr}
	ack.pending.Add(1)
	t.sink.Produce(rec, ack)
	if err := t.sink.Commit(ctx); err != nil {
		return err
	}
	if err := t.tr.Err(); err != nil {
		return fmt.Errorf("write offset: %w", err)
	}
	e.began, e.records, e.sealed = time.Time{}, 0, false
	if l := off.ConfirmLSN(); l != 0 {
		t.src.Confirm(l)
	}
	return t.sink.Begin()
}

// eosFinish ends the task's last transaction: committed when nothing was
// produced past its last sealed position and no commit failed, aborted
// otherwise (the next run delivers those records again, in a transaction
// of its own).
func (t *Task) eosFinish(ctx context.Context) error {
	e := t.eos
	e.ctx = ctx
	if !e.failed && t.tr.Err() == nil && t.tr.cur == nil && e.sealed {
		if err := t.eosCommit(); err == nil {
			return t.sink.Abort(ctx) // the empty transaction eosCommit opened
		}
	}
	if err := t.sink.Abort(ctx); err != nil {
		t.log.Warn("exactly-once delivery: could not abort the open producer transaction; the next producer with its transactional.id aborts it", "err", err)
	}
	return nil
}

// rangeGate lets the initial snapshot's readers start a range only while
// no transaction is being committed, so that a commit holds whole ranges:
// close waits until every reader is between ranges.
type rangeGate struct {
	mu      sync.Mutex
	cond    *sync.Cond
	active  int
	closed  bool
	enabled bool
}

func newRangeGate(enabled bool) *rangeGate {
	g := &rangeGate{enabled: enabled}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *rangeGate) enter() {
	if !g.enabled {
		return
	}
	g.mu.Lock()
	for g.closed {
		g.cond.Wait()
	}
	g.active++
	g.mu.Unlock()
}

func (g *rangeGate) leave() {
	if !g.enabled {
		return
	}
	g.mu.Lock()
	g.active--
	g.cond.Broadcast()
	g.mu.Unlock()
}

// close waits until no reader is inside a range, or ctx ends.
func (g *rangeGate) close(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		g.mu.Lock()
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	defer stop()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	for g.active > 0 {
		if err := ctx.Err(); err != nil {
			g.closed = false
			g.cond.Broadcast()
			return err
		}
		g.cond.Wait()
	}
	return nil
}

func (g *rangeGate) open() {
	g.mu.Lock()
	g.closed = false
	g.cond.Broadcast()
	g.mu.Unlock()
}
