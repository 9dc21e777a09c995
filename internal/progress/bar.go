package progress

import (
	"fmt"
	"strings"
	"time"

	"github.com/pgmotion/pgmotion/internal/metrics"
)

// barCells is the width of the bar itself, brackets excluded.
const barCells = 20

// segment is one part of the progress line. When the line is too wide for
// the terminal, segments go in decreasing order of drop.
type segment struct {
	text string
	drop int // 0 = never dropped
}

// renderBar draws p as one terminal line of at most width-1 columns (the
// last column is left free so that no terminal wraps the line). frame
// moves the indeterminate bar shown when the percentage is unknown.
func renderBar(p metrics.Progress, width, frame int) string {
	segs := []segment{
		{text: "snapshot", drop: 7},
		{text: bar(p.Percent, frame)},
		{text: percentText(p.Percent)},
	}
	if p.State != metrics.StateRunning {
		segs = append(segs, segment{text: p.State.String()})
	}
	rows := formatCount(p.Scanned)
	if p.Estimate != metrics.Unknown {
		rows += "/" + formatCount(p.Estimate)
	}
	segs = append(segs,
		segment{text: rows + " rows", drop: 3},
		segment{text: fmt.Sprintf("%d/%d tables", p.TotalTables-p.RemainingTables, p.TotalTables), drop: 5},
		segment{text: formatCount(int64(p.RowsPerSecond)) + " rows/s", drop: 4},
		segment{text: formatDuration(p.Elapsed), drop: 6},
	)
	if !p.State.Over() {
		segs = append(segs, segment{text: "ETA " + formatDuration(p.ETA), drop: 1})
	}
	if width < 2 {
		width = 80
	}
	limit := width - 1
	line := joinSegments(segs)
	for len(line) > limit {
		worst := -1
		for i, s := range segs {
			if s.drop > 0 && (worst < 0 || s.drop > segs[worst].drop) {
				worst = i
			}
		}
		if worst < 0 {
			break
		}
		segs = append(segs[:worst], segs[worst+1:]...)
		line = joinSegments(segs)
	}
	if len(line) > limit {
		line = line[:limit]
	}
	return line
}

func joinSegments(segs []segment) string {
	texts := make([]string, len(segs))
	for i, s := range segs {
		texts[i] = s.text
	}
	return strings.Join(texts, "  ")
}

// bar draws [=======>       ] for a known percentage and a bouncing
// [   <=>           ] for an unknown one.
func bar(percent float64, frame int) string {
	cells := []byte(strings.Repeat(" ", barCells))
	if percent == metrics.Unknown {
		const w = 3
		span := barCells - w
		pos := frame % (2 * span)
		if pos > span {
			pos = 2*span - pos
		}
		copy(cells[pos:], "<=>")
		return "[" + string(cells) + "]"
	}
	full := int(percent / 100 * barCells)
	full = min(max(full, 0), barCells)
	for i := range full {
		cells[i] = '='
	}
	if full < barCells && full > 0 {
		cells[full-1] = '>'
	}
	return "[" + string(cells) + "]"
}

func percentText(percent float64) string {
	if percent == metrics.Unknown {
		return "    ?%"
	}
	return fmt.Sprintf("%5.1f%%", percent)
}

// formatCount writes n with at most three significant digits and a k, M,
// G or T suffix: 950, 12.3k, 4.56M.
func formatCount(n int64) string {
	if n < 0 {
		return "?"
	}
	if n < 1000 {
		return fmt.Sprintf("%d", n)
	}
	v := float64(n)
	units := []string{"k", "M", "G", "T", "P", "E"}
	for i, unit := range units {
		v /= 1000
		if v >= 999.5 && i < len(units)-1 {
			continue
		}
		switch {
		case v < 9.995:
			return fmt.Sprintf("%.2f%s", v, unit)
		case v < 99.95:
			return fmt.Sprintf("%.1f%s", v, unit)
		}
		return fmt.Sprintf("%.0f%s", v, unit)
	}
	return "?" // not reached
}

// formatDuration writes d to the second, in the two largest units: 45s,
// 2m05s, 1h02m, 3d04h. metrics.Unknown (or any negative duration) is "?".
func formatDuration(d time.Duration) string {
	if d < 0 {
		return "?"
	}
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}
