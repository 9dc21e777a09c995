package procs

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTail(t *testing.T) {
	for _, tt := range []struct {
		name string
		log  string
		n    int
		want string
	}{
		{name: "fewer lines than asked", log: "a\nb\n", n: 5, want: "    a\n    b"},
		{name: "the last n", log: "a\nb\nc\nd\n", n: 2, want: "    c\n    d"},
		{name: "no final newline", log: "a\nb", n: 1, want: "    b"},
		{name: "trailing blank lines dropped", log: "a\n\n\n", n: 2, want: "    a"},
		{name: "blank lines inside kept", log: "a\n\nb\n", n: 3, want: "    a\n    \n    b"},
		{name: "empty log", log: "", n: 3, want: "    (no output)"},
		{name: "only newlines", log: "\n\n", n: 3, want: "    (no output)"},
		{name: "invalid UTF-8", log: "ok\nbad \xff\xfe end\n", n: 1, want: "    bad ? end"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tail([]byte(tt.log), tt.n); got != tt.want {
				t.Fatalf("tail(%q, %d) = %q, want %q", tt.log, tt.n, got, tt.want)
			}
		})
	}
}

// TestDescribeExit runs real processes that end in each way the harnesses
// report.
func TestDescribeExit(t *testing.T) {
	for _, tt := range []struct {
		script string
		want   string
	}{
		{script: "exit 0", want: "exited with status 0"},
		{script: "exit 3", want: "exited with status 3"},
		{script: "kill -KILL $$", want: "killed by killed"},
		{script: "kill -TERM $$", want: "killed by terminated"},
	} {
		t.Run(tt.script, func(t *testing.T) {
			var s Set
			p, err := s.Start("sh", exec.Command("sh", "-c", tt.script), "")
			if err != nil {
				t.Fatal(err)
			}
			_ = p.Wait(context.Background())
			if got := p.DescribeExit(); got != tt.want {
				t.Errorf("DescribeExit = %q, want %q", got, tt.want)
			}
		})
	}
	if got := describeWait(errors.New("wait: no child")); got != "wait: no child" {
		t.Errorf("describeWait(other error) = %q", got)
	}
}

func TestStartLog(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "x.log")
	if err := os.WriteFile(log, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(s *Set, msg string) *Proc {
		t.Helper()
		p, err := s.Start("echo", exec.Command("sh", "-c", "echo "+msg+"; echo "+msg+" >&2"), log)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// Without a banner, each start replaces the log.
	p := run(&Set{}, "one")
	if b, _ := os.ReadFile(log); string(b) != "one\none\n" {
		t.Errorf("log = %q, want the new output only", b)
	}
	if p.LogPath() != log || p.LogTail(1) != "    one" {
		t.Errorf("LogPath, LogTail = %q, %q", p.LogPath(), p.LogTail(1))
	}
	if !p.Ended().After(p.Started()) || p.Started().IsZero() {
		t.Errorf("Started %v, Ended %v", p.Started(), p.Ended())
	}
	if cpu, _ := p.Usage(); cpu < 0 {
		t.Errorf("Usage = %v", cpu)
	}

	// With one, each start appends, under a line naming it.
	s := &Set{Banner: "chaos"}
	run(s, "two")
	run(s, "three")
	b, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 8 || lines[0] != "one" || lines[3] != "two" || lines[6] != "three" ||
		!strings.HasPrefix(lines[2], "---- chaos: echo started at ") || !strings.HasPrefix(lines[5], "---- chaos: echo started at ") {
		t.Errorf("log after two appended starts:\n%s", b)
	}

	// Output the caller directs elsewhere leaves the log alone.
	var out strings.Builder
	cmd := exec.Command("echo", "elsewhere")
	cmd.Stdout = &out
	p, err := (&Set{}).Start("echo", cmd, log)
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Wait(context.Background())
	if after, _ := os.ReadFile(log); string(after) != string(b) || out.String() != "elsewhere\n" {
		t.Errorf("log %q, output %q", after, out.String())
	}

	if _, err := (&Set{}).Start("nothing", exec.Command(filepath.Join(dir, "no-such-binary")), ""); err == nil || !strings.Contains(err.Error(), "start nothing (") {
		t.Errorf("Start of a missing binary = %v", err)
	}
	if _, err := (&Set{}).Start("x", exec.Command("true"), filepath.Join(dir, "no", "such", "dir.log")); err == nil || !strings.Contains(err.Error(), "start x: create its log") {
		t.Errorf("Start with a log it cannot create = %v", err)
	}
}

// TestStop stops a process that exits on SIGTERM, one that ignores it, and
// one that is paused, and stops a whole Set.
func TestStop(t *testing.T) {
	var s Set
	start := func(script string) *Proc {
		t.Helper()
		p, err := s.Start("sh", exec.Command("sh", "-c", script), "")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// exec, so that the signal reaches sleep itself; a shell waiting for
	// its child acts on SIGTERM only once the child ends.
	polite := start("exec sleep 60")
	if !polite.Stop(5*time.Second) || polite.DescribeExit() != "killed by terminated" {
		t.Errorf("Stop of a process that exits on SIGTERM: %s", polite.DescribeExit())
	}
	if !polite.Stop(time.Second) {
		t.Error("Stop of an exited process reported false")
	}

	stubborn := start("trap '' TERM; while :; do sleep 0.05; done")
	time.Sleep(100 * time.Millisecond) // let the shell set its trap
	if stubborn.Stop(200*time.Millisecond) || stubborn.DescribeExit() != "killed by killed" {
		t.Errorf("Stop of a process that ignores SIGTERM: %s", stubborn.DescribeExit())
	}

	paused := start("exec sleep 60")
	if err := paused.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if !paused.Stop(5 * time.Second) {
		t.Errorf("Stop of a paused process needed SIGKILL: %s", paused.DescribeExit())
	}
	if err := paused.Signal(syscall.SIGTERM); err == nil || !strings.Contains(err.Error(), "sh already killed by terminated") {
		t.Errorf("Signal to an exited process = %v", err)
	}

	a, b := start("exec sleep 60"), start("exec sleep 60")
	s.StopAll(5 * time.Second)
	if !a.Exited() || !b.Exited() {
		t.Error("StopAll left a process running")
	}
	c := start("exec sleep 60")
	if err := c.Kill(); err != nil || c.DescribeExit() != "killed by killed" {
		t.Errorf("Kill = %v, %s", err, c.DescribeExit())
	}
	d := start("exec sleep 60")
	s.KillAll()
	<-d.Done()
	if d.DescribeExit() != "killed by killed" {
		t.Errorf("after KillAll: %s", d.DescribeExit())
	}
}

func TestAwait(t *testing.T) {
	var s Set
	p, err := s.Start("sleep", exec.Command("sleep", "60"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	ctx := context.Background()
	calls := 0
	if err := p.Await(ctx, time.Minute, time.Millisecond, func() bool { calls++; return calls == 3 }); err != nil || calls != 3 {
		t.Errorf("Await = %v after %d calls, want nil after 3", err, calls)
	}
	if err := p.Await(ctx, 20*time.Millisecond, time.Millisecond, func() bool { return false }); !errors.Is(err, ErrTimeout) {
		t.Errorf("Await never ready = %v, want ErrTimeout", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Await(cctx, time.Minute, time.Millisecond, func() bool { return false }); !errors.Is(err, context.Canceled) {
		t.Errorf("Await with an ended context = %v", err)
	}
	if err := p.Wait(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with an ended context = %v", err)
	}

	q, err := s.Start("sh", exec.Command("sh", "-c", "exit 1"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Await(ctx, time.Minute, time.Millisecond, func() bool { return false }); !errors.Is(err, ErrExited) {
		t.Errorf("Await of a process that exits = %v, want ErrExited", err)
	}
}

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil || port <= 0 || port > 65535 {
		t.Fatalf("FreePort = %d, %v", port, err)
	}
}
