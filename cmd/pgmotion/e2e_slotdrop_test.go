package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestE2ESlotDropOnStopCycles creates a streaming connector with
// slot.drop.on.stop=true and deletes it, 20 times, through the REST API of
// a real worker: each DELETE must leave no slot behind (issue 11, point 7:
// the drop raced the walsender's exit and lost one time in four).
func TestE2ESlotDropOnStopCycles(t *testing.T) {
	const (
		cycles = 20
		slot   = "dropme"
		name   = "dropme-connector"
	)
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE t (id int PRIMARY KEY)`)
	u := parseDSN(t, dsn)
	broker := startBroker(t)
	p, a := restWorker(t, broker, t.TempDir())

	// The same request every cycle, as a user repeating it would send it.
	body := fmt.Sprintf(`{"name":%q,"config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector",`+
		`"database.hostname":%q,"database.port":%q,"database.user":%q,"database.dbname":%q,"plugin.name":"pgoutput",`+
		`"topic.prefix":"dropme","slot.name":%q,"slot.drop.on.stop":"true","snapshot.mode":"no_data","table.include.list":"public.t"}}`,
		name, u.host, u.port, u.user, u.db, slot)
	slots := func() int64 {
		return pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, slot)
	}
	for i := range cycles {
		a.want("POST", "/connectors", body, 201)
		a.waitState(name, "RUNNING", "RUNNING")
		if n := slots(); n != 1 {
			t.Fatalf("cycle %d: %d slots named %s while the connector runs, want 1", i, n, slot)
		}
		// Streaming: a row written now arrives (the topic holds one per
		// cycle so far).
		pgtest.Exec(t, dsn, fmt.Sprintf(`INSERT INTO t VALUES (%d)`, i))
		msgs := consume(t, broker, "dropme.public.t", i+1, 60*time.Second)
		if got := str(msgs[i].Key); !strings.Contains(got, fmt.Sprintf(`"id":%d`, i)) {
			t.Fatalf("cycle %d: event %d has key %s", i, i, got)
		}
		// DELETE answers once the task has stopped and dropped its slot.
		a.want("DELETE", "/connectors/"+name, "", 204)
		if n := slots(); n != 0 {
			row := pgtest.QueryRow(t, dsn, `SELECT active, coalesce(active_pid, 0) FROM pg_replication_slots WHERE slot_name = $1`, slot)
			t.Fatalf("cycle %d: slot %s still exists after DELETE answered (active, pid: %v)", i, slot, row)
		}
	}
	out := p.output()
	if strings.Contains(out, "level=ERROR") {
		t.Errorf("the worker logged an error:\n%s", out)
	}
	drops := regexp.MustCompile(`msg="dropped replication slot" .*attempts=(\d+)`).FindAllStringSubmatch(out, -1)
	if len(drops) != cycles {
		t.Errorf("%d \"dropped replication slot\" lines, want %d", len(drops), cycles)
	}
	retried := 0
	for _, m := range drops {
		if m[1] != "1" {
			retried++
		}
	}
	t.Logf("%d of %d drops waited for the walsender to exit", retried, cycles)
	p.stop(t)
}

// TestE2ESlotDropFailureShown stops a connector with slot.drop.on.stop=true
// whose user may not drop its slot: the worker logs one ERROR line naming
// the slot and the fix, and the STOPPED connector's status carries it.
func TestE2ESlotDropFailureShown(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	const role, slot, name = "e2e_slot_nodrop", "nodrop_slot", "nodrop-connector"
	pgtest.Exec(t, pgtest.Server(t).AdminDSN(), `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '`+role+`') THEN CREATE ROLE `+role+` LOGIN REPLICATION; END IF; END $$`)
	// In this database only: the drop fails with a permission error.
	pgtest.Exec(t, dsn, `CREATE TABLE t (id int PRIMARY KEY)`, `CREATE PUBLICATION nodrop_pub FOR ALL TABLES`,
		`REVOKE EXECUTE ON FUNCTION pg_drop_replication_slot(name) FROM PUBLIC`)
	t.Cleanup(func() {
		pgtest.Exec(t, dsn, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '`+slot+`' AND NOT active`)
	})
	u := parseDSN(t, dsn)
	broker := startBroker(t)
	p, a := restWorker(t, broker, t.TempDir())
	body := fmt.Sprintf(`{"name":%q,"config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector",`+
		`"database.hostname":%q,"database.port":%q,"database.user":%q,"database.dbname":%q,"topic.prefix":"nodrop","slot.name":%q,`+
		`"slot.drop.on.stop":"true","snapshot.mode":"no_data","publication.name":"nodrop_pub","publication.autocreate.mode":"disabled"}}`,
		name, u.host, u.port, role, u.db, slot)
	a.want("POST", "/connectors", body, 201)
	a.waitState(name, "RUNNING", "RUNNING")
	a.want("PUT", "/connectors/"+name+"/stop", "", 204)
	a.waitState(name, "STOPPED", "")

	var st struct {
		Connector struct{ Trace string } `json:"connector"`
	}
	if err := json.Unmarshal([]byte(a.want("GET", "/connectors/"+name+"/status", "", 200)), &st); err != nil {
		t.Fatal(err)
	}
	fix := "SELECT pg_drop_replication_slot('" + slot + "')"
	if !strings.Contains(st.Connector.Trace, `replication slot "`+slot+`" was not dropped`) || !strings.Contains(st.Connector.Trace, fix) {
		t.Errorf("status trace %q does not name the slot and the fix", st.Connector.Trace)
	}
	var errLines []string
	for line := range strings.Lines(p.output()) {
		if strings.Contains(line, "level=ERROR") {
			errLines = append(errLines, line)
		}
	}
	if len(errLines) != 1 || !strings.Contains(errLines[0], "slot="+slot) || !strings.Contains(errLines[0], "permission denied") ||
		!strings.Contains(errLines[0], strconv.Quote(fix)) {
		t.Errorf("ERROR lines %q, want one naming the slot, the cause and the fix", errLines)
	}
	if n := pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, slot); n != 1 {
		t.Errorf("%d slots named %s, want the one that could not be dropped", n, slot)
	}
	p.stop(t)
}
