package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// sample is one series of a /metrics page.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// parseMetrics reads the Prometheus text format.
func parseMetrics(t *testing.T, body string) []sample {
	t.Helper()
	var out []sample
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unreadable /metrics line %q", line)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		s := sample{name: m[1], labels: map[string]string{}, value: v}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	return out
}

// metric returns the value of the series name whose labels include want
// ("k=v" pairs), and whether there is one.
func metric(samples []sample, name string, want ...string) (float64, bool) {
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			if s.labels[k] != v {
				continue next
			}
		}
		return s.value, true
	}
	return 0, false
}

// needPromtool returns promtool's path; without it the test is skipped,
// or fails under CI=true (.ci/run installs Debian's prometheus package).
func needPromtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		pgtest.Unavailable(t, "promtool is not installed: apt-get install prometheus")
	}
	return path
}

// streaming is the Debezium streaming MBean's labels for topic.prefix mt.
var streaming = []string{"context=streaming", "name=mt", "plugin=postgres"}

// TestE2EMetricsStreaming streams a known set of changes and reads them
// back from GET /metrics (issue 15, Done-when 1, 3 and 4): the Debezium
// streaming counters equal what was done, the snapshot estimate of a
// never-analysed 10-row table is 10, the slot, latency, Kafka Connect and
// Kafka client metrics are served, promtool finds nothing wrong with the
// page, and the health endpoints report the connector.
func TestE2EMetricsStreaming(t *testing.T) {
	promtool := needPromtool(t)
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE items (id int PRIMARY KEY, name text)`,
		`INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, 10) g`,
		`CREATE TABLE ignored (id int PRIMARY KEY)`)
	broker := startBroker(t)
	file := connectorFile(t, dsn, "metrics-test", map[string]string{
		"topic.prefix": "mt", "slot.name": "mt_slot", "table.include.list": "public.items",
	})
	worker, a := restWorker(t, broker, t.TempDir(), file)
	a.waitState("metrics-test", "RUNNING", "RUNNING")
	consume(t, broker, "mt.public.items", 10, 60*time.Second) // the snapshot

	// 7 creates, 4 updates and 2 deletes in 6 transactions, and one
	// change of a table that is not captured.
	pgtest.Exec(t, dsn,
		`INSERT INTO items VALUES (11, 'a')`,
		`INSERT INTO items VALUES (12, 'b'), (13, 'c'), (14, 'd')`,
		`UPDATE items SET name = 'x' WHERE id IN (1, 2, 3)`,
		`INSERT INTO ignored VALUES (1)`,
		`BEGIN; INSERT INTO items VALUES (15, 'e'), (16, 'f'), (17, 'g'); UPDATE items SET name = 'y' WHERE id = 4; DELETE FROM items WHERE id = 5; COMMIT`,
		`DELETE FROM items WHERE id = 6`)
	const n = 13
	consume(t, broker, "mt.public.items", 10+n+2, 60*time.Second) // deletes have tombstones

	var samples []sample
	var body string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		body = a.want("GET", "/metrics", "", 200)
		samples = parseMetrics(t, body)
		_, slot := metric(samples, "pgmotion_slot_lag_bytes", "connector=metrics-test", "slot=mt_slot")
		seen, _ := metric(samples, "debezium_metrics_TotalNumberOfEventsSeen", streaming...)
		count, _ := metric(samples, "pgmotion_commit_to_ack_seconds_count", "connector=metrics-test")
		if slot && seen == n && count >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s: slot metrics served: %v, TotalNumberOfEventsSeen %v (want %d), commit-to-ack count %v (want 5 or more); /metrics:\n%s", slot, seen, n, count, body)
		}
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"debezium_metrics_TotalNumberOfEventsSeen", streaming, n},
		{"debezium_metrics_TotalNumberOfCreateEventsSeen", streaming, 7},
		{"debezium_metrics_TotalNumberOfUpdateEventsSeen", streaming, 4},
		{"debezium_metrics_TotalNumberOfDeleteEventsSeen", streaming, 2},
		{"debezium_metrics_NumberOfEventsFiltered", streaming, 1},
		{"debezium_metrics_NumberOfErroneousEvents", streaming, 0},
		{"debezium_metrics_Connected", streaming, 1},
		{"debezium_metrics_QueueTotalCapacity", streaming, 8192},
		{"debezium_metrics_MaxQueueSizeInBytes", streaming, 0},
		{"debezium_metrics_CapturedTables", append([]string{"table=public.items"}, streaming...), 1},
		{"pgmotion_snapshot_rows_estimated", []string{"context=snapshot", "name=mt", "table=public.items"}, 10},
		{"kafka_connect_connector_status", []string{"connector=metrics-test", "status=running"}, 1},
		{"kafka_connect_connector_task_status", []string{"connector=metrics-test", "task=0", "status=running"}, 1},
		{"kafka_connect_worker_connectors", nil, 1},
		{"kafka_connect_worker_tasks", nil, 1},
		{"kafka_connect_worker_connector_total_tasks", []string{"connector=metrics-test"}, 1},
		{"kafka_connect_worker_connector_running_tasks", []string{"connector=metrics-test"}, 1},
		{"kafka_connect_worker_connector_failed_tasks", []string{"connector=metrics-test"}, 0},
		{"kafka_connect_task_error_retries_total", []string{"connector=metrics-test", "task=0"}, 0},
		// The snapshot's metrics stay served beside the streaming ones,
		// under the names they share (one HELP text each).
		{"debezium_metrics_TotalNumberOfEventsSeen", []string{"context=snapshot", "name=mt", "plugin=postgres"}, 10},
		{"debezium_metrics_SnapshotCompleted", []string{"context=snapshot", "name=mt", "plugin=postgres"}, 1},
		{"debezium_metrics_CapturedTables", []string{"context=snapshot", "name=mt", "table=public.items"}, 1},
		{"debezium_metrics_RowsScanned", []string{"context=snapshot", "name=mt", "table=public.items"}, 10},
		{"pgmotion_slot_active", []string{"connector=metrics-test", "slot=mt_slot"}, 1},
		{"pgmotion_slot_wal_status", []string{"connector=metrics-test", "slot=mt_slot", "status=reserved"}, 1},
	} {
		got, ok := metric(samples, c.name, c.labels...)
		if !ok || got != c.want {
			t.Errorf("%s{%s} = %v (present: %v), want %v", c.name, strings.Join(c.labels, ","), got, ok, c.want)
		}
	}
	// Each transaction commits once; heartbeats and idle positions do not.
	if got, _ := metric(samples, "debezium_metrics_NumberOfCommittedTransactions", streaming...); got < 5 {
		t.Errorf("NumberOfCommittedTransactions = %v, want at least the 5 captured transactions", got)
	}
	for _, name := range []string{"debezium_metrics_MilliSecondsBehindSource", "debezium_metrics_MilliSecondsSinceLastEvent"} {
		if got, ok := metric(samples, name, streaming...); !ok || got < 0 || got > 120_000 {
			t.Errorf("%s = %v (present: %v), want 0 to 120000 ms after a streamed change", name, got, ok)
		}
	}
	if got, _ := metric(samples, "kafka_connect_source_task_source_record_write_total", "connector=metrics-test", "task=0"); got < n {
		t.Errorf("source-record-write-total = %v, want at least %d", got, n)
	}
	if got, ok := metric(samples, "pgmotion_slot_lag_bytes", "connector=metrics-test"); !ok || got < 0 {
		t.Errorf("pgmotion_slot_lag_bytes = %v (present: %v)", got, ok)
	}
	for _, name := range []string{"pgmotion_slot_wal_retained_bytes", "pgmotion_slot_confirmed_age_seconds", "pgmotion_streaming_source_lsn",
		"kafka_connect_connector_task_offset_commit_avg_time_seconds", "kafka_connect_connector_task_offset_commit_max_time_seconds",
		"pgmotion_kafka_client_produce_records_total", "pgmotion_kafka_client_buffered_produce_records", "go_goroutines"} {
		if _, ok := metric(samples, name); !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if got, _ := metric(samples, "pgmotion_streaming_source_lsn"); got <= 0 {
		t.Errorf("pgmotion_streaming_source_lsn = %v, want the LSN of the last change", got)
	}

	for _, warn := range []string{"metrics are not served", "metrics are not exported"} {
		if strings.Contains(worker.output(), warn) {
			t.Errorf("the worker logged that some metrics are not registered:\n%s", worker.output())
		}
	}

	// promtool finds nothing but the CamelCase of the names Debezium's
	// own exporter rules give, and every metric has HELP text.
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	var camel bool
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "debezium_metrics_") && strings.HasSuffix(line, "metric names should be written in 'snake_case' not 'camelCase'"):
			camel = true
		default:
			t.Errorf("promtool check metrics: %s", line)
		}
	}
	if err != nil && !camel {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	help := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Fields(line); len(f) >= 4 && f[0] == "#" && f[1] == "HELP" {
			help[f[2]] = true
		}
	}
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" && !help[f[2]] {
			t.Errorf("metric %s has no HELP text", f[2])
		}
	}

	// Every metric that examples/monitoring queries is served, but for
	// those served only in some setups.
	names, err := exampleMetricNames()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, s := range samples {
		served[s.name] = true
	}
	for _, name := range names {
		switch name {
		case "pgmotion_slot_safe_wal_size_bytes": // only with max_slot_wal_keep_size
		case "pgmotion_broker_topic_bytes": // only with --embedded-broker
		default:
			if !served[name] {
				t.Errorf("examples/monitoring queries %s, which /metrics does not serve", name)
			}
		}
	}

	// Health: ready, the connector healthy, an unknown one 404.
	if got := a.want("GET", "/health/ready", "", 200); !strings.Contains(got, `"status":"ready"`) || !strings.Contains(got, `"name":"metrics-test"`) {
		t.Errorf("GET /health/ready: %s", got)
	}
	if got := a.want("GET", "/health/connectors/metrics-test", "", 200); got != `{"name":"metrics-test","healthy":true,"state":"RUNNING","tasks":[{"id":0,"state":"RUNNING"}]}` {
		t.Errorf("GET /health/connectors/metrics-test: %s", got)
	}
	a.want("GET", "/health/connectors/nope", "", 404)
	a.want("PUT", "/connectors/metrics-test/pause", "", 202)
	a.waitState("metrics-test", "PAUSED", "PAUSED")
	if got := a.want("GET", "/health/connectors/metrics-test", "", 503); !strings.Contains(got, `"healthy":false,"state":"PAUSED"`) {
		t.Errorf("GET /health/connectors/metrics-test of a paused connector: %s", got)
	}
	a.want("GET", "/health/ready", "", 200) // paused on purpose
}

// TestE2EMetricsBrokerDown stops the broker (SIGSTOP) while PostgreSQL
// keeps writing, then lets it go on (issue 15, Done-when 2): the slot
// lag, the WAL retained and MilliSecondsBehindSource grow while the
// broker is stopped and fall back near zero once it is back. The values
// it logs are what examples/monitoring/alerts_test.yml's series imitate.
func TestE2EMetricsBrokerDown(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a minute")
	}
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE load (id bigserial PRIMARY KEY, body text)`)
	brokerAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	bp := startPgmotion(t, "broker", "--listen", brokerAddr, "--data-dir", t.TempDir())
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return strings.Contains(bp.output(), "broker listening"), nil })
	file := connectorFile(t, dsn, "down", map[string]string{"topic.prefix": "dn", "slot.name": "dn_slot", "snapshot.mode": "no_data"})
	_, a := restWorker(t, brokerAddr, t.TempDir(), file)
	a.waitState("down", "RUNNING", "RUNNING")

	// A steady writer: 20 rows of 16 kB every 100 ms (3.2 MB/s of
	// events), which fills the producer's 32 MB buffer about 10 s after
	// the stop.
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := conn.Exec(context.Background(), `INSERT INTO load (body) SELECT repeat(md5(random()::text), 512) FROM generate_series(1, 20)`); err != nil {
				t.Errorf("writer: %v", err)
				return
			}
		}
	}()
	defer func() {
		close(stop)
		<-writerDone
	}()

	read := func() (lag, retained, behind float64) {
		s := parseMetrics(t, a.want("GET", "/metrics", "", 200))
		lag, _ = metric(s, "pgmotion_slot_lag_bytes", "connector=down")
		retained, _ = metric(s, "pgmotion_slot_wal_retained_bytes", "connector=down")
		behind, _ = metric(s, "debezium_metrics_MilliSecondsBehindSource", "name=dn", "context=streaming")
		return
	}
	// Wait for the first slot reading while streaming normally.
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		s := parseMetrics(t, a.want("GET", "/metrics", "", 200))
		_, ok := metric(s, "pgmotion_slot_lag_bytes", "connector=down")
		return ok, nil
	})
	time.Sleep(6 * time.Second)
	lag0, ret0, beh0 := read()
	t.Logf("streaming: lag %.0f B, retained %.0f B, behind %.0f ms", lag0, ret0, beh0)

	if err := bp.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var lag, ret, beh float64
	for i := 1; i <= 6; i++ {
		time.Sleep(5 * time.Second)
		lag, ret, beh = read()
		t.Logf("broker stopped %2ds: lag %.0f B, retained %.0f B, behind %.0f ms", 5*i, lag, ret, beh)
	}
	if err := bp.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// The rows compress well in the WAL (TOAST): about 64 kB/s of WAL.
	if lag < lag0+1<<20 || ret < ret0+1<<20 {
		t.Errorf("with the broker stopped for 30 s the slot lag went from %.0f to %.0f B and the WAL retained from %.0f to %.0f B; want both to grow by 1 MB or more", lag0, lag, ret0, ret)
	}
	if beh < 10_000 {
		t.Errorf("with the broker stopped for 30 s MilliSecondsBehindSource is %.0f, want 10000 or more", beh)
	}
	start := time.Now()
	pgtest.WaitFor(t, 120*time.Second, func() (bool, error) {
		lag, ret, beh = read()
		return lag < 512<<10 && beh < 5_000, nil
	})
	t.Logf("broker back after %s: lag %.0f B, retained %.0f B, behind %.0f ms", time.Since(start).Round(time.Second), lag, ret, beh)
	if os.Getenv("PGMOTION_TEST_VERBOSE") != "" {
		t.Log(a.want("GET", "/metrics", "", 200))
	}
}
