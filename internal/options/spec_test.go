package options

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func sakila() map[string]string {
	return map[string]string{
		"name": "sakila-connector", "connector.class": PostgresClass,
		"database.hostname": "postgres", "database.port": "5432", "database.user": "postgres",
		"database.password": "postgres", "database.dbname": "postgres", "plugin.name": "pgoutput",
		"topic.prefix": "sakila-", "schema.include.list": "public", "table.include.list": "public.actor",
	}
}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "\x00" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

func TestValidationErrorText(t *testing.T) {
	_, err := ParsePostgres(with(sakila(), "topic.prefix", "\x00", "snapshot.mode", "never!"))
	want := "Connector configuration is invalid and contains the following 2 error(s):\n" +
		"The 'topic.prefix' value is invalid: A value is required\n" +
		"The 'snapshot.mode' value is invalid: Value must be one of always, initial_only, configuration_based, when_needed, initial, custom, no_data\n" +
		"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
	if err == nil || err.Error() != want {
		t.Fatalf("got:\n%v\nwant:\n%s", err, want)
	}
	var ve *ValidationError
	if !asValidationError(err, &ve) || len(ve.Problems) != 2 || ve.Problems[0].Field != "topic.prefix" {
		t.Errorf("problems = %+v", ve)
	}
}

// TestValidationErrorLine checks the command line's one-line text: the
// field, the value, and every value the declaration accepts, legacy ones
// included, with no REST endpoint to point at.
func TestValidationErrorLine(t *testing.T) {
	_, err := ParsePostgres(with(sakila(), "snapshot.mode", "sometimes"))
	var ve *ValidationError
	if !asValidationError(err, &ve) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	want := `snapshot.mode "sometimes" is not a valid value: use one of always, initial, no_data, initial_only, when_needed, configuration_based, custom, or the legacy never (= no_data), exported (= initial)`
	if got := ve.Line(); got != want {
		t.Errorf("Line() =\n%s\nwant\n%s", got, want)
	}
	f, _ := Postgres.Field("snapshot.mode")
	for _, e := range f.Enum {
		if !strings.Contains(ve.Line(), " "+e.Value) {
			t.Errorf("Line() does not name the declared value %q: %s", e.Value, ve.Line())
		}
	}

	_, err = ParsePostgres(with(sakila(), "topic.prefix", "", "snapshot.mode", "never!"))
	if !asValidationError(err, &ve) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	if got := ve.Line(); strings.Contains(got, "\n") || !strings.HasPrefix(got, "The 'topic.prefix' value is invalid: A value is required; ") || !strings.Contains(got, `; snapshot.mode "never!" is not a valid value: use one of `) {
		t.Errorf("Line() = %q", got)
	}
}

func asValidationError(err error, ve **ValidationError) bool {
	v, ok := err.(*ValidationError)
	*ve = v
	return ok
}

func TestKafkaMessages(t *testing.T) {
	cases := []struct {
		raw  map[string]string
		want string
	}{
		{with(sakila(), "name", "\x00"), `Missing required configuration "name" which has no default value.`},
		{with(sakila(), "name", " "), "Invalid value   for configuration name: String may not be empty"},
		{with(sakila(), "name", "a\tb"), "Invalid value a\tb for configuration name: String may not contain control sequences but had the following ASCII chars: 9"},
		{with(sakila(), "tasks.max", "0"), "Invalid value 0 for configuration tasks.max: Value must be at least 1"},
		{with(sakila(), "errors.tolerance", "some"), "Invalid value some for configuration errors.tolerance: String must be one of: none, all"},
		{with(sakila(), "exactly.once.support", "maybe"), "Invalid value maybe for configuration exactly.once.support: String must be one of (case insensitive): REQUIRED, REQUESTED"},
		{with(sakila(), "errors.log.enable", "yes"), "Invalid value yes for configuration errors.log.enable: Expected value to be either true or false"},
		{with(sakila(), "value.converter.schemas.enable", "nope"), "Invalid value nope for configuration schemas.enable: Expected value to be either true or false"},
		{with(sakila(), "topic.creation.default.partitions", "0", "topic.creation.default.replication.factor", "1"), "Invalid value 0 for configuration topic.creation.default.partitions: Number of partitions must be positive, or -1 to use the broker's default"},
		{with(sakila(), "topic.creation.default.partitions", "1", "topic.creation.default.replication.factor", "99999"), "Invalid value 99999 for configuration topic.creation.default.replication.factor: Not a number of type SHORT"},
		{with(sakila(), "transforms", "x", "transforms.x.type", "org.apache.kafka.connect.transforms.RegexRouter", "transforms.x.negate", "true"), "Config 'transforms.x.negate' was provided but there is no config 'transforms.x.predicate' defining a predicate to be negated."},
	}
	for _, c := range cases {
		_, err := ParsePostgres(c.raw)
		if err == nil || !strings.Contains(err.Error(), "\n"+c.want+"\n") {
			t.Errorf("want %q in:\n%v", c.want, err)
		}
	}
}

func TestDebeziumMessages(t *testing.T) {
	cases := []struct {
		raw  map[string]string
		want string
	}{
		{with(sakila(), "database.hostname", "::1"), "The 'database.hostname' value is invalid: ::1 has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)"},
		{with(sakila(), "max.batch.size", "0"), "The 'max.batch.size' value is invalid: A positive, non-zero integer value is expected"},
		{with(sakila(), "max.queue.size", "100"), "The 'max.queue.size' value is invalid: Must be larger than the maximum batch size"},
		{with(sakila(), "decimal.handling.mode", "float"), "The 'decimal.handling.mode' value is invalid: Value must be one of string, double, precise"},
		{with(sakila(), "plugin.name", "wal2json"), "The 'plugin.name' value is invalid: Value must be one of decoderbufs, pgoutput"},
		{with(sakila(), "snapshot.fetch.size", "-1"), "The 'snapshot.fetch.size' value is invalid: An non-negative integer is expected"},
		{with(sakila(), "message.prefix.include.list", "a", "message.prefix.exclude.list", "b"), `The 'message.prefix.exclude.list' value is invalid: "logical_decoding_message.prefix.include.list" is already specified`},
		{with(sakila(), "custom.metric.tags", "a"), "The 'custom.metric.tags' value is invalid: A equivalent-separated map of valid key/value pairs is expected, for example: k1=v1,k2=v2"},
		{with(sakila(), "replica.identity.autoset.values", "public.t:SOMETIMES"), "The 'replica.identity.autoset.values' value is invalid: public.t:SOMETIMES has an invalid format"},
		{with(sakila(), "topic.naming.strategy", "not a class"), "The 'topic.naming.strategy' value is invalid: A Java class name is expected"},
		{with(sakila(), "slot.retry.delay.ms", "x"), "The 'slot.retry.delay.ms' value is invalid: A long value is expected\nThe 'slot.retry.delay.ms' value is invalid: An integer is expected"},
	}
	for _, c := range cases {
		_, err := ParsePostgres(c.raw)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q in:\n%v", c.want, err)
		}
	}
}

func TestLegacyNamesAndValues(t *testing.T) {
	raw := with(sakila(), "topic.prefix", "\x00", "database.server.name", "old", "table.include.list", "\x00",
		"table.whitelist", "public.a", "snapshot.mode", "exported")
	p, err := ParsePostgres(raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.TopicPrefix != "old" || len(p.TableInclude) != 1 || p.SnapshotMode != SnapshotInitial {
		t.Errorf("got prefix %q, tables %v, snapshot %q", p.TopicPrefix, p.TableInclude, p.SnapshotMode)
	}
	if !p.Config.IsSet("topic.prefix") {
		t.Error("topic.prefix not reported as set")
	}
	if len(p.Warnings) != 3 {
		t.Errorf("warnings = %q", p.Warnings)
	}
	// Both names: the current one wins.
	p, err = ParsePostgres(with(sakila(), "database.server.name", "old"))
	if err != nil {
		t.Fatal(err)
	}
	if p.TopicPrefix != "sakila-" || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "both are set") {
		t.Errorf("prefix %q, warnings %q", p.TopicPrefix, p.Warnings)
	}
	// A legacy name is validated under the current name.
	_, err = ParsePostgres(with(sakila(), "topic.prefix", "\x00", "database.server.name", "bad name"))
	if err == nil || !strings.Contains(err.Error(), "The 'topic.prefix' value is invalid: bad name has invalid format") {
		t.Errorf("err = %v", err)
	}
}

func TestAcceptedWarnsOnlyWhenChanged(t *testing.T) {
	p, err := ParsePostgres(with(sakila(), "snapshot.isolation.mode", "SERIALIZABLE", "heartbeat.interval.ms", "0", "errors.tolerance", "none"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings for defaults: %q", p.Warnings)
	}
	p, err = ParsePostgres(with(sakila(), "snapshot.isolation.mode", "read_committed"))
	if err != nil {
		t.Fatal(err)
	}
	want := `"snapshot.isolation.mode" is accepted for Debezium compatibility but not implemented by pgmotion yet; the setting has no effect`
	if len(p.Warnings) != 1 || p.Warnings[0] != want {
		t.Errorf("warnings = %q", p.Warnings)
	}
	if got := p.Config.Str("snapshot.isolation.mode"); got != "read_committed" {
		t.Errorf("accepted value = %q", got)
	}
}

func TestPluginName(t *testing.T) {
	p, err := ParsePostgres(with(sakila(), "plugin.name", "\x00"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "set plugin.name=pgoutput") {
		t.Errorf("warnings = %q", p.Warnings)
	}
	if got := p.Config.Str("plugin.name"); got != "pgoutput" {
		t.Errorf("plugin.name = %q", got)
	}
	if _, err := ParsePostgres(with(sakila(), "plugin.name", "PGOUTPUT")); err != nil {
		t.Errorf("enums ignore case in Debezium: %v", err)
	}
}

func TestSecretsNeverShown(t *testing.T) {
	const pw, sslpw = "S3cr3t-Passw0rd", "Ke7-Passphrase"
	valid := with(sakila(), "database.password", pw, "database.sslpassword", sslpw)
	invalid := with(valid, "topic.prefix", "\x00", "database.port", "x", "tasks.max", "9")
	var texts []string
	p, err := ParsePostgres(valid)
	if err != nil {
		t.Fatal(err)
	}
	if p.Password.Reveal() != pw || p.SSLPassword.Reveal() != sslpw {
		t.Fatal("secrets not kept")
	}
	cs := p.ConnString(true)
	if !strings.Contains(cs.Reveal(), pw) {
		t.Error("ConnString lacks the password")
	}
	js, _ := json.Marshal(p.Password)
	texts = append(texts, fmt.Sprint(p), fmt.Sprintf("%+v %#v %s %q %x", p, p, p.Password, p.Password, p.Password),
		fmt.Sprint(cs), fmt.Sprintf("%v %s %+v %#v", cs, cs, cs, cs), p.RedactedConnString(true),
		p.Config.String(), fmt.Sprintf("%#v", p.Config), string(js), strings.Join(p.Warnings, "\n"))
	_, err = ParsePostgres(invalid)
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	texts = append(texts, err.Error())
	for _, raw := range []map[string]string{valid, invalid} {
		b, _ := json.Marshal(Postgres.Validate(raw))
		texts = append(texts, string(b))
	}
	for _, s := range texts {
		if strings.Contains(s, pw) || strings.Contains(s, sslpw) {
			t.Errorf("secret shown in %q", s)
		}
	}
	ci := Postgres.Validate(valid)
	for _, c := range ci.Configs {
		if c.Value.Name == "database.password" && (c.Value.Value == nil || *c.Value.Value != Hidden) {
			t.Errorf("database.password value = %v, want [hidden]", c.Value.Value)
		}
	}
	// Undeclared keys that look like secrets are masked by String too.
	c, err := Postgres.Parse(with(valid, "producer.override.sasl.jaas.config", "jaas-secret-value"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.String(), "jaas-secret-value") {
		t.Errorf("String shows an undeclared secret: %s", c)
	}
}

func TestValidateShape(t *testing.T) {
	ci := Postgres.Validate(with(sakila(), "name", "\x00", "connector.class", "Postgres", "snapshot.mode", "bogus"))
	if ci.Name != "Postgres" {
		t.Errorf("name = %q", ci.Name)
	}
	if ci.ErrorCount != 2 {
		t.Errorf("error_count = %d: %v", ci.ErrorCount, ci.Err())
	}
	wantGroups := []string{"Common", "Transforms", "Predicates", "Error Handling", "Topic Creation", "Exactly Once Support", "offsets.topic", "Postgres", "Connector", "Events", "Schemas", "Serialization"}
	if !reflect.DeepEqual(ci.Groups, wantGroups) {
		t.Errorf("groups = %q", ci.Groups)
	}
	b, err := json.Marshal(ci)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`{"name":"Postgres","error_count":2,"groups":["Common",`,
		`{"definition":{"name":"name","type":"STRING","required":true,"default_value":null,"importance":"HIGH","documentation":"Globally unique name to use for this connector.","group":"Common","width":"MEDIUM","display_name":"Connector name","dependents":[],"order":1},"value":{"name":"name","value":null,"recommended_values":[],"errors":["Missing required configuration \"name\" which has no default value."],"visible":true}}`,
		`"value":{"name":"database.password","value":"[hidden]","recommended_values":[],"errors":[],"visible":true}`,
		`"value":{"name":"tasks.max","value":"1",`,
		`"definition":{"name":"topic.prefix","type":"STRING","required":false,"default_value":null,"importance":"HIGH"`,
		`"recommended_values":["always","initial_only","configuration_based","when_needed","initial","custom","no_data"],"errors":["The 'snapshot.mode' value is invalid: Value must be one of always, initial_only, configuration_based, when_needed, initial, custom, no_data"]`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("validate JSON lacks %s", want)
		}
	}
	if err := ci.Err(); err == nil || !strings.HasPrefix(err.Error(), "Connector configuration is invalid and contains the following 2 error(s):\nMissing required configuration \"name\"") {
		t.Errorf("Err() = %v", err)
	}
	// Parse and Validate agree.
	_, perr := ParsePostgres(with(sakila(), "name", "\x00", "connector.class", "Postgres", "snapshot.mode", "bogus"))
	if perr == nil || perr.Error() != ci.Err().Error() {
		t.Errorf("Parse error differs from Validate:\n%v\n%v", perr, ci.Err())
	}
}

func TestConfigKeyInfos(t *testing.T) {
	infos := Postgres.ConfigKeyInfos()
	if infos[0].Name != "topic.prefix" || *infos[0].Group != "Postgres" || infos[0].Order != 1 {
		t.Errorf("first = %+v", infos[0])
	}
	byName := map[string]ConfigKeyInfo{}
	for _, i := range infos {
		if _, dup := byName[i.Name]; dup {
			t.Errorf("duplicate %s", i.Name)
		}
		byName[i.Name] = i
	}
	if i := byName["database.port"]; *i.DefaultValue != "5432" || i.Type != "INT" {
		t.Errorf("database.port = %+v", i)
	}
	if i := byName["connector.class"]; !i.Required || i.DefaultValue != nil {
		t.Errorf("connector.class = %+v", i)
	}
	if i := byName["transforms"]; *i.DefaultValue != "" || i.Type != "LIST" || i.Order != 8 {
		t.Errorf("transforms = %+v", i)
	}
	if _, ok := byName["snapshot.custom.class"]; ok {
		t.Error("removed option listed")
	}
	if len(infos) < 150 {
		t.Errorf("only %d definitions", len(infos))
	}
}

func TestRegistry(t *testing.T) {
	for _, n := range []string{PostgresClass, "PostgresConnector", "Postgres"} {
		if s, ok := Lookup(n); !ok || s != Postgres {
			t.Errorf("Lookup(%q) = %v, %v", n, s, ok)
		}
	}
	if _, ok := Lookup("postgres"); ok {
		t.Error("lookup must be exact")
	}
	if all := All(); len(all) == 0 || all[0].Class == "" {
		t.Error("All() is empty")
	}
	mustPanic(t, "duplicate class", func() { Register(&Spec{Class: PostgresClass, Type: "source"}) })
	mustPanic(t, "bad default", func() {
		Register(&Spec{Class: "x.Bad", Type: "source", Fields: []*Field{
			{Name: "n", Type: TypeInt, Default: "ten", Importance: Low},
		}})
	})
	mustPanic(t, "undeclared dependent", func() {
		Register(&Spec{Class: "x.Dep", Type: "source", Fields: []*Field{
			{Name: "n", Type: TypeInt, Importance: Low, Dependents: []string{"m"}},
		}})
	})
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}

func TestAccessors(t *testing.T) {
	c, err := Postgres.Parse(with(sakila(), "snapshot.mode", "never", "status.update.interval.ms", "2500", "table.include.list", "a , b"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Str("snapshot.mode"); got != "no_data" {
		t.Errorf("snapshot.mode = %q", got)
	}
	if got := c.Duration("status.update.interval.ms"); got.Milliseconds() != 2500 {
		t.Errorf("duration = %v", got)
	}
	if got := c.List("table.include.list"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("list = %q", got)
	}
	if got := c.Int("tasks.max"); got != 1 {
		t.Errorf("tasks.max = %d", got)
	}
	if got := c.Long("errors.retry.delay.max.ms"); got != 60000 {
		t.Errorf("errors.retry.delay.max.ms = %d", got)
	}
	if c.IsSet("slot.name") || !c.IsSet("topic.prefix") {
		t.Error("IsSet")
	}
	mustPanic(t, "undeclared", func() { c.Str("no.such.option") })
	mustPanic(t, "wrong type", func() { c.Bool("slot.name") })
}

func TestFilters(t *testing.T) {
	p, err := ParsePostgres(with(sakila(), "schema.include.list", "\x00", "table.include.list", "\x00",
		"schema.exclude.list", "audit_.*", "table.exclude.list", `public\.tmp_.*,public.a\,b`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		schema, table string
		want          bool
	}{
		{"public", "customers", true},
		{"PUBLIC", "Customers", true},
		{"audit_2024", "log", false},
		{"xaudit_1", "log", true}, // anchored
		{"public", "tmp_x", false},
		{"public", "TMP_X", false}, // case-insensitive
		{"public", "a,b", false},   // escaped comma
		{"pg_catalog", "pg_class", false},
		{"information_schema", "tables", false},
		{"public", "spatial_ref_sys", false},
	}
	for _, c := range cases {
		if got := p.TableIncluded(c.schema, c.table); got != c.want {
			t.Errorf("TableIncluded(%s, %s) = %v", c.schema, c.table, got)
		}
	}
	p, err = ParsePostgres(sakila())
	if err != nil {
		t.Fatal(err)
	}
	if !p.TableIncluded("public", "actor") || p.TableIncluded("public", "film") || p.TableIncluded("other", "actor") {
		t.Error("include lists")
	}
}

func TestKeyColumnsFor(t *testing.T) {
	p, err := ParsePostgres(with(sakila(), "message.key.columns", `public.orders:customer_id, order_date;public\.line.*:order_id`))
	if err != nil {
		t.Fatal(err)
	}
	cols := []string{"id", "order_date", "customer_id", "order_id"}
	if got := p.KeyColumnsFor("public", "orders", cols); !reflect.DeepEqual(got, []string{"customer_id", "order_date"}) {
		t.Errorf("orders: %q", got)
	}
	if got := p.KeyColumnsFor("public", "lines", cols); !reflect.DeepEqual(got, []string{"order_id"}) {
		t.Errorf("lines: %q", got)
	}
	if got := p.KeyColumnsFor("public", "customers", cols); got != nil {
		t.Errorf("customers: %q", got)
	}
	_, err = ParsePostgres(with(sakila(), "message.key.columns", "public.(x:id"))
	if err == nil || !strings.Contains(err.Error(), "The 'message.key.columns' value is invalid: table expression") {
		t.Errorf("bad regex: %v", err)
	}
}

func TestConnString(t *testing.T) {
	p, err := ParsePostgres(with(sakila(), "database.password", `it's a \ "pass"`, "database.sslmode", "disable", "database.port", "6543"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgconn.ParseConfig(p.ConnString(false).Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "postgres" || cfg.Port != 6543 || cfg.User != "postgres" || cfg.Password != `it's a \ "pass"` || cfg.Database != "postgres" || cfg.TLSConfig != nil {
		t.Errorf("parsed %+v", cfg)
	}
	rcfg, err := pgconn.ParseConfig(p.ConnString(true).Reveal())
	if err != nil {
		t.Fatal(err)
	}
	if rcfg.RuntimeParams["replication"] != "database" {
		t.Errorf("runtime params = %v", rcfg.RuntimeParams)
	}
	if r := p.RedactedConnString(false); strings.Contains(r, "it's") || !strings.Contains(r, "password='xxxxx'") {
		t.Errorf("redacted = %s", r)
	}
}

func TestTransformsEnrich(t *testing.T) {
	raw := with(sakila(), "transforms", "unwrap", "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState", "transforms.unwrap.predicate", "p",
		"predicates", "p", "predicates.p.type", "org.apache.kafka.connect.transforms.predicates.TopicNameMatches", "predicates.p.pattern", ".*")
	ci := Postgres.Validate(raw)
	if ci.ErrorCount != 0 {
		t.Fatal(ci.Err())
	}
	var names []string
	for _, c := range ci.Configs {
		if strings.HasPrefix(c.Value.Name, "transforms.") || strings.HasPrefix(c.Value.Name, "predicates.") {
			names = append(names, c.Value.Name)
		}
	}
	want := []string{"transforms.unwrap.type", "transforms.unwrap.predicate", "transforms.unwrap.negate", "predicates.p.type"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("enriched = %q", names)
	}
	if !strings.Contains(strings.Join(ci.Groups, ","), "Transforms: unwrap") {
		t.Errorf("groups = %q", ci.Groups)
	}
	// A registered transformation spec makes unknown classes errors and
	// embeds its options.
	Register(&Spec{Class: "test.Transform", Aliases: []string{"TestTransform"}, Type: "transformation", Fields: []*Field{
		{Name: "mode", Type: TypeString, Default: "a", Enum: enums("a", "b"), Importance: Low, Origin: OriginKafka},
	}})
	t.Cleanup(func() { unregister("test.Transform") })
	_, err := ParsePostgres(with(sakila(), "transforms", "t", "transforms.t.type", "TestTransform", "transforms.t.mode", "c"))
	// Validators of embedded options see their own name (ConfigDef.embed).
	if err == nil || !strings.Contains(err.Error(), "Invalid value c for configuration mode: String must be one of: a, b") {
		t.Errorf("embedded option: %v", err)
	}
	_, err = ParsePostgres(with(sakila(), "transforms", "t", "transforms.t.type", "no.such.Transform"))
	if err == nil || !strings.Contains(err.Error(), "Invalid value no.such.Transform for configuration transforms.t.type: Class no.such.Transform could not be found.") {
		t.Errorf("unknown class: %v", err)
	}
}

func TestReplaceGenerated(t *testing.T) {
	doc := []byte("# X\n\n" + ReadmeBegin + "\nold\n" + ReadmeEnd + "\ntail\n")
	got, err := ReplaceGenerated(doc, []byte("new\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "# X\n\n" + ReadmeBegin + "\nnew\n" + ReadmeEnd + "\ntail\n"; string(got) != want {
		t.Errorf("got %q", got)
	}
	if _, err := ReplaceGenerated([]byte("no markers"), nil); err != ErrNoMarkers {
		t.Errorf("err = %v", err)
	}
}

func TestSplitRegexList(t *testing.T) {
	got := SplitRegexList(` a , b\,c ,, d\\,`)
	want := []string{"a", "b,c", `d\\`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
}
