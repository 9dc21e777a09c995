package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// waitSlot waits until the named slot exists and is active.
func waitSlot(t *testing.T, dsn, slot string) {
	t.Helper()
	pgtest.WaitFor(t, 60*time.Second, func() (bool, error) {
		n := pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active`, slot)
		return n == 1, nil
	})
}

// TestE2EEvents checks insert, update, delete and primary-key-change
// events byte for byte, with schemas enabled and disabled, as kcat reads
// them (reference §1).
func TestE2EEvents(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE customers (id int PRIMARY KEY, name varchar NULL)`)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	withSchemas := connectorFile(t, dsn, "srv-connector", map[string]string{"topic.prefix": "srv", "slot.name": "srv_slot"})
	plain := connectorFile(t, dsn, "plain-connector", map[string]string{
		"topic.prefix": "plain", "slot.name": "plain_slot",
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
	})
	p := startPgmotion(t, "connect", "--rest", "127.0.0.1:0", "--embedded-broker", broker, "--data-dir", t.TempDir(), withSchemas, plain)
	waitSlot(t, dsn, "srv_slot")
	waitSlot(t, dsn, "plain_slot")
	pgtest.Exec(t, dsn,
		`INSERT INTO customers VALUES (1, 'a')`,
		`UPDATE customers SET name = 'b' WHERE id = 1`,
		`DELETE FROM customers WHERE id = 1`,
		`INSERT INTO customers VALUES (2, NULL)`,
		`UPDATE customers SET id = 3 WHERE id = 2`,
	)
	for _, prefix := range []string{"srv", "plain"} {
		// c, u, d + tombstone, c, then d + tombstone + c for the key change.
		msgs := consume(t, broker, prefix+".public.customers", 8, 60*time.Second)
		var b strings.Builder
		for _, m := range msgs {
			b.WriteString(describe(m))
		}
		golden(t, "events-"+prefix+".golden", b.String())
	}
	p.stop(t)
}

// TestE2ESakilaDemoConnector runs the original Compose demo's connector
// file unchanged but for host, port and database.
func TestE2ESakilaDemoConnector(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.LoadSakila(t, dsn)
	u := parseDSN(t, dsn)
	body := fmt.Sprintf(`{"name":"sakila-connector","config":{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":%q,"database.port":%q,"database.user":"postgres","database.password":"postgres","database.dbname":%q,"plugin.name":"pgoutput","topic.prefix":"sakila-","schema.include.list":"public","table.include.list":"public.actor"}}`, u.host, u.port, u.db)
	path := t.TempDir() + "/connect-postgres-sakila-source.json"
	writeFile(t, path, body)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startPgmotion(t, "connect", "--rest", "127.0.0.1:0", "--embedded-broker", broker, "--data-dir", t.TempDir(), path)

	msgs := consume(t, broker, "sakila-.public.actor", 200, 90*time.Second)
	counts := map[string]int{}
	for _, m := range msgs {
		var ev struct {
			Payload struct {
				Op     string `json:"op"`
				Source struct {
					Snapshot string `json:"snapshot"`
				} `json:"source"`
			} `json:"payload"`
		}
		if err := json.Unmarshal([]byte(str(m.Payload)), &ev); err != nil {
			t.Fatalf("event is not JSON: %v", err)
		}
		counts[ev.Payload.Op+"/"+ev.Payload.Source.Snapshot]++
	}
	// actor is the only captured table, so it holds both the first and the last row.
	if counts["r/first"] != 1 || counts["r/last"] != 1 || counts["r/true"] != 198 {
		t.Errorf("snapshot events by op/marker: %v", counts)
	}
	waitSlot(t, dsn, "debezium")
	pgtest.Exec(t, dsn, `INSERT INTO actor (first_name, last_name) VALUES ('PGMOTION', 'TEST')`)
	msgs = consume(t, broker, "sakila-.public.actor", 201, 60*time.Second)
	if last := str(msgs[200].Payload); !strings.Contains(last, `"op":"c"`) || !strings.Contains(last, `"first_name":"PGMOTION"`) {
		t.Errorf("streamed insert: %s", last)
	}
	out, err := exec.Command(needKcat(t), "-b", broker, "-L").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `topic "sakila-.public.actor"`) {
		t.Errorf("kcat -L: %v\n%s", err, out)
	}
	p.stop(t)
}

// TestE2EKillDuringLoad kills the worker with SIGKILL in the middle of a
// 100,000-row load: the slot must never have been confirmed past an event
// Kafka did not hold, and after a restart every row has its event.
func TestE2EKillDuringLoad(t *testing.T) {
	const rows, perTxn = 100_000, 100
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE load (id int PRIMARY KEY, payload text NOT NULL)`,
		// A second slot records where each transaction commits.
		`SELECT pg_create_logical_replication_slot('audit', 'test_decoding')`)
	// The broker runs in a process of its own, so that it outlives the
	// worker we kill.
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	bp := startPgmotion(t, "broker", "--listen", broker, "--data-dir", t.TempDir())
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return strings.Contains(bp.output(), "broker listening"), nil })
	dataDir := t.TempDir()
	file := connectorFile(t, dsn, "load-connector", map[string]string{"topic.prefix": "kill", "slot.name": "kill_slot", "table.include.list": "public.load"})
	args := []string{"connect", "--rest", "127.0.0.1:0", "--bootstrap-servers", broker, "--data-dir", dataDir, "--offset-flush-interval", "100ms", file}
	p := startPgmotion(t, args...)
	waitSlot(t, dsn, "kill_slot")

	loadDone := make(chan error, 1)
	go func() {
		conn := pgtest.Connect(t, dsn)
		for i := 0; i < rows; i += perTxn {
			_, err := conn.Exec(context.Background(), `INSERT INTO load SELECT g, repeat('x', 100) || g FROM generate_series($1::int, $2::int) g`, i+1, i+perTxn)
			if err != nil {
				loadDone <- err
				return
			}
			// Spread the load over a few seconds, so that the kill lands
			// in its middle.
			time.Sleep(3 * time.Millisecond)
		}
		loadDone <- nil
	}()

	topic := "kill.public.load"
	// Short metadata ages: the topic appears only once the worker writes.
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.MetadataMinAge(50*time.Millisecond), kgo.MetadataMaxAge(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	pgtest.WaitFor(t, 60*time.Second, func() (bool, error) {
		ends, err := adm.ListEndOffsets(context.Background(), topic)
		if err != nil {
			return false, nil
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		return n >= rows/4, nil
	})
	p.kill()
	confirmed := pgtest.QueryValue[string](t, dsn, `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'kill_slot'`)
	c, err := change.ParseLSN(confirmed)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-loadDone; err != nil {
		t.Fatal(err)
	}

	// Every transaction that committed at or before the confirmed position
	// must be in Kafka: its rows are ids 1..k*perTxn for the first k commits.
	commits := pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM pg_logical_slot_peek_changes('audit', NULL, NULL, 'skip-empty-xacts', '1')
		WHERE data LIKE 'COMMIT%' AND lsn <= $1::pg_lsn`, confirmed)
	held := idsInKafka(t, broker, topic, 0)
	for id := 1; id <= int(commits)*perTxn; id++ {
		if !held[id] {
			t.Fatalf("slot confirmed %s (covering %d transactions) but row %d is not in Kafka", c, commits, id)
		}
	}
	t.Logf("killed with %d rows in Kafka; slot confirmed %s, covering %d rows", len(held), c, commits*perTxn)

	p2 := startPgmotion(t, args...)
	held = idsInKafka(t, broker, topic, rows)
	for id := 1; id <= rows; id++ {
		if !held[id] {
			t.Fatalf("after restart row %d has no event", id)
		}
	}
	p2.stop(t)
}

// idsInKafka reads the topic with kcat until it holds at least min
// distinct ids, and returns the ids of the create events.
func idsInKafka(t *testing.T, broker, topic string, min int) map[int]bool {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for {
		msgs := consume(t, broker, topic, 0, time.Minute)
		held := map[int]bool{}
		for _, m := range msgs {
			k := str(m.Key)
			i := strings.LastIndex(k, `"id":`)
			if i < 0 {
				t.Fatalf("key without id: %s", k)
			}
			id, err := strconv.Atoi(strings.TrimRight(k[i+5:], "}"))
			if err != nil {
				t.Fatalf("key %s: %v", k, err)
			}
			held[id] = true
		}
		if len(held) >= min || time.Now().After(deadline) {
			return held
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestE2EHeartbeats checks heartbeat.interval.ms and heartbeat.action.query
// on a quiet database: heartbeat records in Debezium's form on partition 0.
func TestE2EHeartbeats(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE beats (at timestamptz PRIMARY KEY DEFAULT clock_timestamp())`)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	file := connectorFile(t, dsn, "hb-connector", map[string]string{"topic.prefix": "hb", "slot.name": "hb_slot",
		"heartbeat.interval.ms": "200", "heartbeat.action.query": "INSERT INTO beats DEFAULT VALUES"})
	p := startPgmotion(t, "connect", "--rest", "127.0.0.1:0", "--embedded-broker", broker, "--data-dir", t.TempDir(), file)
	msgs := consume(t, broker, "__debezium-heartbeat.hb", 3, 60*time.Second)
	for _, m := range msgs[:3] {
		if m.Partition != 0 || str(m.Key) != `{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],"optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1},"payload":{"serverName":"hb"}}` ||
			!strings.HasPrefix(str(m.Payload), `{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.common.Heartbeat","version":1},"payload":{"ts_ms":`) {
			t.Fatalf("heartbeat record: partition %d key %s value %s", m.Partition, str(m.Key), str(m.Payload))
		}
	}
	if n := pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM beats`); n < 2 {
		t.Errorf("heartbeat.action.query ran %d times", n)
	}
	// The action query's own inserts are captured like any change.
	consume(t, broker, "hb.public.beats", 2, 60*time.Second)
	p.stop(t)
}
