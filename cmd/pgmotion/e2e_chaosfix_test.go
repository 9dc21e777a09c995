package main

// Regressions the chaos harness (go run ./chaos) found: a second copy of
// a task that waits for the slot, and a worker group with a dead member.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// taskOwner returns the task's state and the worker it names.
func taskOwner(a api, name string) (state, worker string) {
	_, out := a.do("GET", "/connectors/"+name+"/status", "")
	var st struct {
		Tasks []struct {
			State    string `json:"state"`
			WorkerID string `json:"worker_id"`
		} `json:"tasks"`
	}
	json.Unmarshal([]byte(out), &st)
	if len(st.Tasks) == 0 {
		return "", ""
	}
	return st.Tasks[0].State, st.Tasks[0].WorkerID
}

// TestE2ESecondCopyKeepsStatus starts a second copy of a streaming task,
// as a worker does that rejoins its group alone after a broker restart:
// the copy waits for the slot, and must not report the task UNASSIGNED
// over the copy that streams, neither while it waits nor once it stops.
// (A second worker group on the same topics stands in for the rejoin.)
func TestE2ESecondCopyKeepsStatus(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE load (id int PRIMARY KEY, v text)`)
	u := parseDSN(t, dsn)
	port, _ := strconv.Atoi(u.port)
	cfg := pgConfig(u.host, port, u.db, "copy2")
	cfg["database.user"] = u.user
	_, broker := startBrokerProc(t)
	_, a := restWorker(t, broker, t.TempDir(), "--group-id", "copy-a")
	a.want("POST", "/connectors", connectorBody("copy2", cfg), 201)
	a.waitState("copy2", "RUNNING", "RUNNING")
	_, owner := taskOwner(a, "copy2")
	in := startInserter(t, dsn)
	waitForID(t, broker, "copy2.public.load", int(in.next.Load()), time.Minute)

	second, _ := restWorker(t, broker, t.TempDir(), "--group-id", "copy-b")
	pgtest.WaitFor(t, time.Minute, func() (bool, error) {
		return strings.Contains(second.output(), "replication slot is busy"), nil
	})
	check := func(when string) {
		t.Helper()
		for range 10 {
			if st, w := taskOwner(a, "copy2"); st != "RUNNING" || w != owner {
				t.Fatalf("%s: task %s on %q, want RUNNING on %q (the copy that streams)", when, st, w, owner)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	check("while a second copy waits for the slot")
	second.stop(t)
	check("after the second copy stopped")
	last := in.last()
	waitForID(t, broker, "copy2.public.load", last, time.Minute)
	checkAllIDs(t, broker, "copy2.public.load", last)
}

// storedLSN returns the lsn of the connector's stored offset, 0 if none.
func storedLSN(a api, name string) int64 {
	_, out := a.do("GET", "/connectors/"+name+"/offsets", "")
	var body struct {
		Offsets []struct {
			Offset struct {
				LSN int64 `json:"lsn"`
			} `json:"offset"`
		} `json:"offsets"`
	}
	json.Unmarshal([]byte(out), &body)
	if len(body.Offsets) == 0 {
		return 0
	}
	return body.Offsets[0].Offset.LSN
}

// TestE2EOffsetsStoredEarly checks that the offset is stored within a
// few flush intervals of streaming, and again after the broker is
// killed and restarted, so that a task that starts elsewhere resumes
// from the last acknowledged position rather than snapshot again.
func TestE2EOffsetsStoredEarly(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE load (id int PRIMARY KEY, v text)`)
	u := parseDSN(t, dsn)
	port, _ := strconv.Atoi(u.port)
	cfg := pgConfig(u.host, port, u.db, "early")
	cfg["database.user"] = u.user
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	brokerDir := t.TempDir()
	startBroker := func() *proc {
		bp := startPgmotion(t, "broker", "--listen", broker, "--data-dir", brokerDir)
		pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return strings.Contains(bp.output(), "broker listening"), nil })
		return bp
	}
	bp := startBroker()
	w, a := restWorker(t, broker, t.TempDir(), "--group-id", "early")
	a.want("POST", "/connectors", connectorBody("early", cfg), 201)
	a.waitState("early", "RUNNING", "RUNNING")
	in := startInserter(t, dsn)
	waitForID(t, broker, "early.public.load", 1, time.Minute)
	began := time.Now()
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return storedLSN(a, "early") != 0, nil })
	t.Logf("first offset stored %v after the first event", time.Since(began).Round(100*time.Millisecond))
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("first offset stored %v after the first event, want within a few flush intervals (1 s)", d)
	}

	before := storedLSN(a, "early")
	bp.kill()
	time.Sleep(2 * time.Second)
	startBroker()
	began = time.Now()
	pgtest.WaitFor(t, time.Minute, func() (bool, error) { return storedLSN(a, "early") > before, nil })
	t.Logf("offset stored again %v after the broker restarted", time.Since(began).Round(100*time.Millisecond))
	if d := time.Since(began); d > 20*time.Second {
		t.Errorf("offset stored again %v after the broker restarted, want within 20 s", d)
	}

	// A task that starts elsewhere resumes from it.
	w.kill()
	w2, _ := restWorker(t, broker, t.TempDir(), "--group-id", "early")
	pgtest.WaitFor(t, time.Minute, func() (bool, error) { return strings.Contains(w2.output(), "msg=streaming"), nil })
	if out := w2.output(); strings.Contains(out, "snapshot needed") {
		t.Errorf("the task snapshotted again after a restart, with an offset stored:\n%s", out)
	}
	last := in.last()
	waitForID(t, broker, "early.public.load", last, time.Minute)
	checkAllIDs(t, broker, "early.public.load", last)
}
