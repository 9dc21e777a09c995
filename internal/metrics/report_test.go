package metrics

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
)

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
	m, clk := newTestMetrics(t)
	m.Start([]TableEstimate{{Name: "public.orders", Rows: 1000, Chunks: 2}})
	clk.advance(10 * time.Second)
	m.AddRows("public.orders", 400)

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

	m.AddRows("public.orders", 600)
	m.TableDone("public.orders")
	m.Completed()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ReportProgress did not return after Completed")
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
	m, clk := newTestMetrics(t)
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
		ReportProgress(ctx, m, log, &out, 5*time.Millisecond)
	}()

	// Idle: nothing to say.
	time.Sleep(30 * time.Millisecond)
	if s := logs.String(); s != "" {
		t.Errorf("logged before Start: %s", s)
	}

	m.Start([]TableEstimate{{Name: "a", Rows: -1}, {Name: "b", Rows: 10}})
	clk.advance(2 * time.Second)
	m.AddRows("a", 5)
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
	m, _ := newTestMetrics(t)
	m.Skipped()
	done := make(chan struct{})
	go func() {
		defer close(done)
		ReportProgress(context.Background(), m, nil, nil, time.Hour)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ReportProgress did not return for a skipped snapshot")
	}
}

func TestActiveTables(t *testing.T) {
	var tables []TableProgress
	for i := range maxActiveTables + 3 {
		tables = append(tables, TableProgress{Name: string(rune('a' + i)), Scanned: 1, Estimate: 4})
	}
	tables = append(tables,
		TableProgress{Name: "done", Scanned: 9, Done: true},
		TableProgress{Name: "waiting", Estimate: 9},
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
	for _, tc := range []struct {
		name    string
		end     func(m *SnapshotMetrics)
		resumed bool
		want    map[string]any
		absent  []string
	}{
		{name: "completed", end: (*SnapshotMetrics).Completed,
			want: map[string]any{"msg": "snapshot done", "state": "completed", "tables_done": 2.0, "tables_total": 2.0,
				"rows_scanned": 3000.0, "rows_per_second": 923.0, "elapsed": "3.25s"},
			absent: []string{"rows_resumed", "paused", "rows", "rows_per_sec"}},
		{name: "aborted", end: (*SnapshotMetrics).Aborted,
			want: map[string]any{"msg": "snapshot aborted", "state": "aborted", "tables_done": 0.0, "tables_total": 2.0,
				"rows_scanned": 3000.0, "elapsed": "3.25s"}},
		{name: "resumed", end: (*SnapshotMetrics).Completed, resumed: true,
			want: map[string]any{"msg": "snapshot done", "rows_scanned": 3500.0, "rows_resumed": 500.0, "rows_per_second": 923.0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, clk := newTestMetrics(t)
			var logs syncBuffer
			r := &reporter{m: m, log: slog.New(slog.NewJSONHandler(&logs, nil)), every: time.Hour, redraw: time.Hour}
			m.Start([]TableEstimate{{Name: "a", Rows: 2000}, {Name: "b", Rows: -1}})
			if tc.resumed {
				m.Resume("a", 500, 1)
			}
			m.AddRows("a", 2000)
			m.AddRows("b", 1000)
			clk.advance(3250 * time.Millisecond)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				r.run(ctx)
			}()
			tc.end(m)
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
