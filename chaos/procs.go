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

// procs tracks every child process the harness starts, so that all of
// them can be stopped on the way out, whether the run ends normally, fails
// or is interrupted. It is safe for concurrent use.
type procs struct {
	mu   sync.Mutex
	live map[*proc]struct{}
}

func newProcs() *procs { return &procs{live: map[*proc]struct{}{}} }

// proc is one child process, in a process group of its own so that a
// terminal's Ctrl-C reaches only the harness and a signal reaches anything
// the child forked.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string

	done    chan struct{} // closed once the process has exited and been reaped
	waitErr error
}

// start starts cmd with its output appended to logPath (a restarted process
// appends to the same log). A goroutine owned by the returned proc reaps
// it; done is closed when it has.
func (s *procs) start(name string, cmd *exec.Cmd, logPath string) (*proc, error) {
	// Pdeathsig is a backstop for a harness killed with SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: open its log: %w", name, err)
	}
	fmt.Fprintf(f, "---- chaos: %s started at %s\n", name, time.Now().Format(time.RFC3339Nano))
	cmd.Stdout, cmd.Stderr = f, f
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, cmd.Path, err)
	}
	s.mu.Lock()
	s.live[p] = struct{}{}
	s.mu.Unlock()
	go func() {
		p.waitErr = cmd.Wait()
		f.Close()
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

// signal sends sig to the process group.
func (p *proc) signal(sig syscall.Signal) error {
	if p.exited() {
		return fmt.Errorf("%s already %s", p.name, p.describeExit())
	}
	if err := syscall.Kill(-p.pid(), sig); err != nil {
		return fmt.Errorf("send %s to %s (pid %d): %w", sig, p.name, p.pid(), err)
	}
	return nil
}

// kill sends SIGKILL and waits for the process to be reaped.
func (p *proc) kill() error {
	if err := p.signal(syscall.SIGKILL); err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) still running 10 s after SIGKILL", p.name, p.pid())
	}
}

// stop sends SIGTERM to the process group and, if the process has not
// exited after grace, SIGKILL. It reports whether SIGTERM sufficed; an
// exited process reports true.
func (p *proc) stop(grace time.Duration) (clean bool) {
	if p.exited() {
		return true
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGCONT) // a paused process cannot act on SIGTERM
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
	}
	return false
}

// describeExit explains how the process ended.
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

// logTail returns the last n lines of the process's log, indented.
func (p *proc) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(bytes.ToValidUTF8(b, []byte("?"))), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// stopAll stops every live process at once, giving each grace to exit on
// SIGTERM.
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

// waitCtx sleeps d or until ctx ends.
func waitCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
