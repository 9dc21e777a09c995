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

// activeTopics reads GET /connectors/{name}/topics.
func (a api) activeTopics(name string) []string {
	a.t.Helper()
	var body map[string]struct {
		Topics []string `json:"topics"`
	}
	out := a.want("GET", "/connectors/"+name+"/topics", "", 200)
	if err := json.Unmarshal([]byte(out), &body); err != nil {
		a.t.Fatalf("topics body %s: %v", out, err)
	}
	if _, ok := body[name]; !ok || len(body) != 1 {
		a.t.Fatalf("topics body %s is not {%q: {\"topics\": [...]}}", out, name)
	}
	return body[name].Topics
}

// waitTopics waits until the connector's active topics are want.
func (a api) waitTopics(name string, want ...string) {
	a.t.Helper()
	var got []string
	pgtest.WaitFor(a.t, 60*time.Second, func() (bool, error) {
		got = a.activeTopics(name)
		return fmt.Sprint(got) == fmt.Sprint(want), nil
	})
}

// latest returns the last value kcat reads for key in topic ("" for a
// tombstone), and whether the key was found.
func latest(t *testing.T, broker, topic, key string) (string, bool) {
	t.Helper()
	var val string
	found := false
	for _, m := range consume(t, broker, topic, 0, 30*time.Second) {
		if m.Key != nil && *m.Key == key {
			val, found = "", true
			if m.Payload != nil {
				val = *m.Payload
			}
		}
	}
	return val, found
}

// TestE2ERESTTopicsLoggersInitialState runs the endpoints Kafka Connect 4.0
// added to the ones the lifecycle test covers, against a real worker,
// broker and PostgreSQL: a connector created PAUSED has no task until
// resumed; its active topics appear in the status topic under Connect's
// keys once it streams, survive a worker restart, and reset only while
// it is stopped; logger levels change what the worker logs at run time,
// for this worker or, through the config topic, for the cluster.
func TestE2ERESTTopicsLoggersInitialState(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE t1 (id int PRIMARY KEY, v text)`,
		`CREATE TABLE t2 (id int PRIMARY KEY, v text)`,
		`INSERT INTO t1 VALUES (1, 'a'), (2, 'b')`,
		`INSERT INTO t2 VALUES (1, 'c')`)
	u := parseDSN(t, dsn)
	broker := startBroker(t)
	dataDir := t.TempDir()
	p, a := restWorker(t, broker, dataDir)

	// initial_state PAUSED: no task in the info, the tasks or the status.
	body := fmt.Sprintf(`{"name":"tracked","initial_state":"PAUSED","config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":%q,"database.port":%q,"database.user":%q,"database.password":"x","database.dbname":%q,"plugin.name":"pgoutput","topic.prefix":"trk","slot.name":"trk_slot","table.include.list":"public.t1,public.t2"}}`, u.host, u.port, u.user, u.db)
	if out := a.want("POST", "/connectors", body, 201); !strings.Contains(out, `"tasks":[]`) {
		t.Errorf("create PAUSED lists a task: %s", out)
	}
	a.waitState("tracked", "PAUSED", "")
	if out := a.want("GET", "/connectors/tracked", "", 200); !strings.Contains(out, `"tasks":[]`) {
		t.Errorf("info of a connector created PAUSED: %s", out)
	}
	a.want("GET", "/connectors/tracked/tasks", "", 200)
	if out := a.want("GET", "/connectors/tracked/tasks", "", 200); out != `[]` {
		t.Errorf("tasks of a connector created PAUSED: %s", out)
	}
	a.want("GET", "/connectors/tracked/tasks/0/status", "", 404)
	if got := a.activeTopics("tracked"); len(got) != 0 {
		t.Errorf("active topics before any record: %q", got)
	}

	// The capture's logger at DEBUG before it starts: its snapshot logs
	// debug lines, which it did not at INFO.
	if out := a.want("GET", "/admin/loggers/io.debezium.connector.postgresql", "", 200); out != `{"level":"INFO","last_modified":null}` {
		t.Errorf("capture logger before: %s", out)
	}
	changed := a.want("PUT", "/admin/loggers/io.debezium.connector.postgresql", `{"level":"DEBUG"}`, 200)
	if !strings.HasPrefix(changed, `["io.debezium.connector.postgresql",`) {
		t.Errorf("PUT capture logger: %s", changed)
	}
	if strings.Contains(p.output(), "snapshot range read") {
		t.Fatal("a debug line before the level was raised")
	}

	a.want("PUT", "/connectors/tracked/resume", "", 202)
	a.waitState("tracked", "RUNNING", "RUNNING")
	if out := a.want("GET", "/connectors/tracked/tasks", "", 200); !strings.Contains(out, `"task":0`) {
		t.Errorf("tasks after resume: %s", out)
	}
	consume(t, broker, "trk.public.t1", 2, 60*time.Second)
	consume(t, broker, "trk.public.t2", 1, 60*time.Second)
	a.waitTopics("tracked", "trk.public.t1", "trk.public.t2")
	pgtest.WaitFor(t, 10*time.Second, func() (bool, error) { return strings.Contains(p.output(), "snapshot range read"), nil })

	// Connect's key and value in the status topic.
	val, found := latest(t, broker, "connect-status", "status-topic-trk.public.t1:connector-tracked")
	var ts struct {
		Topic struct {
			Name              string `json:"name"`
			Connector         string `json:"connector"`
			Task              *int   `json:"task"`
			DiscoverTimestamp int64  `json:"discoverTimestamp"`
		} `json:"topic"`
	}
	if !found || json.Unmarshal([]byte(val), &ts) != nil || ts.Topic.Name != "trk.public.t1" || ts.Topic.Connector != "tracked" ||
		ts.Topic.Task == nil || *ts.Topic.Task != 0 || time.Since(time.UnixMilli(ts.Topic.DiscoverTimestamp)) > 5*time.Minute {
		t.Errorf("status record of trk.public.t1: found %v, %s", found, val)
	}

	// The REST access log is org.apache.kafka.connect.runtime.rest's,
	// at DEBUG; the worker scope changes this worker at once.
	a.want("GET", "/connectors", "", 200)
	if strings.Contains(p.output(), `msg=request`) {
		t.Fatal("REST access log written at INFO")
	}
	a.want("PUT", "/admin/loggers/org.apache.kafka.connect.runtime.rest?scope=worker", `{"level":"DEBUG"}`, 200)
	a.want("GET", "/connectors?probe=1", "", 200)
	accessLine := regexp.MustCompile(`level=DEBUG msg=request .*method=GET path=/connectors status=200`)
	pgtest.WaitFor(t, 10*time.Second, func() (bool, error) { return accessLine.MatchString(p.output()), nil })
	a.want("PUT", "/admin/loggers/org.apache.kafka.connect", `{"level":"INFO"}`, 200)
	before := strings.Count(p.output(), "msg=request")
	a.want("GET", "/connectors", "", 200)
	if after := strings.Count(p.output(), "msg=request"); after != before {
		t.Errorf("REST access log still written after the level went back to INFO")
	}

	// Cluster scope: 204, written to the config topic, applied by the
	// worker that reads it back.
	a.want("PUT", "/admin/loggers/kafka?scope=cluster", `{"level":"ERROR"}`, 204)
	if out := a.want("GET", "/admin/loggers/kafka", "", 200); !strings.HasPrefix(out, `{"level":"ERROR","last_modified":`) || strings.Contains(out, "null") {
		t.Errorf("kafka logger after the cluster-wide set: %s", out)
	}
	if val, found := latest(t, broker, "connect-configs", "logger-cluster-kafka"); !found || val != `{"level":"ERROR"}` {
		t.Errorf("config record of the cluster-wide level: found %v, %s", found, val)
	}
	a.want("PUT", "/admin/loggers/kafka", `{}`, 400)
	a.want("PUT", "/admin/loggers/kafka", `{"level":"LOUD"}`, 404)
	a.want("GET", "/admin/loggers/org.apache.rostropovich", "", 404)

	// Reset needs the connector stopped.
	a.want("PUT", "/connectors/tracked/topics/reset", "", 400)
	a.want("PUT", "/connectors/tracked/stop", "", 204)
	a.waitState("tracked", "STOPPED", "")
	if got := a.activeTopics("tracked"); len(got) != 2 {
		t.Errorf("stopping forgot the active topics: %q", got)
	}
	a.want("PUT", "/connectors/tracked/topics/reset", "", 202)
	a.waitTopics("tracked")
	if val, found := latest(t, broker, "connect-status", "status-topic-trk.public.t1:connector-tracked"); !found || val != "" {
		t.Errorf("reset did not write a tombstone: found %v, %q", found, val)
	}

	// Streaming again records only the topic written to.
	a.want("PUT", "/connectors/tracked/resume", "", 202)
	a.waitState("tracked", "RUNNING", "RUNNING")
	pgtest.Exec(t, dsn, `INSERT INTO t1 VALUES (3, 'after reset')`)
	consume(t, broker, "trk.public.t1", 3, 60*time.Second)
	a.waitTopics("tracked", "trk.public.t1")

	// A restarted worker reads the topics back; levels set through the
	// API, for the worker or the cluster, do not outlive it, as in Connect.
	p.stop(t)
	_, a2 := restWorker(t, broker, dataDir)
	a2.waitState("tracked", "RUNNING", "RUNNING")
	if got := a2.activeTopics("tracked"); fmt.Sprint(got) != "[trk.public.t1]" {
		t.Errorf("active topics after a restart: %q", got)
	}
	for _, name := range []string{"kafka", "io.debezium.connector.postgresql"} {
		if out := a2.want("GET", "/admin/loggers/"+name, "", 200); out != `{"level":"INFO","last_modified":null}` {
			t.Errorf("%s after a restart: %s", name, out)
		}
	}

	// Deleting the connector resets its topics.
	a2.want("DELETE", "/connectors/tracked", "", 204)
	a2.waitTopics("tracked")
}
