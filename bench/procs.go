package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs tracks every child process the benchmark starts, so that all of
// them can be stopped on the way out, whether the run ends normally, fails
// or is interrupted. It is safe for concurrent use.
type procs struct {
	mu   sync.Mutex
	live map[*proc]struct{}
}

func newProcs() *procs { return &procs{live: map[*proc]struct{}{}} }

// proc is one child process. Each runs in a process group of its own, so
// that a terminal's Ctrl-C reaches only the benchmark, which then stops its
// children in order, and so that stopping a child stops anything it forked.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string    // stdout and stderr, or "" when the caller set them
	started time.Time // just before fork/exec
	set     *procs

	done    chan struct{} // closed once the process has exited and been reaped
	ended   time.Time
	waitErr error
}

// start starts cmd. Its output goes to logPath unless the caller set
// cmd.Stdout or cmd.Stderr. A goroutine owned by the returned proc reaps it;
// done is closed when it has.
func (s *procs) start(name string, cmd *exec.Cmd, logPath string) (*proc, error) {
	// Pdeathsig is a backstop for a benchmark killed with SIGKILL, which
	// leaves it no chance to stop its children.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var logFile *os.File
	if logPath != "" && cmd.Stdout == nil && cmd.Stderr == nil {
		f, err := os.Create(logPath)
		if err != nil {
			return nil, fmt.Errorf("start %s: create its log: %w", name, err)
		}
		logFile = f
		cmd.Stdout, cmd.Stderr = f, f
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, set: s, done: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		if logFile != nil {
			logFile.Close()
		}
		return nil, fmt.Errorf("start %s (%s): %w", name, cmd.Path, err)
	}
	s.mu.Lock()
	s.live[p] = struct{}{}
	s.mu.Unlock()
	go func() {
		p.waitErr = cmd.Wait()
		p.ended = time.Now()
		if logFile != nil {
			logFile.Close()
		}
		s.mu.Lock()
		delete(s.live, p)
		s.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// pid returns the process id, which is also its process group id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit or ctx to end.
func (p *proc) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.waitErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop sends SIGTERM to the process group and, if the process has not
// exited after grace, SIGKILL. It reports whether the process exited on
// SIGTERM alone; stopping an exited process reports true.
func (p *proc) stop(grace time.Duration) (clean bool) {
	if p.exited() {
		return true
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(grace):
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		// Unkillable (D state); nothing more we can do.
	}
	return false
}

// describeExit explains how the process ended, for error messages.
func (p *proc) describeExit() string {
	if !p.exited() {
		return "still running"
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by " + ws.Signal().String()
		}
		return fmt.Sprintf("exited with status %d", ee.ExitCode())
	}
	if p.waitErr != nil {
		return p.waitErr.Error()
	}
	return "exited with status 0"
}

// logTail returns the last n lines of the process's log, indented, for
// error messages.
func (p *proc) logTail(n int) string {
	if p.logPath == "" {
		return ""
	}
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(bytes.ToValidUTF8(b, []byte("?"))), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return "    (no output)"
	}
	return "    " + strings.Join(lines, "\n    ")
}

// usage returns the CPU time (user+system) and peak RSS in KiB of an exited
// process, from the rusage that wait4 returned. The peak RSS is an upper
// bound: at exec the kernel folds in the high-water mark of the address
// space being replaced, which for Go's vfork-style start is the parent's.
func (p *proc) usage() (cpu time.Duration, maxRSSKiB int64) {
	if p.cmd.ProcessState == nil {
		return 0, 0
	}
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime(), 0
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, ru.Maxrss // KiB on Linux
}

// stopAll stops every live process, all at once, giving each grace to exit
// on SIGTERM.
func (s *procs) stopAll(grace time.Duration) {
	s.mu.Lock()
	ps := make([]*proc, 0, len(s.live))
	for p := range s.live {
		ps = append(ps, p)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() { p.stop(grace) })
	}
	wg.Wait()
}

// killAll sends SIGKILL to every live process group without waiting: the
// last resort on a second interrupt.
func (s *procs) killAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.live {
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	}
}
