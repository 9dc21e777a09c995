package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestE2EDDLCapture runs a connector with pgmotion.ddl.capture=true: it
// installs the event triggers, and each DDL statement comes on
// <topic.prefix>.ddl at its place in the WAL, between the data events
// around it. A second connector on the same database without the option
// sees the trigger's messages as plain messages, and drops them with
// message.prefix.exclude.list.
func TestE2EDDLCapture(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var version int
	if err := pgtest.Connect(t, dsn).QueryRow(t.Context(), `SELECT current_setting('server_version_num')::int`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 140000 {
		t.Skipf("PostgreSQL %d: pgoutput sends logical decoding messages from 14 on", version)
	}
	pgtest.Exec(t, dsn, `CREATE TABLE items (id int PRIMARY KEY)`)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	capture := connectorFile(t, dsn, "ddl-connector", map[string]string{
		"topic.prefix": "ddlsrv", "slot.name": "ddl_slot", "pgmotion.ddl.capture": "true",
		// Tables created later are captured too.
		"publication.autocreate.mode": "all_tables",
	})
	plain := connectorFile(t, dsn, "plain-connector", map[string]string{
		"topic.prefix": "plain", "slot.name": "plain_slot", "table.include.list": "public.items",
		"message.prefix.exclude.list":  `pgmotion\.ddl`,
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
	})
	p := startPgmotion(t, "connect", "--rest", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--embedded-broker", broker, "--data-dir", t.TempDir(), capture, plain)
	for _, slot := range []string{"ddl_slot", "plain_slot"} {
		waitSlot(t, dsn, slot)
	}
	if n := pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM pg_event_trigger WHERE evtname IN ('pgmotion_ddl_capture', 'pgmotion_ddl_capture_drop')`); n != 2 {
		t.Fatalf("%d event triggers, want 2", n)
	}
	pgtest.Exec(t, dsn,
		`INSERT INTO items VALUES (1)`,
		`ALTER TABLE items ADD COLUMN note text`,
		`INSERT INTO items VALUES (2, 'after the ALTER')`,
		`CREATE TABLE extra (id int PRIMARY KEY, v text)`,
		`INSERT INTO extra VALUES (1, 'x')`,
		`DROP TABLE extra`,
		`INSERT INTO items VALUES (3, 'last')`,
		// A message of any other prefix stays a message.
		`SELECT pg_logical_emit_message(true, 'audit', 'a')`,
	)

	type event struct {
		topic   string
		lsn     int64
		summary string
	}
	read := func(topic string, n int) []event {
		var out []event
		for _, m := range consume(t, broker, topic, n, 60*time.Second) {
			var v struct {
				Payload struct {
					Source     struct{ LSN int64 }
					After      map[string]any
					CommandTag string
					Ddl        string
				}
			}
			if err := json.Unmarshal([]byte(str(m.Payload)), &v); err != nil {
				t.Fatal(err)
			}
			s := fmt.Sprint(v.Payload.After["id"])
			if topic == "ddlsrv.ddl" {
				s = v.Payload.CommandTag + ": " + v.Payload.Ddl
			}
			out = append(out, event{topic, v.Payload.Source.LSN, s})
		}
		return out
	}
	ddl := read("ddlsrv.ddl", 3)
	items := read("ddlsrv.public.items", 3)
	extra := read("ddlsrv.public.extra", 1)
	// By LSN: insert, ALTER, insert, CREATE, insert, DROP, insert.
	order := []event{items[0], ddl[0], items[1], ddl[1], extra[0], ddl[2], items[2]}
	var got []string
	for i, e := range order {
		got = append(got, e.topic+" "+e.summary)
		if i > 0 && e.lsn <= order[i-1].lsn {
			t.Errorf("source.lsn of %s %q (%d) is not after that of %s %q (%d)", e.topic, e.summary, e.lsn, order[i-1].topic, order[i-1].summary, order[i-1].lsn)
		}
	}
	want := []string{
		"ddlsrv.public.items 1",
		"ddlsrv.ddl ALTER TABLE: ALTER TABLE items ADD COLUMN note text",
		"ddlsrv.public.items 2",
		"ddlsrv.ddl CREATE TABLE: CREATE TABLE extra (id int PRIMARY KEY, v text)",
		"ddlsrv.public.extra 1",
		"ddlsrv.ddl DROP TABLE: DROP TABLE extra",
		"ddlsrv.public.items 3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if msgs := consume(t, broker, "ddlsrv.message", 1, 60*time.Second); !strings.Contains(str(msgs[0].Key), `"prefix":"audit"`) {
		t.Errorf("ddlsrv.message has %s, want the audit message only", str(msgs[0].Key))
	}

	var b strings.Builder
	b.WriteString("# ddlsrv.ddl\n")
	// Each test has a database of its own, and the server's superuser
	// may have any name.
	local := strings.NewReplacer(`"databaseName":"`+parseDSN(t, dsn).db+`"`, `"databaseName":"testdb"`,
		`"user":"`+parseDSN(t, dsn).user+`"`, `"user":"<superuser>"`)
	for _, m := range consume(t, broker, "ddlsrv.ddl", 3, 60*time.Second) {
		b.WriteString(local.Replace(describe(m)))
	}
	// The connector without the option: the trigger's messages are
	// excluded, the audit message comes through.
	consume(t, broker, "plain.public.items", 3, 60*time.Second)
	consume(t, broker, "plain.message", 1, 60*time.Second)
	// A second read, a second later, shows nothing more arrived.
	time.Sleep(time.Second)
	msgs := consume(t, broker, "plain.message", 0, 30*time.Second)
	if len(msgs) != 1 {
		t.Errorf("plain.message: %d records, want 1 (pgmotion.ddl is excluded)", len(msgs))
	}
	b.WriteString("# plain.message\n")
	for _, m := range msgs {
		b.WriteString(describe(m))
	}
	golden(t, "ddl_capture.golden", b.String())
	p.stop(t)
}

// TestE2EDDLCaptureNotSuperuser starts a connector with
// pgmotion.ddl.capture=true whose user may replicate but is not a
// superuser: it stops with one line naming the option and what it needs.
func TestE2EDDLCaptureNotSuperuser(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	const role = "e2e_ddl_nosuper"
	pgtest.Exec(t, pgtest.Server(t).AdminDSN(), `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '`+role+`') THEN CREATE ROLE `+role+` LOGIN REPLICATION; END IF; END $$`)
	var version int
	if err := pgtest.Connect(t, dsn).QueryRow(t.Context(), `SELECT current_setting('server_version_num')::int`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 140000 {
		t.Skipf("PostgreSQL %d: pgoutput sends logical decoding messages from 14 on", version)
	}
	path := connectorFile(t, dsn, "ddl-nosuper", map[string]string{
		"topic.prefix": "ns", "slot.name": "ns_slot", "pgmotion.ddl.capture": "true", "database.user": role,
	})
	// The connector fails with the fix; the worker runs on.
	p := startPgmotion(t, "connect", "--rest", "127.0.0.1:0", "--embedded-broker", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--data-dir", t.TempDir(), path)
	waitLog(t, p, "connector task failed", 1, 60*time.Second)
	out := p.output()
	if !regexp.MustCompile(`pgmotion\.ddl\.capture=true needs an event trigger, and user \\?"` + role + `\\?" is not a superuser`).MatchString(out) {
		t.Errorf("output does not name the option and the missing privilege:\n%s", out)
	}
	if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
		t.Errorf("a panic:\n%s", out)
	}
	if n := pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM pg_event_trigger`); n != 0 {
		t.Errorf("%d event triggers, want none", n)
	}
	p.stop(t)
}
