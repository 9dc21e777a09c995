// Package procs starts, watches, measures and stops the child processes of
// pgmotion's harnesses, the benchmark (bench) and the chaos run (chaos):
// the pgmotion binary as a broker or a worker, psql, pg_recvlogical and
// the like.
//
// A Set tracks every process a harness starts, so that all of them can be
// stopped on the way out, whether the run ends normally, fails or is
// interrupted. Each Proc runs in a process group of its own, so that a
// terminal's Ctrl-C reaches only the harness, which then stops its children
// in order, and so that a signal sent to a child reaches anything it forked.
// Measure and Proc.Usage read what a process costs in CPU time and memory,
// from /proc while it runs and from its rusage once it has exited.
//
// The package is Linux-only, as the harnesses are.
package procs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// killWait is how long Stop and Kill wait for a process to be reaped after
// SIGKILL; one still running then is unkillable (D state).
const killWait = 10 * time.Second

// Set tracks the live processes a harness started. The zero value is ready
// to use; a Set is safe for concurrent use.
type Set struct {
	// Banner, when not "", has Start append to a process's log instead of
	// replacing it, and open each start with the line
	// "---- <Banner>: <name> started at <time>", so that a process
	// restarted on the same log shows where each of its lives begins. Set
	// it before the first Start.
	Banner string

	mu   sync.Mutex
	live map[*Proc]struct{}
}

// Proc is one child process. Its methods are safe for concurrent use.
type Proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string    // stdout and stderr, or "" when the caller set them
	started time.Time // just before fork/exec

	done    chan struct{} // closed once the process has exited and been reaped
	ended   time.Time     // written before done is closed
	waitErr error         // written before done is closed
}

// Start starts cmd, which name describes in errors. Its output goes to
// logPath unless logPath is "" or the caller set cmd.Stdout or cmd.Stderr.
// A goroutine owned by the returned Proc reaps the process; Done is closed
// when it has.
func (s *Set) Start(name string, cmd *exec.Cmd, logPath string) (*Proc, error) {
	// Pdeathsig is a backstop for a harness killed with SIGKILL, which
	// leaves it no chance to stop its children.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var logFile *os.File
	if logPath != "" && cmd.Stdout == nil && cmd.Stderr == nil {
		f, err := s.openLog(name, logPath)
		if err != nil {
			return nil, err
		}
		logFile = f
		cmd.Stdout, cmd.Stderr = f, f
	}
	p := &Proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		if logFile != nil {
			logFile.Close()
		}
		return nil, fmt.Errorf("start %s (%s): %w", name, cmd.Path, err)
	}
	s.mu.Lock()
	if s.live == nil {
		s.live = map[*Proc]struct{}{}
	}
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

// openLog creates the log at path, or appends to it when s has a Banner.
func (s *Set) openLog(name, path string) (*os.File, error) {
	if s.Banner == "" {
		f, err := os.Create(path)
		if err != nil {
			return nil, fmt.Errorf("start %s: create its log: %w", name, err)
		}
		return f, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: open its log: %w", name, err)
	}
	fmt.Fprintf(f, "---- %s: %s started at %s\n", s.Banner, name, time.Now().Format(time.RFC3339Nano))
	return f, nil
}

// StopAll stops every live process, all at once, giving each grace to exit
// on SIGTERM.
func (s *Set) StopAll(grace time.Duration) {
	s.mu.Lock()
	ps := make([]*Proc, 0, len(s.live))
	for p := range s.live {
		ps = append(ps, p)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() { p.Stop(grace) })
	}
	wg.Wait()
}

// KillAll sends SIGKILL to every live process group without waiting: the
// last resort on a second interrupt.
func (s *Set) KillAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.live {
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	}
}

// Pid returns the process id, which is also its process group id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// LogPath returns the path of the process's log, or "" when the caller of
// Start set its output.
func (p *Proc) LogPath() string { return p.logPath }

// Started returns the time just before the process was forked.
func (p *Proc) Started() time.Time { return p.started }

// Ended returns the time the process was reaped, or the zero time while it
// runs.
func (p *Proc) Ended() time.Time {
	if !p.Exited() {
		return time.Time{}
	}
	return p.ended
}

// Done returns a channel that is closed once the process has exited and
// been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits for the process to exit or ctx to end, and returns what
// exec.Cmd.Wait returned or ctx's error.
func (p *Proc) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.waitErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Signal sends sig to the process group.
func (p *Proc) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return fmt.Errorf("%s already %s", p.name, p.DescribeExit())
	}
	if err := syscall.Kill(-p.Pid(), sig); err != nil {
		return fmt.Errorf("send %s to %s (pid %d): %w", sig, p.name, p.Pid(), err)
	}
	return nil
}

// Kill sends SIGKILL to the process group and waits for the process to be
// reaped.
func (p *Proc) Kill() error {
	if err := p.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(killWait):
		return fmt.Errorf("%s (pid %d) still running %.0f s after SIGKILL", p.name, p.Pid(), killWait.Seconds())
	}
}

// Stop sends SIGTERM to the process group and, if the process has not
// exited after grace, SIGKILL. It reports whether the process exited on
// SIGTERM alone; stopping an exited process reports true.
func (p *Proc) Stop(grace time.Duration) (clean bool) {
	if p.Exited() {
		return true
	}
	_ = syscall.Kill(-p.Pid(), syscall.SIGCONT) // a paused process cannot act on SIGTERM
	_ = syscall.Kill(-p.Pid(), syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(grace):
	}
	_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(killWait):
		// Unkillable (D state); nothing more can be done.
	}
	return false
}

// ErrExited and ErrTimeout are what Await returns when the process exits,
// or its time runs out, before it is ready.
var (
	ErrExited  = errors.New("exited before it was ready")
	ErrTimeout = errors.New("not ready in time")
)

// Await calls ready every poll until it reports true, and then returns nil.
// It returns ErrExited once the process has exited, ErrTimeout once limit
// has passed, or ctx's error once ctx ends, whichever comes first; the
// process is left as it is.
func (p *Proc) Await(ctx context.Context, limit, poll time.Duration, ready func() bool) error {
	deadline := time.Now().Add(limit)
	t := time.NewTimer(poll)
	defer t.Stop()
	for {
		if ready() {
			return nil
		}
		if p.Exited() {
			return ErrExited
		}
		if time.Now().After(deadline) {
			return ErrTimeout
		}
		t.Reset(poll)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// DescribeExit explains how the process ended, for error messages:
// "exited with status 1", "killed by killed" (the name of SIGKILL) or
// "still running".
func (p *Proc) DescribeExit() string {
	if !p.Exited() {
		return "still running"
	}
	return describeWait(p.waitErr)
}

// describeWait explains what exec.Cmd.Wait returned.
func describeWait(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by " + ws.Signal().String()
		}
		return fmt.Sprintf("exited with status %d", ee.ExitCode())
	}
	if err != nil {
		return err.Error()
	}
	return "exited with status 0"
}

// LogTail returns the last n lines of the process's log, indented, for
// error messages; "" when it has no log.
func (p *Proc) LogTail(n int) string {
	if p.logPath == "" {
		return ""
	}
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	return tail(b, n)
}

// tail returns the last n lines of b, each indented by four spaces, with
// invalid UTF-8 replaced by "?".
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(bytes.ToValidUTF8(b, []byte("?"))), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return "    (no output)"
	}
	return "    " + strings.Join(lines, "\n    ")
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// a child to listen on.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
