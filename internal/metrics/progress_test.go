package metrics

import (
	"math"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestMetrics returns unregistered metrics on a fake clock.
func newTestMetrics(t *testing.T) (*SnapshotMetrics, *fakeClock) {
	t.Helper()
	m, err := NewSnapshotMetrics(nil, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	m.now = clk.now
	return m, clk
}

func TestProgressArithmetic(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name string
		run  func(m *SnapshotMetrics, clk *fakeClock)

		state           State
		tables          int
		remainingTables int
		scanned         int64
		estimate        int64
		percent         float64
		rate            float64
		elapsed, paused time.Duration
		eta             time.Duration
	}{
		{
			name: "idle",
			run:  func(*SnapshotMetrics, *fakeClock) {},
			// Nothing announced: the (empty) estimate is known, the
			// rest is not.
			state: StateIdle, estimate: 0, percent: Unknown, eta: Unknown,
		},
		{
			name: "estimates known",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 1000}, {Name: "b", Rows: 3000}})
				clk.advance(10 * s)
				m.AddRows("a", 500)
				m.AddRows("b", 500)
			},
			state: StateRunning, tables: 2, remainingTables: 2, scanned: 1000, estimate: 4000,
			percent: 25, rate: 100, elapsed: 10 * s, eta: 30 * s,
		},
		{
			name: "no row yet",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 1000}})
				clk.advance(5 * s)
			},
			state: StateRunning, tables: 1, remainingTables: 1, estimate: 1000,
			percent: 0, elapsed: 5 * s, eta: Unknown,
		},
		{
			name: "estimate unknown",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 1000}, {Name: "b", Rows: -1}})
				clk.advance(10 * s)
				m.AddRows("a", 500)
				m.AddRows("b", 500)
			},
			state: StateRunning, tables: 2, remainingTables: 2, scanned: 1000, estimate: Unknown,
			percent: Unknown, rate: 100, elapsed: 10 * s, eta: Unknown,
		},
		{
			name: "unknown estimate of a table done is its row count",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 1000}, {Name: "b", Rows: -1}})
				clk.advance(10 * s)
				m.AddRows("b", 700)
				m.TableDone("b")
				m.AddRows("a", 300)
			},
			state: StateRunning, tables: 2, remainingTables: 1, scanned: 1000, estimate: 1700,
			percent: 100 * 1000.0 / 1700, rate: 100, elapsed: 10 * s, eta: 7 * s,
		},
		{
			name: "table not announced has no estimate",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 1000}})
				clk.advance(10 * s)
				m.AddRows("a", 100)
				m.AddRows("late", 100)
			},
			state: StateRunning, tables: 2, remainingTables: 2, scanned: 200, estimate: Unknown,
			percent: Unknown, rate: 20, elapsed: 10 * s, eta: Unknown,
		},
		{
			name: "stale estimate overtaken",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				// reltuples said 100 but a holds more: its estimate
				// becomes what was read, b still counts.
				m.Start([]TableEstimate{{Name: "a", Rows: 100}, {Name: "b", Rows: 1000}})
				clk.advance(10 * s)
				m.AddRows("a", 500)
				m.AddRows("b", 500)
			},
			state: StateRunning, tables: 2, remainingTables: 2, scanned: 1000, estimate: 1500,
			percent: 100 * 1000.0 / 1500, rate: 100, elapsed: 10 * s, eta: 5 * s,
		},
		{
			name: "every estimate overtaken",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 100}})
				clk.advance(10 * s)
				m.AddRows("a", 500)
			},
			state: StateRunning, tables: 1, remainingTables: 1, scanned: 500, estimate: 500,
			percent: almostDone, rate: 50, elapsed: 10 * s, eta: Unknown,
		},
		{
			name: "every table done before Completed",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 100}})
				clk.advance(10 * s)
				m.AddRows("a", 150)
				m.TableDone("a")
				m.TableDone("a") // twice is once
			},
			state: StateRunning, tables: 1, scanned: 150, estimate: 150,
			percent: 100, rate: 15, elapsed: 10 * s, eta: 0,
		},
		{
			name: "completed freezes the duration",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 1000}})
				clk.advance(4 * s)
				m.AddRows("a", 800)
				m.TableDone("a")
				m.Completed()
				clk.advance(time.Hour)
			},
			state: StateCompleted, tables: 1, scanned: 800, estimate: 800,
			percent: 100, rate: 200, elapsed: 4 * s, eta: 0,
		},
		{
			name: "completed marks every table done",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 1000}, {Name: "b", Rows: -1}})
				clk.advance(3 * s)
				m.AddRows("a", 300)
				m.Completed()
			},
			state: StateCompleted, tables: 2, scanned: 300, estimate: 300,
			percent: 100, rate: 100, elapsed: 3 * s, eta: 0,
		},
		{
			name: "aborted",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 1000}})
				clk.advance(10 * s)
				m.AddRows("a", 250)
				m.Aborted()
				clk.advance(time.Hour)
			},
			state: StateAborted, tables: 1, remainingTables: 1, scanned: 250, estimate: 1000,
			percent: 25, rate: 25, elapsed: 10 * s, eta: Unknown,
		},
		{
			name: "skipped without start",
			run:  func(m *SnapshotMetrics, _ *fakeClock) { m.Skipped() },
			// Nothing was announced.
			state: StateSkipped, estimate: 0, percent: Unknown, eta: Unknown,
		},
		{
			name: "resumed snapshot",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				// An earlier run read 6000 rows: they count towards
				// the percentage, not the rate.
				m.Start([]TableEstimate{{Name: "a", Rows: 10000, Chunks: 10}})
				m.Resume("a", 6000, 6)
				clk.advance(10 * s)
				m.AddRows("a", 1000)
			},
			state: StateRunning, tables: 1, remainingTables: 1, scanned: 7000, estimate: 10000,
			percent: 70, rate: 100, elapsed: 10 * s, eta: 30 * s,
		},
		{
			name: "resumed table done before this run",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 5000}, {Name: "b", Rows: 2000}})
				m.Resume("a", 5100, 4)
				m.TableDone("a")
				clk.advance(10 * s)
				m.AddRows("b", 1000)
			},
			state: StateRunning, tables: 2, remainingTables: 1, scanned: 6100, estimate: 7100,
			percent: 100 * 6100.0 / 7100, rate: 100, elapsed: 10 * s, eta: 10 * s,
		},
		{
			name: "zero rows, tables pending",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 0}, {Name: "b", Rows: 0}})
				clk.advance(s)
			},
			state: StateRunning, tables: 2, remainingTables: 2, estimate: 0,
			percent: 0, elapsed: s, eta: Unknown,
		},
		{
			name: "zero rows, tables done",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 0}, {Name: "b", Rows: 0}})
				clk.advance(s)
				m.TableDone("a")
				m.TableDone("b")
			},
			state: StateRunning, tables: 2, estimate: 0,
			percent: 100, elapsed: s, eta: 0,
		},
		{
			name: "zero tables",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start(nil)
				clk.advance(s)
			},
			state: StateRunning, estimate: 0, percent: 100, elapsed: s, eta: 0,
		},
		{
			name: "paused time is not running time",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 1000}})
				clk.advance(10 * s)
				m.AddRows("a", 500)
				m.Pause()
				clk.advance(20 * s)
				m.Pause() // no second pause
			},
			state: StatePaused, tables: 1, remainingTables: 1, scanned: 500, estimate: 1000,
			percent: 50, rate: 50, elapsed: 30 * s, paused: 20 * s, eta: 10 * s,
		},
		{
			name: "unpaused",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 1000}})
				clk.advance(5 * s)
				m.Pause()
				clk.advance(20 * s)
				m.Unpause()
				m.Unpause() // not paused: nothing
				clk.advance(5 * s)
				m.AddRows("a", 500)
			},
			state: StateRunning, tables: 1, remainingTables: 1, scanned: 500, estimate: 1000,
			percent: 50, rate: 50, elapsed: 30 * s, paused: 20 * s, eta: 10 * s,
		},
		{
			name: "aborted while paused ends the pause",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 1000}})
				clk.advance(5 * s)
				m.Pause()
				clk.advance(5 * s)
				m.Aborted()
				clk.advance(time.Hour)
			},
			state: StateAborted, tables: 1, remainingTables: 1, estimate: 1000,
			percent: 0, elapsed: 10 * s, paused: 5 * s, eta: Unknown,
		},
		{
			name: "start again forgets the earlier snapshot",
			run: func(m *SnapshotMetrics, clk *fakeClock) {
				m.Start([]TableEstimate{{Name: "a", Rows: 1000}})
				m.AddRows("a", 1000)
				m.TableDone("a")
				m.Completed()
				clk.advance(time.Minute)
				m.Start([]TableEstimate{{Name: "b", Rows: 10}, {Name: "b", Rows: 99}})
				clk.advance(s)
				m.AddRows("b", 5)
			},
			state: StateRunning, tables: 1, remainingTables: 1, scanned: 5, estimate: 10,
			percent: 50, rate: 5, elapsed: s, eta: s,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newTestMetrics(t)
			tt.run(m, clk)
			p := m.Progress()
			if p.State != tt.state {
				t.Errorf("State = %v, want %v", p.State, tt.state)
			}
			if p.TotalTables != tt.tables || p.RemainingTables != tt.remainingTables {
				t.Errorf("tables = %d/%d remaining, want %d/%d", p.RemainingTables, p.TotalTables, tt.remainingTables, tt.tables)
			}
			if p.Scanned != tt.scanned || p.Estimate != tt.estimate {
				t.Errorf("rows = %d/%d, want %d/%d", p.Scanned, p.Estimate, tt.scanned, tt.estimate)
			}
			if !near(p.Percent, tt.percent) {
				t.Errorf("Percent = %v, want %v", p.Percent, tt.percent)
			}
			if !near(p.RowsPerSecond, tt.rate) {
				t.Errorf("RowsPerSecond = %v, want %v", p.RowsPerSecond, tt.rate)
			}
			if p.Elapsed != tt.elapsed || p.Paused != tt.paused {
				t.Errorf("Elapsed, Paused = %v, %v, want %v, %v", p.Elapsed, p.Paused, tt.elapsed, tt.paused)
			}
			if p.ETA != tt.eta {
				t.Errorf("ETA = %v, want %v", p.ETA, tt.eta)
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestTableProgressPercent(t *testing.T) {
	tests := []struct {
		t         TableProgress
		percent   float64
		remaining int64
	}{
		{TableProgress{Estimate: 200, Scanned: 50}, 25, 150},
		{TableProgress{Estimate: Unknown, Scanned: 50}, Unknown, Unknown},
		{TableProgress{Estimate: Unknown, Scanned: 50, Done: true}, 100, 0},
		{TableProgress{Estimate: 0}, 0, 0},
		{TableProgress{Estimate: 10, Scanned: 20}, almostDone, 0},
		{TableProgress{Estimate: 10, Scanned: 20, Done: true}, 100, 0},
	}
	for _, tt := range tests {
		if got := tt.t.Percent(); !near(got, tt.percent) {
			t.Errorf("%+v.Percent() = %v, want %v", tt.t, got, tt.percent)
		}
		if got := tt.t.Remaining(); got != tt.remaining {
			t.Errorf("%+v.Remaining() = %v, want %v", tt.t, got, tt.remaining)
		}
	}
}

func TestSinceLastEvent(t *testing.T) {
	m, clk := newTestMetrics(t)
	m.Start([]TableEstimate{{Name: "a", Rows: 10}})
	if got := m.Progress().SinceLastEvent; got != Unknown {
		t.Errorf("before any row: SinceLastEvent = %v, want Unknown", got)
	}
	m.Table("a").AddRows(3)
	clk.advance(1500 * time.Millisecond)
	if got := m.Progress().SinceLastEvent; got != 1500*time.Millisecond {
		t.Errorf("SinceLastEvent = %v, want 1.5s", got)
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{
		StateIdle: "idle", StateRunning: "running", StatePaused: "paused",
		StateCompleted: "completed", StateAborted: "aborted", StateSkipped: "skipped", State(42): "State(42)",
	} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}
