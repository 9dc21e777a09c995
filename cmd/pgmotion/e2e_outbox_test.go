package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// outboxIDs are the event ids of TestE2EOutbox's rows.
var outboxIDs = []string{
	"0195c4a5-0001-7000-8000-000000000001",
	"0195c4a5-0001-7000-8000-000000000002",
	"0195c4a5-0001-7000-8000-000000000003",
}

// TestE2EOutbox runs Debezium's documented outbox configuration
// (transforms=outbox, EventRouter with its defaults) against a real outbox
// table: every inserted row becomes one record on outbox.event.<aggregatetype>
// with the aggregateid as key, the payload as value and an id header;
// updates and deletes of the outbox table are dropped. A second outbox
// connector sets schemas.enable=false, table.expand.json.payload and a
// header placement, and a third connector chains ExtractNewRecordState with
// a RegexRouter applied only when a TopicNameMatches predicate holds.
func TestE2EOutbox(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype varchar NOT NULL, aggregateid varchar NOT NULL, type varchar NOT NULL, payload jsonb)`,
		`CREATE TABLE customers (id int PRIMARY KEY, name varchar NULL)`)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	outbox := connectorFile(t, dsn, "outbox-connector", map[string]string{
		"topic.prefix": "ob", "slot.name": "ob_slot", "table.include.list": "public.outbox",
		"transforms": "outbox", "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
	})
	plain := connectorFile(t, dsn, "outbox-plain-connector", map[string]string{
		"topic.prefix": "obp", "slot.name": "obp_slot", "table.include.list": "public.outbox",
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		"transforms": "outbox", "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
		"transforms.outbox.route.topic.replacement":           "plain.${routedByValue}",
		"transforms.outbox.table.expand.json.payload":         "true",
		"transforms.outbox.table.fields.additional.placement": "type:header:eventType",
	})
	chain := connectorFile(t, dsn, "cdc-connector", map[string]string{
		"topic.prefix": "cdc", "slot.name": "cdc_slot", "table.include.list": "public.customers",
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		"transforms":             "unwrap,route",
		"transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
		"transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
		"transforms.unwrap.add.fields":                     "op",
		"transforms.route.type":                            "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex":                           `cdc\.public\.(.*)`,
		"transforms.route.replacement":                     "flat.$1",
		"transforms.route.predicate":                       "isCustomers",
		"predicates":                                       "isCustomers",
		"predicates.isCustomers.type":                      "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"predicates.isCustomers.pattern":                   `cdc\.public\.customers`,
	})
	port := freePort(t)
	p := startPgmotion(t, "connect", "--rest", fmt.Sprintf("127.0.0.1:%d", port), "--embedded-broker", broker, "--data-dir", t.TempDir(), outbox, plain, chain)
	for _, slot := range []string{"ob_slot", "obp_slot", "cdc_slot"} {
		waitSlot(t, dsn, slot)
	}
	pgtest.Exec(t, dsn,
		fmt.Sprintf(`INSERT INTO outbox VALUES ('%s', 'order', '1', 'OrderCreated', '{"id": 1, "lines": [{"sku": "a", "qty": 2}]}')`, outboxIDs[0]),
		fmt.Sprintf(`INSERT INTO outbox VALUES ('%s', 'customer', 'c7', 'CustomerCreated', '{"name": "Ann"}')`, outboxIDs[1]),
		// Updates and deletes of the outbox table are dropped.
		fmt.Sprintf(`UPDATE outbox SET type = 'Changed' WHERE id = '%s'`, outboxIDs[0]),
		fmt.Sprintf(`DELETE FROM outbox WHERE id = '%s'`, outboxIDs[1]),
		fmt.Sprintf(`INSERT INTO outbox VALUES ('%s', 'order', '2', 'OrderCanceled', NULL)`, outboxIDs[2]),
		`INSERT INTO customers VALUES (1, 'a')`,
		`UPDATE customers SET name = 'b' WHERE id = 1`,
		`DELETE FROM customers WHERE id = 1`,
	)

	var b strings.Builder
	for _, topic := range []string{"outbox.event.order", "outbox.event.customer", "plain.order", "plain.customer"} {
		want := 2
		if strings.HasSuffix(topic, "customer") {
			want = 1
		}
		consume(t, broker, topic, want, 60*time.Second)
		// Every event of the topic is in by now (the update and the delete
		// came before the last insert): read it to its end.
		msgs := consume(t, broker, topic, 0, 30*time.Second)
		if len(msgs) != want {
			t.Errorf("%s: %d records, want %d", topic, len(msgs), want)
		}
		sort.Slice(msgs, func(i, j int) bool { return str(msgs[i].Key) < str(msgs[j].Key) })
		fmt.Fprintf(&b, "# %s\n", topic)
		for _, m := range msgs {
			checkIDHeader(t, topic, m)
			b.WriteString(describe(m))
		}
	}
	// The chain: unwrapped rows, renamed topic, __deleted and __op added;
	// the delete's tombstone is dropped (rewrite).
	msgs := consume(t, broker, "flat.customers", 3, 60*time.Second)
	b.WriteString("# flat.customers\n")
	for _, m := range msgs {
		b.WriteString(describe(m))
	}
	golden(t, "outbox.golden", b.String())

	// The plugins are listed, and bad options are reported per field.
	a := api{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	if out := a.want("GET", "/connector-plugins?connectorsOnly=false", "", 200); !strings.Contains(out, `{"class":"io.debezium.transforms.outbox.EventRouter","type":"transformation","version":`) ||
		!strings.Contains(out, `{"class":"org.apache.kafka.connect.transforms.predicates.TopicNameMatches","type":"predicate","version":"4.0.0"}`) {
		t.Errorf("connector-plugins: %s", out)
	}
	u := parseDSN(t, dsn)
	bad := fmt.Sprintf(`{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","name":"bad","topic.prefix":"bad","plugin.name":"pgoutput",`+
		`"database.hostname":%q,"database.port":%q,"database.user":%q,"database.dbname":%q,`+
		`"transforms":"outbox","transforms.outbox.type":"io.debezium.transforms.outbox.EventRouter","transforms.outbox.route.topic.replacement":"outbox.${aggregate}"}`,
		u.host, u.port, u.user, u.db)
	var ci struct {
		ErrorCount int `json:"error_count"`
		Configs    []struct {
			Value struct {
				Name   string   `json:"name"`
				Errors []string `json:"errors"`
			} `json:"value"`
		} `json:"configs"`
	}
	json.Unmarshal([]byte(a.want("PUT", "/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config/validate", bad, 200)), &ci)
	found := false
	for _, c := range ci.Configs {
		if c.Value.Name == "transforms.outbox.route.topic.replacement" {
			found = len(c.Value.Errors) == 1 && c.Value.Errors[0] == "The 'route.topic.replacement' value is invalid: No group with name {aggregate}"
		}
	}
	if ci.ErrorCount != 1 || !found {
		t.Errorf("validate: %+v", ci)
	}
	p.stop(t)
}

// checkIDHeader checks the id header EventRouter adds: the event id, as
// text (SimpleHeaderConverter writes a uuid column's string as it is).
func checkIDHeader(t *testing.T, topic string, m kcatMsg) {
	t.Helper()
	var id string
	for i := 0; i+1 < len(m.Headers); i += 2 {
		if m.Headers[i] == "id" {
			id = m.Headers[i+1]
		}
	}
	for _, want := range outboxIDs {
		if id == want {
			return
		}
	}
	t.Errorf("%s: record %s has id header %q, want one of the inserted ids", topic, str(m.Key), id)
}
