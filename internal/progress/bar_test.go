package progress

import (
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/metrics"
)

func TestRenderBar(t *testing.T) {
	running := metrics.Progress{
		State: metrics.StateRunning, TotalTables: 10, RemainingTables: 7,
		Scanned: 1_234_567, Estimate: 2_900_000, Percent: 42.57, RowsPerSecond: 35_210,
		Elapsed: 62 * time.Second, ETA: 90 * time.Second,
	}
	unknown := running
	unknown.State, unknown.Estimate, unknown.Percent, unknown.ETA = metrics.StatePaused, metrics.Unknown, metrics.Unknown, metrics.Unknown
	done := metrics.Progress{
		State: metrics.StateCompleted, TotalTables: 2, Scanned: 5000, Estimate: 5000, Percent: 100,
		RowsPerSecond: 999.6, Elapsed: 3*time.Hour + 25*time.Minute, ETA: 0,
	}
	tests := []struct {
		name  string
		p     metrics.Progress
		width int
		frame int
		want  string
	}{
		{"wide", running, 200, 0,
			"snapshot  [=======>            ]   42.6%  1.23M/2.90M rows  3/10 tables  35.2k rows/s  1m02s  ETA 1m30s"},
		{"80 columns drop the label, elapsed time and tables", running, 80, 0,
			"[=======>            ]   42.6%  1.23M/2.90M rows  35.2k rows/s  ETA 1m30s"},
		{"60 columns drop the rate", running, 60, 0,
			"[=======>            ]   42.6%  1.23M/2.90M rows  ETA 1m30s"},
		{"40 columns keep bar and percentage", running, 40, 0,
			"[=======>            ]   42.6%"},
		{"narrower is cut", running, 12, 0,
			"[=======>  "},
		{"unknown width is 80", running, 0, 0,
			"[=======>            ]   42.6%  1.23M/2.90M rows  35.2k rows/s  ETA 1m30s"},
		{"unknown estimate bounces", unknown, 200, 0,
			"snapshot  [<=>                 ]      ?%  paused  1.23M rows  3/10 tables  35.2k rows/s  1m02s  ETA ?"},
		{"bounce moves", unknown, 200, 6,
			"snapshot  [      <=>           ]      ?%  paused  1.23M rows  3/10 tables  35.2k rows/s  1m02s  ETA ?"},
		{"bounce comes back", unknown, 200, 17 + 3,
			"snapshot  [              <=>   ]      ?%  paused  1.23M rows  3/10 tables  35.2k rows/s  1m02s  ETA ?"},
		{"completed", done, 200, 0,
			"snapshot  [====================]  100.0%  completed  5.00k/5.00k rows  2/2 tables  999 rows/s  3h25m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renderBar(tt.p, tt.width, tt.frame)
			if got != tt.want {
				t.Errorf("renderBar =\n%q\nwant\n%q", got, tt.want)
			}
			if w := tt.width; w > 1 && len(got) > w-1 {
				t.Errorf("%d characters for %d columns", len(got), w)
			}
		})
	}
}

func TestBarFill(t *testing.T) {
	for percent, want := range map[float64]string{
		0:    "[                    ]",
		4.9:  "[                    ]",
		5:    "[>                   ]",
		50:   "[=========>          ]",
		99.9: "[==================> ]", // the most a snapshot not done shows
		100:  "[====================]",
		250:  "[====================]",
	} {
		if got := bar(percent, 0); got != want {
			t.Errorf("bar(%v) = %q, want %q", percent, got, want)
		}
	}
}

func TestFormatCount(t *testing.T) {
	for n, want := range map[int64]string{
		metrics.Unknown: "?", 0: "0", 999: "999", 1000: "1.00k", 9_994: "9.99k", 9_995: "10.0k",
		12_345: "12.3k", 99_950: "100k", 999_499: "999k", 999_500: "1.00M",
		1_234_567: "1.23M", 5_000_000_000: "5.00G", 7_000_000_000_000_000: "7.00P", 8_000_000_000_000_000_000: "8.00E",
	} {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		metrics.Unknown:               "?",
		0:                             "0s",
		1499 * time.Millisecond:       "1s",
		59 * time.Second:              "59s",
		60 * time.Second:              "1m00s",
		time.Hour - time.Second:       "59m59s",
		time.Hour + 2*time.Minute:     "1h02m",
		50*time.Hour + 10*time.Minute: "2d02h",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
