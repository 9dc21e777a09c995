package transform

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/record"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// baseConfig is a valid PostgreSQL connector configuration.
func baseConfig() map[string]string {
	return map[string]string{
		"name": "inventory-connector", "connector.class": options.PostgresClass, "plugin.name": "pgoutput",
		"database.hostname": "db", "database.user": "u", "database.dbname": "app", "topic.prefix": "srv",
	}
}

// props builds a configuration from "k=v" strings on top of baseConfig.
func props(kv ...string) map[string]string {
	m := baseConfig()
	for _, p := range kv {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			panic("bad property " + p)
		}
		m[k] = v
	}
	return m
}

// logCapture records what transforms log.
type logCapture struct {
	lines []string
}

func (l *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCapture) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.lines = append(l.lines, b.String())
	return nil
}
func (l *logCapture) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCapture) WithGroup(string) slog.Handler      { return l }

// newTestChain parses cfg as a connector configuration and builds its
// chain.
func newTestChain(t testing.TB, cfg map[string]string, log *slog.Logger) (*Chain, *options.PostgresConfig) {
	t.Helper()
	pc, err := options.ParsePostgres(cfg)
	if err != nil {
		t.Fatalf("configuration: %v", err)
	}
	c, err := NewChain(pc.Config, Options{Log: log})
	if err != nil {
		t.Fatalf("NewChain: %v", err)
	}
	return c, pc
}

// asEncoded turns a fixture record (written with schemas) into what the
// encoder writes for this connector: sides the chain does not parse follow
// the connector's schemas.enable.
func asEncoded(t testing.TB, c *Chain, pc *options.PostgresConfig, r record.Record) record.Record {
	pk, pv := c.Parses()
	strip := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		s, v, err := cd.NewJSONConverter(true).ToConnect(b)
		if err != nil {
			t.Fatal(err)
		}
		out, err := cd.NewJSONConverter(false).FromConnect(s, v)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if !pk && !pc.KeySchemas {
		r.Key = strip(r.Key)
	}
	if !pv && !pc.ValueSchemas {
		r.Value = strip(r.Value)
	}
	return r
}

// runChain applies the chain to every record of an input fixture and
// renders the output records, then the logs.
func runChain(t testing.TB, input string, cfg map[string]string) ([]byte, error) {
	t.Helper()
	logs := &logCapture{}
	c, pc := newTestChain(t, cfg, slog.New(logs))
	jc := newJSONChain(c, pc)
	var outs []record.Record
	var tss []*int64
	for _, in := range readRecords(t, filepath.Join("testdata", "input", input+".json")) {
		in = asEncoded(t, c, pc, in)
		out, keep, err := jc.apply(in)
		ts, hasTs := out.Timestamp, out.Timestamp != 0
		if err != nil {
			return nil, err
		}
		if !keep {
			continue
		}
		outs = append(outs, out)
		if hasTs {
			tss = append(tss, &ts)
		} else {
			tss = append(tss, nil)
		}
	}
	b := renderRecords(t, outs, tss)
	for _, l := range logs.lines {
		b = append(b, "# "+l+"\n"...)
	}
	return b, nil
}

type goldenCase struct {
	name  string
	input string
	props []string
	// both also runs the case with key and value schemas disabled
	// (<name>_noschemas).
	both bool
}

const (
	customersPredicate = "predicates.cust.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches"
	customersPattern   = `predicates.cust.pattern=srv\.public\.customers.*`
	outboxSMT          = "transforms.outbox.type=io.debezium.transforms.outbox.EventRouter"
	unwrapSMT          = "transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState"
)

var goldenCases = []goldenCase{
	// EventRouter.
	{name: "outbox_default", input: "outbox", both: true, props: []string{"transforms=outbox", outboxSMT}},
	{name: "outbox_expand", input: "outbox", both: true, props: []string{"transforms=outbox", outboxSMT, "transforms.outbox.table.expand.json.payload=true"}},
	{name: "outbox_expand_nulls", input: "outbox", props: []string{"transforms=outbox", outboxSMT, "transforms.outbox.table.expand.json.payload=true",
		"transforms.outbox.table.json.payload.null.behavior=optional_bytes", "transforms.outbox.table.json.payload.empty.array.behavior=optional_string"}},
	{name: "outbox_placements", input: "outbox", both: true, props: []string{"transforms=outbox", outboxSMT,
		"transforms.outbox.table.fields.additional.placement=type:header:eventType,tenant:partition,version:envelope,aggregateid:envelope:aggId,created:header"}},
	{name: "outbox_expand_envelope_version", input: "outbox", both: true, props: []string{"transforms=outbox", outboxSMT,
		"transforms.outbox.table.expand.json.payload=true", "transforms.outbox.table.fields.additional.placement=type:envelope:eventType",
		"transforms.outbox.table.field.event.schema.version=version"}},
	{name: "outbox_headers_only", input: "outbox", props: []string{"transforms=outbox", outboxSMT,
		"transforms.outbox.table.fields.additional.placement=type:header,aggregatetype:header:kind"}},
	{name: "outbox_missing_ignore", input: "outbox", props: []string{"transforms=outbox", outboxSMT,
		"transforms.outbox.table.fields.additional.placement=nope:header,gone:envelope,type:envelope",
		"transforms.outbox.table.field.additional.missing=ignore"}},
	{name: "outbox_tombstone_on_empty", input: "outbox", both: true, props: []string{"transforms=outbox", outboxSMT, "transforms.outbox.route.tombstone.on.empty.payload=true"}},
	{name: "outbox_route", input: "outbox", props: []string{"transforms=outbox", outboxSMT, "transforms.outbox.route.by.field=type",
		`transforms.outbox.route.topic.regex=(?<kind>[A-Z][a-z]+)(.*)`, "transforms.outbox.route.topic.replacement=events.${kind}$2.\\$"}},
	{name: "outbox_fields", input: "outbox", props: []string{"transforms=outbox", outboxSMT, "transforms.outbox.table.field.event.key=type",
		"transforms.outbox.table.field.event.id=aggregateid", "transforms.outbox.table.field.event.payload=aggregatetype", "transforms.outbox.table.op.invalid.behavior=error"}},
	{name: "outbox_timestamp_router", input: "outbox", props: []string{"transforms=outbox,ts", outboxSMT, "transforms.outbox.table.field.event.timestamp=created",
		"transforms.ts.type=org.apache.kafka.connect.transforms.TimestampRouter", "transforms.ts.timestamp.format=yyyy-MM-dd'T'HH"}},
	{name: "outbox_heartbeat_passthrough", input: "customers", props: []string{"transforms=outbox", outboxSMT, "transforms.outbox.predicate=hb",
		"predicates=hb", "predicates.hb.type=TopicNameMatches", "predicates.hb.pattern=__debezium-heartbeat.*"}},

	// ExtractNewRecordState.
	{name: "unwrap_default", input: "customers", both: true, props: []string{"transforms=unwrap", unwrapSMT}},
	{name: "unwrap_drop", input: "customers", props: []string{"transforms=unwrap", unwrapSMT, "transforms.unwrap.delete.tombstone.handling.mode=drop"}},
	{name: "unwrap_rewrite", input: "customers", both: true, props: []string{"transforms=unwrap", unwrapSMT, "transforms.unwrap.delete.tombstone.handling.mode=rewrite"}},
	{name: "unwrap_rewrite_with_tombstone", input: "customers", props: []string{"transforms=unwrap", unwrapSMT, "transforms.unwrap.delete.tombstone.handling.mode=rewrite-with-tombstone",
		"transforms.unwrap.add.headers=op"}},
	{name: "unwrap_delete_to_tombstone", input: "customers", props: []string{"transforms=unwrap", unwrapSMT, "transforms.unwrap.delete.tombstone.handling.mode=delete-to-tombstone"}},
	{name: "unwrap_legacy_none_keep_tombstones", input: "customers", props: []string{"transforms=unwrap", unwrapSMT,
		"transforms.unwrap.delete.handling.mode=none", "transforms.unwrap.drop.tombstones=false"}},
	{name: "unwrap_legacy_rewrite", input: "customers", props: []string{"transforms=unwrap", unwrapSMT, "transforms.unwrap.delete.handling.mode=rewrite"}},
	{name: "unwrap_legacy_overridden", input: "customers", props: []string{"transforms=unwrap", unwrapSMT,
		"transforms.unwrap.delete.handling.mode=rewrite", "transforms.unwrap.delete.tombstone.handling.mode=drop"}},
	{name: "unwrap_add_fields_headers", input: "customers", both: true, props: []string{"transforms=unwrap", unwrapSMT,
		"transforms.unwrap.add.fields=op,table,lsn,source.ts_ms,ts_ms:event_ts,id", "transforms.unwrap.add.headers=op,db,source.snapshot:snap",
		"transforms.unwrap.delete.tombstone.handling.mode=rewrite"}},
	{name: "unwrap_add_prefix", input: "customers", props: []string{"transforms=unwrap", unwrapSMT,
		"transforms.unwrap.add.fields=op,name", "transforms.unwrap.add.fields.prefix=meta_", "transforms.unwrap.add.headers=op", "transforms.unwrap.add.headers.prefix="}},
	{name: "unwrap_route_by_field", input: "customers", props: []string{"transforms=unwrap", unwrapSMT, "transforms.unwrap.route.by.field=name",
		"transforms.unwrap.delete.tombstone.handling.mode=rewrite"}},

	// ByLogicalTableRouter.
	{name: "logical_table_default", input: "customers", both: true, props: []string{"transforms=route", "transforms.route.type=io.debezium.transforms.ByLogicalTableRouter",
		`transforms.route.topic.regex=srv\.public\.customers(_.*)?`, "transforms.route.topic.replacement=srv.all.customers"}},
	{name: "logical_table_key_field", input: "customers", props: []string{"transforms=route", "transforms.route.type=io.debezium.transforms.ByLogicalTableRouter",
		`transforms.route.topic.regex=srv\.public\.customers(_.*)?`, "transforms.route.topic.replacement=srv.all.customers",
		"transforms.route.key.field.name=shard", `transforms.route.key.field.regex=srv\.public\.customers_?(.*)`, "transforms.route.key.field.replacement=region-$1"}},
	{name: "logical_table_no_uniqueness", input: "customers", props: []string{"transforms=route", "transforms.route.type=io.debezium.transforms.ByLogicalTableRouter",
		`transforms.route.topic.regex=srv\.public\.(customers)(_eu)?`, "transforms.route.topic.replacement=all.$1", "transforms.route.key.enforce.uniqueness=false"}},

	// Kafka's transformations.
	{name: "regex_router", input: "customers", both: true, props: []string{"transforms=r", "transforms.r.type=org.apache.kafka.connect.transforms.RegexRouter",
		`transforms.r.regex=srv\.public\.(.*)`, "transforms.r.replacement=$1-topic"}},
	{name: "insert_field_value", input: "customers", both: true, props: []string{"transforms=unwrap,ins", unwrapSMT, "transforms.ins.type=org.apache.kafka.connect.transforms.InsertField$Value",
		"transforms.ins.topic.field=topic!", "transforms.ins.partition.field=part", "transforms.ins.timestamp.field=ts", "transforms.ins.static.field=src", "transforms.ins.static.value=pg"}},
	{name: "insert_field_key", input: "customers", props: []string{"transforms=ins", "transforms.ins.type=org.apache.kafka.connect.transforms.InsertField$Key", "transforms.ins.topic.field=topic"}},
	{name: "replace_field_value", input: "customers", both: true, props: []string{"transforms=unwrap,rep", unwrapSMT, "transforms.rep.type=org.apache.kafka.connect.transforms.ReplaceField$Value",
		"transforms.rep.exclude=email", "transforms.rep.renames=name:full_name,active:is_active"}},
	{name: "replace_field_legacy", input: "customers", props: []string{"transforms=unwrap,rep", unwrapSMT, "transforms.rep.type=org.apache.kafka.connect.transforms.ReplaceField$Value",
		"transforms.rep.whitelist=id,name,email", "transforms.rep.blacklist=email"}},
	{name: "replace_field_key", input: "customers", props: []string{"transforms=rep", "transforms.rep.type=org.apache.kafka.connect.transforms.ReplaceField$Key",
		"transforms.rep.renames=id:customer_id"}},
	{name: "mask_field", input: "customers", both: true, props: []string{"transforms=unwrap,mask", unwrapSMT, "transforms.mask.type=org.apache.kafka.connect.transforms.MaskField$Value",
		"transforms.mask.fields=email,active,born,id", "transforms.unwrap.delete.tombstone.handling.mode=drop"}},
	{name: "mask_field_replacement", input: "customers", props: []string{"transforms=unwrap,mask", unwrapSMT, "transforms.mask.type=org.apache.kafka.connect.transforms.MaskField$Value",
		"transforms.mask.fields=name,email", "transforms.mask.replacement=***", "transforms.unwrap.delete.tombstone.handling.mode=drop"}},
	{name: "value_to_key", input: "customers", both: true, props: []string{"transforms=unwrap,tomb,vk,ek", unwrapSMT, "transforms.unwrap.delete.tombstone.handling.mode=rewrite",
		"transforms.tomb.type=org.apache.kafka.connect.transforms.Filter", "transforms.tomb.predicate=isTombstone",
		"predicates=isTombstone,cust", "predicates.isTombstone.type=org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
		"transforms.vk.type=org.apache.kafka.connect.transforms.ValueToKey", "transforms.vk.fields=id,name",
		"transforms.ek.type=org.apache.kafka.connect.transforms.ExtractField$Key", "transforms.ek.field=id", "transforms.vk.predicate=cust", "transforms.ek.predicate=cust",
		customersPredicate, customersPattern}},
	{name: "extract_field_value", input: "customers", both: true, props: []string{"transforms=after", "transforms.after.type=org.apache.kafka.connect.transforms.ExtractField$Value",
		"transforms.after.field=after", "transforms.after.predicate=cust", "predicates=cust", customersPredicate, customersPattern}},
	{name: "extract_field_v2", input: "customers", props: []string{"transforms=x", "transforms.x.type=org.apache.kafka.connect.transforms.ExtractField$Value",
		"transforms.x.field=source.table", "transforms.x.field.syntax.version=v2", "transforms.x.predicate=cust", "predicates=cust", customersPredicate, customersPattern}},
	{name: "header_from_move", input: "customers", both: true, props: []string{"transforms=unwrap,hf", unwrapSMT, "transforms.hf.type=org.apache.kafka.connect.transforms.HeaderFrom$Value",
		"transforms.hf.fields=name,active,score,born", "transforms.hf.headers=n,a,s,b", "transforms.hf.operation=move", "transforms.unwrap.delete.tombstone.handling.mode=drop", "transforms.hf.predicate=cust", "predicates=cust", customersPredicate, customersPattern}},
	{name: "header_from_key_copy", input: "customers", props: []string{"transforms=unwrap,hf", unwrapSMT, "transforms.hf.type=org.apache.kafka.connect.transforms.HeaderFrom$Key",
		"transforms.hf.fields=id", "transforms.hf.headers=key_id", "transforms.hf.operation=copy", "transforms.hf.predicate=cust", "predicates=cust", customersPredicate, customersPattern}},
	{name: "cast_value", input: "customers", both: true, props: []string{"transforms=unwrap,cast", unwrapSMT, "transforms.cast.type=org.apache.kafka.connect.transforms.Cast$Value",
		"transforms.cast.spec=id:string,score:float64,active:int8,born:string,name:boolean"}},
	{name: "cast_key", input: "customers", props: []string{"transforms=cast", "transforms.cast.type=org.apache.kafka.connect.transforms.Cast$Key", "transforms.cast.spec=id:int64"}},
	{name: "filter_topic_predicate", input: "customers", props: []string{"transforms=drop", "transforms.drop.type=org.apache.kafka.connect.transforms.Filter",
		"transforms.drop.predicate=eu", "predicates=eu", "predicates.eu.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches", `predicates.eu.pattern=.*_eu`}},
	{name: "filter_negate", input: "customers", props: []string{"transforms=keep", "transforms.keep.type=org.apache.kafka.connect.transforms.Filter",
		"transforms.keep.predicate=eu", "transforms.keep.negate=true", "predicates=eu", "predicates.eu.type=TopicNameMatches", `predicates.eu.pattern=.*_eu`}},
	{name: "filter_has_header", input: "customers", props: []string{"transforms=drop", "transforms.drop.type=org.apache.kafka.connect.transforms.Filter",
		"transforms.drop.predicate=moved", "predicates=moved", "predicates.moved.type=HasHeaderKey", "predicates.moved.name=__debezium.oldkey"}},
	{name: "chain_unwrap_route_when", input: "customers", both: true, props: []string{"transforms=unwrap,route", unwrapSMT,
		"transforms.route.type=RegexRouter", `transforms.route.regex=srv\.public\.(.*)`, "transforms.route.replacement=cdc.$1",
		"transforms.route.predicate=notEu", "transforms.route.negate=true",
		"predicates=notEu", "predicates.notEu.type=TopicNameMatches", `predicates.notEu.pattern=.*_eu`}},
}

func TestGolden(t *testing.T) {
	for _, gc := range goldenCases {
		variants := []bool{true}
		if gc.both {
			variants = append(variants, false)
		}
		for _, schemas := range variants {
			name := gc.name
			p := gc.props
			if !schemas {
				name += "_noschemas"
				p = append(append([]string(nil), p...), "key.converter.schemas.enable=false", "value.converter.schemas.enable=false")
			}
			t.Run(name, func(t *testing.T) {
				got, err := runChain(t, gc.input, props(p...))
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, filepath.Join("testdata", "golden", name+".json"), got)
			})
		}
	}
}

// TestGoldenFilesUsed fails on golden files no case writes any more.
func TestGoldenFilesUsed(t *testing.T) {
	want := map[string]bool{}
	for _, gc := range goldenCases {
		want[gc.name+".json"] = true
		if gc.both {
			want[gc.name+"_noschemas.json"] = true
		}
	}
	entries, _ := os.ReadDir(filepath.Join("testdata", "golden"))
	var stale []string
	for _, e := range entries {
		if !want[e.Name()] {
			stale = append(stale, e.Name())
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("golden files no case produces (delete them): %s", strings.Join(stale, ", "))
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/transform -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d\n got: %s\nwant: %s", path, i+1, g, w)
			}
		}
	}
}
