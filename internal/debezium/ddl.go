package debezium

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/record"
)

// DDL events (pgmotion.ddl.capture), a pgmotion extension: Debezium's
// PostgreSQL connector has no DDL topic. pgmotion's event trigger
// (internal/pgsource/ddlcapture.sql) writes each DDL statement into the
// WAL as a transactional logical decoding message of prefix
// Options.DDLMessagePrefix, whose content is a JSON object
//
//	{"event":"ddl_command_end","tag":"ALTER TABLE","user":"app",
//	 "query":"ALTER TABLE t ADD COLUMN c int",
//	 "objects":[{"commandTag":"ALTER TABLE","objectType":"table",
//	             "schemaName":"public","objectIdentity":"public.t"}]}
//
// Such a message becomes one record, shaped after Debezium's MySQL
// schema change events and serialized as JsonConverter would:
//
//   - topic <topic.prefix>.ddl, whatever topic.delimiter and the topic
//     naming strategy say (as for <topic.prefix>.message);
//   - key io.pgmotion.connector.postgresql.DdlKey v1 {databaseName}, so
//     that every DDL event of a database lands in one partition, in order;
//   - value io.pgmotion.connector.postgresql.DdlValue v1 {source, ts_ms,
//     databaseName, schemaName, ddl, event, commandTag, objectType,
//     objectIdentity, user, objects}: the source block as for message
//     events (schema and table "", the DDL's txId and LSN), ddl the
//     statement text, and schemaName, objectType and objectIdentity those
//     of the statement's main object: the first one whose command tag is
//     the statement's, else the first one. objects lists every object, as
//     io.pgmotion.connector.postgresql.DdlObject v1 {commandTag,
//     objectType, schemaName, objectIdentity};
//   - no headers, as for message events.
//
// A message of the prefix whose content is not such an object is
// emitted as a plain message event, with a warning.

const (
	ddlTopicSuffix = ".ddl"
	ddlKeySchema   = `{"type":"struct","fields":[{"type":"string","optional":false,"field":"databaseName"}],` +
		`"optional":false,"name":"io.pgmotion.connector.postgresql.DdlKey","version":1}`
	ddlObjectSchema = `{"type":"struct","fields":[{"type":"string","optional":true,"field":"commandTag"},` +
		`{"type":"string","optional":true,"field":"objectType"},{"type":"string","optional":true,"field":"schemaName"},` +
		`{"type":"string","optional":true,"field":"objectIdentity"}],` +
		`"optional":false,"name":"io.pgmotion.connector.postgresql.DdlObject","version":1}`
	ddlValueSchema = `{"type":"struct","fields":[` + sourceSchema + `,` +
		`{"type":"int64","optional":true,"field":"ts_ms"},` +
		`{"type":"string","optional":false,"field":"databaseName"},` +
		`{"type":"string","optional":true,"field":"schemaName"},` +
		`{"type":"string","optional":true,"field":"ddl"},` +
		`{"type":"string","optional":false,"field":"event"},` +
		`{"type":"string","optional":false,"field":"commandTag"},` +
		`{"type":"string","optional":true,"field":"objectType"},` +
		`{"type":"string","optional":true,"field":"objectIdentity"},` +
		`{"type":"string","optional":true,"field":"user"},` +
		`{"type":"array","items":` + ddlObjectSchema + `,"optional":false,"field":"objects"}],` +
		`"optional":false,"name":"io.pgmotion.connector.postgresql.DdlValue","version":1}`
)

// DDLTopic returns the topic of DDL events.
func (e *Encoder) DDLTopic() string { return e.opts.TopicPrefix + ddlTopicSuffix }

// ddlObject is one object a DDL statement created, altered or dropped.
type ddlObject struct {
	CommandTag     *string `json:"commandTag"`
	ObjectType     *string `json:"objectType"`
	SchemaName     *string `json:"schemaName"`
	ObjectIdentity *string `json:"objectIdentity"`
}

// ddlMessage is the content of a DDL capture message.
type ddlMessage struct {
	Event   string      `json:"event"`
	Tag     string      `json:"tag"`
	User    *string     `json:"user"`
	Query   *string     `json:"query"`
	Objects []ddlObject `json:"objects"`
}

// errNotDDL is wrapped by parseDDL's errors.
var errNotDDL = errors.New("not a DDL capture message")

// parseDDL reads the content of a DDL capture message.
func parseDDL(content []byte) (*ddlMessage, error) {
	var m ddlMessage
	dec := json.NewDecoder(bytes.NewReader(content))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %w", errNotDDL, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", errNotDDL)
	}
	if m.Event == "" || m.Tag == "" {
		return nil, fmt.Errorf("%w: no event or tag", errNotDDL)
	}
	return &m, nil
}

// main returns the statement's main object: the first whose command tag
// is the statement's, else the first; nil when there is none.
func (m *ddlMessage) main() *ddlObject {
	for i := range m.Objects {
		if o := &m.Objects[i]; o.CommandTag != nil && *o.CommandTag == m.Tag {
			return o
		}
	}
	if len(m.Objects) > 0 {
		return &m.Objects[0]
	}
	return nil
}

// encodeDDL returns the DDL event of a DDL capture message; ok is false
// when the content is not one, and the message stays a plain message.
func (e *Encoder) encodeDDL(c *change.Change) (r record.Record, ok bool) {
	m, err := parseDDL(c.Message.Content)
	if err != nil {
		e.log.Warn("DDL capture message is not a JSON object of DDL fields; emitted as a plain message event",
			"prefix", c.Message.Prefix, "lsn", c.LSN.String(), "err", err)
		return record.Record{}, false
	}
	e.reserve(4096 + 2*len(c.Message.Content))

	start := len(e.slab)
	b := e.slab
	if e.s.keySchemas {
		b = append(b, `{"schema":`+ddlKeySchema+`,"payload":`...)
	}
	b = append(b, `{"databaseName":`...)
	b = appendJSONStr(b, e.opts.Database)
	b = append(b, '}')
	if e.s.keySchemas {
		b = append(b, '}')
	}
	e.slab = b
	key := e.carve(start)

	start = len(e.slab)
	b = e.slab
	if e.s.valueSchemas {
		b = append(b, `{"schema":`+ddlValueSchema+`,"payload":`...)
	}
	b = append(b, `{"source":`...)
	b = e.appendSource(b, e.msgPlan(), c)
	b = append(b, `,"ts_ms":`...)
	b = strconv.AppendInt(b, floorDiv(e.now().UnixNano(), 1e6), 10)
	b = append(b, `,"databaseName":`...)
	b = appendJSONStr(b, e.opts.Database)
	var head ddlObject
	if o := m.main(); o != nil {
		head = *o
	}
	b = append(b, `,"schemaName":`...)
	b = appendOptStr(b, head.SchemaName)
	b = append(b, `,"ddl":`...)
	b = appendOptStr(b, m.Query)
	b = append(b, `,"event":`...)
	b = appendJSONStr(b, m.Event)
	b = append(b, `,"commandTag":`...)
	b = appendJSONStr(b, m.Tag)
	b = append(b, `,"objectType":`...)
	b = appendOptStr(b, head.ObjectType)
	b = append(b, `,"objectIdentity":`...)
	b = appendOptStr(b, head.ObjectIdentity)
	b = append(b, `,"user":`...)
	b = appendOptStr(b, m.User)
	b = append(b, `,"objects":[`...)
	for i, o := range m.Objects {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"commandTag":`...)
		b = appendOptStr(b, o.CommandTag)
		b = append(b, `,"objectType":`...)
		b = appendOptStr(b, o.ObjectType)
		b = append(b, `,"schemaName":`...)
		b = appendOptStr(b, o.SchemaName)
		b = append(b, `,"objectIdentity":`...)
		b = appendOptStr(b, o.ObjectIdentity)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	if e.s.valueSchemas {
		b = append(b, '}')
	}
	e.slab = b
	return record.Record{Topic: e.DDLTopic(), Partition: -1, Key: key, Value: e.carve(start)}, true
}

// appendOptStr appends s as a JSON string, or null.
func appendOptStr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONStr(b, *s)
}
