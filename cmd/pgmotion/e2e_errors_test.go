package main

import (
	"context"
	"fmt"
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

// TestE2EConnectorErrors checks that each mistake in a connector file
// gets one clear line naming the cause and the fix, and a non-zero exit.
// Failures that need the database are the connector's, and leave the
// worker running: TestE2EConnectorRuntimeErrors.
func TestE2EConnectorErrors(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	u := parseDSN(t, dsn)
	pgtest.Exec(t, dsn, `CREATE TABLE t (id int PRIMARY KEY)`)
	pgtest.Exec(t, pgtest.Server(t).AdminDSN(), `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'e2e_norepl') THEN CREATE ROLE e2e_norepl LOGIN; END IF; END $$`)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	dir := t.TempDir()
	base := func(extra string) string {
		return fmt.Sprintf(`{"name":"bad","config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":%q,"database.port":%q,"database.user":"postgres","database.password":"pw-secret-123","database.dbname":%q,"plugin.name":"pgoutput","topic.prefix":"bad","slot.name":"bad_slot"%s}}`, u.host, u.port, u.db, extra)
	}
	cases := []struct {
		name string
		body string
		want string
	}{
		{"malformed JSON", `{"name":"bad","config":{"topic.prefix":`, `(?i)json`},
		{"missing topic.prefix", strings.Replace(base(""), `"topic.prefix":"bad",`, "", 1), `topic\.prefix`},
		{"unknown connector.class", strings.Replace(base(""), "io.debezium.connector.postgresql.PostgresConnector", "com.example.MysteryConnector", 1), `com\.example\.MysteryConnector`},
		{"bad snapshot.mode", base(`,"snapshot.mode":"sometimes"`), `snapshot\.mode`},
		{"non-numeric port", strings.Replace(base(""), `"database.port":"`+u.port+`"`, `"database.port":"fivefour"`, 1), `database\.port`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			writeFile(t, path, tc.body)
			code, out := runOnce(t, 60*time.Second, "connect", "--rest", "127.0.0.1:0", "--embedded-broker", broker, "--data-dir", t.TempDir(), path)
			if code == 0 {
				t.Fatalf("exit code 0, want non-zero; output:\n%s", out)
			}
			if !regexp.MustCompile(tc.want).MatchString(out) {
				t.Errorf("output does not match %q:\n%s", tc.want, out)
			}
			if strings.Contains(out, "pw-secret-123") {
				t.Errorf("the password appears in the output:\n%s", out)
			}
			if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
				t.Errorf("a panic:\n%s", out)
			}
		})
	}
}

// TestE2EWalLevelReplica runs against a server without wal_level=logical.
func TestE2EWalLevelReplica(t *testing.T) {
	if os.Getenv(pgtest.EnvDSN) != "" {
		t.Skip("needs a throwaway server of its own; PGMOTION_TEST_PG is set")
	}
	dir, err := pglocal.MkdirTemp("pgmotion-e2e-replica-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	srv, err := pglocal.Start(ctx, pglocal.Options{Dir: filepath.Join(dir, "pg"), Fast: true})
	if err != nil {
		pgtest.Unavailable(t, "start a second PostgreSQL: %v", err)
	}
	defer srv.Stop(ctx)
	body := fmt.Sprintf(`{"name":"replica","config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":"127.0.0.1","database.port":"%d","database.user":"postgres","database.password":"x","database.dbname":"postgres","plugin.name":"pgoutput","topic.prefix":"r"}}`, srv.Port())
	path := filepath.Join(dir, "replica.json")
	writeFile(t, path, body)
	// The connector fails, with the fix; the worker runs on.
	p := startPgmotion(t, "connect", "--rest", "127.0.0.1:0", "--embedded-broker", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--data-dir", t.TempDir(), path)
	waitLog(t, p, "connector task failed", 1, 60*time.Second)
	if out := p.output(); !strings.Contains(out, "wal_level=logical") {
		t.Fatalf("no wal_level=logical hint:\n%s", out)
	}
	p.stop(t)
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
