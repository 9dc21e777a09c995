package procs

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// Fields 3 to 15 of /proc/PID/stat: state ppid pgrp session tty_nr
	// tpgid flags minflt cminflt majflt cmajflt utime stime.
	const rest = " S 1 2 3 0 -1 4194560 10 0 0 0 250 50 0 0 20 0 9 0 100 0 0"
	for _, tt := range []struct {
		name  string
		stat  string
		ticks int64
		want  time.Duration
		err   string
	}{
		{name: "plain", stat: "42 (pgmotion)" + rest, ticks: 100, want: 3 * time.Second},
		{name: "1000 Hz", stat: "42 (pgmotion)" + rest, ticks: 1000, want: 300 * time.Millisecond},
		{name: "name with spaces and parentheses", stat: "42 (a b) (c))" + rest, ticks: 100, want: 3 * time.Second},
		{name: "only the fields up to stime", stat: "42 (x) S 1 2 3 0 -1 0 0 0 0 0 7 3", ticks: 100, want: 100 * time.Millisecond},
		{name: "no parenthesis", stat: "42 pgmotion" + rest, ticks: 100, err: "unexpected format"},
		{name: "too few fields", stat: "42 (x) S 1 2 3", ticks: 100, err: "only 6 fields"},
		{name: "utime not a number", stat: "42 (x) S 1 2 3 0 -1 0 0 0 0 0 seven 3", ticks: 100, err: `bad utime/stime "seven" "3"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.stat), tt.ticks)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("parseStatCPU = %v, %v; want error %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseStatCPU = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status string
		want   Sample
	}{
		{
			name: "a running process",
			status: "Name:\tpgmotion\nState:\tS (sleeping)\nVmPeak:\t 1300000 kB\nVmHWM:\t   51234 kB\n" +
				"VmRSS:\t   40000 kB\nThreads:\t12\nSigQ:\t0/63438\n",
			want: Sample{PeakKiB: 51234, RSSKiB: 40000, Threads: 12},
		},
		{
			name:   "a kernel thread has no memory lines",
			status: "Name:\tkthreadd\nState:\tS (sleeping)\nThreads:\t1\n",
			want:   Sample{Threads: 1},
		},
		{
			name:   "lines without a colon or a value are skipped",
			status: "garbage\nVmHWM:\nVmRSS:   \t\nVmHWM:\t7 kB\n",
			want:   Sample{PeakKiB: 7},
		},
		{
			name:   "a value that is not a number reads as 0",
			status: "VmHWM:\tlots kB\nVmRSS:\t5 kB\n",
			want:   Sample{RSSKiB: 5},
		},
		{name: "empty", status: "", want: Sample{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got Sample
			if err := parseStatus(strings.NewReader(tt.status), &got); err != nil || got != tt.want {
				t.Fatalf("parseStatus = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestAuxvClockTicks(t *testing.T) {
	auxv := func(pairs ...uint64) []byte {
		b := make([]byte, 0, 8*len(pairs))
		for _, v := range pairs {
			b = binary.NativeEndian.AppendUint64(b, v)
		}
		return b
	}
	for _, tt := range []struct {
		name string
		auxv []byte
		want int64
	}{
		{name: "AT_CLKTCK among others", auxv: auxv(6, 4096, 17, 100, 0, 0), want: 100},
		{name: "AT_CLKTCK first", auxv: auxv(17, 1000), want: 1000},
		{name: "no AT_CLKTCK", auxv: auxv(6, 4096, 0, 0), want: 0},
		{name: "AT_CLKTCK of 0 is ignored", auxv: auxv(17, 0), want: 0},
		{name: "a truncated last pair is ignored", auxv: auxv(6, 4096, 17)[:20], want: 0},
		{name: "empty", auxv: nil, want: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := auxvClockTicks(tt.auxv); got != tt.want {
				t.Fatalf("auxvClockTicks = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestMeasureSelf reads this test's own process, the way the benchmark
// reads a worker's.
func TestMeasureSelf(t *testing.T) {
	s, err := Measure(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !s.OK || s.PeakKiB <= 0 || s.RSSKiB <= 0 || s.RSSKiB > s.PeakKiB || s.Threads <= 0 || s.At.IsZero() {
		t.Errorf("Measure(self) = %+v", s)
	}
	if clockTicks() <= 0 {
		t.Errorf("clockTicks = %d", clockTicks())
	}
	if _, err := Measure(-1); err == nil || !strings.Contains(err.Error(), "/proc/-1/stat") {
		t.Errorf("Measure(-1) = %v, want an error naming /proc/-1/stat", err)
	}
}
