package metrics

import (
	"math"
	"time"
)

// Unknown is the value of an estimate, percentage, duration or ETA that
// cannot be told (for a time.Duration: -1ns): an estimate PostgreSQL does
// not have, an ETA before any row was read.
const Unknown = -1

// almostDone caps a percentage while something is left to read, so that
// 100 means finished even when a stale estimate was overtaken.
const almostDone = 99.9

// TableProgress is where one table of a snapshot is.
type TableProgress struct {
	Name       string
	Scanned    int64 // rows read, including those of an earlier run
	Resumed    int64 // rows read by an earlier run (Resume)
	Estimate   int64 // as given to Start, or Unknown
	Chunks     int64 // chunks to read, 0 if not known
	ChunksDone int64
	Done       bool
}

// Remaining is how many rows are left by the estimate: 0 when the table is
// done or the estimate was overtaken, Unknown without an estimate.
func (t TableProgress) Remaining() int64 {
	switch {
	case t.Done:
		return 0
	case t.Estimate < 0:
		return Unknown
	}
	return max(t.Estimate-t.Scanned, 0)
}

// Percent is the share of the table read, from 0 to 100: 100 once done,
// at most 99.9 before, Unknown without an estimate.
func (t TableProgress) Percent() float64 {
	switch {
	case t.Done:
		return 100
	case t.Estimate < 0:
		return Unknown
	case t.Estimate == 0:
		return 0
	}
	return min(100*float64(t.Scanned)/float64(t.Estimate), almostDone)
}

// Progress is a consistent-enough copy of a snapshot's counters, taken by
// SnapshotMetrics.Progress: the counters are read one by one while readers
// keep adding.
type Progress struct {
	State  State
	Tables []TableProgress // in the order of Start, then of discovery

	TotalTables     int
	RemainingTables int // tables not done yet

	Scanned int64 // rows read, including those of an earlier run
	Resumed int64 // rows read by an earlier run
	// Estimate is the whole snapshot's row count: the rows read from the
	// tables that are done plus, for the others, the larger of estimate
	// and rows read. Unknown when a table that is not done has no
	// estimate.
	Estimate int64
	// Percent is Scanned against Estimate, from 0 to 100: 100 once every
	// table is done (or the snapshot completed), at most 99.9 before.
	// Unknown when Estimate is, and before Start or after Skipped.
	Percent float64

	// Elapsed is the time since Start, pauses included, up to the end of
	// the snapshot (SnapshotDurationInSeconds). Paused is the part of it
	// spent paused, the current pause included.
	Elapsed time.Duration
	Paused  time.Duration
	// RowsPerSecond is the rate of this run: rows read since Start over
	// the time spent running.
	RowsPerSecond float64
	// ETA is how long the rest should take at RowsPerSecond: 0 once every
	// table is done. Unknown when Estimate is, when no row has been read
	// yet by this run, when the tables left have overtaken their
	// estimates, and when the snapshot is idle, aborted or skipped.
	ETA time.Duration
	// SinceLastEvent is the time since rows were last counted, Unknown
	// before the first (MilliSecondsSinceLastEvent).
	SinceLastEvent time.Duration
}

// EventsSeen is the number of rows read by this run, which become read
// events (TotalNumberOfEventsSeen).
func (p Progress) EventsSeen() int64 { return p.Scanned - p.Resumed }

// Progress returns the snapshot's counters and what follows from them.
func (m *SnapshotMetrics) Progress() Progress {
	m.mu.Lock()
	now := m.now()
	state, started, stopped := m.state, m.started, m.stopped
	paused := m.pausedBefore
	if !m.pausedSince.IsZero() {
		paused += now.Sub(m.pausedSince)
	}
	r := m.run.Load()
	m.mu.Unlock()

	var elapsed time.Duration
	if !started.IsZero() {
		end := now
		if !stopped.IsZero() {
			end = stopped
		}
		elapsed = end.Sub(started)
	}

	tables := make([]TableProgress, len(r.order))
	var last int64
	for i, c := range r.order {
		tables[i] = TableProgress{
			Name:       c.name,
			Scanned:    c.scanned.Load(),
			Resumed:    c.resumed.Load(),
			Estimate:   c.estimate,
			Chunks:     c.chunks.Load(),
			ChunksDone: c.chunksDone.Load(),
			Done:       c.done.Load(),
		}
		last = max(last, c.lastEvent.Load())
	}
	p := summarize(state, tables, elapsed, paused)
	p.SinceLastEvent = Unknown
	if last > 0 {
		p.SinceLastEvent = max(now.Sub(time.Unix(0, last)), 0)
	}
	return p
}

// summarize works out totals, percentage, rate and ETA.
func summarize(state State, tables []TableProgress, elapsed, paused time.Duration) Progress {
	p := Progress{
		State:       state,
		Tables:      tables,
		TotalTables: len(tables),
		Elapsed:     elapsed,
		Paused:      min(paused, elapsed),
	}
	var remaining int64 // rows left by the estimates
	known := true
	for _, t := range tables {
		p.Scanned += t.Scanned
		p.Resumed += t.Resumed
		if !t.Done {
			p.RemainingTables++
		}
		if left := t.Remaining(); left == Unknown {
			known = false
		} else {
			remaining += left
		}
	}

	if running := p.Elapsed - p.Paused; running > 0 {
		p.RowsPerSecond = float64(p.EventsSeen()) / running.Seconds()
	}

	p.Estimate, p.Percent, p.ETA = Unknown, Unknown, Unknown
	if known {
		p.Estimate = p.Scanned + remaining
	}
	switch {
	case state == StateIdle, state == StateSkipped:
	case state == StateCompleted, p.RemainingTables == 0:
		p.Percent = 100
	case !known:
	case p.Estimate == 0:
		p.Percent = 0
	default:
		p.Percent = min(100*float64(p.Scanned)/float64(p.Estimate), almostDone)
	}

	switch {
	case state == StateCompleted:
		p.ETA = 0
	case state != StateRunning && state != StatePaused, !known:
	case p.RemainingTables == 0:
		p.ETA = 0
	case remaining == 0:
		// Tables are left but their estimates are used up: stale.
	case p.RowsPerSecond > 0:
		secs := float64(remaining) / p.RowsPerSecond
		if secs < math.MaxInt64/float64(time.Second) {
			p.ETA = time.Duration(secs * float64(time.Second))
		}
	}
	return p
}
