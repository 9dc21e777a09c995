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

// outboxPayload has what jsonb normalizes: key order, spacing, duplicate
// keys, number forms and escapes. Table and message routes must agree on it.
const outboxPayload = `{"lines":[{"sku":"a","qty":2}],"id":1,"total":1.50e1,"note":"tab\t\"q\" é/","id":7,"neg":-0.0}`

// TestE2EOutboxMessage routes outbox events written with
// pg_logical_emit_message (pgmotion.outbox.source=message) through
// Debezium's documented EventRouter config, next to the same events
// inserted into an outbox table: both land on outbox.event.<aggregatetype>
// with the aggregateid as key, the payload as value and an id header, byte
// for byte alike. A second connector emits plain logical decoding
// messages (op "m") on <topic.prefix>.message, filtered by
// message.prefix.exclude.list.
func TestE2EOutboxMessage(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var version int
	if err := pgtest.Connect(t, dsn).QueryRow(t.Context(), `SELECT current_setting('server_version_num')::int`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 140000 {
		t.Skipf("PostgreSQL %d: pgoutput sends logical decoding messages from 14 on", version)
	}
	pgtest.Exec(t, dsn,
		`CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype varchar NOT NULL, aggregateid varchar NOT NULL, type varchar NOT NULL, payload jsonb)`,
		`CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2))`)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	outbox := connectorFile(t, dsn, "outbox-message-connector", map[string]string{
		"topic.prefix": "obm", "slot.name": "obm_slot", "table.include.list": "public.outbox",
		"transforms": "outbox", "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
		"pgmotion.outbox.source": "message", "pgmotion.outbox.message.prefix": "outbox",
		// Outbox messages are not subject to the prefix lists.
		"message.prefix.include.list": "nothing",
	})
	messages := connectorFile(t, dsn, "message-connector", map[string]string{
		"topic.prefix": "msg", "slot.name": "msg_slot", "table.include.list": "public.orders",
		"message.prefix.exclude.list":  "secret.*,outbox",
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
	})
	dataDir := t.TempDir()
	p := startPgmotion(t, "connect", "--rest", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--embedded-broker", broker, "--data-dir", dataDir, outbox, messages)
	for _, slot := range []string{"obm_slot", "msg_slot"} {
		waitSlot(t, dsn, slot)
	}
	event := func(id, aggType, aggID, typ, payload string) string {
		return fmt.Sprintf(`{"id":"%s","aggregatetype":"%s","aggregateid":"%s","type":"%s","payload":%s}`, id, aggType, aggID, typ, payload)
	}
	pgtest.Exec(t, dsn,
		// The same event through the table and through a message, each in
		// the transaction that writes the order.
		fmt.Sprintf(`BEGIN; INSERT INTO orders VALUES (1, 15); INSERT INTO outbox VALUES ('%s', 'order', '1', 'OrderCreated', '%s'); COMMIT`, outboxIDs[0], outboxPayload),
		fmt.Sprintf(`BEGIN; INSERT INTO orders VALUES (2, 15); SELECT pg_logical_emit_message(true, 'outbox', '%s'); COMMIT`, event(outboxIDs[1], "order", "1", "OrderCreated", outboxPayload)),
		// A rolled-back transaction's message is never sent.
		fmt.Sprintf(`BEGIN; SELECT pg_logical_emit_message(true, 'outbox', '%s'); ROLLBACK`, event(outboxIDs[2], "order", "9", "Lost", "{}")),
		// A non-transactional outbox message, with a null payload.
		fmt.Sprintf(`SELECT pg_logical_emit_message(false, 'outbox', '%s')`, event(outboxIDs[2], "customer", "c7", "CustomerDeleted", "null")),
		// Plain messages: one transactional, one not, one filtered out.
		`BEGIN; INSERT INTO orders VALUES (3, 1); SELECT pg_logical_emit_message(true, 'audit', '{"user":"ann"}'); COMMIT`,
		`SELECT pg_logical_emit_message(false, 'secret.keys', 'x')`,
		`SELECT pg_logical_emit_message(false, 'progress', '\x00ff'::bytea)`,
	)

	var b strings.Builder
	order := consume(t, broker, "outbox.event.order", 2, 60*time.Second)
	customer := consume(t, broker, "outbox.event.customer", 1, 60*time.Second)
	if len(order) != 2 {
		t.Fatalf("outbox.event.order: %d records, want 2", len(order))
	}
	tbl, msg := order[0], order[1]
	if str(tbl.Key) != str(msg.Key) || str(tbl.Payload) != str(msg.Payload) {
		t.Errorf("the table and message routes differ:\n table   %s\n         %s\n message %s\n         %s", str(tbl.Key), str(tbl.Payload), str(msg.Key), str(msg.Payload))
	}
	b.WriteString("# outbox.event.order (table, then message)\n")
	for _, m := range order {
		checkIDHeader(t, "outbox.event.order", m)
		b.WriteString(describe(m))
	}
	b.WriteString("# outbox.event.customer (non-transactional message)\n")
	for _, m := range customer {
		checkIDHeader(t, "outbox.event.customer", m)
		b.WriteString(describe(m))
	}

	// The plain messages: audit inside its transaction, after the order's
	// create; progress on its own. secret.keys and outbox are filtered out.
	consume(t, broker, "msg.message", 2, 60*time.Second)
	consume(t, broker, "msg.public.orders", 3, 60*time.Second)
	msgs := consume(t, broker, "msg.message", 0, 30*time.Second)
	if len(msgs) != 2 {
		t.Errorf("msg.message: %d records, want 2 (secret.keys and outbox are excluded)", len(msgs))
	}
	sort.Slice(msgs, func(i, j int) bool { return str(msgs[i].Key) < str(msgs[j].Key) })
	b.WriteString("# msg.message\n")
	for _, m := range msgs {
		b.WriteString(describe(m))
	}
	golden(t, "outbox_message.golden", b.String())
	p.stop(t)

	// The offsets stored after a non-transactional message resume the
	// stream where it stopped: what was written meanwhile comes through,
	// once, and nothing written before comes again.
	pgtest.Exec(t, dsn,
		`SELECT pg_logical_emit_message(false, 'progress', 'while stopped')`,
		`BEGIN; INSERT INTO orders VALUES (4, 1); SELECT pg_logical_emit_message(true, 'audit', 'after restart'); COMMIT`,
	)
	p = startPgmotion(t, "connect", "--rest", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--embedded-broker", broker, "--data-dir", dataDir, outbox, messages)
	consume(t, broker, "msg.public.orders", 4, 60*time.Second)
	consume(t, broker, "msg.message", 4, 60*time.Second)
	msgs = consume(t, broker, "msg.message", 0, 30*time.Second)
	var contents []string
	for _, m := range msgs {
		var v struct {
			Message struct{ Content []byte } `json:"message"`
		}
		if err := json.Unmarshal([]byte(str(m.Payload)), &v); err != nil {
			t.Fatal(err)
		}
		contents = append(contents, string(v.Message.Content))
	}
	if want := []string{`{"user":"ann"}`, "\x00\xff", "while stopped", "after restart"}; fmt.Sprintf("%q", contents) != fmt.Sprintf("%q", want) {
		t.Errorf("msg.message after the restart: %q, want %q", contents, want)
	}
	p.stop(t)
}
