package progress

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/metrics"
)

// fakeSource hands a reporter the Progress a test sets, as
// metrics.SnapshotMetrics.Progress would compute it (its arithmetic is
// tested in package metrics). Its zero value is an idle snapshot.
type fakeSource struct {
	mu sync.Mutex
	p  metrics.Progress
}

func (s *fakeSource) set(p metrics.Progress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.p = p
}

func (s *fakeSource) Progress() metrics.Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p
}

// fakeTerminal keeps what a terminal would show for carriage returns,
// newlines and "erase to end of line" (ESC [ K), and the raw bytes.
type fakeTerminal struct {
	mu     sync.Mutex
	raw    bytes.Buffer
	lines  []string // lines ended by a newline
	cur    []byte   // the line the cursor is on
	col    int
	maxCol int // widest the current line ever got
	draws  int // carriage returns seen
}

func (f *fakeTerminal) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.raw.Write(p)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '\r':
			f.col = 0
			f.draws++
		case c == '\n':
			f.lines = append(f.lines, string(f.cur))
			f.cur, f.col = nil, 0
		case c == 0x1b && i+2 < len(p) && p[i+1] == '[' && p[i+2] == 'K':
			f.cur = f.cur[:f.col]
			i += 2
		default:
			if f.col < len(f.cur) {
				f.cur[f.col] = c
			} else {
				f.cur = append(f.cur, c)
			}
			f.col++
			f.maxCol = max(f.maxCol, f.col)
		}
	}
	return len(p), nil
}

func (f *fakeTerminal) state() (draws int, lines []string, cur string, raw string, maxCol int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.draws, append([]string(nil), f.lines...), string(f.cur), f.raw.String(), f.maxCol
}

// syncBuffer is a bytes.Buffer for a logger written from another
// goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logLines decodes JSON log lines.
func logLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(s) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestReportProgressTerminal(t *testing.T) {
	// 400 rows of an estimated 1,000 read in 10s.
	m := &fakeSource{}
	m.set(metrics.Progress{
		State:       metrics.StateRunning,
		Tables:      []metrics.TableProgress{{Name: "public.orders", Scanned: 400, Estimate: 1000, Chunks: 2}},
		TotalTables: 1, RemainingTables: 1, Scanned: 400, Estimate: 1000, Percent: 40,
		Elapsed: 10 * time.Second, RowsPerSecond: 40, ETA: 15 * time.Second, SinceLastEvent: 0,
	})

	term := &fakeTerminal{}
	var logs syncBuffer
	r := &reporter{
		m:      m,
		log:    slog.New(slog.NewJSONHandler(&logs, nil)),
		every:  20 * time.Millisecond,
		redraw: time.Millisecond,
		out:    term,
		width:  func() int { return 80 },
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.run(context.Background())
	}()

	waitFor(t, "redraws and a log line", func() bool {
		draws, _, _, _, _ := term.state()
		return draws >= 5 && strings.Contains(logs.String(), "snapshot progress")
	})
	draws, lines, cur, raw, _ := term.state()
	if len(lines) != 0 || strings.Contains(raw, "\n") {
		t.Errorf("newline while running: %q", raw)
	}
	if want := "[=======>            ]   40.0%  400/1.00k rows  0/1 tables  40 rows/s  ETA 15s"; cur != want && cur != "" {
		t.Errorf("after %d redraws the terminal shows %q, want %q", draws, cur, want)
	}

	// 600 rows more, the table done and the snapshot completed, all at once.
	m.set(metrics.Progress{
		State:       metrics.StateCompleted,
		Tables:      []metrics.TableProgress{{Name: "public.orders", Scanned: 1000, Estimate: 1000, Chunks: 2, Done: true}},
		TotalTables: 1, RemainingTables: 0, Scanned: 1000, Estimate: 1000, Percent: 100,
		Elapsed: 10 * time.Second, RowsPerSecond: 100, ETA: 0, SinceLastEvent: 0,
	})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the reporter did not return after Completed")
	}

	_, lines, cur, raw, maxCol := term.state()
	if strings.Count(raw, "\n") != 1 || !strings.HasSuffix(raw, "\n") {
		t.Errorf("want one newline, at the end: %q", raw)
	}
	if want := []string{"[====================]  100.0%  completed  1.00k/1.00k rows  100 rows/s"}; len(lines) != 1 || lines[0] != want[0] || cur != "" {
		t.Errorf("terminal shows %q + %q, want %q", lines, cur, want)
	}
	if maxCol > 79 {
		t.Errorf("a line took %d columns of 80", maxCol)
	}

	recs := logLines(t, logs.String())
	first, last := recs[0], recs[len(recs)-1]
	for k, want := range map[string]any{
		"msg": "snapshot progress", "state": "running", "tables_done": 0.0, "tables_total": 1.0,
		"rows_scanned": 400.0, "rows_estimated": 1000.0, "percent": 40.0, "rows_per_second": 40.0,
		"elapsed": "10s", "eta": "15s", "active": "public.orders 400/1.00k 40.0% 0/2 chunks",
	} {
		if first[k] != want {
			t.Errorf("first log line: %s = %v, want %v", k, first[k], want)
		}
	}
	for k, want := range map[string]any{
		"msg": "snapshot done", "state": "completed", "rows_scanned": 1000.0, "rows_per_second": 100.0, "elapsed": "10s",
	} {
		if last[k] != want {
			t.Errorf("last log line: %s = %v, want %v", k, last[k], want)
		}
	}
}

func TestReportProgressNotTerminal(t *testing.T) {
	m := &fakeSource{}
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))

	regular, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	outs := map[string]io.Writer{"buffer": &bytes.Buffer{}, "regular file": regular, "nil": nil, "nil file": (*os.File)(nil)}
	if runtime.GOOS == "linux" {
		// A character device, but no terminal.
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer null.Close()
		outs[os.DevNull] = null
	}
	for name, w := range outs {
		if _, ok := terminal(w); ok {
			t.Errorf("%s is taken for a terminal", name)
		}
	}

	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		newReporter(m, log, &out, 5*time.Millisecond).run(ctx)
	}()

	// Idle: nothing to say.
	time.Sleep(30 * time.Millisecond)
	if s := logs.String(); s != "" {
		t.Errorf("logged before Start: %s", s)
	}

	// Two tables, a without an estimate: 5 rows of a read in 2s.
	m.set(metrics.Progress{
		State: metrics.StateRunning,
		Tables: []metrics.TableProgress{
			{Name: "a", Scanned: 5, Estimate: metrics.Unknown},
			{Name: "b", Estimate: 10},
		},
		TotalTables: 2, RemainingTables: 2, Scanned: 5, Estimate: metrics.Unknown, Percent: metrics.Unknown,
		Elapsed: 2 * time.Second, RowsPerSecond: 2.5, ETA: metrics.Unknown, SinceLastEvent: 0,
	})
	waitFor(t, "a log line", func() bool { return strings.Contains(logs.String(), "snapshot progress") })
	cancel()
	<-done

	if out.Len() != 0 {
		t.Errorf("wrote %q to a writer that is no terminal", out.String())
	}
	rec := logLines(t, logs.String())[0]
	for k, want := range map[string]any{
		"msg": "snapshot progress", "rows_scanned": 5.0, "rows_per_second": 3.0, "eta": "unknown", "active": "a 5/?",
	} {
		if rec[k] != want {
			t.Errorf("%s = %v, want %v", k, rec[k], want)
		}
	}
	for _, k := range []string{"rows_estimated", "percent"} {
		if v, ok := rec[k]; ok {
			t.Errorf("%s = %v logged though unknown", k, v)
		}
	}
	if strings.Contains(logs.String(), "snapshot done") || strings.Contains(logs.String(), "snapshot aborted") {
		t.Error(`an end line logged on cancel of a running snapshot`)
	}
}

func TestReportProgressReturnsWhenOver(t *testing.T) {
	m, err := metrics.NewSnapshotMetrics(nil, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Skipped()
	done := make(chan struct{})
	go func() {
		defer close(done)
		Report(context.Background(), m, nil, nil, time.Hour)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Report did not return for a skipped snapshot")
	}
}

func TestActiveTables(t *testing.T) {
	var tables []metrics.TableProgress
	for i := range maxActiveTables + 3 {
		tables = append(tables, metrics.TableProgress{Name: string(rune('a' + i)), Scanned: 1, Estimate: 4})
	}
	tables = append(tables,
		metrics.TableProgress{Name: "done", Scanned: 9, Done: true},
		metrics.TableProgress{Name: "waiting", Estimate: 9},
	)
	got := activeTables(tables)
	if !strings.HasPrefix(got, "a 1/4 25.0%, b 1/4 25.0%, ") || !strings.HasSuffix(got, "j 1/4 25.0%, and 3 more") {
		t.Errorf("activeTables = %q", got)
	}
	if strings.Contains(got, "done") || strings.Contains(got, "waiting") {
		t.Errorf("activeTables = %q names tables not being read", got)
	}
}

// TestReportProgressEndLine checks the one line that ends a snapshot: its
// message per state, the progress lines' keys, the elapsed time to the
// millisecond, and that it comes when the caller stops the reporter right
// after the end, before any poll.
func TestReportProgressEndLine(t *testing.T) {
	// Table a (2,000 rows estimated) and b (no estimate) read in 3.25s:
	// 2,000 and 1,000 rows by this run, plus 500 of a by an earlier one
	// when resumed.
	const elapsed = 3250 * time.Millisecond
	const rate = 3000 / 3.25
	running := func(resumed int64) metrics.Progress {
		chunks := int64(0)
		if resumed > 0 {
			chunks = 1
		}
		return metrics.Progress{
			State: metrics.StateRunning,
			Tables: []metrics.TableProgress{
				{Name: "a", Scanned: 2000 + resumed, Resumed: resumed, Estimate: 2000, ChunksDone: chunks},
				{Name: "b", Scanned: 1000, Estimate: metrics.Unknown},
			},
			TotalTables: 2, RemainingTables: 2, Scanned: 3000 + resumed, Resumed: resumed,
			Estimate: metrics.Unknown, Percent: metrics.Unknown,
			Elapsed: elapsed, RowsPerSecond: rate, ETA: metrics.Unknown, SinceLastEvent: elapsed,
		}
	}
	// completed is what Completed makes of p: every table done.
	completed := func(p metrics.Progress) metrics.Progress {
		p.State = metrics.StateCompleted
		p.Tables = append([]metrics.TableProgress(nil), p.Tables...)
		for i := range p.Tables {
			p.Tables[i].Done = true
		}
		p.RemainingTables, p.Estimate, p.Percent, p.ETA = 0, p.Scanned, 100, 0
		return p
	}
	aborted := running(0)
	aborted.State = metrics.StateAborted

	for _, tc := range []struct {
		name   string
		before metrics.Progress
		end    metrics.Progress
		want   map[string]any
		absent []string
	}{
		{name: "completed", before: running(0), end: completed(running(0)),
			want: map[string]any{"msg": "snapshot done", "state": "completed", "tables_done": 2.0, "tables_total": 2.0,
				"rows_scanned": 3000.0, "rows_per_second": 923.0, "elapsed": "3.25s"},
			absent: []string{"rows_resumed", "paused", "rows", "rows_per_sec"}},
		{name: "aborted", before: running(0), end: aborted,
			want: map[string]any{"msg": "snapshot aborted", "state": "aborted", "tables_done": 0.0, "tables_total": 2.0,
				"rows_scanned": 3000.0, "elapsed": "3.25s"}},
		{name: "resumed", before: running(500), end: completed(running(500)),
			want: map[string]any{"msg": "snapshot done", "rows_scanned": 3500.0, "rows_resumed": 500.0, "rows_per_second": 923.0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &fakeSource{}
			m.set(tc.before)
			var logs syncBuffer
			r := &reporter{m: m, log: slog.New(slog.NewJSONHandler(&logs, nil)), every: time.Hour, redraw: time.Hour}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				r.run(ctx)
			}()
			m.set(tc.end)
			cancel()
			<-done
			recs := logLines(t, logs.String())
			if len(recs) != 1 {
				t.Fatalf("%d log lines, want 1: %s", len(recs), logs.String())
			}
			for k, want := range tc.want {
				if recs[0][k] != want {
					t.Errorf("%s = %v, want %v", k, recs[0][k], want)
				}
			}
			for _, k := range tc.absent {
				if v, ok := recs[0][k]; ok {
					t.Errorf("%s = %v logged", k, v)
				}
			}
		})
	}
}
