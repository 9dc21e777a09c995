package metrics

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TableEstimate announces one table of a snapshot to Start.
type TableEstimate struct {
	// Name is the table's key in the per-table metrics (the table label)
	// and in the log; Debezium uses schema.table.
	Name string
	// Rows is the estimated row count (pg_class.reltuples), or -1 when
	// there is none.
	Rows int64
	// Chunks is the number of ranges the parallel snapshot reads the table
	// in; 0 when not known yet (see SetChunks).
	Chunks int
}

// SnapshotMetrics counts one connector's snapshot: tables and rows done
// against the estimates, chunks, state and timing. It serves Debezium's
// snapshot MBean attributes as Prometheus metrics (see the package doc)
// and computes Progress, which package progress shows in the log and on a
// terminal.
//
// SnapshotMetrics is safe for concurrent use. AddRows, ChunkDone and
// TableDone, and the methods of TableCounter, only touch atomics; the
// state changes (Start, Pause, Completed, …) take a mutex and are meant
// to be rare.
type SnapshotMetrics struct {
	reg        prometheus.Registerer
	collector  *snapshotCollector
	unregister sync.Once
	now        func() time.Time

	// run holds the tables of the current snapshot. Start replaces it; a
	// table that Start did not announce is added by copying it.
	run atomic.Pointer[run]

	mu           sync.Mutex // guards the fields below, and adding tables
	state        State
	started      time.Time // zero before Start
	stopped      time.Time // zero while the snapshot is not over
	pausedSince  time.Time // zero unless paused
	pausedBefore time.Duration
}

// run is the read-only table index of one snapshot. Its counters change,
// its map and slice never do.
type run struct {
	tables map[string]*TableCounter
	order  []*TableCounter // as announced, then as discovered
}

// TableCounter counts one table of a snapshot. Readers may keep it (see
// SnapshotMetrics.Table) to skip the table lookup; it stays valid until
// the next Start. It is safe for concurrent use.
type TableCounter struct {
	name       string
	estimate   int64
	chunks     atomic.Int64
	scanned    atomic.Int64
	resumed    atomic.Int64 // rows done by an earlier run (Resume)
	chunksDone atomic.Int64
	done       atomic.Bool
	lastEvent  atomic.Int64 // unix nanoseconds of the last AddRows, 0 if none
	now        func() time.Time
}

// NewSnapshotMetrics returns the snapshot metrics of the connector whose
// topic.prefix is server, with tags (custom.metric.tags) as extra labels,
// and registers them on reg. A nil reg registers nothing, which still
// leaves Progress. Every connector registered on one registry must use
// the same tag keys, since Prometheus requires one set of label names per
// metric name; registering a second SnapshotMetrics for the same server
// fails with a prometheus.AlreadyRegisteredError.
func NewSnapshotMetrics(reg prometheus.Registerer, server string, tags map[string]string) (*SnapshotMetrics, error) {
	labels, err := connectorLabels(contextSnapshot, server, tags)
	if err != nil {
		return nil, err
	}
	m := &SnapshotMetrics{reg: reg, now: time.Now}
	m.run.Store(&run{tables: map[string]*TableCounter{}})
	m.collector = newSnapshotCollector(m, labels)
	if reg != nil {
		if err := reg.Register(m.collector); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("register snapshot metrics of server %q: already registered; stop the connector's earlier metrics with Unregister first: %w", server, err)
			}
			return nil, fmt.Errorf("register snapshot metrics of server %q: %w", server, err)
		}
	}
	return m, nil
}

// Unregister removes the metrics from the registry they were registered
// on, when the connector stops. Progress keeps working. It is safe to call
// more than once.
func (m *SnapshotMetrics) Unregister() {
	if m.reg == nil {
		return
	}
	m.unregister.Do(func() { m.reg.Unregister(m.collector) })
}

// Start begins a snapshot of tables: it forgets any earlier snapshot,
// announces the tables with their estimates and sets the state to
// running. Counters handed out by Table before Start no longer count.
func (m *SnapshotMetrics) Start(tables []TableEstimate) {
	r := &run{tables: make(map[string]*TableCounter, len(tables)), order: make([]*TableCounter, 0, len(tables))}
	for _, t := range tables {
		if _, dup := r.tables[t.Name]; dup {
			continue
		}
		c := m.newCounter(t.Name, t.Rows)
		c.chunks.Store(int64(max(t.Chunks, 0)))
		r.tables[t.Name] = c
		r.order = append(r.order, c)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.run.Store(r)
	m.state = StateRunning
	m.started = m.now()
	m.stopped = time.Time{}
	m.pausedSince = time.Time{}
	m.pausedBefore = 0
}

func (m *SnapshotMetrics) newCounter(name string, estimate int64) *TableCounter {
	if estimate < 0 {
		estimate = Unknown
	}
	return &TableCounter{name: name, estimate: estimate, now: m.now}
}

// Table returns the counter of a table, adding the table (with an unknown
// estimate) if Start did not announce it. Readers may keep it to skip the
// lookup in AddRows.
func (m *SnapshotMetrics) Table(name string) *TableCounter {
	if c := m.run.Load().tables[name]; c != nil {
		return c
	}
	return m.addTable(name)
}

// addTable is the slow path of Table: it copies the index with one table
// more.
func (m *SnapshotMetrics) addTable(name string) *TableCounter {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.run.Load()
	if c := old.tables[name]; c != nil {
		return c
	}
	r := &run{tables: make(map[string]*TableCounter, len(old.tables)+1), order: make([]*TableCounter, 0, len(old.order)+1)}
	for k, v := range old.tables {
		r.tables[k] = v
	}
	c := m.newCounter(name, Unknown)
	r.tables[name] = c
	r.order = append(append(r.order, old.order...), c)
	m.run.Store(r)
	return c
}

// Resume records, for a snapshot resumed from offsets, what an earlier run
// already did for a table: rowsDone rows and chunksDone chunks. Call it
// after Start and before the table's readers start. Those rows count
// towards RowsScanned and the percentage but not towards the rate, the
// ETA or TotalNumberOfEventsSeen.
func (m *SnapshotMetrics) Resume(table string, rowsDone int64, chunksDone int) {
	c := m.Table(table)
	rowsDone = max(rowsDone, 0)
	c.scanned.Add(rowsDone - c.resumed.Swap(rowsDone))
	c.chunksDone.Store(int64(max(chunksDone, 0)))
}

// SetChunks sets the number of chunks of a table, for when the ranges are
// known only after Start.
func (m *SnapshotMetrics) SetChunks(table string, chunks int) {
	m.Table(table).chunks.Store(int64(max(chunks, 0)))
}

// AddRows counts n more rows read from table. Readers call it every few
// thousand rows; it adds to atomics only.
func (m *SnapshotMetrics) AddRows(table string, n int64) { m.Table(table).AddRows(n) }

// ChunkDone counts one more chunk of table as read.
func (m *SnapshotMetrics) ChunkDone(table string) { m.Table(table).ChunkDone() }

// TableDone marks table as completely read. Calling it again does nothing.
func (m *SnapshotMetrics) TableDone(table string) { m.Table(table).Done() }

// AddRows counts n more rows read from the table.
func (c *TableCounter) AddRows(n int64) {
	if n <= 0 {
		return
	}
	c.scanned.Add(n)
	c.lastEvent.Store(c.now().UnixNano())
}

// ChunkDone counts one more chunk of the table as read.
func (c *TableCounter) ChunkDone() { c.chunksDone.Add(1) }

// Done marks the table as completely read. Calling it again does nothing.
func (c *TableCounter) Done() { c.done.Store(true) }

// Pause records that the snapshot was paused (the pause-snapshot signal).
// It does nothing unless the snapshot is running.
func (m *SnapshotMetrics) Pause() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == StateRunning {
		m.state = StatePaused
		m.pausedSince = m.now()
	}
}

// Unpause records that a paused snapshot goes on (the resume-snapshot
// signal; Resume is taken by resumed snapshots). It does nothing unless
// the snapshot is paused.
func (m *SnapshotMetrics) Unpause() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == StatePaused {
		m.endPause()
		m.state = StateRunning
	}
}

// endPause adds the current pause to the paused time. m.mu must be held.
func (m *SnapshotMetrics) endPause() {
	if !m.pausedSince.IsZero() {
		m.pausedBefore += m.now().Sub(m.pausedSince)
		m.pausedSince = time.Time{}
	}
}

// Completed records that the snapshot finished: every table was read, so
// any table not marked done yet is marked done.
func (m *SnapshotMetrics) Completed() {
	for _, c := range m.run.Load().order {
		c.Done()
	}
	m.stop(StateCompleted)
}

// Aborted records that the snapshot stopped before it finished.
func (m *SnapshotMetrics) Aborted() { m.stop(StateAborted) }

// Skipped records that no snapshot is taken (snapshot.mode, or offsets
// saying an earlier one completed). It may be called without Start.
func (m *SnapshotMetrics) Skipped() { m.stop(StateSkipped) }

func (m *SnapshotMetrics) stop(s State) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.endPause()
	m.state = s
	if !m.started.IsZero() {
		m.stopped = m.now()
	}
}

// State is where a snapshot is in its life.
type State int

// The states of a snapshot. Start makes it running, Pause and Unpause move
// between running and paused, Completed, Aborted and Skipped end it.
const (
	StateIdle State = iota // nothing started yet
	StateRunning
	StatePaused
	StateCompleted
	StateAborted
	StateSkipped
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateRunning:
		return "running"
	case StatePaused:
		return "paused"
	case StateCompleted:
		return "completed"
	case StateAborted:
		return "aborted"
	case StateSkipped:
		return "skipped"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Over reports whether the snapshot has ended: completed, aborted or
// skipped.
func (s State) Over() bool { return s >= StateCompleted }
