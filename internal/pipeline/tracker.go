package pipeline

import (
	"sync"
	"sync/atomic"
	"time"
)

// batch is a run of records that share one position: a transaction, a
// slice of a large transaction or of the snapshot, or an idle point with no
// records at all. It travels with each of its records through the
// producer (as the record's Context) and counts their acknowledgements.
type batch struct {
	pending atomic.Int64
	sealed  atomic.Bool
	off     Offset // written before sealed is set, read after
	t       *tracker
	// onDone, if set, runs once when the batch is sealed and every record
	// is acknowledged (snapshot ranges, which complete out of order).
	onDone func()
	fired  atomic.Bool
	// ackTs, when not 0, is the source commit timestamp (microseconds)
	// of the transaction this batch ends: once done, tracker.acked is
	// told it. Written before sealed is set, read after.
	ackTs int64
}

// The context.Context methods: a batch never cancels its records.
func (b *batch) Deadline() (time.Time, bool) { return time.Time{}, false }
func (b *batch) Done() <-chan struct{}       { return nil }
func (b *batch) Err() error                  { return nil }
func (b *batch) Value(any) any               { return nil }

// Ack counts one record's delivery.
func (b *batch) Ack(err error) {
	if err != nil {
		b.t.fail(err)
	}
	if b.pending.Add(-1) == 0 {
		b.fire()
	}
}

func (b *batch) done() bool { return b.sealed.Load() && b.pending.Load() == 0 }

// seal marks a batch that is not in the tracker's queue complete: no more
// records will join it.
func (b *batch) seal() {
	b.sealed.Store(true)
	b.fire()
}

// fire runs onDone, and reports the acknowledgement of a transaction's
// end, once the batch is done. ackTs is read only once sealed is seen.
func (b *batch) fire() {
	if !b.done() || (b.onDone == nil && (b.ackTs == 0 || b.t.acked == nil)) || !b.fired.CompareAndSwap(false, true) {
		return
	}
	if b.onDone != nil {
		b.onDone()
	}
	if b.ackTs != 0 && b.t.acked != nil {
		b.t.acked(b.ackTs)
	}
}

// tracker keeps batches in stream order and finds the newest position
// before which everything is acknowledged: a position is never confirmed
// ahead of an event Kafka does not hold, however acknowledgements
// interleave across partitions. open and seal belong to the streaming
// goroutine; advance to the committer; fail and err to anyone.
type tracker struct {
	mu    sync.Mutex
	queue []*batch
	head  int

	cur *batch

	errOnce sync.Once
	err     atomic.Pointer[error]
	failed  chan struct{}

	// acked, if set, is told the ackTs of each batch that has one, once
	// Kafka acknowledged all of it (the commit → ack latency).
	acked func(tsMicros int64)
}

func newTracker() *tracker { return &tracker{failed: make(chan struct{})} }

// current returns the open batch, opening one if needed.
func (t *tracker) current() *batch {
	if t.cur == nil {
		t.cur = &batch{t: t}
		t.mu.Lock()
		t.queue = append(t.queue, t.cur)
		t.mu.Unlock()
	}
	return t.cur
}

// seal closes the open batch (opening an empty one if none is open) with
// the position its records lead to.
func (t *tracker) seal(off Offset) {
	b := t.current()
	b.off = off
	b.sealed.Store(true)
	t.cur = nil
	b.fire()
}

// advance pops the batches that are complete, in order, and returns the
// offset of the last one, or false when none completed.
func (t *tracker) advance() (Offset, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var last Offset
	ok := false
	for t.head < len(t.queue) && t.queue[t.head].done() {
		last, ok = t.queue[t.head].off, true
		t.queue[t.head] = nil
		t.head++
	}
	if t.head > 1024 && t.head*2 > len(t.queue) {
		n := copy(t.queue, t.queue[t.head:])
		clear(t.queue[n:])
		t.queue = t.queue[:n]
		t.head = 0
	}
	return last, ok
}

func (t *tracker) fail(err error) {
	t.errOnce.Do(func() {
		t.err.Store(&err)
		close(t.failed)
	})
}

// Err returns the first delivery failure, or nil.
func (t *tracker) Err() error {
	if p := t.err.Load(); p != nil {
		return *p
	}
	return nil
}
