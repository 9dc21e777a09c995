package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestE2EProviderValuesNotShown: values that config providers put into a
// connector config appear in no status trace, REST error or log line;
// the placeholder stands in their place.
func TestE2EProviderValuesNotShown(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	u := parseDSN(t, dsn)
	const (
		user = "leaky_user_4821"
		pw   = "leaky-pw-9137"
		port = "port-value-5521"
		// Not a valid topic name: Debezium's message quotes it.
		prefix = "prefix/value#7730"
	)
	t.Setenv("PGMOTION_CONFIG_PROVIDERS", "env")
	t.Setenv("PGMOTION_CONFIG_PROVIDERS_ENV_CLASS", "org.apache.kafka.common.config.provider.EnvVarConfigProvider")
	t.Setenv("PGM_SAFE_USER", user)
	t.Setenv("PGM_SAFE_PW", pw)
	t.Setenv("PGM_SAFE_PORT", port)
	t.Setenv("PGM_SAFE_PREFIX", prefix)
	broker := startBroker(t)
	p, a := restWorker(t, broker, t.TempDir())
	body := func(name, portValue, prefixValue string) string {
		return fmt.Sprintf(`{"name":%q,"config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":%q,"database.port":%q,"database.user":"${env:PGM_SAFE_USER}","database.password":"${env:PGM_SAFE_PW}","database.dbname":%q,"plugin.name":"pgoutput","topic.prefix":%q,"slot.name":"%s_slot"}}`,
			name, u.host, portValue, u.db, prefixValue, name)
	}

	// Values that are invalid: the validation message must not show them.
	out := a.want("POST", "/connectors", body("badport", "${env:PGM_SAFE_PORT}", "${env:PGM_SAFE_PREFIX}"), 400)
	if strings.Contains(out, port) || strings.Contains(out, prefix) || !strings.Contains(out, "${env:PGM_SAFE_PREFIX} has invalid format") {
		t.Errorf("validation message shows a value or not its placeholder: %s", out)
	}

	// A user PostgreSQL refuses: its error names the user.
	a.want("POST", "/connectors", body("wronguser", u.port, "wronguser"), 201)
	status := a.waitState("wronguser", "RUNNING", "FAILED")
	var st struct {
		Tasks []struct{ Trace string } `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(status), &st); err != nil || len(st.Tasks) != 1 {
		t.Fatalf("status %s: %v", status, err)
	}
	if tr := st.Tasks[0].Trace; !strings.Contains(tr, "${env:PGM_SAFE_USER}") {
		t.Errorf("trace does not name the placeholder: %s", tr)
	}
	time.Sleep(500 * time.Millisecond) // let the failure's log line out
	for _, v := range []string{user, pw, port, prefix} {
		if strings.Contains(status, v) {
			t.Errorf("status shows %q: %s", v, status)
		}
		if strings.Contains(p.output(), v) {
			t.Errorf("the log shows %q:\n%s", v, p.output())
		}
	}
}

// TestE2EOversizedMessage: a logical decoding message too large for Kafka
// fails the task with an error naming the LSN, the topic, the size, the
// limit and the fixes; listing the LSN in pgmotion.skip.lsn skips exactly
// that record, with a warning, and streaming goes on.
func TestE2EOversizedMessage(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE t (id int PRIMARY KEY)`)
	u := parseDSN(t, dsn)
	broker := startBroker(t)
	p, a := restWorker(t, broker, t.TempDir())
	cfg := map[string]string{
		"connector.class": "io.debezium.connector.postgresql.PostgresConnector", "database.hostname": u.host, "database.port": u.port,
		"database.user": u.user, "database.password": "x", "database.dbname": u.db, "plugin.name": "pgoutput",
		"topic.prefix": "big", "slot.name": "big_slot", "snapshot.mode": "no_data",
	}
	body, _ := json.Marshal(cfg)
	a.want("PUT", "/connectors/big/config", string(body), 201)
	a.waitState("big", "RUNNING", "RUNNING")
	lsn := pgtest.QueryValue[string](t, dsn, `SELECT pg_logical_emit_message(false, 'x', repeat('a', 3000000))::text`)
	pgtest.Exec(t, dsn, `INSERT INTO t VALUES (1)`)
	var st struct {
		Tasks []struct{ Trace string } `json:"tasks"`
	}
	json.Unmarshal([]byte(a.waitState("big", "RUNNING", "FAILED")), &st)
	status := ""
	if len(st.Tasks) == 1 {
		status = st.Tasks[0].Trace
	}
	for _, want := range []string{"LSN " + lsn, `topic "big.message"`, "producer.max.request.size is 1000012", "message.max.bytes",
		"message.prefix.exclude.list", "pgmotion.skip.lsn=" + lsn} {
		if !strings.Contains(status, want) {
			t.Errorf("the trace does not name %q: %s", want, status)
		}
	}

	// Skip exactly that record.
	cfg["pgmotion.skip.lsn"] = lsn
	body, _ = json.Marshal(cfg)
	a.want("PUT", "/connectors/big/config", string(body), 200)
	a.want("POST", "/connectors/big/restart?includeTasks=true", "", 202)
	a.waitState("big", "RUNNING", "RUNNING")
	pgtest.Exec(t, dsn, `INSERT INTO t VALUES (2)`)
	msgs := consume(t, broker, "big.public.t", 2, 60*time.Second)
	if len(msgs) != 2 {
		t.Fatalf("got %d row events, want 2", len(msgs))
	}
	pgtest.WaitFor(t, 10*time.Second, func() (bool, error) {
		out := p.output()
		return strings.Contains(out, "record too large for Kafka skipped") && strings.Contains(out, "lsn="+lsn) && strings.Contains(out, "topic=big.message"), nil
	})
}

// TestE2EHTTPSListenerNeedsCert: listeners=https://… without the REST
// API's certificate is one line naming the flags that give it.
func TestE2EHTTPSListenerNeedsCert(t *testing.T) {
	props := filepath.Join(t.TempDir(), "worker.properties")
	writeFile(t, props, "listeners=https://127.0.0.1:0\n")
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	code, out := runOnce(t, 60*time.Second, "connect", "--worker-config", props, "--embedded-broker", broker, "--data-dir", t.TempDir())
	if code == 0 || !strings.Contains(out, "listeners=https://127.0.0.1:0: give the REST API's TLS certificate and key with --rest-tls-cert and --rest-tls-key") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
