package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmotion/pgmotion/internal/pglocal"
	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// readmeBlock is one ```sh block of the README.
type readmeBlock struct {
	// stopBefore: the prose before the block says Ctrl-C, which stops the
	// commands still running.
	stopBefore bool
	commands   []string
}

// readmeSection returns the shell blocks of the README section headed
// heading, up to its first subsection. Comment lines are not commands;
// a line ending in a backslash goes on on the next.
func readmeSection(readme, heading string) ([]readmeBlock, error) {
	i := strings.Index(readme, "\n"+heading+"\n")
	if i < 0 {
		return nil, fmt.Errorf("README has no %q heading", heading)
	}
	var blocks []readmeBlock
	var prose strings.Builder
	var cur *readmeBlock
	fence := "" // the open fence's language, "" outside code
	pending := ""
	for _, line := range strings.Split(readme[i+len(heading)+2:], "\n") {
		switch {
		case fence == "" && (strings.HasPrefix(line, "## ") || strings.HasPrefix(line, "### ")):
			return blocks, nil
		case fence == "" && strings.HasPrefix(line, "```"):
			fence = strings.TrimPrefix(line, "```")
			if fence == "sh" {
				blocks = append(blocks, readmeBlock{stopBefore: strings.Contains(prose.String(), "Ctrl-C")})
				cur = &blocks[len(blocks)-1]
				prose.Reset()
			}
		case fence != "" && strings.TrimSpace(line) == "```":
			if pending != "" {
				return nil, fmt.Errorf("a command ends in a backslash at the end of its block: %s", pending)
			}
			fence, cur = "", nil
		case fence == "":
			prose.WriteString(line + "\n")
		case cur != nil:
			l := strings.TrimSpace(line)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			if strings.HasSuffix(l, `\`) {
				pending += strings.TrimSuffix(l, `\`)
				continue
			}
			cur.commands = append(cur.commands, pending+l)
			pending = ""
		}
	}
	return blocks, nil
}

// readmeStep says what to do with the README commands it matches, and
// how to check that one did what the README says.
type readmeStep struct {
	match *regexp.Regexp
	// background: the command keeps running (in a terminal of its own,
	// for a user) until Ctrl-C.
	background bool
	check      func(t *testing.T, env *readmeEnv, stdout string)
	used       bool
}

// readmeEnv is where the walk-through runs.
type readmeEnv struct {
	root                    string // the copy of the repository
	pgPort, kafka, restPort string
}

func (e *readmeEnv) sakila(t *testing.T) *pgx.Conn {
	t.Helper()
	return pgtest.Connect(t, "postgres://postgres@127.0.0.1:"+e.pgPort+"/sakila?sslmode=disable")
}

func (e *readmeEnv) rest(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://127.0.0.1:" + e.restPort + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitConnectorRunning waits until the REST API reports sakila-connector and
// its task RUNNING.
func (e *readmeEnv) waitConnectorRunning(t *testing.T) {
	t.Helper()
	pgtest.WaitFor(t, 2*time.Minute, func() (bool, error) {
		code, body := e.rest(t, "/connectors/sakila-connector/status")
		return code == 200 && strings.Count(body, `"state":"RUNNING"`) == 2, nil
	})
}

// debeziumEvents parses kcat's output, one value per line.
func debeziumEvents(t *testing.T, out string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var v struct {
			Schema  map[string]any `json:"schema"`
			Payload map[string]any `json:"payload"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil || v.Payload == nil || v.Schema["name"] != "sakila.public.actor.Envelope" {
			t.Fatalf("not a Debezium event of sakila.public.actor (%v): %.300s", err, l)
		}
		evs = append(evs, v.Payload)
	}
	return evs
}

// TestReadmeRunningIt runs every command of the README's "Running it"
// section (up to its first subsection) as written, in a copy of what a
// fresh clone holds (the files git tracks or would add, not bin/ or
// pgmotion-data/), with ../shared beside it, and checks what each one did.
// Each command must match one step below, and each step one command, so
// the test breaks when the README drifts.
//
// Where the test departs from a user at a terminal, and only there:
//   - the well-known ports 5432, 9092 and 8083 are replaced by free ones, in
//     the commands and in examples/sakila, PGMOTION_LISTENERS names the
//     REST port to commands that take the default, and TMPDIR is the test's
//     own directory, so that the test runs beside a real PostgreSQL or
//     Kafka, and beside itself;
//   - commands that keep running start in the background, as in a terminal
//     of their own, and get SIGINT where the README says Ctrl-C; they must
//     then exit with status 0;
//   - before the next command, the test waits for what a command set off
//     (a snapshot, a streamed change) as a reader would.
func TestReadmeRunningIt(t *testing.T) {
	for _, tool := range []string{"git", "make", "psql", "curl", "kcat"} {
		if _, err := exec.LookPath(tool); err != nil {
			pgtest.Unavailable(t, "%s is not installed, and the README's walk-through uses it", tool)
		}
	}
	if _, err := pglocal.FindBinDir(); err != nil {
		pgtest.Unavailable(t, "PostgreSQL's server binaries: %v", err)
	}
	repo, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		pgtest.Unavailable(t, "not in a git checkout, so what a fresh clone holds is unknown: %v", err)
	}
	repoDir := strings.TrimSpace(string(repo))
	shared, err := filepath.EvalSymlinks(filepath.Join(repoDir, "..", "shared"))
	if err != nil {
		pgtest.Unavailable(t, "the Sakila dataset in ../shared: %v", err)
	}
	readme, err := os.ReadFile(filepath.Join(repoDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readmeSection(string(readme), "## Running it")
	if err != nil {
		t.Fatal(err)
	}

	// The fresh clone, in a directory PostgreSQL's user can reach as root.
	tmp, err := pglocal.MkdirTemp("pgmotion-readme-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	env := &readmeEnv{root: filepath.Join(tmp, "pgmotion"), pgPort: strconv.Itoa(freePort(t)), kafka: strconv.Itoa(freePort(t)), restPort: strconv.Itoa(freePort(t))}
	ports := map[string]string{"5432": env.pgPort, "9092": env.kafka, "8083": env.restPort}
	wellKnown := regexp.MustCompile(`\b(5432|9092|8083)\b`)
	subst := func(s string) string {
		return wellKnown.ReplaceAllStringFunc(s, func(p string) string { return ports[p] })
	}
	copyCheckout(t, repoDir, env.root, func(path string, b []byte) []byte {
		if strings.HasPrefix(path, "examples/sakila/") {
			return []byte(subst(string(b)))
		}
		return b
	})
	if err := os.Symlink(shared, filepath.Join(tmp, "shared")); err != nil {
		t.Fatal(err)
	}
	cmdEnv := append(os.Environ(), "TMPDIR="+tmp, "PGMOTION_LISTENERS=http://127.0.0.1:"+env.restPort, "PGMOTION_TEST_MAIN=")
	broker := "127.0.0.1:" + env.kafka
	t.Cleanup(func() {
		// A failed run leaves the throwaway PostgreSQL: stop it.
		if _, err := os.Stat(filepath.Join(tmp, "pgmotion-postgres-"+env.pgPort)); err == nil {
			if srv, err := pglocal.Attach(filepath.Join(tmp, "pgmotion-postgres-"+env.pgPort), nil); err == nil {
				srv.Stop(context.Background())
			}
		}
	})

	steps := []*readmeStep{
		{match: regexp.MustCompile(`^make build$`), check: func(t *testing.T, e *readmeEnv, out string) {
			if !strings.Contains(out, "the first build downloads and compiles the dependencies") {
				t.Errorf("make build does not say that the first build takes a while:\n%s", out)
			}
			v, err := exec.Command(filepath.Join(e.root, "bin", "pgmotion"), "version").Output()
			if err != nil || !strings.HasPrefix(string(v), "pgmotion ") {
				t.Fatalf("./bin/pgmotion version: %v: %s", err, v)
			}
		}},
		{match: regexp.MustCompile(`^\./bin/pgmotion postgres start --port \d+$`), check: func(t *testing.T, e *readmeEnv, out string) {
			level := pgtest.QueryValue[string](t, "postgres://postgres@127.0.0.1:"+e.pgPort+"/postgres?sslmode=disable", "SHOW wal_level")
			if level != "logical" || !strings.Contains(out, "wal_level=logical") {
				t.Fatalf("wal_level %q; output:\n%s", level, out)
			}
		}},
		{match: regexp.MustCompile(`^psql \S+/postgres -c 'CREATE DATABASE sakila'$`), check: func(t *testing.T, e *readmeEnv, _ string) {
			e.sakila(t).Close(context.Background())
		}},
		{match: regexp.MustCompile(`^psql \S+/sakila .*-f \.\./shared/datasets/sakila/postgres-sakila-schema\.sql$`), check: func(t *testing.T, e *readmeEnv, _ string) {
			var n int
			if err := e.sakila(t).QueryRow(context.Background(), `SELECT count(*) FROM actor`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("actor after the schema: %d rows, %v", n, err)
			}
		}},
		{match: regexp.MustCompile(`^psql \S+/sakila .*-f \.\./shared/datasets/sakila/postgres-sakila-insert-data-using-copy\.sql$`), check: func(t *testing.T, e *readmeEnv, _ string) {
			var actors, films int
			if err := e.sakila(t).QueryRow(context.Background(), `SELECT (SELECT count(*) FROM actor), (SELECT count(*) FROM film)`).Scan(&actors, &films); err != nil || actors != 200 || films != 1000 {
				t.Fatalf("after the data: %d actors, %d films (%v), want 200 and 1000", actors, films, err)
			}
		}},
		{match: regexp.MustCompile(`^\./bin/pgmotion broker --listen \S+ --data-dir \./pgmotion-data/broker$`), background: true, check: func(t *testing.T, e *readmeEnv, _ string) {
			pgtest.WaitFor(t, time.Minute, func() (bool, error) {
				return exec.Command("kcat", "-b", broker, "-L", "-m", "2").Run() == nil, nil
			})
		}},
		{match: regexp.MustCompile(`^\./bin/pgmotion connect --worker-config examples/sakila/connect-distributed\.properties$`), background: true, check: func(t *testing.T, e *readmeEnv, _ string) {
			pgtest.WaitFor(t, time.Minute, func() (bool, error) {
				code, _ := e.rest(t, "/connectors")
				return code == 200, nil
			})
		}},
		{match: regexp.MustCompile(`^curl -s -X POST .*--data @examples/sakila/connect-postgres-sakila-source\.json localhost:\d+/connectors$`), check: func(t *testing.T, e *readmeEnv, out string) {
			var created struct {
				Name   string            `json:"name"`
				Config map[string]string `json:"config"`
			}
			if err := json.Unmarshal([]byte(out), &created); err != nil || created.Name != "sakila-connector" || created.Config["topic.prefix"] != "sakila" {
				t.Fatalf("POST /connectors answered %q (%v)", out, err)
			}
			// The snapshot: every actor.
			consume(t, broker, "sakila.public.actor", 200, 2*time.Minute)
			e.waitConnectorRunning(t)
		}},
		{match: regexp.MustCompile(`^curl -s localhost:\d+/connectors/sakila-connector/status$`), check: func(t *testing.T, e *readmeEnv, out string) {
			if !strings.Contains(out, `"name":"sakila-connector","connector":{"state":"RUNNING"`) || !strings.Contains(out, `"tasks":[{"id":0,"state":"RUNNING"`) {
				t.Fatalf("status: %s", out)
			}
		}},
		{match: regexp.MustCompile(`^kcat -b \S+ -C -t sakila\.public\.actor -o beginning -c 2$`), check: func(t *testing.T, e *readmeEnv, out string) {
			evs := debeziumEvents(t, out)
			if len(evs) != 2 || evs[0]["op"] != "r" || evs[1]["op"] != "r" {
				t.Fatalf("want the first two snapshot events of actor:\n%s", out)
			}
		}},
		{match: regexp.MustCompile(`^psql \S+/sakila -c "UPDATE actor SET last_name = 'GUINESSS' WHERE actor_id = 1"$`), check: func(t *testing.T, e *readmeEnv, out string) {
			if strings.TrimSpace(out) != "UPDATE 1" {
				t.Fatalf("psql: %s", out)
			}
			consume(t, broker, "sakila.public.actor", 201, 2*time.Minute)
		}},
		{match: regexp.MustCompile(`^kcat -b \S+ -C -t sakila\.public\.actor -o -1 -c 1$`), check: func(t *testing.T, e *readmeEnv, out string) {
			evs := debeziumEvents(t, out)
			after, _ := evs[0]["after"].(map[string]any)
			if len(evs) != 1 || evs[0]["op"] != "u" || after["last_name"] != "GUINESSS" || after["actor_id"] != float64(1) {
				t.Fatalf("want the update of actor 1:\n%s", out)
			}
		}},
		{match: regexp.MustCompile(`^\./bin/pgmotion connect --embedded-broker \S+ examples/sakila/connect-postgres-sakila-source\.json$`), background: true, check: func(t *testing.T, e *readmeEnv, _ string) {
			e.waitConnectorRunning(t)
		}},
		{match: regexp.MustCompile(`^curl -s 'localhost:\d+/connectors\?expand=status'$`), check: func(t *testing.T, e *readmeEnv, out string) {
			if !strings.Contains(out, `{"sakila-connector":{"status":{"name":"sakila-connector","connector":{"state":"RUNNING"`) {
				t.Fatalf("GET /connectors?expand=status: %s", out)
			}
			// It went on where it stopped: no second snapshot.
			if n := len(consume(t, broker, "sakila.public.actor", 201, time.Minute)); n != 201 {
				t.Errorf("sakila.public.actor holds %d events after the restart, want 201", n)
			}
		}},
		{match: regexp.MustCompile(`^\./bin/pgmotion postgres stop --port \d+$`), check: func(t *testing.T, e *readmeEnv, out string) {
			if _, err := os.Stat(filepath.Join(tmp, "pgmotion-postgres-"+e.pgPort)); !os.IsNotExist(err) {
				t.Fatalf("the server's directory is still there (%v):\n%s", err, out)
			}
			if c, err := pgx.Connect(context.Background(), "postgres://postgres@127.0.0.1:"+e.pgPort+"/postgres?sslmode=disable&connect_timeout=5"); err == nil {
				c.Close(context.Background())
				t.Fatal("PostgreSQL still answers")
			}
		}},
		{match: regexp.MustCompile(`^rm -rf \./pgmotion-data$`), check: func(t *testing.T, e *readmeEnv, _ string) {
			if _, err := os.Stat(filepath.Join(e.root, "pgmotion-data")); !os.IsNotExist(err) {
				t.Fatalf("pgmotion-data: %v", err)
			}
		}},
	}

	var running []*proc
	stopRunning := func(t *testing.T) {
		t.Helper()
		// Last started, first stopped: the worker before its broker, as
		// the README says.
		for i := len(running) - 1; i >= 0; i-- {
			p := running[i]
			p.cmd.Process.Signal(syscall.SIGINT) // Ctrl-C
			select {
			case err := <-p.done:
				p.done <- err
				if err != nil {
					t.Fatalf("%s: exit %v after Ctrl-C:\n%s", strings.Join(p.cmd.Args[2:], " "), err, p.output())
				}
			case <-time.After(60 * time.Second):
				t.Fatalf("%s: still running 60s after Ctrl-C:\n%s", strings.Join(p.cmd.Args[2:], " "), p.output())
			}
		}
		running = nil
	}
	n := 0
	for _, b := range blocks {
		if b.stopBefore {
			stopRunning(t)
		}
		for _, c := range b.commands {
			n++
			var step *readmeStep
			for _, s := range steps {
				if s.match.MatchString(c) {
					if step != nil {
						t.Fatalf("README command %q matches two steps", c)
					}
					step = s
				}
			}
			if step == nil {
				t.Fatalf("README command %q has no step in TestReadmeRunningIt: add one that checks what it does", c)
			}
			step.used = true
			line := subst(c)
			t.Logf("$ %s", line)
			if step.background {
				p := &proc{done: make(chan error, 1)}
				// exec: the signals reach the command, not the shell.
				p.cmd = exec.Command("bash", "-c", "exec "+line)
				p.cmd.Dir, p.cmd.Env = env.root, cmdEnv
				p.cmd.Stdout, p.cmd.Stderr = p, p
				if err := p.cmd.Start(); err != nil {
					t.Fatal(err)
				}
				go func() { p.done <- p.cmd.Wait() }()
				t.Cleanup(func() {
					p.cmd.Process.Signal(syscall.SIGKILL)
					<-p.done
					if t.Failed() {
						t.Logf("%s:\n%s", line, p.output())
					}
				})
				running = append(running, p)
				step.check(t, env, "")
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			cmd := exec.CommandContext(ctx, "bash", "-c", line)
			cmd.Dir, cmd.Env = env.root, cmdEnv
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			cancel()
			if err != nil {
				t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", line, err, stdout.String(), stderr.String())
			}
			step.check(t, env, stdout.String()+stderr.String())
		}
	}
	stopRunning(t)
	for _, s := range steps {
		if !s.used {
			t.Errorf("no README command matches step %s: the README lost a command, or the step is stale", s.match)
		}
	}
	t.Logf("ran the %d commands of the README's Running it section", n)
}

// copyCheckout copies the files of the checkout at src that a fresh clone
// has (tracked, or new and not ignored) to dst, through edit.
func copyCheckout(t *testing.T, src, dst string, edit func(path string, b []byte) []byte) {
	t.Helper()
	out, err := exec.Command("git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		from := filepath.Join(src, rel)
		fi, err := os.Lstat(from)
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, to); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, edit(filepath.ToSlash(rel), b), fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadmeSection(t *testing.T) {
	readme := "# x\n\n## Running it\n\nFirst:\n\n```sh\n# a comment\nmake build\n./bin/pgmotion broker \\\n  --listen 127.0.0.1:9092\n```\n\n" +
		"```json\n{\"not\": \"a command\"}\n```\n\nStop it with Ctrl-C, then:\n\n```sh\nrm -rf ./pgmotion-data\n```\n\n### Later\n\n```sh\nnot this\n```\n"
	blocks, err := readmeSection(readme, "## Running it")
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%+v", blocks)
	want := "[{stopBefore:false commands:[make build ./bin/pgmotion broker --listen 127.0.0.1:9092]} {stopBefore:true commands:[rm -rf ./pgmotion-data]}]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if _, err := readmeSection(readme, "## Missing"); err == nil {
		t.Error("no error for a missing heading")
	}
}
