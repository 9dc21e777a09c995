package pipeline

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/debezium"
	"github.com/pgmotion/pgmotion/internal/record"
)

// outboxConfig is a connector config with Debezium's documented outbox
// EventRouter, reading events from messages as well.
func outboxConfig(extra ...string) map[string]string {
	c := map[string]string{
		"connector.class":                "io.debezium.connector.postgresql.PostgresConnector",
		"plugin.name":                    "pgoutput",
		"database.hostname":              "localhost",
		"database.user":                  "u",
		"database.dbname":                "app",
		"topic.prefix":                   "srv",
		"transforms":                     "outbox",
		"transforms.outbox.type":         "io.debezium.transforms.outbox.EventRouter",
		"pgmotion.outbox.source":         "message",
		"pgmotion.outbox.message.prefix": "outbox",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i]] = extra[i+1]
	}
	return c
}

// TestOutboxMessageRoutesLikeTable encodes one outbox event twice, as an
// insert into Debezium's outbox table and as a pg_logical_emit_message
// call, runs both through the connector's EventRouter and expects the same
// topic, key, value and id header.
func TestOutboxMessageRoutesLikeTable(t *testing.T) {
	for _, schemas := range []string{"true", "false"} {
		t.Run("schemas.enable="+schemas, func(t *testing.T) {
			tc, _, err := ConfigFrom("outbox-connector", outboxConfig(
				"key.converter.schemas.enable", schemas, "value.converter.schemas.enable", schemas))
			if err != nil {
				t.Fatal(err)
			}
			if tc.Encoder.OutboxMessagePrefix != "outbox" {
				t.Fatalf("OutboxMessagePrefix = %q", tc.Encoder.OutboxMessagePrefix)
			}
			enc, err := debezium.NewEncoder(tc.Encoder, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			table := &change.Relation{ID: 1, Namespace: "public", Name: "outbox", Key: []int{0}, ReplicaIdentity: 'd',
				Columns: []change.Column{
					{Name: "id", TypeOID: 2950, TypeMod: -1, TypeName: "uuid", NotNull: true},
					{Name: "aggregatetype", TypeOID: 1043, TypeMod: -1, TypeName: "varchar", NotNull: true},
					{Name: "aggregateid", TypeOID: 1043, TypeMod: -1, TypeName: "varchar", NotNull: true},
					{Name: "type", TypeOID: 1043, TypeMod: -1, TypeName: "varchar", NotNull: true},
					{Name: "payload", TypeOID: 3802, TypeMod: -1, TypeName: "jsonb"},
				}}
			txt := func(s string) change.Value { return change.Value{Kind: change.KindText, Data: []byte(s)} }
			// The application writes payload; the jsonb column gives back
			// jsonbText, which the message route reproduces.
			const id, payload, jsonbText = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", `{"total":"9.50","id":42}`, `{"id": 42, "total": "9.50"}`
			row := &change.Change{Op: change.OpCreate, Rel: table, LSN: 100, Xid: 7, HasXid: true, TsMicros: 1,
				After: change.Tuple{txt(id), txt("order"), txt("42"), txt("OrderCreated"), txt(jsonbText)}}
			msg := &change.Change{Op: change.OpMessage, LSN: 200, Xid: 8, HasXid: true, TsMicros: 1,
				Message: change.Message{Prefix: "outbox", Transactional: true, Content: []byte(
					`{"id":"` + id + `","aggregatetype":"order","aggregateid":"42","type":"OrderCreated","payload":` + payload + `}`)}}
			var got [2]record.Record
			for i, c := range []*change.Change{row, msg} {
				recs, err := enc.Encode(nil, c)
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) != 1 {
					t.Fatalf("%d records after the EventRouter, want 1", len(recs))
				}
				got[i] = recs[0]
			}
			tbl, m := got[0], got[1]
			if tbl.Topic != "outbox.event.order" || m.Topic != tbl.Topic {
				t.Errorf("topics %q (table) and %q (message), want outbox.event.order", tbl.Topic, m.Topic)
			}
			if !bytes.Equal(m.Key, tbl.Key) || !bytes.Contains(m.Key, []byte(`"42"`)) {
				t.Errorf("keys differ:\n table   %s\n message %s", tbl.Key, m.Key)
			}
			if !bytes.Equal(m.Value, tbl.Value) || !bytes.Contains(m.Value, []byte(`\"total\": \"9.50\"`)) {
				t.Errorf("values differ:\n table   %s\n message %s", tbl.Value, m.Value)
			}
			if h := header(m, "id"); h != id || header(tbl, "id") != id {
				t.Errorf("id headers %q (table) and %q (message), want %s", header(tbl, "id"), h, id)
			}
		})
	}
}

func header(r record.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// TestMessageOptions checks the message prefix lists and the outbox
// options as the connector config gives them.
func TestMessageOptions(t *testing.T) {
	tc, _, err := ConfigFrom("c", outboxConfig("message.prefix.exclude.list", "audit.*, tmp", "pgmotion.outbox.source", "table"))
	if err != nil {
		t.Fatal(err)
	}
	if tc.Encoder.OutboxMessagePrefix != "" {
		t.Errorf("pgmotion.outbox.source=table: OutboxMessagePrefix = %q, want none", tc.Encoder.OutboxMessagePrefix)
	}
	enc, err := debezium.NewEncoder(tc.Encoder, nil)
	if err != nil {
		t.Fatal(err)
	}
	for prefix, want := range map[string]bool{"audit": false, "AUDIT.x": false, "tmp": false, "tmp2": true, "outbox": true} {
		if got := enc.MessageIncluded(prefix); got != want {
			t.Errorf("MessageIncluded(%q) = %v, want %v", prefix, got, want)
		}
	}
	if _, _, err := ConfigFrom("c", outboxConfig("pgmotion.outbox.source", "nope")); err == nil || !strings.Contains(err.Error(), "pgmotion.outbox.source") {
		t.Errorf("bad pgmotion.outbox.source: %v", err)
	}
}
