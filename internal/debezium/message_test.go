package debezium

import (
	"encoding/json"
	"errors"
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/pgmotion/pgmotion/internal/change"
)

// message is a logical decoding message at the §1.6 position: inside
// transaction 752, or, when not transactional, on its own with no xid and
// the time it was received.
func message(prefix, content string, transactional bool) *change.Change {
	c := &change.Change{
		Op: change.OpMessage, LSN: 26738904, LastCommitLSN: 26737640,
		TsMicros: 1742741274875866,
		Message:  change.Message{Prefix: prefix, Content: []byte(content), Transactional: transactional},
	}
	if transactional {
		c.Xid, c.HasXid = 752, true
	}
	return c
}

const outboxContent = `{"id":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","aggregatetype":"order","aggregateid":"42",` +
	`"type":"OrderCreated","payload":{"id": 42, "items": [{"sku": "x", "qty": 2}], "note": "é \"quoted\""}}`

func messageGoldenCases() []goldenCase {
	msgs := func() []*change.Change {
		return []*change.Change{
			message("audit", `{"user":"John"}`, true),
			message("heartbeat", "", false),
			message("bin", "\x00\xff\xfe", true),
		}
	}
	noSchemas := func(o *Options) { o.KeySchemas, o.ValueSchemas = false, false }
	outbox := func(o *Options) { o.OutboxMessagePrefix = "outbox" }
	return []goldenCase{
		{name: "message", changes: msgs()},
		{name: "message_schemas_disabled", opts: noSchemas, changes: msgs()},
		{name: "message_binary_base64", opts: func(o *Options) { o.BinaryHandling = BinaryBase64 }, changes: msgs()},
		{name: "message_binary_hex", opts: func(o *Options) { o.BinaryHandling = BinaryHex }, changes: msgs()},
		// The topic is <topic.prefix>.message whatever topic.delimiter says.
		{name: "message_topic_delimiter", opts: func(o *Options) { o.TopicDelimiter = "_" }, changes: []*change.Change{
			message("audit", "x", false),
		}},
		{name: "message_prefix_filters", opts: func(o *Options) {
			o.MessagePrefixExclude = []*regexp.Regexp{regexp.MustCompile(`(?i)^(?:heart.*)$`)}
		}, changes: msgs()},
		{name: "message_outbox", opts: outbox, changes: []*change.Change{
			message("outbox", outboxContent, true),
			message("outbox", `{"id":"1","aggregatetype":"customer","aggregateid":"7","type":"Moved","payload":null,"n":3,"f":1.5,"b":true}`, false),
			// Not a JSON object: a plain message event, with a warning.
			message("outbox", `not json`, true),
			// Other prefixes stay plain message events.
			message("audit", "x", true),
		}},
		{name: "message_outbox_schemas_disabled", opts: func(o *Options) { outbox(o); noSchemas(o) }, changes: []*change.Change{
			message("outbox", outboxContent, true),
		}},
	}
}

func TestGoldenMessages(t *testing.T) {
	for _, gc := range messageGoldenCases() {
		t.Run(gc.name, func(t *testing.T) { runGolden(t, gc) })
	}
}

func TestMessageIncluded(t *testing.T) {
	re := func(s string) []*regexp.Regexp { return []*regexp.Regexp{regexp.MustCompile(`(?i)^(?:` + s + `)$`)} }
	for _, tc := range []struct {
		inc, exc []*regexp.Regexp
		prefix   string
		want     bool
	}{
		{prefix: "any", want: true},
		{inc: re("out.*"), prefix: "outbox", want: true},
		{inc: re("out"), prefix: "outbox", want: false},
		{exc: re("out.*"), prefix: "outbox", want: false},
		{exc: re("out"), prefix: "outbox", want: true},
	} {
		e := newTestEncoder(t, func(o *Options) { o.MessagePrefixInclude, o.MessagePrefixExclude = tc.inc, tc.exc })
		if got := e.MessageIncluded(tc.prefix); got != tc.want {
			t.Errorf("MessageIncluded(%q) with %v/%v = %v, want %v", tc.prefix, tc.inc, tc.exc, got, tc.want)
		}
	}
}

func TestParseOutboxErrors(t *testing.T) {
	for _, s := range []string{``, `[]`, `{}`, `{"a":1,"a":2}`, `{"a":1} x`, `{"a":1e999}`, `{"a":`, `"s"`} {
		if _, err := parseOutbox([]byte(s)); !errors.Is(err, errNotOutbox) {
			t.Errorf("parseOutbox(%q) = %v, want errNotOutbox", s, err)
		}
	}
}

// FuzzMessage encodes arbitrary messages, plain and as outbox events: the
// records must be valid JSON, and an outbox message that parses must give
// an envelope whose after row has its members.
func FuzzMessage(f *testing.F) {
	f.Add("audit", []byte(`{"user":"John"}`), true, false)
	f.Add("outbox", []byte(outboxContent), true, true)
	f.Add("outbox", []byte(`{"a":[1,{"b":null}],"c":-0.0,"d":"\u0000"}`), false, true)
	f.Add("o\x00", []byte("\xff\xfe"), false, false)
	f.Fuzz(func(t *testing.T, prefix string, content []byte, transactional, asOutbox bool) {
		e := newTestEncoder(t, func(o *Options) {
			if asOutbox {
				o.OutboxMessagePrefix = prefix
			}
		})
		recs, err := e.Encode(nil, message(prefix, string(content), transactional))
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 {
			t.Fatalf("%d records, want 1", len(recs))
		}
		for _, b := range [][]byte{recs[0].Key, recs[0].Value} {
			if !json.Valid(b) {
				t.Fatalf("invalid JSON: %q", b)
			}
		}
		if !asOutbox || prefix == "" || !utf8.Valid(content) {
			return
		}
		fields, err := parseOutbox(content)
		if err != nil {
			return
		}
		var v struct {
			Payload struct {
				After map[string]json.RawMessage `json:"after"`
			} `json:"payload"`
		}
		if err := json.Unmarshal(recs[0].Value, &v); err != nil {
			t.Fatal(err)
		}
		if len(v.Payload.After) != len(fields) {
			t.Fatalf("after has %d members, content %d: %s", len(v.Payload.After), len(fields), recs[0].Value)
		}
	})
}
