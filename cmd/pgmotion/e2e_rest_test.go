package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// api talks to a worker's REST API the way curl does.
type api struct {
	t    *testing.T
	base string
}

func (a api) do(method, path, body string) (int, string) {
	a.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.base+path, r)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error() // not listening yet, or gone
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (a api) want(method, path, body string, status int) string {
	a.t.Helper()
	got, out := a.do(method, path, body)
	if got != status {
		a.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, status, out)
	}
	return out
}

// waitState polls the status until the connector and its task are in
// the wanted states ("" for no task).
func (a api) waitState(name, conn, task string) string {
	a.t.Helper()
	var last string
	pgtest.WaitFor(a.t, 60*time.Second, func() (bool, error) {
		code, out := a.do("GET", "/connectors/"+name+"/status", "")
		last = out
		if code != 200 {
			return false, nil
		}
		var st struct {
			Connector struct{ State string }   `json:"connector"`
			Tasks     []struct{ State string } `json:"tasks"`
		}
		json.Unmarshal([]byte(out), &st)
		gotTask := ""
		if len(st.Tasks) > 0 {
			gotTask = st.Tasks[0].State
		}
		return st.Connector.State == conn && gotTask == task, nil
	})
	return last
}

// restWorker starts a worker whose REST API and broker listen on free
// ports, and waits until the API answers.
func restWorker(t *testing.T, broker, dataDir string, extra ...string) (*proc, api) {
	t.Helper()
	port := freePort(t)
	args := append([]string{"connect", "--rest", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", dataDir, "--bootstrap-servers", broker}, extra...)
	p := startPgmotion(t, args...)
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		code, _ := a.do("GET", "/health", "")
		return code == 200, nil
	})
	return p, a
}

func startBroker(t *testing.T) string {
	t.Helper()
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	bp := startPgmotion(t, "broker", "--listen", broker, "--data-dir", t.TempDir())
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return strings.Contains(bp.output(), "broker listening"), nil })
	return broker
}

// TestE2ERESTLifecycle runs the original demo's curl steps and the
// lifecycle operations against a real worker, PostgreSQL and broker.
func TestE2ERESTLifecycle(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.LoadSakila(t, dsn)
	u := parseDSN(t, dsn)
	broker := startBroker(t)
	dataDir := t.TempDir()
	p, a := restWorker(t, broker, dataDir)

	plugins := a.want("GET", "/connector-plugins", "", 200)
	if !strings.Contains(plugins, `"class":"io.debezium.connector.postgresql.PostgresConnector"`) {
		t.Errorf("connector-plugins: %s", plugins)
	}
	const secret = "s3cret-PW-for-e2e"
	body := fmt.Sprintf(`{"name":"sakila-connector","config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":%q,"database.port":%q,"database.user":"postgres","database.password":%q,"database.dbname":%q,"plugin.name":"pgoutput","topic.prefix":"sakila-","schema.include.list":"public","table.include.list":"public.actor"}}`, u.host, u.port, secret, u.db)
	created := a.want("POST", "/connectors", body, 201)
	if !strings.Contains(created, `"database.password":"[hidden]"`) {
		t.Errorf("create response does not mask the password: %s", created)
	}
	a.want("POST", "/connectors", body, 409)
	a.waitState("sakila-connector", "RUNNING", "RUNNING")
	consume(t, broker, "sakila-.public.actor", 200, 60*time.Second)

	// Invalid configs: 400 with Connect's message, every bad field named,
	// and the validate endpoint reports the same fields.
	bad := `{"name":"bad","config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":"h","database.port":"abc","database.user":"u","database.dbname":"d","snapshot.mode":"sometimes"}}`
	out := a.want("POST", "/connectors", bad, 400)
	for _, f := range []string{"topic.prefix", "database.port", "snapshot.mode"} {
		if !strings.Contains(out, f) {
			t.Errorf("400 body does not name %s: %s", f, out)
		}
	}
	if !strings.Contains(out, "Connector configuration is invalid and contains the following 3 error(s)") {
		t.Errorf("400 body: %s", out)
	}
	var ci struct {
		ErrorCount int `json:"error_count"`
		Configs    []struct {
			Value struct {
				Name   string   `json:"name"`
				Errors []string `json:"errors"`
			} `json:"value"`
		} `json:"configs"`
	}
	vbody := strings.Replace(regexp.MustCompile(`^\{"name":"bad","config":(.*)\}$`).FindStringSubmatch(bad)[1], `{`, `{"name":"bad",`, 1)
	json.Unmarshal([]byte(a.want("PUT", "/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config/validate", vbody, 200)), &ci)
	withErr := map[string]bool{}
	for _, c := range ci.Configs {
		if len(c.Value.Errors) > 0 {
			withErr[c.Value.Name] = true
		}
	}
	if ci.ErrorCount != 3 || !withErr["topic.prefix"] || !withErr["database.port"] || !withErr["snapshot.mode"] {
		t.Errorf("validate: %d errors on %v", ci.ErrorCount, withErr)
	}

	// Pause, resume, stop, restart, as Kafka Connect does them.
	a.want("PUT", "/connectors/sakila-connector/pause", "", 202)
	a.waitState("sakila-connector", "PAUSED", "PAUSED")
	a.want("PUT", "/connectors/sakila-connector/resume", "", 202)
	a.waitState("sakila-connector", "RUNNING", "RUNNING")
	a.want("PUT", "/connectors/sakila-connector/stop", "", 204)
	a.waitState("sakila-connector", "STOPPED", "")
	offsets := a.want("GET", "/connectors/sakila-connector/offsets", "", 200)
	if !strings.Contains(offsets, `"partition":{"server":"sakila-"}`) {
		t.Errorf("offsets: %s", offsets)
	}
	// A position behind what the slot confirmed is refused.
	a.want("PATCH", "/connectors/sakila-connector/offsets", `{"offsets":[{"partition":{"server":"sakila-"},"offset":{"lsn":16,"lsn_proc":16,"lsn_commit":16}}]}`, 400)
	a.want("PUT", "/connectors/sakila-connector/resume", "", 202)
	a.waitState("sakila-connector", "RUNNING", "RUNNING")
	a.want("POST", "/connectors/sakila-connector/restart?includeTasks=true", "", 202)
	a.waitState("sakila-connector", "RUNNING", "RUNNING")

	// A second connector, paused; then restart the worker: both come back
	// as they were.
	paused := strings.Replace(strings.Replace(strings.Replace(body, "sakila-connector", "paused-connector", 1), `"topic.prefix":"sakila-"`, `"topic.prefix":"paused","slot.name":"paused_slot"`, 1), `{"name"`, `{"initial_state":"PAUSED","name"`, 1)
	a.want("POST", "/connectors", paused, 201)
	a.waitState("paused-connector", "PAUSED", "") // created paused: no task yet
	p.stop(t)
	p2, a2 := restWorker(t, broker, dataDir)
	a2.waitState("sakila-connector", "RUNNING", "RUNNING")
	a2.waitState("paused-connector", "PAUSED", "")
	list := a2.want("GET", "/connectors", "", 200)
	if list != `["paused-connector","sakila-connector"]` {
		t.Errorf("connectors after restart: %s", list)
	}
	pgtest.Exec(t, dsn, `INSERT INTO actor (first_name, last_name) VALUES ('AFTER', 'RESTART')`)
	msgs := consume(t, broker, "sakila-.public.actor", 201, 60*time.Second)
	if !strings.Contains(str(msgs[len(msgs)-1].Payload), `"first_name":"AFTER"`) {
		t.Errorf("last event after restart: %s", str(msgs[len(msgs)-1].Payload))
	}

	a2.want("DELETE", "/connectors/paused-connector", "", 204)
	a2.want("GET", "/connectors/paused-connector", "", 404)

	// No response and no log line holds the password.
	for _, path := range []string{"/connectors/sakila-connector", "/connectors/sakila-connector/config", "/connectors/sakila-connector/tasks", "/connectors?expand=info&expand=status"} {
		if out := a2.want("GET", path, "", 200); strings.Contains(out, secret) {
			t.Errorf("GET %s shows the password: %s", path, out)
		}
	}
	p2.stop(t)
	for _, pr := range []*proc{p, p2} {
		if bytes.Contains([]byte(pr.output()), []byte(secret)) {
			t.Errorf("a log line holds the password:\n%s", pr.output())
		}
	}
}

// TestE2EThreeWorkersFailover kills the worker that runs a connector
// under load: another worker takes it over within 30 s, and no event is
// missing from Kafka.
func TestE2EThreeWorkersFailover(t *testing.T) {
	const rows, perTxn = 30_000, 100
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE load (id int PRIMARY KEY, payload text NOT NULL)`)
	u := parseDSN(t, dsn)
	broker := startBroker(t)
	var procs []*proc
	var apis []api
	for i := 0; i < 3; i++ {
		p, a := restWorker(t, broker, t.TempDir(), "--group-id", "failover")
		procs, apis = append(procs, p), append(apis, a)
	}
	body := fmt.Sprintf(`{"name":"ha","config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":%q,"database.port":%q,"database.user":"postgres","database.password":"x","database.dbname":%q,"plugin.name":"pgoutput","topic.prefix":"ha","slot.name":"ha_slot","table.include.list":"public.load"}}`, u.host, u.port, u.db)
	// Any worker takes the request; the group decides who runs it.
	apis[1].want("POST", "/connectors", body, 201)
	apis[0].waitState("ha", "RUNNING", "RUNNING")
	owner := func(a api) string {
		var st struct {
			Tasks []struct {
				State    string `json:"state"`
				WorkerID string `json:"worker_id"`
			} `json:"tasks"`
		}
		_, out := a.do("GET", "/connectors/ha/status", "")
		json.Unmarshal([]byte(out), &st)
		if len(st.Tasks) == 0 || st.Tasks[0].State != "RUNNING" {
			return ""
		}
		return st.Tasks[0].WorkerID
	}
	first := owner(apis[0])
	victim := -1
	for i, a := range apis {
		if strings.HasSuffix(a.base, "//"+first) {
			victim = i
		}
	}
	if victim < 0 {
		t.Fatalf("owner %q is none of the workers", first)
	}

	loadDone := make(chan error, 1)
	go func() {
		conn := pgtest.Connect(t, dsn)
		for i := 0; i < rows; i += perTxn {
			if _, err := conn.Exec(t.Context(), `INSERT INTO load SELECT g, 'x' || g FROM generate_series($1::int, $2::int) g`, i+1, i+perTxn); err != nil {
				loadDone <- err
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		loadDone <- nil
	}()
	time.Sleep(time.Second)
	procs[victim].kill()
	killed := time.Now()
	survivor := apis[(victim+1)%3]
	var next string
	pgtest.WaitFor(t, 60*time.Second, func() (bool, error) {
		next = owner(survivor)
		return next != "" && next != first, nil
	})
	took := time.Since(killed)
	t.Logf("connector moved from %s to %s in %v", first, next, took.Round(100*time.Millisecond))
	if took > 30*time.Second {
		t.Errorf("failover took %v, want at most 30s", took)
	}
	if err := <-loadDone; err != nil {
		t.Fatal(err)
	}
	held := idsInKafka(t, broker, "ha.public.load", rows)
	for id := 1; id <= rows; id++ {
		if !held[id] {
			t.Fatalf("row %d has no event in Kafka after the failover", id)
		}
	}
}
