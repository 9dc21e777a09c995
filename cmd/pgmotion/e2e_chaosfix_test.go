package main

// Regressions the chaos harness (go run ./chaos) found: a second copy of
// a task that waits for the slot, and a worker group with a dead member.

import (
	"encoding/json"
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
