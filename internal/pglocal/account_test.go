package pglocal

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestEnsureAccountSaysSo creates a system user of its own, as Start does
// for RunAsUser when run as root: one log line says so the first time,
// nothing the second.
func TestEnsureAccountSaysSo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("creating a system user needs root")
	}
	userdel, err := findSbin("userdel")
	if err != nil {
		t.Skip(err)
	}
	name := fmt.Sprintf("pgm-test-%d", os.Getpid())
	t.Cleanup(func() {
		if out, err := exec.Command(userdel, name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v: %s", name, err, out)
		}
	})
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	for i := 0; i < 2; i++ {
		a, err := ensureAccount(context.Background(), name, log)
		if err != nil {
			t.Fatal(err)
		}
		if a.name != name || a.uid == 0 {
			t.Fatalf("account %+v", a)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=INFO") || !strings.Contains(lines[0], "created the system user "+name) || !strings.Contains(lines[0], "userdel "+name) {
		t.Errorf("want one INFO line saying the user was created and how to remove it, got:\n%s", buf.String())
	}
}
