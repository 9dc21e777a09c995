package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pglocal"
	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// runOnce runs pgmotion to completion and returns its exit code and output.
func runOnce(t *testing.T, timeout time.Duration, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PGMOTION_TEST_MAIN=1")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("pgmotion %v did not exit within %v:\n%s", args, timeout, out)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

// infoRecord is a log record at level INFO in the default text format:
// start-up and shutdown progress ("embedded broker ready", "worker ready",
// "connector starting", "broker stopped", ...).
var infoRecord = regexp.MustCompile(`^time=\S+ level=INFO msg=`)

// checkOneLine checks the output (stdout and stderr together) of a run
// that failed at start-up against the one-line rule, strictly: every line
// but the last is a log record at level INFO, and the last is the error,
// "pgmotion: " and text matching cause and fix. No WARN or ERROR record,
// no line of any other kind (a continuation of a multi-line error, a
// stack), no escaped newline or tab inside the error line, and the secret
// appears nowhere.
func checkOneLine(t *testing.T, code int, out, cause, fix, secret string) {
	t.Helper()
	if code == 0 {
		t.Errorf("exit code 0, want non-zero")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	last := lines[len(lines)-1]
	for i, l := range lines[:len(lines)-1] {
		if !infoRecord.MatchString(l) {
			t.Errorf("line %d is neither an INFO record nor the last line:\n%s\n\nwhole output:\n%s", i+1, l, out)
		}
	}
	if !strings.HasPrefix(last, "pgmotion: ") {
		t.Errorf("the last line is not the error (\"pgmotion: ...\"):\n%s\n\nwhole output:\n%s", last, out)
	}
	if strings.Contains(last, `\n`) || strings.Contains(last, `\t`) {
		t.Errorf("the error line holds an escaped newline or tab:\n%s", last)
	}
	if !regexp.MustCompile(cause).MatchString(last) {
		t.Errorf("the error line does not name the cause (%s):\n%s", cause, last)
	}
	if !regexp.MustCompile(fix).MatchString(last) {
		t.Errorf("the error line does not give the fix (%s):\n%s", fix, last)
	}
	if secret != "" && strings.Contains(out, secret) {
		t.Errorf("the password appears in the output:\n%s", out)
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// connectOnce runs `pgmotion connect --embedded-broker ADDR file.json` (file
// mode) to completion, on a port of its own and a fresh data directory.
func connectOnce(t *testing.T, file string, extra ...string) (int, string) {
	t.Helper()
	args := append([]string{"connect", "--rest", "127.0.0.1:0", "--embedded-broker", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--data-dir", t.TempDir()}, extra...)
	return runOnce(t, 60*time.Second, append(args, file)...)
}

// TestE2EConnectorErrors checks that each mistake a user can make in a
// connector file gets one line naming the cause and the fix
// (checkOneLine), and a non-zero exit. Mistakes that only the database
// reveals fail the connector, not the worker: TestE2EConnectorErrorLines.
func TestE2EConnectorErrors(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	u := parseDSN(t, dsn)
	dir := t.TempDir()
	base := func(extra string) string {
		return fmt.Sprintf(`{"name":"bad","config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":%q,"database.port":%q,"database.user":"postgres","database.password":"pw-secret-123","database.dbname":%q,"plugin.name":"pgoutput","topic.prefix":"bad","slot.name":"bad_slot"%s}}`, u.host, u.port, u.db, extra)
	}
	cases := []struct {
		name       string
		body       string
		cause, fix string
	}{
		{"malformed JSON", `{"name":"bad","config":{"topic.prefix":`, `malformed JSON at line 1, column \d+`, `Kafka Connect request body, \{"name"`},
		{"missing topic.prefix", strings.Replace(base(""), `"topic.prefix":"bad",`, "", 1), `topic\.prefix`, `A value is required`},
		{"unknown connector.class", strings.Replace(base(""), "io.debezium.connector.postgresql.PostgresConnector", "com.example.MysteryConnector", 1), `unknown connector\.class "com\.example\.MysteryConnector"`, `pgmotion runs io\.debezium\.connector\.postgresql\.PostgresConnector`},
		// Every value the declaration accepts, legacy never and exported
		// included, and no REST endpoint of a worker that is exiting.
		{"bad snapshot.mode", base(`,"snapshot.mode":"sometimes"`), `snapshot\.mode "sometimes" is not a valid value`, `use one of always, initial, no_data, initial_only, when_needed, configuration_based, custom, or the legacy never \(= no_data\), exported \(= initial\)$`},
		{"non-numeric port", strings.Replace(base(""), `"database.port":"`+u.port+`"`, `"database.port":"fivefour"`, 1), `'database\.port' value is invalid`, `An integer is expected$`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			writeFile(t, path, tc.body)
			code, out := connectOnce(t, path)
			checkOneLine(t, code, out, tc.cause, tc.fix, "pw-secret-123")
			if strings.Count(out, "connection refused") > 1 {
				t.Errorf("a cause printed more than once:\n%s", out)
			}
		})
	}
}

// TestE2EBusyPorts runs the worker on addresses something else holds: the
// line names the flag of `connect` that picks another.
func TestE2EBusyPorts(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	addr := held.Addr().String()
	file := filepath.Join(t.TempDir(), "c.json")
	// Never reached: the worker stops before it starts a connector.
	writeFile(t, file, `{"name":"c","config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":"127.0.0.1","database.port":"1","database.user":"u","database.password":"pw-secret-123","database.dbname":"d","topic.prefix":"c"}}`)

	t.Run("embedded broker", func(t *testing.T) {
		code, out := runOnce(t, 60*time.Second, "connect", "--rest", "127.0.0.1:0", "--embedded-broker", addr, "--data-dir", t.TempDir(), file)
		checkOneLine(t, code, out, `embedded broker: `+regexp.QuoteMeta(addr)+` is already in use`, `pick another address with --embedded-broker$`, "pw-secret-123")
	})
	t.Run("REST API", func(t *testing.T) {
		code, out := runOnce(t, 60*time.Second, "connect", "--rest", addr, "--embedded-broker", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--data-dir", t.TempDir(), file)
		checkOneLine(t, code, out, `REST API: `+regexp.QuoteMeta(addr)+` is already in use`, `pick another address with --rest$`, "pw-secret-123")
	})
}

// TestE2EServerErrors runs against a server of its own, with
// wal_level=replica and password authentication over TCP, without TLS,
// and a second connector that cannot reach its database at all. These
// fail the connector, not the worker (issue 13): the worker runs on, and
// each failure is one line naming the cause and the fix: a wrong password
// is named, not the refused TLS attempt that sslmode=prefer makes first;
// a refused connection is retried, with one line a retry.
func TestE2EServerErrors(t *testing.T) {
	if os.Getenv(pgtest.EnvDSN) != "" {
		t.Skip("needs a throwaway server of its own; PGMOTION_TEST_PG is set")
	}
	dir, err := pglocal.MkdirTemp("pgmotion-e2e-replica-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	hba := filepath.Join(dir, "pg_hba.conf")
	writeFile(t, hba, "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n")
	ctx := context.Background()
	srv, err := pglocal.Start(ctx, pglocal.Options{Dir: filepath.Join(dir, "pg"), Fast: true, Settings: map[string]string{"hba_file": hba}})
	if err != nil {
		pgtest.Unavailable(t, "start a second PostgreSQL: %v", err)
	}
	defer srv.Stop(ctx)
	pgtest.Exec(t, srv.DSN("postgres"), `CREATE ROLE app LOGIN REPLICATION PASSWORD 'pw-right-456'`)
	file := func(name, user, password string, port int) string {
		body := fmt.Sprintf(`{"name":%q,"config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":"127.0.0.1","database.port":"%d","database.user":%q,"database.password":%q,"database.dbname":"postgres","plugin.name":"pgoutput","topic.prefix":%q}}`, name, port, user, password, name)
		path := filepath.Join(t.TempDir(), name+".json")
		writeFile(t, path, body)
		return path
	}
	for _, tc := range []struct {
		name, user, password string
		port                 int
		cause, fix           string
		retried              bool
	}{
		{"wrongpassword", "app", "pw-wrong-123", srv.Port(), `password authentication failed for user "app" \(PostgreSQL at 127\.0\.0\.1:\d+, SQLSTATE 28P01\)`, `check database\.user and database\.password`, false},
		{"walreplica", "app", "pw-right-456", srv.Port(), `wal_level is "replica"`, `ALTER SYSTEM SET wal_level = logical\) and restart PostgreSQL`, false},
		// pgx tries every address twice (sslmode=prefer): one refusal.
		{"wrongport", "app", "pw-right-456", freePort(t), `cannot reach PostgreSQL at 127\.0\.0\.1:\d+: connection refused`, `check database\.hostname and database\.port`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startPgmotion(t, "connect", "--rest", "127.0.0.1:0", "--embedded-broker", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--data-dir", t.TempDir(), file(tc.name, tc.user, tc.password, tc.port))
			if tc.retried {
				waitLog(t, p, "restarting it", 2, 60*time.Second)
			} else {
				waitLog(t, p, "connector task failed", 1, 60*time.Second)
				time.Sleep(time.Second) // anything printed after it
			}
			out := p.output()
			p.stop(t) // fails the test if the worker had exited
			checkFailureLines(t, out, tc.cause, tc.fix, tc.password, tc.retried)
		})
	}
}

// TestE2ENoReplicationPrivilege: a user without REPLICATION fails the
// connector with one line naming the ALTER ROLE that fixes it.
func TestE2ENoReplicationPrivilege(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	u := parseDSN(t, dsn)
	pgtest.Exec(t, pgtest.Server(t).AdminDSN(), `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'e2e_norepl') THEN CREATE ROLE e2e_norepl LOGIN; END IF; END $$`)
	path := filepath.Join(t.TempDir(), "norepl.json")
	writeFile(t, path, fmt.Sprintf(`{"name":"norepl","config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":%q,"database.port":%q,"database.user":"e2e_norepl","database.password":"pw-secret-123","database.dbname":%q,"plugin.name":"pgoutput","topic.prefix":"norepl"}}`, u.host, u.port, u.db))
	p := startPgmotion(t, "connect", "--rest", "127.0.0.1:0", "--embedded-broker", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--data-dir", t.TempDir(), path)
	waitLog(t, p, "connector task failed", 1, 60*time.Second)
	time.Sleep(time.Second)
	out := p.output()
	p.stop(t)
	checkFailureLines(t, out, `user "e2e_norepl" has no REPLICATION privilege`, `ALTER ROLE e2e_norepl WITH REPLICATION`, "pw-secret-123", false)
}

// checkFailureLines checks the log of a worker whose connector failed at
// run time: each failure is one WARN (a retry) or ERROR (for good) line
// naming the cause and the fix, printed once; no other WARN or ERROR
// line, no TLS red herring, and the password nowhere.
func checkFailureLines(t *testing.T, out, cause, fix, secret string, retried bool) {
	t.Helper()
	var failures []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			// The text handler quotes values: read them as printed
			// unquoted.
			failures = append(failures, strings.ReplaceAll(l, `\"`, `"`))
		}
	}
	if len(failures) == 0 {
		t.Fatalf("no failure line:\n%s", out)
	}
	for i, l := range failures {
		if retried && !strings.Contains(l, "level=WARN") {
			t.Errorf("line %d: a retriable failure at level ERROR:\n%s", i+1, l)
		}
		if !retried && (len(failures) != 1 || !strings.Contains(l, "level=ERROR")) {
			t.Errorf("want one ERROR line, got %d WARN/ERROR lines:\n%s", len(failures), strings.Join(failures, "\n"))
			break
		}
		if !regexp.MustCompile(cause).MatchString(l) || !regexp.MustCompile(fix).MatchString(l) {
			t.Errorf("line %d does not name the cause (%s) and the fix (%s):\n%s", i+1, cause, fix, l)
		}
		if strings.Count(l, "connection refused") > 1 || strings.Contains(l, "TLS") {
			t.Errorf("line %d repeats a cause or shows the refused TLS attempt:\n%s", i+1, l)
		}
	}
	if secret != "" && strings.Contains(out, secret) {
		t.Errorf("the password appears in the output:\n%s", out)
	}
}

// TestE2EDemo runs `pgmotion demo` and looks at its topics with kcat.
func TestE2EDemo(t *testing.T) {
	if os.Getenv(pgtest.EnvDSN) != "" {
		t.Skip("the demo starts its own server; PGMOTION_TEST_PG is set")
	}
	kcat := needKcat(t)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startPgmotion(t, "demo", "--listen", broker, "--rest", "127.0.0.1:0", "--rate", "50")
	msgs := consume(t, broker, "demo.public.orders", 5, 120*time.Second)
	// Each new order's OrderCreated event, a pg_logical_emit_message that
	// the EventRouter routes: key = the order id, an id header, the payload.
	ev := consume(t, broker, "outbox.event.order", 1, 120*time.Second)[0]
	if !strings.Contains(str(ev.Payload), `orderId`) || !strings.Contains(strings.Join(ev.Headers, ","), "id,") {
		t.Errorf("outbox.event.order: headers %q, value %s", ev.Headers, str(ev.Payload))
	}
	if !strings.Contains(str(msgs[0].Payload), `"name":"demo.public.orders.Envelope"`) {
		t.Errorf("first orders event: %s", str(msgs[0].Payload))
	}
	out, err := exec.Command(kcat, "-b", broker, "-L").CombinedOutput()
	if err != nil {
		t.Fatal(err, string(out))
	}
	for _, topic := range []string{"demo.public.customers", "demo.public.products", "demo.public.orders", "connect-offsets"} {
		if !strings.Contains(string(out), `topic "`+topic+`"`) {
			t.Errorf("kcat -L does not list %s:\n%s", topic, out)
		}
	}
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		return strings.Contains(p.output(), "events in Kafka: customers"), nil
	})
	if !strings.Contains(p.output(), "kcat -b "+broker) {
		t.Errorf("the demo does not print a kcat command line:\n%s", p.output())
	}
	m := regexp.MustCompile(`REST API:\s+(http://\S+)`).FindStringSubmatch(p.output())
	if m == nil {
		t.Fatalf("the demo does not print its REST address:\n%s", p.output())
	}
	a := api{t: t, base: m[1]}
	if got := a.want("GET", "/connectors", "", 200); got != `["demo-connector"]` {
		t.Errorf("GET /connectors: %s", got)
	}
	a.waitState("demo-connector", "RUNNING", "RUNNING")
	p.stop(t)
}
