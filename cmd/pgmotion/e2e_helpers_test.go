package main

// End-to-end tests run the pgmotion binary itself: the test binary re-execs
// itself as pgmotion when PGMOTION_TEST_MAIN is set (Prometheus's
// -test.main pattern), against a real PostgreSQL and read what it wrote
// with kcat, a third-party Kafka client (librdkafka).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMain(m *testing.M) {
	if os.Getenv("PGMOTION_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(pgtest.Run(m))
}

// proc is a pgmotion process started by a test.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// startPgmotion runs the binary with args; it is killed at the end of the
// test if still running.
func startPgmotion(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan error, 1)}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(os.Environ(), "PGMOTION_TEST_MAIN=1")
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("pgmotion %s output:\n%s", strings.Join(args, " "), p.output())
		}
	})
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("pgmotion exited with %v:\n%s", err, p.output())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("pgmotion did not stop within 30s of SIGTERM:\n%s", p.output())
	}
}

func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	err := <-p.done
	p.done <- err
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func needKcat(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		pgtest.Unavailable(t, "kcat is not installed: apt-get install kcat")
	}
	return path
}

// kcatMsg is one record as `kcat -J` prints it.
type kcatMsg struct {
	Topic     string   `json:"topic"`
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	Headers   []string `json:"headers"`
	Key       *string  `json:"key"`
	Payload   *string  `json:"payload"`
}

// consume reads topic from the start with kcat until it has n records.
func consume(t *testing.T, broker, topic string, n int, timeout time.Duration) []kcatMsg {
	t.Helper()
	kcat := needKcat(t)
	deadline := time.Now().Add(timeout)
	var got []kcatMsg
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		args := []string{"-C", "-b", broker, "-t", topic, "-o", "beginning", "-e", "-J", "-q"}
		if n > 0 {
			// -e alone may never see the end of a topic that keeps growing.
			args = append(args, "-c", strconv.Itoa(n))
		}
		out, err := exec.CommandContext(ctx, kcat, args...).Output()
		cancel()
		got = got[:0]
		if err == nil {
			sc := bufio.NewScanner(bytes.NewReader(out))
			sc.Buffer(make([]byte, 1<<20), 64<<20)
			for sc.Scan() {
				var m kcatMsg
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					t.Fatalf("kcat line %q: %v", sc.Text(), err)
				}
				got = append(got, m)
			}
		}
		if err == nil && len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s: %d records after %v, want %d (kcat: %v)", topic, len(got), timeout, n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// connectorFile writes a Kafka Connect request body for the test database.
func connectorFile(t *testing.T, dsn, name string, extra map[string]string) string {
	t.Helper()
	u := parseDSN(t, dsn)
	cfg := map[string]string{
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname": u.host,
		"database.port":     u.port,
		"database.user":     u.user,
		"database.password": "not-needed-with-trust",
		"database.dbname":   u.db,
		"plugin.name":       "pgoutput",
	}
	for k, v := range extra {
		cfg[k] = v
	}
	b, _ := json.Marshal(map[string]any{"name": name, "config": cfg})
	path := t.TempDir() + "/" + name + ".json"
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type dsnParts struct{ host, port, user, db string }

func parseDSN(t *testing.T, dsn string) dsnParts {
	t.Helper()
	m := regexp.MustCompile(`^postgres(?:ql)?://([^:@/]+)(?::[^@]*)?@([^:/]+):(\d+)/([^?]+)`).FindStringSubmatch(dsn)
	if m == nil {
		t.Fatalf("cannot parse test DSN %q", dsn)
	}
	return dsnParts{user: m[1], host: m[2], port: m[3], db: m[4]}
}

// volatile matches the parts of an event that differ between runs.
var volatile = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`"(ts_ms|ts_us|ts_ns|txId|lsn)":\d+`), `"$1":0`},
	{regexp.MustCompile(`"sequence":"(?:[^"\\]|\\.)*"`), `"sequence":"[…]"`},
	// Each test has a database of its own.
	{regexp.MustCompile(`"db":"pgtest_[^"]*"`), `"db":"testdb"`},
	// __debezium.context.runId is new for every run.
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), `<uuid>`},
}

func normalize(s string) string {
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.repl)
	}
	return s
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/pgmotion -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func str(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

func describe(m kcatMsg) string {
	return normalize(fmt.Sprintf("key=%s\nvalue=%s\nheaders=%q\n", str(m.Key), str(m.Payload), m.Headers))
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
