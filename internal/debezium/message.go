package debezium

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/record"
)

// Logical decoding messages (pg_logical_emit_message, op "m"), as
// Debezium's LogicalDecodingMessageMonitor writes them:
//
//   - topic <topic.prefix>.message, whatever topic.delimiter and the topic
//     naming strategy say;
//   - key io.debezium.connector.postgresql.MessageKey v1 {prefix};
//   - value io.debezium.connector.postgresql.MessageValue v1 {op, ts_ms,
//     source, transaction, message}, with no ts_us/ts_ns, and message the
//     struct io.debezium.connector.postgresql.Message v1 {prefix, content},
//     content typed by binary.handling.mode;
//   - source: schema and table "", txId null for a non-transactional
//     message, ts_ms the commit time (transactional) or the time the
//     message was received;
//   - no headers: Debezium hands these records to its queue directly,
//     without the extended (context) headers of change events.
//
// With Options.OutboxMessagePrefix set, a message of that prefix is an
// outbox event instead: its content, a JSON object such as
// {"id":"…","aggregatetype":"order","aggregateid":"42","type":"OrderCreated","payload":{…}},
// becomes the row of a create event (outboxRecord), which the outbox
// EventRouter routes as it routes an insert into an outbox table.

const (
	messageTopicSuffix = ".message"
	messageKeySchema   = `{"type":"struct","fields":[{"type":"string","optional":true,"field":"prefix"}],` +
		`"optional":false,"name":"io.debezium.connector.postgresql.MessageKey","version":1}`
)

// messageValueSchema is the MessageValue schema for content of schema
// contentType ("bytes" or "string").
func messageValueSchema(contentType string) string {
	return `{"type":"struct","fields":[{"type":"string","optional":false,"field":"op"},` +
		`{"type":"int64","optional":true,"field":"ts_ms"},` + sourceSchema + `,` + transactionSchema + `,` +
		`{"type":"struct","fields":[{"type":"string","optional":true,"field":"prefix"},` +
		`{"type":"` + contentType + `","optional":true,"field":"content"}],` +
		`"optional":false,"name":"io.debezium.connector.postgresql.Message","version":1,"field":"message"}],` +
		`"optional":false,"name":"io.debezium.connector.postgresql.MessageValue","version":1}`
}

// MessageTopic returns the topic of logical decoding messages.
func (e *Encoder) MessageTopic() string { return e.opts.TopicPrefix + messageTopicSuffix }

// MessageIncluded reports whether message.prefix.include.list and
// message.prefix.exclude.list let a message of this prefix through.
func (e *Encoder) MessageIncluded(prefix string) bool {
	if inc := e.opts.MessagePrefixInclude; len(inc) > 0 {
		for _, re := range inc {
			if re.MatchString(prefix) {
				return true
			}
		}
		return false
	}
	for _, re := range e.opts.MessagePrefixExclude {
		if re.MatchString(prefix) {
			return false
		}
	}
	return true
}

// msgPlan returns the plan shared by message events: only its topic and
// the source block's empty schema and table are used.
func (e *Encoder) msgPlan() *plan {
	if e.msg == nil {
		e.msg = &plan{topic: e.MessageTopic(), srcTable: []byte(`,"schema":"","table":"","txId":`)}
	}
	return e.msg
}

// encodeMessage appends the record of one logical decoding message, or
// none when the prefix lists filter it out. A message of the outbox
// prefix becomes an outbox row event (outboxRecord), and one of the DDL
// capture prefix a DDL event (ddl.go); neither is subject to the prefix
// lists.
func (e *Encoder) encodeMessage(dst []record.Record, c *change.Change) ([]record.Record, error) {
	m := &c.Message
	ddl := e.opts.DDLMessagePrefix != "" && m.Prefix == e.opts.DDLMessagePrefix
	if ddl {
		if r, ok := e.encodeDDL(c); ok { // ddl.go
			return append(dst, r), nil
		}
	}
	outbox := e.opts.OutboxMessagePrefix != "" && m.Prefix == e.opts.OutboxMessagePrefix
	if !outbox && !ddl && !e.MessageIncluded(m.Prefix) {
		return dst, nil
	}
	p := e.msgPlan()
	e.reserve(4096 + 2*len(m.Content))
	now := e.now().UnixNano()
	txb := e.txMessage(c) // txmeta.go: counted in its transaction, outbox rows too
	if outbox {
		start, hmark := len(e.slab), len(e.hdrs)
		r, err := e.outboxRecord(p, c, now)
		if err == nil {
			return append(dst, r), nil
		}
		e.slab, e.hdrs = e.slab[:start], e.hdrs[:hmark]
		e.log.Warn("outbox message is not a JSON object of outbox fields; emitted as a plain message event",
			"prefix", m.Prefix, "lsn", c.LSN.String(), "err", err)
	}

	start := len(e.slab)
	if e.s.keySchemas {
		e.slab = append(e.slab, `{"schema":`+messageKeySchema+`,"payload":`...)
	}
	e.slab = append(e.slab, `{"prefix":`...)
	e.slab = appendJSONStr(e.slab, m.Prefix)
	e.slab = append(e.slab, '}')
	if e.s.keySchemas {
		e.slab = append(e.slab, '}')
	}
	key := e.carve(start)

	start = len(e.slab)
	b := e.slab
	if e.s.valueSchemas {
		ct := "string"
		if e.s.bin == binBytes {
			ct = "bytes"
		}
		b = append(b, `{"schema":`...)
		b = append(b, messageValueSchema(ct)...)
		b = append(b, `,"payload":`...)
	}
	b = append(b, `{"op":"m","ts_ms":`...)
	b = strconv.AppendInt(b, floorDiv(now, 1e6), 10)
	b = append(b, `,"source":`...)
	b = e.appendSource(b, p, c)
	b = append(b, `,"transaction":`...)
	b = append(b, txb...)
	b = append(b, `,"message":{"prefix":`...)
	b = appendJSONStr(b, m.Prefix)
	b = append(b, `,"content":`...)
	b = e.appendContent(b, m.Content)
	b = append(b, "}}"...)
	if e.s.valueSchemas {
		b = append(b, '}')
	}
	e.slab = b
	return append(dst, record.Record{Topic: p.topic, Partition: -1, Key: key, Value: e.carve(start)}), nil
}

// appendContent appends message content as binary.handling.mode says:
// base64 in JSON for bytes, else the encoded string.
func (e *Encoder) appendContent(b, content []byte) []byte {
	if content == nil {
		content = []byte{}
	}
	if t, ok := e.binaryText(e.s.bin, content); ok {
		return appendJSONString(b, t)
	}
	return appendBase64(b, content)
}

// outboxField is one member of an outbox message's JSON object.
type outboxField struct {
	name   string
	schema string // the field's Connect schema, without "field"
	value  []byte // its JSON payload
}

const (
	outboxStringSchema = `{"type":"string","optional":false`
	outboxJSONSchema   = `{"type":"string","optional":true,"name":"io.debezium.data.Json","version":1`
	outboxIntSchema    = `{"type":"int64","optional":false`
	outboxDoubleSchema = `{"type":"double","optional":false`
	outboxBoolSchema   = `{"type":"boolean","optional":false`
)

// errNotOutbox is wrapped by parseOutbox's errors.
var errNotOutbox = errors.New("not an outbox message")

// parseOutbox reads the members of the JSON object in content, in order,
// typed as the columns of Debezium's outbox table would be: strings as
// NOT NULL strings (uuid and varchar columns), objects and arrays as the
// text a jsonb column gives (io.debezium.data.Json, jsonb.go), numbers as int64 or
// double, booleans, and null as a null jsonb (most likely a payload).
func parseOutbox(content []byte) ([]outboxField, error) {
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("%w: the content is not a JSON object", errNotOutbox)
	}
	var out []outboxField
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errNotOutbox, err)
		}
		name, _ := t.(string)
		if seen[name] {
			return nil, fmt.Errorf("%w: member %q appears twice", errNotOutbox, name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: member %q: %w", errNotOutbox, name, err)
		}
		f := outboxField{name: name}
		switch raw[0] {
		case '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("%w: member %q: %w", errNotOutbox, name, err)
			}
			f.schema, f.value = outboxStringSchema, appendJSONStr(nil, s)
		case '{', '[':
			// The text a jsonb column would hold.
			text, err := appendJSONBText(nil, raw)
			if err != nil {
				return nil, fmt.Errorf("%w: member %q: %w", errNotOutbox, name, err)
			}
			f.schema, f.value = outboxJSONSchema, appendJSONString(nil, text)
		case 't', 'f':
			f.schema, f.value = outboxBoolSchema, raw
		case 'n':
			// Most likely a payload column that is null: jsonb, nullable.
			f.schema, f.value = outboxJSONSchema, []byte("null")
		default:
			if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
				f.schema, f.value = outboxIntSchema, strconv.AppendInt(nil, i, 10)
			} else if x, err := strconv.ParseFloat(string(raw), 64); err == nil {
				f.schema, f.value = outboxDoubleSchema, appendJSONDouble(nil, x, 64)
			} else {
				return nil, fmt.Errorf("%w: member %q: number %s out of range", errNotOutbox, name, raw)
			}
		}
		out = append(out, f)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %w", errNotOutbox, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", errNotOutbox)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: the JSON object is empty", errNotOutbox)
	}
	return out, nil
}

// outboxRecord writes an outbox message as the create event of a row of
// an outbox table named after the message: envelope
// <topic.prefix>.message.<prefix>.Envelope, row struct
// <topic.prefix>.message.<prefix>.Value, on the message topic, keyed by the
// message key, with the extended headers of change events. The
// EventRouter then takes topic, key, value and the id header from the row.
func (e *Encoder) outboxRecord(p *plan, c *change.Change, now int64) (record.Record, error) {
	fields, err := parseOutbox(c.Message.Content)
	if err != nil {
		return record.Record{}, err
	}
	name := e.opts.TopicPrefix + messageTopicSuffix + "." + c.Message.Prefix
	start := len(e.slab)
	if e.s.keySchemas {
		e.slab = append(e.slab, `{"schema":`+messageKeySchema+`,"payload":`...)
	}
	e.slab = append(e.slab, `{"prefix":`...)
	e.slab = appendJSONStr(e.slab, c.Message.Prefix)
	e.slab = append(e.slab, '}')
	if e.s.keySchemas {
		e.slab = append(e.slab, '}')
	}
	key := e.carve(start)

	start = len(e.slab)
	b := e.slab
	if e.s.valueSchemas {
		row := []byte(`{"type":"struct","fields":[`)
		for i, f := range fields {
			if i > 0 {
				row = append(row, ',')
			}
			row = append(row, f.schema...)
			row = append(row, `,"field":`...)
			row = appendJSONStr(row, f.name)
			row = append(row, '}')
		}
		row = append(row, `],"optional":true,"name":`...)
		row = appendJSONStr(row, name+".Value")
		b = append(b, `{"schema":{"type":"struct","fields":[`...)
		b = append(b, row...)
		b = append(b, `,"field":"before"},`...)
		b = append(b, row...)
		b = append(b, `,"field":"after"},`...)
		b = append(b, sourceSchema...)
		b = append(b, ',')
		b = append(b, transactionSchema...)
		b = append(b, `,{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},`+
			`{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"}],"optional":false,"name":`...)
		b = appendJSONStr(b, name+".Envelope")
		b = append(b, `,"version":2},"payload":`...)
	}
	b = append(b, `{"before":null,"after":{`...)
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONStr(b, f.name)
		b = append(b, ':')
		b = append(b, f.value...)
	}
	b = append(b, `},"source":`...)
	b = e.appendSource(b, p, c)
	b = append(b, opField[change.OpCreate]...)
	b = strconv.AppendInt(b, floorDiv(now, 1e6), 10)
	b = append(b, `,"ts_us":`...)
	b = strconv.AppendInt(b, floorDiv(now, 1e3), 10)
	b = append(b, `,"ts_ns":`...)
	b = strconv.AppendInt(b, now, 10)
	b = append(b, '}')
	if e.s.valueSchemas {
		b = append(b, '}')
	}
	e.slab = b
	return e.record(p, key, e.carve(start), nil), nil
}
