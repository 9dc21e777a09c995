package debezium

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/connectdata"
)

// ddlPrefix is the prefix pgmotion's DDL capture trigger writes with
// (pgsource.DDLMessagePrefix).
const ddlPrefix = "pgmotion.ddl"

// The contents the trigger writes, as PostgreSQL's json_build_object
// prints them.
const (
	ddlAlter = `{"event" : "ddl_command_end", "tag" : "ALTER TABLE", "user" : "app", ` +
		`"query" : "ALTER TABLE customers ADD COLUMN note text;", "objects" : [{"commandTag" : "ALTER TABLE", ` +
		`"objectType" : "table", "schemaName" : "public", "objectIdentity" : "public.customers"}]}`
	// CREATE TABLE with a serial column: the table is the main object,
	// though the sequence comes first.
	ddlCreate = `{"event" : "ddl_command_end", "tag" : "CREATE TABLE", "user" : "app", ` +
		`"query" : "CREATE TABLE \"Odd\" (id serial PRIMARY KEY, t text); -- é\n", "objects" : [` +
		`{"commandTag" : "CREATE SEQUENCE", "objectType" : "sequence", "schemaName" : "public", "objectIdentity" : "public.\"Odd_id_seq\""}, ` +
		`{"commandTag" : "CREATE TABLE", "objectType" : "table", "schemaName" : "public", "objectIdentity" : "public.\"Odd\""}, ` +
		`{"commandTag" : "CREATE INDEX", "objectType" : "index", "schemaName" : "public", "objectIdentity" : "public.\"Odd_pkey\""}]}`
	ddlDrop = `{"event" : "sql_drop", "tag" : "DROP TABLE", "user" : "app", "query" : "DROP TABLE a, b", "objects" : [` +
		`{"commandTag" : "DROP TABLE", "objectType" : "table", "schemaName" : "public", "objectIdentity" : "public.b"}, ` +
		`{"commandTag" : "DROP TABLE", "objectType" : "table", "schemaName" : "public", "objectIdentity" : "public.a"}]}`
	// GRANT on a schema: no schema, no identity.
	ddlGrant = `{"event" : "ddl_command_end", "tag" : "GRANT", "user" : null, "query" : null, "objects" : [` +
		`{"commandTag" : "GRANT", "objectType" : "SCHEMA", "schemaName" : null, "objectIdentity" : null}]}`
)

func ddlGoldenCases() []goldenCase {
	ddls := func() []*change.Change {
		return []*change.Change{
			message(ddlPrefix, ddlAlter, true),
			message(ddlPrefix, ddlCreate, true),
			message(ddlPrefix, ddlDrop, true),
			message(ddlPrefix, ddlGrant, true),
			message(ddlPrefix, `{"event":"ddl_command_end","tag":"CREATE EXTENSION","objects":[]}`, true),
		}
	}
	on := func(o *Options) { o.DDLMessagePrefix = ddlPrefix }
	noSchemas := func(o *Options) { o.KeySchemas, o.ValueSchemas = false, false }
	return []goldenCase{
		{name: "ddl", opts: on, changes: ddls()},
		{name: "ddl_schemas_disabled", opts: func(o *Options) { on(o); noSchemas(o) }, changes: ddls()},
		// The topic is <topic.prefix>.ddl whatever topic.delimiter says;
		// the DDL prefix is not subject to the message prefix lists.
		{name: "ddl_topic_delimiter_prefix_lists", opts: func(o *Options) {
			on(o)
			o.TopicDelimiter = "_"
			o.MessagePrefixInclude = []*regexp.Regexp{regexp.MustCompile(`(?i)^(?:audit)$`)}
		}, changes: []*change.Change{message(ddlPrefix, ddlAlter, true), message("other", "x", true)}},
		// Content that is not the trigger's: a plain message, with a warning.
		{name: "ddl_not_ddl", opts: on, changes: []*change.Change{
			message(ddlPrefix, `not json`, true),
			message(ddlPrefix, `{"event":"ddl_command_end"}`, false),
		}},
		// pgmotion.ddl.capture=false: the trigger's messages (another
		// connector may have installed it) are plain messages.
		{name: "ddl_capture_off", changes: []*change.Change{message(ddlPrefix, ddlAlter, true)}},
	}
}

func TestGoldenDdl(t *testing.T) {
	for _, gc := range ddlGoldenCases() {
		t.Run(gc.name, func(t *testing.T) { runGolden(t, gc) })
	}
}

// TestDdlJSONConverterRoundTrip reads DDL events back with the Connect
// JsonConverter and writes them again: the bytes must come back the same,
// with schemas on and off, and the payload must follow the schema.
func TestDdlJSONConverterRoundTrip(t *testing.T) {
	for _, schemas := range []bool{true, false} {
		e := newTestEncoder(t, func(o *Options) {
			o.DDLMessagePrefix = ddlPrefix
			o.KeySchemas, o.ValueSchemas = schemas, schemas
		})
		conv := connectdata.NewJSONConverter(schemas)
		for _, content := range []string{ddlAlter, ddlCreate, ddlDrop, ddlGrant} {
			recs, err := e.Encode(nil, message(ddlPrefix, content, true))
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].Topic != "srv.ddl" {
				t.Fatalf("schemas=%v: %d records (%v), want one on srv.ddl", schemas, len(recs), recs[0].Topic)
			}
			for _, b := range [][]byte{recs[0].Key, recs[0].Value} {
				s, v, err := conv.ToConnect(b)
				if err != nil {
					t.Fatalf("schemas=%v: JsonConverter rejects %s: %v", schemas, b, err)
				}
				again, err := conv.FromConnect(s, v)
				if err != nil {
					t.Fatalf("schemas=%v: JsonConverter cannot write back %s: %v", schemas, b, err)
				}
				if !bytes.Equal(again, b) {
					t.Errorf("schemas=%v: JsonConverter round trip differs:\n got %s\nwant %s", schemas, again, b)
				}
			}
		}
	}
}

// TestDdlFields checks the parsed fields of the value.
func TestDdlFields(t *testing.T) {
	e := newTestEncoder(t, func(o *Options) { o.DDLMessagePrefix = ddlPrefix; o.ValueSchemas = false })
	for _, tc := range []struct {
		content                                   string
		tag, schema, objType, identity, ddl, user any
		objects                                   int
	}{
		{ddlAlter, "ALTER TABLE", "public", "table", "public.customers", "ALTER TABLE customers ADD COLUMN note text;", "app", 1},
		{ddlCreate, "CREATE TABLE", "public", "table", `public."Odd"`, "CREATE TABLE \"Odd\" (id serial PRIMARY KEY, t text); -- é\n", "app", 3},
		{ddlDrop, "DROP TABLE", "public", "table", "public.b", "DROP TABLE a, b", "app", 2},
		{ddlGrant, "GRANT", nil, "SCHEMA", nil, nil, nil, 1},
	} {
		recs, err := e.Encode(nil, message(ddlPrefix, tc.content, true))
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Source         map[string]any `json:"source"`
			DatabaseName   string         `json:"databaseName"`
			SchemaName     any            `json:"schemaName"`
			DDL            any            `json:"ddl"`
			CommandTag     string         `json:"commandTag"`
			ObjectType     any            `json:"objectType"`
			ObjectIdentity any            `json:"objectIdentity"`
			User           any            `json:"user"`
			Objects        []any          `json:"objects"`
		}
		if err := json.Unmarshal(recs[0].Value, &v); err != nil {
			t.Fatal(err)
		}
		got := []any{v.CommandTag, v.SchemaName, v.ObjectType, v.ObjectIdentity, v.DDL, v.User, len(v.Objects)}
		want := []any{tc.tag, tc.schema, tc.objType, tc.identity, tc.ddl, tc.user, tc.objects}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: field %d = %#v, want %#v", tc.content, i, got[i], want[i])
			}
		}
		if v.DatabaseName != "app" || v.Source["db"] != "app" || v.Source["txId"] != float64(752) || v.Source["lsn"] != float64(26738904) {
			t.Errorf("%s: databaseName %q, source %v", tc.content, v.DatabaseName, v.Source)
		}
	}
}

func TestParseDDLErrors(t *testing.T) {
	for _, s := range []string{``, `[]`, `"s"`, `{}`, `{"event":"x"}`, `{"tag":"x"}`, `{"event":"x","tag":"y"} {}`,
		`{"event":"x","tag":"y","objects":{}}`, `{"event":"x","tag":"y","user":1}`} {
		if _, err := parseDDL([]byte(s)); !errors.Is(err, errNotDDL) {
			t.Errorf("parseDDL(%q) = %v, want errNotDDL", s, err)
		}
	}
	if _, err := parseDDL([]byte(ddlCreate)); err != nil {
		t.Errorf("parseDDL: %v", err)
	}
}

// FuzzDdl encodes arbitrary DDL capture messages: the records must be
// valid JSON.
func FuzzDdl(f *testing.F) {
	for _, s := range []string{ddlAlter, ddlCreate, ddlDrop, ddlGrant, `{"event":"e","tag":"\u0000"}`} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, content []byte, schemas bool) {
		e := newTestEncoder(t, func(o *Options) {
			o.DDLMessagePrefix = ddlPrefix
			o.KeySchemas, o.ValueSchemas = schemas, schemas
		})
		recs, err := e.Encode(nil, message(ddlPrefix, string(content), true))
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
	})
}
