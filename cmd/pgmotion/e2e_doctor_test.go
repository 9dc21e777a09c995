package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestE2EDoctor runs `pgmotion doctor` against a database with a table
// that has no primary key and a running broker: it prints the problem with
// its fix and exits 1; once the table is fixed it exits 0, in text and in
// JSON.
func TestE2EDoctor(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE items (id int NOT NULL, name text)`)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	b := startPgmotion(t, "broker", "--listen", addr, "--data-dir", "")
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		return strings.Contains(b.output(), "broker listening"), nil
	})
	path := connectorFile(t, dsn, "shop", map[string]string{"topic.prefix": "shop", "slot.name": "doctor_e2e",
		"publication.autocreate.mode": "filtered", "database.password": "pw-secret-123"})

	code, out := runOnce(t, 90*time.Second, "doctor", "--bootstrap-servers", addr, path)
	if code != 1 {
		t.Errorf("exit code %d with a problem, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		"PROBLEM 1 captured table without a primary key and with REPLICA IDENTITY DEFAULT or NOTHING",
		"public.items: add a primary key, or ALTER TABLE public.items REPLICA IDENTITY FULL",
		"WARN 1 captured table with TOAST-able columns",
		"OK connected to Kafka at " + addr,
		"OK wal_level is logical",
		"connector shop: 1 problem,",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "pw-secret-123") || strings.Contains(out, "panic") {
		t.Errorf("the password or a panic in the output:\n%s", out)
	}

	pgtest.Exec(t, dsn, `ALTER TABLE items ADD PRIMARY KEY (id)`, `ALTER TABLE items REPLICA IDENTITY FULL`)
	code, out = runOnce(t, 90*time.Second, "doctor", "--bootstrap-servers", addr, "--json", path)
	var report struct {
		Problems, Warnings int
		Findings           []struct{ Check, Severity, What, Fix string }
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if code != 0 || report.Problems != 0 {
		t.Errorf("exit code %d, %d problems once fixed, want 0:\n%s", code, report.Problems, out)
	}
	code, out = runOnce(t, 90*time.Second, "doctor", "--bootstrap-servers", addr, "--strict", "--quiet", path)
	if wantCode := min(report.Warnings, 1); code != wantCode {
		t.Errorf("--strict with %d warnings: exit code %d, want %d:\n%s", report.Warnings, code, wantCode, out)
	}
	if strings.Contains(out, "OK ") {
		t.Errorf("--quiet printed passed checks:\n%s", out)
	}
}

// TestE2EDoctorKafkaSASL: the doctor reaches Kafka with the worker's own
// security settings (Kafka Connect's property names in --worker-config):
// a wrong password is one problem naming the property, the right one
// connects.
func TestE2EDoctorKafkaSASL(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE items (id int PRIMARY KEY)`)
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	writeFile(t, users, "SCRAM-SHA-256:worker:right-secret-456\n")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	b := startPgmotion(t, "broker", "--listen", addr, "--data-dir", "", "--sasl-users-file", users)
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		return strings.Contains(b.output(), "broker listening"), nil
	})
	path := connectorFile(t, dsn, "shop", map[string]string{"topic.prefix": "shop", "slot.name": "doctor_sasl"})
	worker := func(password string) string {
		p := filepath.Join(dir, password+".properties")
		writeFile(t, p, "bootstrap.servers="+addr+"\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\n"+
			`sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="worker" password="`+password+`";`+"\n")
		return p
	}

	code, out := runOnce(t, 90*time.Second, "doctor", "--worker-config", worker("wrong-secret-123"), path)
	if code != 1 || !regexp.MustCompile(`(?m)^PROBLEM cannot connect to Kafka at `+regexp.QuoteMeta(addr)+` over SASL_PLAINTEXT, SCRAM-SHA-256 as "worker": .*sasl\.jaas\.config`).MatchString(out) {
		t.Errorf("wrong password: exit code %d, want 1 and a PROBLEM naming sasl.jaas.config:\n%s", code, out)
	}
	if strings.Contains(out, "wrong-secret-123") {
		t.Errorf("the password appears in the output:\n%s", out)
	}

	code, out = runOnce(t, 90*time.Second, "doctor", "--worker-config", worker("right-secret-456"), path)
	if !strings.Contains(out, "OK connected to Kafka at "+addr) || strings.Contains(out, "PROBLEM") || code != 0 {
		t.Errorf("right password: exit code %d, want 0 and a connection:\n%s", code, out)
	}
	if strings.Contains(out, "right-secret-456") {
		t.Errorf("the password appears in the output:\n%s", out)
	}
}
