package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// latencyStats summarises a set of latencies.
type latencyStats struct {
	n                  int
	p50, p90, p99, max time.Duration
	min, mean          time.Duration
}

// summarise sorts us (latencies in microseconds) and computes its
// percentiles by the nearest-rank method.
func summarise(us []int64) latencyStats {
	if len(us) == 0 {
		return latencyStats{}
	}
	slices.Sort(us)
	rank := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(us)))) - 1
		i = min(max(i, 0), len(us)-1)
		return time.Duration(us[i]) * time.Microsecond
	}
	var sum float64
	for _, v := range us {
		sum += float64(v)
	}
	return latencyStats{
		n:    len(us),
		p50:  rank(0.50),
		p90:  rank(0.90),
		p99:  rank(0.99),
		max:  time.Duration(us[len(us)-1]) * time.Microsecond,
		min:  time.Duration(us[0]) * time.Microsecond,
		mean: time.Duration(sum/float64(len(us))) * time.Microsecond,
	}
}

// perMillion scales a CPU time spent on events to a million events.
func perMillion(cpu time.Duration, events int64) time.Duration {
	if events <= 0 {
		return 0
	}
	return time.Duration(float64(cpu) * 1e6 / float64(events))
}

// rate returns events per second.
func rate(events int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(events) / d.Seconds()
}

// commas formats n with thousands separators: 1234567 → "1,234,567".
func commas(n int64) string {
	if n < 0 {
		return "-" + commas(-n)
	}
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// mib formats KiB as MB (MiB, as ps and top count them).
func mib(kib int64) string {
	if kib <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MB", float64(kib)/1024)
}

// secs formats a duration in seconds with 2 decimals.
func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// ms formats a latency in milliseconds.
func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// ratio formats a/b as "1.48×", or "n/a" when either is missing.
func ratio(a, b float64) string {
	if a <= 0 || b <= 0 || math.IsInf(a, 0) || math.IsInf(b, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// cpuBusy measures the fraction of all CPUs busy over d, from /proc/stat:
// before the benchmark starts anything, it shows how much other work
// shares the machine.
func cpuBusy(d time.Duration) (float64, error) {
	read := func() (busy, total int64, err error) {
		b, err := os.ReadFile("/proc/stat")
		if err != nil {
			return 0, 0, err
		}
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		if len(f) < 5 || f[0] != "cpu" {
			return 0, 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
		}
		// user nice system idle iowait irq softirq steal guest guest_nice;
		// guest time is already counted in user and nice.
		for i, v := range f[1:min(len(f), 9)] {
			n, _ := strconv.ParseInt(v, 10, 64)
			total += n
			if i != 3 && i != 4 { // idle, iowait
				busy += n
			}
		}
		return busy, total, nil
	}
	b0, t0, err := read()
	if err != nil {
		return 0, err
	}
	time.Sleep(d)
	b1, t1, err := read()
	if err != nil || t1 == t0 {
		return 0, err
	}
	return float64(b1-b0) / float64(t1-t0), nil
}

// loadAverage returns the 1-minute load average, or -1.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
