package procs

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Sample is what /proc says about a running process at one moment.
type Sample struct {
	CPU     time.Duration // user+system CPU time so far
	PeakKiB int64         // VmHWM: peak resident set size so far
	RSSKiB  int64         // VmRSS: resident set size now
	Threads int
	At      time.Time // when it was read
	OK      bool      // false for the zero Sample, or when /proc could not be read
}

// Measure reads the CPU time and memory of the live process pid from
// /proc/PID/stat and /proc/PID/status.
func Measure(pid int) (Sample, error) {
	s := Sample{At: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("read /proc/%d/stat: %w", pid, err)
	}
	if s.CPU, err = parseStatCPU(stat, clockTicks()); err != nil {
		return s, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("read /proc/%d/status: %w", pid, err)
	}
	defer status.Close()
	err = parseStatus(status, &s)
	s.OK = true
	return s, err
}

// parseStatCPU returns the user+system CPU time in /proc/PID/stat, whose
// CPU times count ticks clock ticks a second.
func parseStatCPU(stat []byte, ticks int64) (time.Duration, error) {
	// The command name, in parentheses, may hold spaces and parentheses;
	// the fields after it start with the state (field 3). utime and stime
	// are fields 14 and 15, in clock ticks.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected format")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("only %d fields", len(f)+2)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad utime/stime %q %q", f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / time.Duration(ticks), nil
}

// parseStatus fills s's memory and thread figures from /proc/PID/status.
// A line it cannot read is skipped.
func parseStatus(r io.Reader, s *Sample) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch k {
		case "VmHWM":
			s.PeakKiB = n
		case "VmRSS":
			s.RSSKiB = n
		case "Threads":
			s.Threads = int(n)
		}
	}
	return sc.Err()
}

// clockTicks returns the kernel's USER_HZ (sysconf(_SC_CLK_TCK)), the unit
// of /proc/PID/stat's CPU times. The standard library has no sysconf, so it
// is read from the AT_CLKTCK entry of the auxiliary vector; 100 is the value
// on every mainstream Linux platform if that fails.
var clockTicks = sync.OnceValue(func() int64 {
	if runtime.GOOS != "linux" {
		return 100
	}
	auxv, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	if t := auxvClockTicks(auxv); t > 0 {
		return t
	}
	return 100
})

// auxvClockTicks returns the AT_CLKTCK entry of an auxiliary vector of
// native-endian 64-bit key/value pairs, or 0 when it has none.
func auxvClockTicks(auxv []byte) int64 {
	const atClkTck = 17
	for i := 0; i+16 <= len(auxv); i += 16 {
		key := binary.NativeEndian.Uint64(auxv[i:])
		val := binary.NativeEndian.Uint64(auxv[i+8:])
		if key == atClkTck && val > 0 {
			return int64(val)
		}
	}
	return 0
}

// ResetPeakRSS resets the kernel's high-water mark of the process's
// resident memory (VmHWM) to its current RSS, so that VmHWM read later is
// the peak since now.
func ResetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// Usage returns the CPU time (user+system) and peak RSS in KiB of an exited
// process, from the rusage that wait4 returned; zero while it runs. The
// peak RSS is an upper bound: at exec the kernel folds in the high-water
// mark of the address space being replaced, which for Go's vfork-style
// start is the parent's.
func (p *Proc) Usage() (cpu time.Duration, maxRSSKiB int64) {
	if !p.Exited() {
		return 0, 0
	}
	ps := p.cmd.ProcessState
	if ps == nil {
		return 0, 0
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return ps.UserTime() + ps.SystemTime(), 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Maxrss // KiB on Linux
}
