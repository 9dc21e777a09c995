package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// procKB returns a field of /proc/PID/status, such as VmHWM, in kB.
func procKB(t *testing.T, pid int, field string) int {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("%s: %v", field, err)
			}
			return kb
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

// TestBrokerRefusesHugeRequest is issue 14's "a connection that announces a
// 4 GiB request is closed, and the broker's RSS stays under 100 MB": the
// client announces 0xffffffff bytes and then sends up to 256 MiB of them.
// Without the cap, kfake allocated the announced size and read into it.
func TestBrokerRefusesHugeRequest(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	bp := startPgmotion(t, "broker", "--listen", addr, "--data-dir", t.TempDir())
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return strings.Contains(bp.output(), "broker listening"), nil })
	pid := bp.cmd.Process.Pid

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	chunk := make([]byte, 1<<20)
	binary.BigEndian.PutUint32(chunk, 0xffffffff)
	conn.SetWriteDeadline(time.Now().Add(60 * time.Second))
	sent, werr := 0, error(nil)
	for ; sent < 256 && werr == nil; sent++ {
		_, werr = conn.Write(chunk)
	}
	if werr == nil {
		t.Fatalf("the broker took 256 MiB of a request announced as 4 GiB without closing the connection")
	}
	t.Logf("connection closed after %d MiB were sent: %v", sent-1, werr)

	const limitKB = 100 << 10
	if hwm := procKB(t, pid, "VmHWM"); hwm > limitKB {
		t.Errorf("broker peak RSS %d kB, want under %d kB", hwm, limitKB)
	} else {
		t.Logf("broker peak RSS %d kB", hwm)
	}
	pgtest.WaitFor(t, 10*time.Second, func() (bool, error) {
		return strings.Contains(bp.output(), "larger than socket.request.max.bytes 104857600"), nil
	})

	// The broker still serves others.
	kc := needKcat(t)
	out, err := exec.Command(kc, "-b", addr, "-L", "-m", "10").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1 brokers:") {
		t.Fatalf("kcat -L after the refused request: %v\n%s", err, out)
	}
	bp.stop(t)
}

// TestBrokerDataDirPrivate: the data directory and what the broker writes
// into it are the user's alone, and a directory left readable by an
// earlier version is fixed at start, with a log line.
func TestBrokerDataDirPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "broker")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "cluster.id")
	if err := os.WriteFile(old, []byte("oKkuylISRW6jP8Y3fDCtHg\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(old, 0o644) // whatever the test's umask
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	bp := startPgmotion(t, "broker", "--listen", addr, "--data-dir", dir)
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return strings.Contains(bp.output(), "broker listening"), nil })
	if !strings.Contains(bp.output(), "data dir was readable by other users") {
		t.Errorf("no log line about the data dir's permissions:\n%s", bp.output())
	}
	kc := needKcat(t)
	if out, err := exec.Command(kc, "-b", addr, "-P", "-t", "private").CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	bp.stop(t)
	n := 0
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		n++
		want := os.FileMode(0o600)
		if info.IsDir() {
			want = 0o700
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, info.Mode().Perm(), want)
		}
		return nil
	})
	if n < 5 {
		t.Errorf("only %d paths in the data dir; did the broker write anything?", n)
	}
}

// TestE2EEmbeddedBrokerSASLSSL: pgmotion connect runs its embedded broker
// with SASL over TLS, its own clients authenticate as the first user, and a
// consumer reads the connector's events as another user; a consumer
// without credentials gets nothing.
func TestE2EEmbeddedBrokerSASLSSL(t *testing.T) {
	kc := needKcat(t)
	dsn := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(t.Context(), `CREATE TABLE sec (id int PRIMARY KEY, v text); INSERT INTO sec SELECT g, 'row ' || g FROM generate_series(1, 3) g`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key, _ := selfSigned(t, dir)
	users := filepath.Join(dir, "users")
	writeFile(t, users, "SCRAM-SHA-512:connect:w0rker:pw\nPLAIN:reader:r3ad\n")
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	file := connectorFile(t, dsn, "sec", map[string]string{"topic.prefix": "sec", "slot.name": "sec_slot", "table.include.list": "public.sec"})
	p := startPgmotion(t, "connect", "--rest", "127.0.0.1:0", "--embedded-broker", broker,
		"--embedded-broker-tls-cert", cert, "--embedded-broker-tls-key", key, "--embedded-broker-sasl-users-file", users,
		"--data-dir", t.TempDir(), file)

	secured := []string{"-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=PLAIN",
		"-X", "sasl.username=reader", "-X", "sasl.password=r3ad", "-X", "ssl.ca.location=" + cert}
	var out []byte
	pgtest.WaitFor(t, 120*time.Second, func() (bool, error) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		var err error
		out, err = exec.CommandContext(ctx, kc, append([]string{"-C", "-b", broker, "-t", "sec.public.sec", "-o", "beginning", "-c", "3", "-e", "-q", "-f", "%k\n"}, secured...)...).Output()
		return err == nil && strings.Count(string(out), "\n") == 3, nil
	})
	for i := 1; i <= 3; i++ {
		if !strings.Contains(string(out), fmt.Sprintf(`"id":%d}`, i)) {
			t.Errorf("no event keyed by id %d:\n%s", i, out)
		}
	}
	if strings.Contains(p.output(), "r3ad") || strings.Contains(p.output(), "w0rker:pw") {
		t.Errorf("the worker's output shows a password:\n%s", p.output())
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	plainOut, err := exec.CommandContext(ctx, kc, "-C", "-b", broker, "-t", "sec.public.sec", "-o", "beginning", "-c", "1", "-e", "-m", "5").CombinedOutput()
	if err == nil {
		t.Errorf("kcat without TLS and SASL read the topic:\n%s", plainOut)
	}
	p.stop(t)
}
