package main

// Faults and recovery (issue 13): PostgreSQL restarts under load, a
// connector that cannot reach its database next to one that can, a
// worker restarted on the address of a dead one, and SIGTERM with Kafka
// gone. Each runs the real binary against real PostgreSQL servers and a
// real broker process, and reads Kafka with kcat.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmotion/pgmotion/internal/pglocal"
	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// ownServer starts a PostgreSQL server of the test's own, which the
// test may restart and stop; it is stopped at the end.
func ownServer(t *testing.T) (*pglocal.Server, pglocal.Options) {
	t.Helper()
	if os.Getenv(pgtest.EnvDSN) != "" {
		t.Skip("needs a throwaway server of its own; PGMOTION_TEST_PG is set")
	}
	dir, err := pglocal.MkdirTemp("pgmotion-e2e-faults-")
	if err != nil {
		t.Fatal(err)
	}
	// No Fast: synchronous_commit=off could lose committed rows in an
	// immediate shutdown, which would be PostgreSQL's loss, not ours.
	opts := pglocal.Options{Dir: filepath.Join(dir, "pg"), Logical: true, Settings: map[string]string{"fsync": "off"}}
	srv, err := pglocal.Start(context.Background(), opts)
	if err != nil {
		os.RemoveAll(dir)
		pgtest.Unavailable(t, "start a PostgreSQL of its own: %v", err)
	}
	opts.Port = srv.Port()
	t.Cleanup(func() {
		srv.Stop(context.Background())
		os.RemoveAll(dir)
	})
	return srv, opts
}

// inserter inserts rows with ids 1, 2, … into table load, one every
// few milliseconds, reconnecting and retrying the same id while the
// server is away: every id up to last() is committed.
type inserter struct {
	next atomic.Int64 // the id being inserted
	stop chan struct{}
	done chan struct{}
}

func startInserter(t *testing.T, dsn string) *inserter {
	t.Helper()
	in := &inserter{stop: make(chan struct{}), done: make(chan struct{})}
	in.next.Store(1)
	go func() {
		defer close(in.done)
		ctx := context.Background()
		var conn *pgx.Conn
		for {
			select {
			case <-in.stop:
				if conn != nil {
					conn.Close(ctx)
				}
				return
			case <-time.After(3 * time.Millisecond):
			}
			if conn == nil {
				c, err := pgx.Connect(ctx, dsn)
				if err != nil {
					continue
				}
				conn = c
			}
			id := in.next.Load()
			if _, err := conn.Exec(ctx, `INSERT INTO load VALUES ($1, 'x') ON CONFLICT DO NOTHING`, id); err != nil {
				conn.Close(ctx)
				conn = nil
				continue
			}
			in.next.Add(1)
		}
	}()
	return in
}

// last stops the inserter and returns the last id it committed.
func (in *inserter) last() int {
	close(in.stop)
	<-in.done
	return int(in.next.Load() - 1)
}

// waitForID waits until topic holds an event of row id. It reads a
// count of records, not to the end: under load kcat -e may never see the
// end of the topic.
func waitForID(t *testing.T, broker, topic string, id int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for n := id; ; {
		msgs := consume(t, broker, topic, n, max(time.Until(deadline), time.Second))
		held := map[int]bool{}
		for _, m := range msgs {
			k := str(m.Key)
			i := strings.LastIndex(k, `"id":`)
			if i < 0 {
				t.Fatalf("key without id: %s", k)
			}
			v, err := strconv.Atoi(strings.TrimRight(k[i+5:], "}"))
			if err != nil {
				t.Fatalf("key %s: %v", k, err)
			}
			held[v] = true
		}
		if held[id] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("row %d has no event in %s after %v", id, topic, timeout)
		}
		n = len(msgs) + max(id-len(held), 1)
	}
}

// checkAllIDs fails unless every id in 1..last has an event in topic.
func checkAllIDs(t *testing.T, broker, topic string, last int) {
	t.Helper()
	held := idsInKafka(t, broker, topic, last)
	for id := 1; id <= last; id++ {
		if !held[id] {
			t.Fatalf("row %d has no event in %s (rows 1-%d were committed)", id, topic, last)
		}
	}
}

func startBrokerProc(t *testing.T) (*proc, string) {
	t.Helper()
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	bp := startPgmotion(t, "broker", "--listen", broker, "--data-dir", t.TempDir())
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return strings.Contains(bp.output(), "broker listening"), nil })
	return bp, broker
}

func connectorBody(name string, cfg map[string]string) string {
	b, _ := json.Marshal(map[string]any{"name": name, "config": cfg})
	return string(b)
}

func pgConfig(host string, port int, db, prefix string) map[string]string {
	return map[string]string{
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname": host, "database.port": strconv.Itoa(port),
		"database.user": "postgres", "database.password": "x", "database.dbname": db,
		"plugin.name": "pgoutput", "topic.prefix": prefix, "slot.name": prefix + "_slot",
		"publication.name": prefix + "_pub", "table.include.list": "public.load",
	}
}

// taskState returns the connector's task state and its trace.
func taskState(a api, name string) (state, trace string) {
	_, out := a.do("GET", "/connectors/"+name+"/status", "")
	var st struct {
		Tasks []struct{ State, Trace string } `json:"tasks"`
	}
	json.Unmarshal([]byte(out), &st)
	if len(st.Tasks) == 0 {
		return "", ""
	}
	return st.Tasks[0].State, st.Tasks[0].Trace
}

func alive(t *testing.T, p *proc) {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		t.Fatalf("the worker exited (%v):\n%s", err, p.output())
	default:
	}
}

// TestE2EPostgresRestart restarts PostgreSQL under a steady load, with
// -m fast and then -m immediate: the task restarts by itself and
// streams again within 30 s of the server being back, and every
// committed row reaches Kafka (Done-when 1 of issue 13).
func TestE2EPostgresRestart(t *testing.T) {
	srv, _ := ownServer(t)
	dsn := srv.DSN("postgres")
	pgtest.Exec(t, dsn, `CREATE TABLE load (id int PRIMARY KEY, v text)`)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	port := freePort(t)
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	path := filepath.Join(t.TempDir(), "pgr.json")
	writeFile(t, path, connectorBody("pgr", pgConfig("127.0.0.1", srv.Port(), "postgres", "pgr")))
	p := startPgmotion(t, "connect", "--rest", fmt.Sprintf("127.0.0.1:%d", port), "--embedded-broker", broker, "--data-dir", t.TempDir(), path)
	a.waitState("pgr", "RUNNING", "RUNNING")
	in := startInserter(t, dsn)
	waitForID(t, broker, "pgr.public.load", 50, time.Minute)

	for _, mode := range []string{"fast", "immediate"} {
		restarts := strings.Count(p.output(), "restarting it")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err := srv.Restart(ctx, mode)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		back := time.Now()
		// The first row committed after the server is back.
		var id int
		pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
			id = int(in.next.Load())
			return id > 1, nil
		})
		waitForID(t, broker, "pgr.public.load", id, 60*time.Second)
		took := time.Since(back)
		t.Logf("pg_ctl restart -m %s: streaming again %v after the server was back", mode, took.Round(100*time.Millisecond))
		if took > 30*time.Second {
			t.Errorf("-m %s: streaming again only %v after the server was back, want at most 30 s", mode, took)
		}
		if st, trace := taskState(a, "pgr"); st != "RUNNING" {
			t.Errorf("-m %s: task %s, want RUNNING; trace %s", mode, st, trace)
		}
		if strings.Count(p.output(), "restarting it") == restarts {
			t.Errorf("-m %s: no restart was logged", mode)
		}
		alive(t, p)
	}
	last := in.last()
	checkAllIDs(t, broker, "pgr.public.load", last)
	p.stop(t)
}

// TestE2EConnectorIsolation runs a connector that cannot reach its
// database (down at start, restarted over REST while down, then given a
// host that does not exist) next to one that streams: the worker never
// stops and the other connector loses nothing (Done-when 2 of issue 13).
func TestE2EConnectorIsolation(t *testing.T) {
	srv, opts := ownServer(t)
	pgtest.Exec(t, srv.DSN("postgres"), `CREATE TABLE load (id int PRIMARY KEY, v text)`)
	if err := srv.StopMode(context.Background(), "fast"); err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE load (id int PRIMARY KEY, v text)`)
	u := parseDSN(t, dsn)
	uport, _ := strconv.Atoi(u.port)
	good := pgConfig(u.host, uport, u.db, "good")
	good["database.user"] = u.user
	down := pgConfig("127.0.0.1", srv.Port(), "postgres", "down")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "good.json"), connectorBody("good", good))
	writeFile(t, filepath.Join(dir, "down.json"), connectorBody("down", down))
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	port := freePort(t)
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	p := startPgmotion(t, "connect", "--rest", fmt.Sprintf("127.0.0.1:%d", port), "--embedded-broker", broker, "--data-dir", t.TempDir(),
		filepath.Join(dir, "good.json"), filepath.Join(dir, "down.json"))
	a.waitState("good", "RUNNING", "RUNNING")
	in := startInserter(t, dsn)

	// The file connector whose database is down at start retries.
	waitLog(t, p, `connector=down`, 1, 30*time.Second)
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		return strings.Contains(p.output(), "restarting it"), nil
	})
	alive(t, p)
	startDown := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := pglocal.Start(ctx, opts); err != nil {
			t.Fatal(err)
		}
	}
	startDown()
	a.waitState("down", "RUNNING", "RUNNING")

	// A restart requested while its database is down.
	if err := srv.StopMode(context.Background(), "fast"); err != nil {
		t.Fatal(err)
	}
	a.want("POST", "/connectors/down/restart", "", 204)
	time.Sleep(3 * time.Second)
	alive(t, p)
	startDown()
	pgtest.Exec(t, srv.DSN("postgres"), `INSERT INTO load VALUES (1, 'after the restart')`)
	waitForID(t, broker, "down.public.load", 1, time.Minute)

	// A host that does not exist, set over REST.
	down["database.hostname"] = "nohost.invalid"
	cfg, _ := json.Marshal(down)
	a.want("PUT", "/connectors/down/config", string(cfg), 200)
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		return strings.Contains(p.output(), "nohost.invalid"), nil
	})
	time.Sleep(3 * time.Second)
	alive(t, p)
	if st, trace := taskState(a, "good"); st != "RUNNING" {
		t.Fatalf("good: task %s, want RUNNING; trace %s", st, trace)
	}

	// A permanent error fails the connector, with the fix, and only it.
	down["database.hostname"], down["database.dbname"] = "127.0.0.1", "no_such_db"
	cfg, _ = json.Marshal(down)
	a.want("PUT", "/connectors/down/config", string(cfg), 200)
	a.waitState("down", "RUNNING", "FAILED")
	if _, trace := taskState(a, "down"); !strings.Contains(trace, "database.dbname") {
		t.Errorf("the FAILED task's trace does not name the fix: %s", trace)
	}
	alive(t, p)
	last := in.last()
	checkAllIDs(t, broker, "good.public.load", last)
	p.stop(t)
}

// TestE2EStrandedConnector kills the worker that runs a connector, starts
// a second one on the same address, kills it 2 s later and starts a
// third there: the connector streams again within 30 s, and nothing is
// lost (Done-when 3 of issue 13). PGMOTION_TEST_STRAND_RUNS sets how
// many times the sequence runs (3 by default; the issue asks for 20).
func TestE2EStrandedConnector(t *testing.T) {
	runs := 3
	if v := os.Getenv("PGMOTION_TEST_STRAND_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("PGMOTION_TEST_STRAND_RUNS=%q: want a positive number", v)
		}
		runs = n
	}
	// A server of its own: on a shared one, other tests' long
	// transactions hold the slot's restart_lsn back, and each new owner
	// decodes ever more WAL before it reaches the present, which is not
	// what this test measures.
	srv, _ := ownServer(t)
	dsn := srv.DSN("postgres")
	pgtest.Exec(t, dsn, `CREATE TABLE load (id int PRIMARY KEY, v text)`)
	cfg := pgConfig("127.0.0.1", srv.Port(), "postgres", "strand")
	_, broker := startBrokerProc(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	worker := func() *proc {
		return startPgmotion(t, "connect", "--rest", addr, "--bootstrap-servers", broker, "--data-dir", t.TempDir(), "--group-id", "strand")
	}
	a := api{t: t, base: "http://" + addr}
	owner := worker()
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		code, _ := a.do("GET", "/health", "")
		return code == 200, nil
	})
	a.want("POST", "/connectors", connectorBody("strand", cfg), 201)
	a.waitState("strand", "RUNNING", "RUNNING")
	in := startInserter(t, dsn)
	conn := pgtest.Connect(t, dsn)
	waitForID(t, broker, "strand.public.load", int(in.next.Load()), time.Minute)
	var worst time.Duration
	for run := 1; run <= runs; run++ {
		time.Sleep(time.Second) // the owner streams for a while
		owner.kill()
		second := worker()
		time.Sleep(2 * time.Second)
		second.kill()
		third := worker()
		started := time.Now()
		// Streaming again: the slot confirms a position written after the
		// third worker started, which it does only once Kafka holds every
		// change before it. (Reading the growing topic with kcat each run
		// would measure the reads, not the recovery.)
		var lsn string
		if err := conn.QueryRow(t.Context(), `SELECT pg_current_wal_lsn()::text`).Scan(&lsn); err != nil {
			t.Fatal(err)
		}
		pgtest.WaitFor(t, 2*time.Minute, func() (bool, error) {
			var ok bool
			err := conn.QueryRow(t.Context(), `SELECT coalesce(bool_or(confirmed_flush_lsn > $1::pg_lsn), false) FROM pg_replication_slots WHERE slot_name = 'strand_slot'`, lsn).Scan(&ok)
			return ok, err
		})
		took := time.Since(started)
		worst = max(worst, took)
		t.Logf("run %d: streaming again %v after the third worker started", run, took.Round(100*time.Millisecond))
		if took > 30*time.Second {
			t.Errorf("run %d: the connector streamed again only %v after the third worker started, want at most 30 s:\n%s", run, took, third.output())
		}
		owner = third
	}
	last := in.last()
	checkAllIDs(t, broker, "strand.public.load", last)
	t.Logf("%d runs: the slowest recovery took %v; rows 1-%d all in Kafka", runs, worst.Round(100*time.Millisecond), last)
}

// TestE2ESigtermWithoutKafka stops a worker whose Kafka is gone, or
// stopping at the same moment: it exits cleanly within 10 s (Done-when
// 7 of issue 13).
func TestE2ESigtermWithoutKafka(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE load (id int PRIMARY KEY, v text)`)
	u := parseDSN(t, dsn)
	uport, _ := strconv.Atoi(u.port)
	for i, tc := range []struct {
		name   string
		broker func(*proc)
	}{
		{"broker killed", func(bp *proc) { bp.kill() }},
		{"broker stopping at the same moment", func(bp *proc) { bp.cmd.Process.Signal(syscall.SIGTERM) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := fmt.Sprintf("term%d", i)
			cfg := pgConfig(u.host, uport, u.db, prefix)
			cfg["database.user"] = u.user
			bp, broker := startBrokerProc(t)
			p, a := restWorker(t, broker, t.TempDir())
			a.want("POST", "/connectors", connectorBody(prefix, cfg), 201)
			a.waitState(prefix, "RUNNING", "RUNNING")
			in := startInserter(t, dsn)
			waitForID(t, broker, prefix+".public.load", int(in.next.Load()), time.Minute)
			tc.broker(bp)
			if tc.name == "broker killed" {
				time.Sleep(2 * time.Second) // the producer holds records it cannot deliver
			}
			p.cmd.Process.Signal(syscall.SIGTERM)
			sent := time.Now()
			select {
			case err := <-p.done:
				p.done <- err
				took := time.Since(sent)
				t.Logf("exited %v after SIGTERM (%v)", took.Round(100*time.Millisecond), err)
				if took > 10*time.Second {
					t.Errorf("exited %v after SIGTERM, want at most 10 s", took)
				}
				if err != nil {
					t.Errorf("exit: %v, want a clean exit:\n%s", err, p.output())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("still running 30 s after SIGTERM:\n%s", p.output())
			}
			in.last()
		})
	}
}

// TestE2EConnectorRuntimeErrors checks the failures a connector file meets
// only once it runs: the worker keeps running, a permanent one fails the
// task with the fix in its trace, a retriable one is retried with the
// fix in its log line, and no secret shows.
func TestE2EConnectorRuntimeErrors(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	u := parseDSN(t, dsn)
	pgtest.Exec(t, pgtest.Server(t).AdminDSN(), `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'e2e_norepl') THEN CREATE ROLE e2e_norepl LOGIN; END IF; END $$`)
	uport, _ := strconv.Atoi(u.port)
	for _, tc := range []struct {
		name   string
		change map[string]string
		state  string // the task's state: FAILED, or "" while it retries
		want   string
	}{
		{"no replication privilege", map[string]string{"database.user": "e2e_norepl"}, "FAILED", "ALTER ROLE e2e_norepl WITH REPLICATION"},
		{"unreachable server", map[string]string{"database.port": strconv.Itoa(freePort(t))}, "", "database.hostname and database.port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := pgConfig(u.host, uport, u.db, "rt")
			cfg["database.user"], cfg["database.password"] = u.user, "pw-secret-123"
			for k, v := range tc.change {
				cfg[k] = v
			}
			path := filepath.Join(t.TempDir(), "rt.json")
			writeFile(t, path, connectorBody("rt", cfg))
			port := freePort(t)
			a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
			p := startPgmotion(t, "connect", "--rest", fmt.Sprintf("127.0.0.1:%d", port), "--embedded-broker", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--data-dir", t.TempDir(), path)
			if tc.state == "FAILED" {
				a.waitState("rt", "RUNNING", "FAILED")
				if _, trace := taskState(a, "rt"); !strings.Contains(trace, tc.want) {
					t.Errorf("trace %q does not name the fix %q", trace, tc.want)
				}
			} else {
				waitLog(t, p, "restarting it", 2, 30*time.Second)
			}
			out := p.output()
			if !strings.Contains(out, tc.want) {
				t.Errorf("the log does not name the fix %q:\n%s", tc.want, out)
			}
			if strings.Contains(out, "pw-secret-123") {
				t.Errorf("the password appears in the output:\n%s", out)
			}
			if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
				t.Errorf("a panic:\n%s", out)
			}
			alive(t, p)
			p.stop(t)
		})
	}
}

// TestE2EMissingSlot restarts a worker after its connector's slot was
// dropped (as after a failover to a server without it): with
// snapshot.mode=initial the task fails and says how to go on, and the
// slot it had to create is dropped again, so that a later start cannot
// stream past the gap unnoticed.
func TestE2EMissingSlot(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE load (id int PRIMARY KEY, v text)`, `INSERT INTO load VALUES (1, 'x')`)
	u := parseDSN(t, dsn)
	uport, _ := strconv.Atoi(u.port)
	cfg := pgConfig(u.host, uport, u.db, "lost")
	cfg["database.user"] = u.user
	path := filepath.Join(t.TempDir(), "lost.json")
	writeFile(t, path, connectorBody("lost", cfg))
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	dataDir := t.TempDir()
	port := freePort(t)
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	start := func() *proc {
		return startPgmotion(t, "connect", "--rest", fmt.Sprintf("127.0.0.1:%d", port), "--embedded-broker", broker, "--data-dir", dataDir, path)
	}
	p := start()
	a.waitState("lost", "RUNNING", "RUNNING")
	waitForID(t, broker, "lost.public.load", 1, time.Minute)
	time.Sleep(2 * time.Second) // the offset reaches Kafka
	p.stop(t)
	pgtest.Exec(t, dsn, `SELECT pg_drop_replication_slot('lost_slot')`)
	p = start()
	a.waitState("lost", "RUNNING", "FAILED")
	if _, trace := taskState(a, "lost"); !strings.Contains(trace, "snapshot.mode=when_needed") {
		t.Errorf("the trace does not say how to go on: %s", trace)
	}
	var n int
	if err := pgtest.Connect(t, dsn).QueryRow(t.Context(), `SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'lost_slot'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the slot created in place of the missing one is still there")
	}
	alive(t, p)
	p.stop(t)
}
