package progress

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/pgmotion/pgmotion/internal/metrics"
)

const (
	// defaultLogEvery is the log interval when Report gets none.
	defaultLogEvery = 10 * time.Second
	// redrawEvery is how often the terminal bar is redrawn (5 Hz) and the
	// state polled.
	redrawEvery = 200 * time.Millisecond
	// maxActiveTables bounds the tables named in one log line.
	maxActiveTables = 10
)

// Report reports the progress of m until ctx is done or the
// snapshot is over (completed, aborted or skipped). Every `every` (10s if
// not positive) it logs "snapshot progress" at INFO with the tables being
// read (rows read against the estimate), the overall percentage, the rate
// in rows/s, the elapsed time and the ETA; the first line comes after
// `every`. When the snapshot completes or aborts it logs one end line,
// "snapshot done" or "snapshot aborted", when it sees the end or, if
// first, when ctx ends.
//
// When out is an interactive terminal (a character device, TERM not
// "dumb") it also redraws a one-line progress bar in place at 5 Hz, and
// ends the line with a newline when it returns. The bar is cleared before
// each of its own log lines and redrawn after; lines that other code
// writes to the same terminal meanwhile land after the bar. Pass
// os.Stderr to get the bar on a console, nil or any other writer for logs
// only.
//
// Start it after m.Start, or on a fresh SnapshotMetrics, in a goroutine
// the caller waits for: it returns at once if m holds a snapshot that is
// already over.
func Report(ctx context.Context, m *metrics.SnapshotMetrics, log *slog.Logger, out io.Writer, every time.Duration) {
	newReporter(m, log, out, every).run(ctx)
}

// source is what a reporter reads: *metrics.SnapshotMetrics, or a test's
// Progress values.
type source interface {
	Progress() metrics.Progress
}

// newReporter returns the reporter of one Report: a bar on out only when
// out is a terminal.
func newReporter(m source, log *slog.Logger, out io.Writer, every time.Duration) *reporter {
	r := &reporter{m: m, log: log, every: every, redraw: redrawEvery}
	if f, ok := terminal(out); ok {
		r.out = f
		r.width = func() int { return columns(f) }
	}
	return r
}

// reporter is the state of one Report; one goroutine owns it.
type reporter struct {
	m      source
	log    *slog.Logger
	every  time.Duration // between log lines
	redraw time.Duration // between bar redraws and state polls
	out    io.Writer     // the terminal, nil for no bar
	width  func() int    // of the terminal

	frame int  // bar redraws so far
	drawn bool // a bar is on the current line of out
}

func (r *reporter) run(ctx context.Context) {
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.every <= 0 {
		r.every = defaultLogEvery
	}
	if r.width == nil {
		r.width = func() int { return 80 }
	}
	poll := time.NewTicker(r.redraw)
	defer poll.Stop()
	logTick := time.NewTicker(r.every)
	defer logTick.Stop()
	for {
		select {
		case <-ctx.Done():
			// A snapshot that ended just before gets its end line now,
			// rather than after the next poll.
			if p := r.m.Progress(); p.State.Over() {
				r.finish(p)
			} else {
				r.endBar(p)
			}
			return
		case <-poll.C:
			p := r.m.Progress()
			if p.State.Over() {
				r.finish(p)
				return
			}
			if p.State != metrics.StateIdle {
				r.draw(p)
			}
		case <-logTick.C:
			p := r.m.Progress()
			if p.State.Over() {
				r.finish(p)
				return
			}
			if p.State != metrics.StateIdle {
				r.clearBar()
				r.logProgress(p)
				r.draw(p)
			}
		}
	}
}

// draw redraws the bar line in place: back to column 0, the line, then
// erase what is left of an earlier, longer line.
func (r *reporter) draw(p metrics.Progress) {
	if r.out == nil {
		return
	}
	line := renderBar(p, r.width(), r.frame)
	r.frame++
	_, _ = io.WriteString(r.out, "\r"+line+"\x1b[K")
	r.drawn = true
}

// clearBar empties the bar line so that a log line can take it.
func (r *reporter) clearBar() {
	if r.drawn {
		_, _ = io.WriteString(r.out, "\r\x1b[K")
		r.drawn = false
	}
}

// endBar draws the bar one last time, if there is one, and ends its line.
func (r *reporter) endBar(p metrics.Progress) {
	if r.drawn {
		r.draw(p)
		_, _ = io.WriteString(r.out, "\n")
		r.drawn = false
	}
}

// finish logs the one line that ends a snapshot: "snapshot done" when it
// completed, "snapshot aborted" when it stopped short, with the keys of
// the progress lines. Its elapsed time is to the millisecond.
func (r *reporter) finish(p metrics.Progress) {
	r.endBar(p)
	msg := "snapshot done"
	switch p.State {
	case metrics.StateCompleted:
	case metrics.StateAborted:
		msg = "snapshot aborted"
	default:
		return
	}
	attrs := []any{
		"state", p.State.String(),
		"tables_done", p.TotalTables - p.RemainingTables,
		"tables_total", p.TotalTables,
		"rows_scanned", p.Scanned,
	}
	if p.Resumed > 0 {
		// Counted by the earlier run: rows_scanned less these is what
		// this run read.
		attrs = append(attrs, "rows_resumed", p.Resumed)
	}
	attrs = append(attrs,
		"rows_per_second", math.Round(p.RowsPerSecond),
		"elapsed", p.Elapsed.Round(time.Millisecond).String(),
	)
	if p.Paused > 0 {
		attrs = append(attrs, "paused", p.Paused.Round(time.Millisecond).String())
	}
	r.log.Info(msg, attrs...)
}

func (r *reporter) logProgress(p metrics.Progress) {
	attrs := []any{
		"state", p.State.String(),
		"tables_done", p.TotalTables - p.RemainingTables,
		"tables_total", p.TotalTables,
		"rows_scanned", p.Scanned,
	}
	if p.Estimate != metrics.Unknown {
		attrs = append(attrs, "rows_estimated", p.Estimate)
	}
	if p.Percent != metrics.Unknown {
		attrs = append(attrs, "percent", math.Round(p.Percent*10)/10)
	}
	attrs = append(attrs,
		"rows_per_second", math.Round(p.RowsPerSecond),
		"elapsed", formatDuration(p.Elapsed),
		"eta", etaText(p.ETA),
	)
	if active := activeTables(p.Tables); active != "" {
		attrs = append(attrs, "active", active)
	}
	r.log.Info("snapshot progress", attrs...)
}

func etaText(eta time.Duration) string {
	if eta == metrics.Unknown {
		return "unknown"
	}
	return formatDuration(eta)
}

// activeTables describes the tables being read, at most
// maxActiveTables of them: "public.a 1.20k/5.00k 24.0% 1/4 chunks,
// public.b 12/?".
func activeTables(tables []metrics.TableProgress) string {
	var parts []string
	more := 0
	for _, t := range tables {
		if t.Done || (t.Scanned == 0 && t.ChunksDone == 0) {
			continue
		}
		if len(parts) == maxActiveTables {
			more++
			continue
		}
		s := t.Name + " " + formatCount(t.Scanned) + "/"
		if t.Estimate == metrics.Unknown {
			s += "?"
		} else {
			s += formatCount(t.Estimate) + fmt.Sprintf(" %.1f%%", t.Percent())
		}
		if t.Chunks > 0 {
			s += fmt.Sprintf(" %d/%d chunks", t.ChunksDone, t.Chunks)
		}
		parts = append(parts, s)
	}
	if more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	return strings.Join(parts, ", ")
}
