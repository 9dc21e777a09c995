package pgsource

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestDDLCaptureSQL checks that the script writes the prefix the
// connector reads, and that the function body is found in it.
func TestDDLCaptureSQL(t *testing.T) {
	if !strings.Contains(ddlCaptureSQL, "pg_logical_emit_message(true, '"+DDLMessagePrefix+"',") {
		t.Errorf("ddlcapture.sql does not write prefix %q", DDLMessagePrefix)
	}
	body := ddlFunctionBody()
	if !strings.HasPrefix(body, "\nDECLARE") || !strings.HasSuffix(body, "END\n") {
		t.Errorf("function body %q", body)
	}
}

// ddlSummary turns a DDL capture message of the collector into
// "ddl <event> <tag> <main object identities> user=<user>", leaving other
// events as they are.
func ddlSummary(t *testing.T, events []string) []string {
	t.Helper()
	out := make([]string, len(events))
	for i, e := range events {
		content, ok := strings.CutPrefix(e, "m "+DDLMessagePrefix+" ")
		if !ok {
			out[i] = e
			continue
		}
		content, _, _ = strings.Cut(content, " tx=true xid=true")
		var m struct {
			Event, Tag, User, Query string
			Objects                 []struct{ CommandTag, ObjectType, ObjectIdentity string }
		}
		if err := json.Unmarshal([]byte(content), &m); err != nil {
			t.Fatalf("DDL message %q: %v", e, err)
		}
		var ids []string
		for _, o := range m.Objects {
			if o.CommandTag == m.Tag {
				ids = append(ids, o.ObjectType+":"+o.ObjectIdentity)
			}
		}
		out[i] = "ddl " + m.Event + " " + m.Tag + " " + strings.Join(ids, ",") + " user=" + m.User + " query=" + m.Query
	}
	return out
}

// TestIntegrationDDLCapture installs the DDL capture triggers and streams
// DDL between inserts: each statement comes as one transactional message,
// inside its own transaction, in WAL order; DROP comes from sql_drop;
// temporary objects and failed DDL are not captured.
func TestIntegrationDDLCapture(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE a (id int PRIMARY KEY)`)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{Slot: "ddl_slot", DDLCapture: true})
	info, err := src.Open(ctx)
	if err != nil {
		if src.serverVersion > 0 && src.serverVersion < 140000 {
			if !strings.Contains(err.Error(), "pgmotion.ddl.capture") {
				t.Fatalf("PostgreSQL %d: %v, want an error naming pgmotion.ddl.capture", src.serverVersion, err)
			}
			t.Skipf("PostgreSQL %d sends no logical decoding messages through pgoutput", src.serverVersion)
		}
		t.Fatal(err)
	}
	if n := pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'pgmotion\_ddl\_capture%'`); n != 2 {
		t.Fatalf("%d event triggers, want 2", n)
	}
	col := &collector{}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.Stream(sctx, StreamOptions{Start: info.ConsistentPoint}, col) }()
	pgtest.Exec(t, dsn,
		`INSERT INTO a VALUES (1)`,
		`ALTER TABLE a ADD COLUMN note text`,
		`INSERT INTO a VALUES (2, 'x')`,
		`BEGIN; CREATE TABLE b (id serial PRIMARY KEY); INSERT INTO b DEFAULT VALUES; COMMIT`,
		`CREATE TEMP TABLE scratch (x int)`,
		`BEGIN; CREATE TABLE rolled (x int); ROLLBACK`,
		`ALTER TABLE a DROP COLUMN note`,
		`DROP TABLE b`,
		`INSERT INTO a VALUES (3)`,
	)
	want := []string{
		"BEGIN", "c public.a [] [1]", "COMMIT",
		"BEGIN", "ddl ddl_command_end ALTER TABLE table:public.a user=postgres query=ALTER TABLE a ADD COLUMN note text", "COMMIT",
		"BEGIN", "c public.a [] [2,x]", "COMMIT",
		"BEGIN", "ddl ddl_command_end CREATE TABLE table:public.b user=postgres query=BEGIN; CREATE TABLE b (id serial PRIMARY KEY); INSERT INTO b DEFAULT VALUES; COMMIT", "c public.b [] [1]", "COMMIT",
		"BEGIN", "ddl ddl_command_end ALTER TABLE table:public.a user=postgres query=ALTER TABLE a DROP COLUMN note", "COMMIT",
		"BEGIN", "ddl sql_drop DROP TABLE table:public.b,default value:for public.b.id user=postgres query=DROP TABLE b", "COMMIT",
		"BEGIN", "c public.a [] [3]", "COMMIT",
	}
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return len(col.snapshot()) >= len(want), nil })
	stop()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Stream returned %v, want context.Canceled", err)
	}
	// PostgreSQL 14 sends the empty transactions of the temporary
	// table and the rolled-back DDL too; 15 does not.
	var got []string
	for _, e := range ddlSummary(t, col.snapshot()) {
		if e == "COMMIT" && len(got) > 0 && got[len(got)-1] == "BEGIN" {
			got = got[:len(got)-1]
			continue
		}
		got = append(got, e)
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("stream event %d:\n got %q\nwant %q", i, got, want)
		}
	}
}

// TestIntegrationDDLCaptureInstall starts installations at once on one
// database, as connectors starting together do: each succeeds and the
// triggers exist once. A user that is not a superuser gets an error
// naming the option until a superuser has installed the triggers, and
// then uses them; its DDL is captured and never fails.
func TestIntegrationDDLCaptureInstall(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	open := func(user string) (*Source, error) {
		pc, err := pgconn.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			pc.User = user
		}
		s, err := New(Config{Conn: pc, Slot: "unused", Publication: "unused", PublicationMode: "disabled", DDLCapture: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		if s.meta, err = pgconn.ConnectConfig(ctx, s.connConfig(false)); err != nil {
			t.Fatal(err)
		}
		if err := s.checkServer(ctx); err != nil {
			t.Fatal(err)
		}
		if s.serverVersion < 140000 {
			t.Skipf("PostgreSQL %d sends no logical decoding messages through pgoutput", s.serverVersion)
		}
		return s, s.ensureDDLCapture(ctx)
	}

	const role = "pgm_ddl_nosuper"
	pgtest.Exec(t, pgtest.Server(t).AdminDSN(), `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '`+role+`') THEN CREATE ROLE `+role+` LOGIN REPLICATION; END IF; END $$`)
	pgtest.Exec(t, dsn, `GRANT CREATE ON SCHEMA public TO `+role)
	if _, err := open(role); err == nil || !strings.Contains(err.Error(), "pgmotion.ddl.capture") || !strings.Contains(err.Error(), "superuser") {
		t.Fatalf("a user that is not a superuser, no triggers: %v, want an error naming pgmotion.ddl.capture and superuser", err)
	}

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = open("")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("installation %d: %v", i, err)
		}
	}
	if n := pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM pg_event_trigger WHERE evtfoid = 'public.pgmotion_ddl_capture()'::regprocedure`); n != 2 {
		t.Fatalf("%d event triggers, want 2", n)
	}
	// Again, with everything in place: nothing to do.
	if _, err := open(""); err != nil {
		t.Fatal(err)
	}

	// Installed by a superuser, the triggers serve the other user too.
	if _, err := open(role); err != nil {
		t.Fatalf("a user that is not a superuser, triggers installed: %v", err)
	}
	pc, _ := pgconn.ParseConfig(dsn)
	pc.User = role
	conn, err := pgconn.ConnectConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE owned (id int); ALTER TABLE owned ADD COLUMN x int`).ReadAll(); err != nil {
		t.Fatalf("DDL by a user that is not a superuser: %v", err)
	}
}

// TestIntegrationDDLCapturePasswords: password literals never reach the
// DDL messages, in the DDL itself (user mappings, servers) or in a role
// statement sent in the same query; other text is kept as written.
func TestIntegrationDDLCapturePasswords(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	role := "pgm_ddl_pw_" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))[len("test"):]
	role = role[:min(len(role), 60)]
	admin := pgtest.Server(t).AdminDSN()
	t.Cleanup(func() { pgtest.Exec(t, admin, `DROP ROLE IF EXISTS `+role) })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{Slot: "ddl_pw_slot", DDLCapture: true})
	info, err := src.Open(ctx)
	if err != nil {
		if src.serverVersion > 0 && src.serverVersion < 140000 {
			t.Skipf("PostgreSQL %d sends no logical decoding messages through pgoutput", src.serverVersion)
		}
		t.Fatal(err)
	}
	col := &collector{}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.Stream(sctx, StreamOptions{Start: info.ConsistentPoint}, col) }()
	stmts := []struct{ sql, want string }{
		{`CREATE FOREIGN DATA WRAPPER pgm_dummy`, `CREATE FOREIGN DATA WRAPPER pgm_dummy`},
		{`CREATE SERVER pgm_srv FOREIGN DATA WRAPPER pgm_dummy OPTIONS (host 'db.example', password 'srv-secret-1')`,
			`CREATE SERVER pgm_srv FOREIGN DATA WRAPPER pgm_dummy OPTIONS (host 'db.example', password '***')`},
		{`CREATE USER MAPPING FOR postgres SERVER pgm_srv OPTIONS (user 'u', "password" 'map-''secret-2')`,
			`CREATE USER MAPPING FOR postgres SERVER pgm_srv OPTIONS (user 'u', "password" '***')`},
		{`ALTER USER MAPPING FOR postgres SERVER pgm_srv OPTIONS (SET password E'map\'sec\\ret-3')`,
			`ALTER USER MAPPING FOR postgres SERVER pgm_srv OPTIONS (SET password '***')`},
		{`ALTER SERVER pgm_srv OPTIONS (ADD SSLPassword $x$srv-secret-4$x$)`,
			`ALTER SERVER pgm_srv OPTIONS (ADD SSLPassword '***')`},
		{`CREATE TABLE r1 (x int); CREATE ROLE ` + role + ` LOGIN ENCRYPTED PASSWORD 'role-secret-5'`,
			`CREATE TABLE r1 (x int); CREATE ROLE ` + role + ` LOGIN ENCRYPTED PASSWORD '***'`},
		{`CREATE TABLE r2 (x int); ALTER ROLE ` + role + ` PASSWORD $$role-secret-6$$ VALID UNTIL 'infinity'`,
			`CREATE TABLE r2 (x int); ALTER ROLE ` + role + ` PASSWORD '***' VALID UNTIL 'infinity'`},
		{`CREATE TABLE r3 (conn text DEFAULT 'host=h password=conn-secret-7 user=u')`,
			`CREATE TABLE r3 (conn text DEFAULT 'host=h password=*** user=u')`},
		{`CREATE TABLE users (password text, note text DEFAULT 'keep me')`,
			`CREATE TABLE users (password text, note text DEFAULT 'keep me')`},
	}
	for _, s := range stmts {
		pgtest.Exec(t, dsn, s.sql)
	}
	var queries []string
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		queries = queries[:0]
		for _, e := range col.snapshot() {
			content, ok := strings.CutPrefix(e, "m "+DDLMessagePrefix+" ")
			if !ok {
				continue
			}
			if strings.Contains(content, "secret") {
				return false, fmt.Errorf("a password reached the DDL message: %s", content)
			}
			content, _, _ = strings.Cut(content, " tx=true xid=true")
			var m struct{ Query string }
			if err := json.Unmarshal([]byte(content), &m); err != nil {
				return false, err
			}
			if len(queries) == 0 || queries[len(queries)-1] != m.Query {
				queries = append(queries, m.Query)
			}
		}
		return len(queries) >= len(stmts), nil
	})
	stop()
	<-done
	for i, s := range stmts {
		if i >= len(queries) || queries[i] != s.want {
			t.Errorf("statement %d:\n got %q\nwant %q", i, queries, s.want)
			break
		}
	}
}
