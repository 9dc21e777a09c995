package transform

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// TestValidateBadOptions checks that bad transformation and predicate
// options are reported per field by the connector's validation (PUT
// /connector-plugins/{class}/config/validate), with Kafka's or Debezium's
// message.
func TestValidateBadOptions(t *testing.T) {
	cases := []struct {
		name  string
		props []string
		field string
		err   string
	}{
		{"outbox replacement group", []string{"transforms=outbox", outboxSMT, "transforms.outbox.route.topic.replacement=outbox.${nope}"},
			"transforms.outbox.route.topic.replacement", "The 'route.topic.replacement' value is invalid: No group with name {nope}"},
		{"outbox replacement index", []string{"transforms=outbox", outboxSMT, "transforms.outbox.route.topic.replacement=outbox.$2"},
			"transforms.outbox.route.topic.replacement", "The 'route.topic.replacement' value is invalid: No group 2"},
		{"outbox replacement trailing dollar", []string{"transforms=outbox", outboxSMT, "transforms.outbox.route.topic.replacement=a$"},
			"transforms.outbox.route.topic.replacement", "Illegal group reference: group index is missing"},
		{"outbox regex", []string{"transforms=outbox", outboxSMT, "transforms.outbox.route.topic.regex=(a"},
			"transforms.outbox.route.topic.regex", "The 'route.topic.regex' value is invalid: A valid regular expressions is expected, but error parsing regexp: missing closing )"},
		{"outbox placement pairs", []string{"transforms=outbox", outboxSMT, "transforms.outbox.table.fields.additional.placement=type"},
			"transforms.outbox.table.fields.additional.placement", "The 'table.fields.additional.placement' value is invalid: A comma-separated list of valid String pairs or trios is expected but got: [type]"},
		{"outbox placement name", []string{"transforms=outbox", outboxSMT, "transforms.outbox.table.fields.additional.placement=type:body"},
			"transforms.outbox.table.fields.additional.placement", `placement "body" of column "type" is not one of header, envelope, partition`},
		{"outbox op behavior", []string{"transforms=outbox", outboxSMT, "transforms.outbox.table.op.invalid.behavior=ignore"},
			"transforms.outbox.table.op.invalid.behavior", "The 'table.op.invalid.behavior' value is invalid: Value must be one of warn, error, fatal"},
		{"outbox boolean", []string{"transforms=outbox", outboxSMT, "transforms.outbox.table.expand.json.payload=yes"},
			"transforms.outbox.table.expand.json.payload", "The 'table.expand.json.payload' value is invalid: Either 'true' or 'false' is expected"},
		{"outbox null behavior", []string{"transforms=outbox", outboxSMT, "transforms.outbox.table.json.payload.null.behavior=keep"},
			"transforms.outbox.table.json.payload.null.behavior", "Value must be one of"},
		{"unwrap mode", []string{"transforms=unwrap", unwrapSMT, "transforms.unwrap.delete.tombstone.handling.mode=keep"},
			"transforms.unwrap.delete.tombstone.handling.mode", "The 'delete.tombstone.handling.mode' value is invalid: Value must be one of "},
		{"unwrap legacy mode", []string{"transforms=unwrap", unwrapSMT, "transforms.unwrap.delete.handling.mode=keep"},
			"transforms.unwrap.delete.handling.mode", "The 'delete.handling.mode' value is invalid: Value must be one of "},
		{"unwrap add.fields", []string{"transforms=unwrap", unwrapSMT, "transforms.unwrap.add.fields=a:b:c"},
			"transforms.unwrap.add.fields", "The 'add.fields' value is invalid: Unexpected field name: a:b:c"},
		{"logical table regex required", []string{"transforms=r", "transforms.r.type=io.debezium.transforms.ByLogicalTableRouter", "transforms.r.topic.replacement=x"},
			"transforms.r.topic.regex", "The 'topic.regex' value is invalid: A value is required"},
		{"logical table key replacement", []string{"transforms=r", "transforms.r.type=io.debezium.transforms.ByLogicalTableRouter",
			"transforms.r.topic.regex=(.*)", "transforms.r.topic.replacement=x", "transforms.r.key.field.regex=(.*)"},
			"transforms.r.key.field.replacement", "The 'key.field.replacement' value is invalid: key.field.replacement must be non-empty if key.field.regex is set."},
		{"regex router missing", []string{"transforms=r", "transforms.r.type=org.apache.kafka.connect.transforms.RegexRouter", "transforms.r.regex=.*"},
			"transforms.r.replacement", `Missing required configuration "transforms.r.replacement" which has no default value.`},
		{"regex router regex", []string{"transforms=r", "transforms.r.type=RegexRouter", "transforms.r.regex=[", "transforms.r.replacement=x"},
			"transforms.r.regex", "Invalid value [ for configuration regex: Invalid regex: error parsing regexp: missing closing ]"},
		{"regex router replacement", []string{"transforms=r", "transforms.r.type=RegexRouter", "transforms.r.regex=(a)", "transforms.r.replacement=$1$2"},
			"transforms.r.replacement", "Invalid value $1$2 for configuration replacement: No group 2"},
		{"mask fields empty", []string{"transforms=m", "transforms.m.type=org.apache.kafka.connect.transforms.MaskField$Value", "transforms.m.fields="},
			"transforms.m.fields", "Invalid value [] for configuration fields: Empty list"},
		{"mask replacement empty", []string{"transforms=m", "transforms.m.type=org.apache.kafka.connect.transforms.MaskField$Key", "transforms.m.fields=a", "transforms.m.replacement="},
			"transforms.m.replacement", "Invalid value  for configuration replacement: String must be non-empty"},
		{"value to key", []string{"transforms=v", "transforms.v.type=ValueToKey"},
			"transforms.v.fields", `Missing required configuration "transforms.v.fields" which has no default value.`},
		{"replace renames", []string{"transforms=r", "transforms.r.type=org.apache.kafka.connect.transforms.ReplaceField$Value", "transforms.r.renames=a:b,c"},
			"transforms.r.renames", "Invalid value [a:b, c] for configuration renames: Invalid rename mapping: c"},
		{"insert nothing", []string{"transforms=i", "transforms.i.type=org.apache.kafka.connect.transforms.InsertField$Value"},
			"transforms.i.topic.field", "No field insertion configured"},
		{"insert static value", []string{"transforms=i", "transforms.i.type=org.apache.kafka.connect.transforms.InsertField$Value", "transforms.i.static.field=x"},
			"transforms.i.static.value", "Invalid value null for configuration static.value: No value specified for static field: x"},
		{"extract backtick", []string{"transforms=e", "transforms.e.type=org.apache.kafka.connect.transforms.ExtractField$Value",
			"transforms.e.field=`a.b", "transforms.e.field.syntax.version=V2"},
			"transforms.e.field", "Incomplete backtick pair in path: [`a.b], consider adding a backslash before backtick at position 0 to escape it"},
		{"extract syntax", []string{"transforms=e", "transforms.e.type=org.apache.kafka.connect.transforms.ExtractField$Value", "transforms.e.field=a",
			"transforms.e.field.syntax.version=V3"},
			"transforms.e.field.syntax.version", "Invalid value V3 for configuration field.syntax.version: String must be one of (case insensitive): V1, V2"},
		{"header from count", []string{"transforms=h", "transforms.h.type=org.apache.kafka.connect.transforms.HeaderFrom$Value",
			"transforms.h.fields=a,b", "transforms.h.headers=x", "transforms.h.operation=copy"},
			"transforms.h.headers", "'fields' config must have the same number of elements as 'headers' config."},
		{"header from operation", []string{"transforms=h", "transforms.h.type=org.apache.kafka.connect.transforms.HeaderFrom$Key",
			"transforms.h.fields=a", "transforms.h.headers=x", "transforms.h.operation=mv"},
			"transforms.h.operation", "Invalid value mv for configuration operation: String must be one of: move, copy"},
		{"cast type", []string{"transforms=c", "transforms.c.type=org.apache.kafka.connect.transforms.Cast$Value", "transforms.c.spec=a:int128"},
			"transforms.c.spec", "Invalid type found in casting spec: int128"},
		{"cast bytes", []string{"transforms=c", "transforms.c.type=org.apache.kafka.connect.transforms.Cast$Value", "transforms.c.spec=bytes"},
			"transforms.c.spec", "Cast transformation does not support casting to BYTES; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"},
		{"cast whole and field", []string{"transforms=c", "transforms.c.type=org.apache.kafka.connect.transforms.Cast$Value", "transforms.c.spec=int64,a:string"},
			"transforms.c.spec", "Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec"},
		{"cast triple", []string{"transforms=c", "transforms.c.type=org.apache.kafka.connect.transforms.Cast$Value", "transforms.c.spec=a:b:c"},
			"transforms.c.spec", "Invalid value [a:b:c] for configuration renames: Invalid rename mapping: a:b:c"},
		{"timestamp format", []string{"transforms=t", "transforms.t.type=TimestampRouter", "transforms.t.timestamp.format=yyyyMMddQ"},
			"transforms.t.timestamp.format", "Invalid value yyyyMMddQ for configuration timestamp.format: Illegal pattern character 'Q'"},
		{"unknown class", []string{"transforms=x", "transforms.x.type=org.example.Nope"},
			"transforms.x.type", "Invalid value org.example.Nope for configuration transforms.x.type: Class org.example.Nope could not be found."},
		{"predicate as transform", []string{"transforms=x", "transforms.x.type=TopicNameMatches"},
			"transforms.x.type", "Class TopicNameMatches could not be found."},
		{"missing type", []string{"transforms=x"},
			"transforms.x.type", `Missing required configuration "transforms.x.type" which has no default value.`},
		{"negate without predicate", []string{"transforms=x", "transforms.x.type=Filter", "transforms.x.negate=true"},
			"transforms.x.type", "Config 'transforms.x.negate' was provided but there is no config 'transforms.x.predicate' defining a predicate to be negated."},
		{"predicate not listed", []string{"transforms=x", "transforms.x.type=Filter", "transforms.x.predicate=p"},
			"transforms.x.predicate", "Invalid value p for configuration transforms.x.predicate: Predicate alias p is not listed in predicates"},
		{"predicate pattern", []string{"transforms=x", "transforms.x.type=Filter", "transforms.x.predicate=p", "predicates=p",
			"predicates.p.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches", "predicates.p.pattern=*"},
			"predicates.p.pattern", "Invalid value * for configuration pattern: Invalid regex: error parsing regexp: missing argument to repetition operator"},
		{"predicate empty name", []string{"predicates=p", "predicates.p.type=HasHeaderKey", "predicates.p.name="},
			"predicates.p.name", "Invalid value  for configuration name: String must be non-empty"},
		{"duplicate alias", []string{"transforms=a,a", "transforms.a.type=Filter"},
			"transforms", "Invalid value [a, a] for configuration transforms: Duplicate alias provided."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ci := options.Postgres.Validate(props(tc.props...))
			var got []string
			for _, c := range ci.Configs {
				if c.Value != nil && c.Value.Name == tc.field {
					got = c.Value.Errors
				}
			}
			found := false
			for _, e := range got {
				found = found || strings.Contains(e, tc.err)
			}
			if !found {
				t.Errorf("errors of %s = %q, want one containing %q (all: %v)", tc.field, got, tc.err, ci.Err())
			}
			// POST /connectors refuses the configuration too.
			if _, err := options.ParsePostgres(props(tc.props...)); err == nil {
				t.Errorf("ParsePostgres accepted the configuration")
			}
		})
	}
}

// TestValidateGoodOptions checks that the golden configurations and the
// documented outbox configuration validate without errors or warnings.
func TestValidateGoodOptions(t *testing.T) {
	configs := [][]string{{"transforms=outbox", outboxSMT}}
	for _, gc := range goldenCases {
		configs = append(configs, gc.props)
	}
	for _, p := range configs {
		pc, err := options.ParsePostgres(props(p...))
		if err != nil {
			t.Errorf("%v: %v", p, err)
			continue
		}
		for _, w := range pc.Warnings {
			if strings.Contains(w, "transforms.") || strings.Contains(w, "predicates.") {
				t.Errorf("%v: warning %s", p, w)
			}
		}
	}
}

func TestNoTransforms(t *testing.T) {
	pc, err := options.ParsePostgres(props())
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewChain(pc.Config, Options{})
	if c != nil || err != nil {
		t.Fatalf("NewChain without transforms = %v, %v; want nil, nil", c, err)
	}
}

// TestPassThrough checks that a chain whose plugins read neither key nor
// value leaves their bytes untouched (the same slices).
func TestPassThrough(t *testing.T) {
	c, pc := newTestChain(t, props("transforms=r", "transforms.r.type=RegexRouter", `transforms.r.regex=srv\.(.*)`, "transforms.r.replacement=x.$1"), nil)
	if k, v := c.Parses(); k || v {
		t.Fatalf("Parses() = %v, %v", k, v)
	}
	in := readRecords(t, filepath.Join("testdata", "input", "customers.json"))
	out, err := newJSONChain(c, pc).applyAll(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("%d records out of %d", len(out), len(in))
	}
	for i := range out {
		if in[i].Value != nil && &out[i].Value[0] != &in[i].Value[0] {
			t.Errorf("record %d: value copied", i)
		}
		if !strings.HasPrefix(out[i].Topic, "x.") && strings.HasPrefix(in[i].Topic, "srv.") {
			t.Errorf("record %d: topic %s", i, out[i].Topic)
		}
	}
}

// TestTransformDrop checks Transform's API: false for a dropped record.
func TestTransformDrop(t *testing.T) {
	c, pc := newTestChain(t, props("transforms=outbox", outboxSMT), nil)
	jc := newJSONChain(c, pc)
	in := readRecords(t, filepath.Join("testdata", "input", "outbox.json"))
	got, keep, err := jc.apply(in[0])
	if err != nil || !keep || got.Topic != "outbox.event.order" {
		t.Fatalf("create: %v, %v, %v", got, keep, err)
	}
	for _, r := range in {
		if r.Value == nil { // the outbox delete's tombstone
			got, keep, err := jc.apply(r)
			if err != nil || keep {
				t.Fatalf("tombstone: %v, %v, %v", got, keep, err)
			}
		}
	}
}

func TestApplyErrors(t *testing.T) {
	cases := []struct {
		name  string
		input string
		props []string
		err   string
	}{
		{"outbox update fatal", "outbox", []string{"transforms=outbox", outboxSMT, "transforms.outbox.table.op.invalid.behavior=fatal"},
			`Unexpected update message received {"id":"0195c4a5-0001-7000-8000-000000000001"}, fail.`},
		{"outbox missing payload column", "outbox", []string{"transforms=outbox", outboxSMT, "transforms.outbox.table.field.event.payload=body"},
			"Unable to find payload field body in event"},
		{"outbox missing envelope column", "outbox", []string{"transforms=outbox", outboxSMT, "transforms.outbox.table.fields.additional.placement=nope:envelope"},
			"Unable to find field nope in event"},
		{"outbox timestamp not a timestamp", "outbox", []string{"transforms=outbox", outboxSMT, "transforms.outbox.table.field.event.timestamp=tenant"},
			"Field 'tenant' is not of type INT64"},
		{"outbox partition not int32", "outbox", []string{"transforms=outbox", outboxSMT, "transforms.outbox.table.fields.additional.placement=created:partition"},
			"Field 'created' is not of type INT32"},
		{"outbox on another table", "customers", []string{"transforms=outbox", outboxSMT},
			"Unable to find payload field payload in event"},
		{"timestamp router without timestamp", "customers", []string{"transforms=t", "transforms.t.type=TimestampRouter"},
			"Timestamp missing on record"},
		{"value to key on a tombstone", "customers", []string{"transforms=v", "transforms.v.type=ValueToKey", "transforms.v.fields=op"},
			"Only Map objects supported in absence of schema for [copying fields from value to key], found: null"},
		{"value to key of a missing field", "customers", []string{"transforms=v", "transforms.v.type=ValueToKey", "transforms.v.fields=id"},
			"Field does not exist: id"},
		{"mask decimal", "customers", []string{"transforms=unwrap,m", unwrapSMT, "transforms.m.type=org.apache.kafka.connect.transforms.MaskField$Value", "transforms.m.fields=score"},
			"BigDecimal has mismatching scale value for given Decimal schema"},
		{"extract unknown field", "customers", []string{"transforms=e", "transforms.e.type=org.apache.kafka.connect.transforms.ExtractField$Value", "transforms.e.field=nope"},
			"Unknown field: nope"},
		{"cast a struct", "customers", []string{"transforms=c", "transforms.c.type=org.apache.kafka.connect.transforms.Cast$Value", "transforms.c.spec=string"},
			"Cast transformation does not support casting from STRUCT; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]"},
		{"cast a string to int", "customers", []string{"transforms=unwrap,c", unwrapSMT, "transforms.c.type=org.apache.kafka.connect.transforms.Cast$Value", "transforms.c.spec=name:int32"},
			"Value (Ann) was out of range for requested data type"},
		{"insert offset on a source record", "customers", []string{"transforms=i", "transforms.i.type=org.apache.kafka.connect.transforms.InsertField$Value", "transforms.i.offset.field=off"},
			"Only SinkRecord supported for [field insertion], found: org.apache.kafka.connect.source.SourceRecord"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runChain(t, tc.input, props(tc.props...))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %v, want an error containing %q", err, tc.err)
			}
			if !errors.Is(err, ErrTransform) {
				t.Errorf("%v does not wrap ErrTransform", err)
			}
		})
	}
}

func TestJavaReplacement(t *testing.T) {
	re, err := compileJavaRegex(`(?<a>x)(y)?(z)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ repl, in, want string }{
		{"${a}-$2-$3", "xz", "x--z"},
		{`\$1$10`, "xyz", "$1x0"},
		{"[$0]", "xyz", "[xyz]"},
	} {
		r, err := parseJavaReplacement(tc.repl, re.find)
		if err != nil {
			t.Fatalf("%s: %v", tc.repl, err)
		}
		if got := re.replaceFirst(tc.in, r); got != tc.want {
			t.Errorf("%s on %s = %s, want %s", tc.repl, tc.in, got, tc.want)
		}
	}
	// Matcher.matches() decides, replaceFirst() rewrites the first find().
	alt, _ := compileJavaRegex(`a|ab`)
	r, _ := parseJavaReplacement("X", alt.find)
	if !alt.matches("ab") || alt.replaceFirst("ab", r) != "Xb" {
		t.Errorf("a|ab on ab: matches=%v, replaceFirst=%s", alt.matches("ab"), alt.replaceFirst("ab", r))
	}
	for repl, want := range map[string]string{"${": "named capturing group has 0 length name", "${a": "named capturing group is missing trailing '}'",
		"$x": "Illegal group reference", `\`: "character to be escaped is missing", "$4": "No group 4"} {
		if _, err := parseJavaReplacement(repl, re.find); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", repl, err, want)
		}
	}
}

func TestSimpleDateFormat(t *testing.T) {
	ms := int64(1742741274875) // 2025-03-23T14:47:54.875Z, a Sunday
	for pattern, want := range map[string]string{
		"yyyyMMdd":                     "20250323",
		"yyyy-MM-dd'T'HH:mm:ss.SSSXXX": "2025-03-23T14:47:54.875Z",
		"yy-M-d h:mm a":                "25-3-23 2:47 PM",
		"EEE, d MMM yyyy":              "Sun, 23 Mar 2025",
		"EEEE MMMM D 'o''clock' ''":    "Sunday March 82 o'clock '",
		"kk KK z Z":                    "14 02 UTC +0000",
	} {
		f, err := compileSimpleDateFormat(pattern)
		if err != nil {
			t.Fatalf("%s: %v", pattern, err)
		}
		if got := f.format(ms); got != want {
			t.Errorf("%s: got %q, want %q", pattern, got, want)
		}
	}
}

func TestParseHeaderList(t *testing.T) {
	for in, want := range map[string]string{`[a, b]`: "a|b", `["a","b"]`: "a|b", `[]`: "", `x`: ""} {
		if got := strings.Join(parseHeaderList(in), "|"); got != want {
			t.Errorf("%s: %q", in, got)
		}
	}
}

// TestConcurrentApply runs one chain from several goroutines (go test
// -race checks the locking).
func TestConcurrentApply(t *testing.T) {
	c, pc := newTestChain(t, props("transforms=outbox", outboxSMT, "transforms.outbox.table.expand.json.payload=true"), slog.New(slog.DiscardHandler))
	in := readRecords(t, filepath.Join("testdata", "input", "outbox.json"))
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			jc := newJSONChain(c, pc) // one converter per goroutine, as per encoder
			var err error
			for i := 0; i < 50 && err == nil; i++ {
				for _, r := range in {
					if _, _, err = jc.apply(r); err != nil {
						break
					}
				}
			}
			done <- err
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestSchemaCacheStable checks that a JSONConverter hands out one *Schema
// per schema text, which the transforms' caches rely on.
func TestSchemaCacheStable(t *testing.T) {
	in := readRecords(t, filepath.Join("testdata", "input", "customers.json"))
	c := cd.NewJSONConverter(true)
	s1, _, err := c.ToConnect(in[1].Value)
	if err != nil {
		t.Fatal(err)
	}
	s2, _, _ := c.ToConnect(in[2].Value)
	if s1 != s2 {
		t.Error("two parses of one schema gave two *Schema")
	}
}
