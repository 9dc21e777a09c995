package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/broker"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/pgsource"
	"github.com/pgmotion/pgmotion/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// startBroker runs an in-memory embedded broker until the test ends.
func startBroker(t *testing.T, users []broker.SASLUser) *broker.Broker {
	t.Helper()
	b, err := broker.New(broker.Options{Listen: "127.0.0.1:0", SASLUsers: users})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("broker: %v", err)
		}
	})
	select {
	case <-b.Ready():
	case err := <-errc:
		t.Fatal(err)
	}
	return b
}

// connectorConfig is a connector config for the database of dsn.
func connectorConfig(t *testing.T, dsn string, extra map[string]string) map[string]string {
	t.Helper()
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]string{
		"connector.class":                   "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname":                 pc.Host,
		"database.port":                     strconv.Itoa(int(pc.Port)),
		"database.user":                     pc.User,
		"database.password":                 pc.Password,
		"database.dbname":                   pc.Database,
		"plugin.name":                       "pgoutput",
		"topic.prefix":                      "shop",
		"slot.name":                         "doctor_slot",
		"publication.name":                  "doctor_pub",
		"publication.autocreate.mode":       "filtered",
		"pgmotion.toast.fill":               "none",
		"topic.creation.default.partitions": "1", options.PropTopicReplication: "-1",
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

func doctorOptions(cfg map[string]string, b *broker.Broker) Options {
	o := Options{Name: "shop", Config: cfg, ConfigTopic: "connect-configs", OffsetTopic: "connect-offsets", StatusTopic: "connect-status",
		OffsetPartitions: 25, StatusPartitions: 5, ConfigReplication: -1, OffsetReplication: -1, StatusReplication: -1, Timeout: 20 * time.Second}
	if b != nil {
		o.Brokers, o.KafkaOpts = []string{b.Addr()}, b.ClientOpts()
	}
	return o
}

func run(t *testing.T, o Options) *Report {
	t.Helper()
	r, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var b strings.Builder
	if err := r.WriteText(&b, true); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", b.String())
	return r
}

func want(t *testing.T, r *Report, check string, sev pgsource.Severity, what, fix string) {
	t.Helper()
	for _, f := range r.Findings {
		if f.Check == check && f.Severity == sev && regexp.MustCompile(what).MatchString(f.What) && regexp.MustCompile(fix).MatchString(f.Fix) {
			return
		}
	}
	t.Errorf("no %s %s finding matching %q with fix %q", sev, check, what, fix)
}

// boundSlotWAL gives the throwaway server a max_slot_wal_keep_size until
// the test ends, so that a healthy setup warns of nothing; on a server of
// PGMOTION_TEST_PG it returns the checks that may still warn.
func boundSlotWAL(t *testing.T) []string {
	t.Helper()
	if !pgtest.BoundSlotWAL(t) {
		return []string{"max_slot_wal_keep_size", "inactive_slot"}
	}
	return nil
}

// TestIntegrationDoctorHealthy: nothing to report on a setup the
// connector runs on, in text and in JSON; then a storage topic that is not
// compacted, and data topics the cluster will not create, are reported
// with their fixes.
func TestIntegrationDoctorHealthy(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	allowed := boundSlotWAL(t)
	pgtest.Exec(t, dsn, `CREATE TABLE orders (id int PRIMARY KEY, qty int)`, `CREATE TABLE customers (id int PRIMARY KEY, name text)`,
		`ALTER TABLE customers REPLICA IDENTITY FULL`)
	b := startBroker(t, nil)
	r := run(t, doctorOptions(connectorConfig(t, dsn, nil), b))
	for _, f := range r.Findings {
		if f.Severity != OK && !contains(allowed, f.Check) {
			t.Errorf("healthy setup, but %s", Line(f))
		}
	}
	want(t, r, "kafka_connection", OK, "connected to Kafka at "+regexp.QuoteMeta(b.Addr()), "")
	want(t, r, "storage_topics", OK, "topic connect-offsets does not exist yet; the worker creates it", "")
	want(t, r, "data_topics", OK, "^2 data topics exist or can be created", "")
	if allowed == nil {
		var text bytes.Buffer
		if err := r.WriteText(&text, false); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^connector shop: 0 problems, 0 warnings, \d+ checks passed\n$`).MatchString(text.String()) {
			t.Errorf("quiet text report of a healthy setup:\n%s", text.String())
		}
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Connector string `json:"connector"`
		Problems  int    `json:"problems"`
		Findings  []struct {
			Check, Severity, What string
		} `json:"findings"`
	}
	if err := json.Unmarshal(js.Bytes(), &parsed); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, js.String())
	}
	if parsed.Connector != "shop" || parsed.Problems != 0 || len(parsed.Findings) != len(r.Findings) || parsed.Findings[0].Severity != "OK" {
		t.Errorf("JSON report: %s", js.String())
	}

	// A storage topic someone created with the default cleanup.policy,
	// and a data topic that exists.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, topic := range []string{"connect-offsets", "shop.public.orders"} {
		if _, err := adm.CreateTopic(ctx, 1, -1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	r = run(t, doctorOptions(connectorConfig(t, dsn, nil), b))
	want(t, r, "storage_topics", Problem, "topic connect-offsets has cleanup.policy=delete", "kafka-configs.sh --alter --entity-type topics --entity-name connect-offsets --add-config cleanup.policy=compact")
	want(t, r, "storage_topics", OK, "topic connect-configs does not exist yet", "")
	want(t, r, "data_topics", OK, "^2 data topics exist or can be created", "")

	// Data topics the one-broker cluster cannot create.
	r = run(t, doctorOptions(connectorConfig(t, dsn, map[string]string{options.PropTopicReplication: "3"}), b))
	want(t, r, "data_topics", Problem, `^1 data topic does not exist, and the worker may not create it \(.*\): shop.public.customers$`, "create it, or allow the worker's Kafka user to CREATE topics prefixed shop")
}

// TestIntegrationDoctorUnreachable: a server and a broker that cannot be
// reached, and a broker that requires credentials the worker lacks, are
// each one problem with the fix.
func TestIntegrationDoctorUnreachable(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE orders (id int PRIMARY KEY)`)
	b := startBroker(t, []broker.SASLUser{{Mechanism: broker.MechanismScramSHA256, User: "worker", Password: "worker-secret"}})

	cfg := connectorConfig(t, dsn, map[string]string{"database.port": strconv.Itoa(freePort(t))})
	o := doctorOptions(cfg, nil)
	o.Brokers = []string{fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	o.Timeout = 3 * time.Second
	r := run(t, o)
	want(t, r, "postgres_connection", Problem, "cannot check PostgreSQL", "check database.hostname and database.port")
	want(t, r, "kafka_connection", Problem, "cannot reach Kafka at "+regexp.QuoteMeta(o.Brokers[0]), "check bootstrap.servers")

	// The broker requires SASL and the worker has no credentials.
	o = doctorOptions(connectorConfig(t, dsn, nil), nil)
	o.Brokers, o.SkipKafka, o.Timeout = []string{b.Addr()}, false, 3*time.Second
	r = run(t, o)
	want(t, r, "kafka_connection", Problem, "cannot reach Kafka", "security.protocol, sasl")
	// With the worker's credentials it connects.
	o.KafkaOpts = b.ClientOpts()
	o.Timeout = 20 * time.Second
	r = run(t, o)
	want(t, r, "kafka_connection", OK, "connected to Kafka", "")
	for _, f := range r.Findings {
		if strings.Contains(f.What+f.Fix, "worker-secret") {
			t.Errorf("the SASL password appears in %s", Line(f))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// freePort returns a port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
