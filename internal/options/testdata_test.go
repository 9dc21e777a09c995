package options

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// badConnectors lists, for each testdata/connectors/*.bad.json, substrings
// every one of which must appear in the error.
var badConnectors = map[string][]string{
	"missing-topic-prefix": {"contains the following 1 error(s):\nThe 'topic.prefix' value is invalid: A value is required\nYou can also find"},
	"bad-snapshot-mode":    {"The 'snapshot.mode' value is invalid: Value must be one of always, initial_only, configuration_based, when_needed, initial, custom, no_data"},
	"non-numeric-port":     {"The 'database.port' value is invalid: An integer is expected"},
	"port-out-of-range":    {"The 'database.port' value is invalid: Value must be no more than 65535"},
	"decoderbufs":          {"The 'plugin.name' value is invalid:", "set plugin.name=pgoutput"},
	"tasks-max-2":          {"Invalid value 2 for configuration tasks.max: the connector runs exactly 1 task; set tasks.max=1"},
	"tasks-max-abc": {
		"Invalid value abc for configuration tasks.max: Not a number of type INT",
		"Invalid value null for configuration tasks.max: Value must be non-null",
	},
	"bad-regex":                    {"The 'table.include.list' value is invalid: A comma-separated list of valid regular expressions is expected, but error parsing regexp: missing closing ): `public.(orders`"},
	"schema-include-and-exclude":   {`The 'schema.exclude.list' value is invalid: "schema.include.list" is already specified`},
	"table-include-and-exclude":    {`The 'table.exclude.list' value is invalid: "table.include.list" is already specified`},
	"bad-slot-name":                {"The 'slot.name' value is invalid: Valid replication slot name must contain only digits, lowercase characters and underscores with length <= 63"},
	"bad-skipped-operations":       {"The 'skipped.operations' value is invalid: Invalid operation"},
	"skipped-none-and-ops":         {"The 'skipped.operations' value is invalid: 'none' cannot be specified with other skipped operation types"},
	"bad-message-key-columns":      {`The 'message.key.columns' value is invalid: public.orders has an invalid format (expecting '^\s*([^:]+):([^:,]+(,[^:,]+)*)\s*$')`},
	"bad-topic-prefix":             {"The 'topic.prefix' value is invalid: my prefix has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)"},
	"bad-boolean":                  {"The 'tombstones.on.delete' value is invalid: Either 'true' or 'false' is expected"},
	"bad-ddl-capture":              {"The 'pgmotion.ddl.capture' value is invalid: Either 'true' or 'false' is expected"},
	"bad-transaction-metadata":     {"The 'provide.transaction.metadata' value is invalid: Either 'true' or 'false' is expected"},
	"bad-transaction-topic":        {"The 'topic.transaction' value is invalid: tx topic has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)"},
	"missing-name":                 {"Invalid value  for configuration name: String may not be empty"},
	"name-mismatch":                {"Connector name configuration (other) doesn't match connector name in the URL (c)"},
	"null-value":                   {"Null value can not be supplied as the configuration value."},
	"unknown-converter":            {"Invalid value io.confluent.connect.avro.AvroConverter for configuration value.converter: Class io.confluent.connect.avro.AvroConverter could not be found."},
	"transform-without-type":       {`Missing required configuration "transforms.unwrap.type" which has no default value.`},
	"duplicate-transform-alias":    {"Invalid value [a, a] for configuration transforms: Duplicate alias provided."},
	"topic-creation-partial":       {`Missing required configuration "topic.creation.default.replication.factor" which has no default value.`},
	"wrong-connector-class":        {"Invalid value io.debezium.connector.mysql.MySqlConnector for configuration connector.class:"},
	"malformed-json":               {"malformed JSON at line 1, column", "invalid character '}'"},
	"object-value":                 {`config value of "slot.name" must be a string, number or boolean, not an object`},
	"custom-snapshot-without-name": {"The 'snapshot.mode.custom.name' value is invalid: snapshot.mode.custom.name cannot be empty when snapshot.mode 'custom' is defined"},
}

// goodWarnings lists substrings of the warnings of some good files.
var goodWarnings = map[string][]string{
	"sakila":      nil,
	"ddl-capture": nil,
	"minimal":     {`"plugin.name" is not set: Debezium defaults to decoderbufs, pgmotion to pgoutput`},
	"debezium-1x": {
		`"database.server.name" is the legacy name of "topic.prefix"`,
		`"table.whitelist" is the legacy name of "table.include.list"`,
		`"heartbeat.topics.prefix" is the legacy name of "topic.heartbeat.prefix"`,
		"snapshot.mode=never is a legacy value; using snapshot.mode=no_data",
	},
	"accepted": {
		"snapshot.mode=custom is accepted for Debezium compatibility but not implemented by pgmotion yet; pgmotion behaves as snapshot.mode=initial",
		`"errors.tolerance" is accepted`,
		`"openlineage.integration.enabled" (openlineage.integration.*) is accepted`,
	},
	// provide.transaction.metadata and topic.transaction are implemented.
	"transaction-metadata": nil,
}

func TestConnectorTestdata(t *testing.T) {
	files, err := filepath.Glob("testdata/connectors/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	seen := map[string]bool{}
	for _, file := range files {
		base := filepath.Base(file)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(base, ".good.json"):
			name := strings.TrimSuffix(base, ".good.json")
			t.Run(base, func(t *testing.T) {
				_, cfg, err := ParseConnectorJSON(data)
				if err != nil {
					t.Fatalf("ParseConnectorJSON: %v", err)
				}
				pc, err := ParsePostgres(cfg)
				if err != nil {
					t.Fatalf("ParsePostgres: %v", err)
				}
				if ci := Postgres.Validate(cfg); ci.ErrorCount != 0 {
					t.Errorf("Validate reports %d errors for a valid config: %v", ci.ErrorCount, ci.Err())
				}
				want, ok := goodWarnings[name]
				if !ok {
					return
				}
				if want == nil && len(pc.Warnings) > 0 {
					t.Errorf("unexpected warnings: %q", pc.Warnings)
				}
				all := strings.Join(pc.Warnings, "\n")
				for _, w := range want {
					if !strings.Contains(all, w) {
						t.Errorf("warnings lack %q; got:\n%s", w, all)
					}
				}
				// One warning per property.
				seen := map[string]bool{}
				for _, w := range pc.Warnings {
					if seen[w] {
						t.Errorf("duplicate warning %q", w)
					}
					seen[w] = true
				}
			})
		case strings.HasSuffix(base, ".bad.json"):
			name := strings.TrimSuffix(base, ".bad.json")
			seen[name] = true
			want, ok := badConnectors[name]
			if !ok {
				t.Errorf("%s has no entry in badConnectors", base)
				continue
			}
			t.Run(base, func(t *testing.T) {
				_, cfg, err := ParseConnectorJSON(data)
				if err == nil {
					_, err = ParsePostgres(cfg)
				}
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q; got:\n%v", w, err)
					}
				}
			})
		default:
			t.Errorf("%s: testdata files end in .good.json or .bad.json", base)
		}
	}
	for name := range badConnectors {
		if !seen[name] {
			t.Errorf("badConnectors[%q] has no testdata/connectors/%s.bad.json", name, name)
		}
	}
}

func TestFullConfig(t *testing.T) {
	data, err := os.ReadFile("testdata/connectors/full.good.json")
	if err != nil {
		t.Fatal(err)
	}
	name, raw, err := ParseConnectorJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePostgres(raw)
	if err != nil {
		t.Fatal(err)
	}
	if name != "inventory-connector" || p.Name != name {
		t.Errorf("name = %q / %q", name, p.Name)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"port", p.Port, 6432},
		{"sslmode", p.SSLMode, "verify-full"},
		{"slot", p.SlotName, "inventory_slot"},
		{"publication", p.PublicationName, "inventory_pub"},
		{"autocreate", p.PublicationAutocreate, AutocreateFiltered},
		{"prefix", p.TopicPrefix, "dbserver1"},
		{"snapshot", p.SnapshotMode, SnapshotInitial},
		{"fetch", p.SnapshotFetchSize, 2000},
		{"decimal", p.DecimalHandling, DecimalString},
		{"binary", p.BinaryHandling, BinaryHex},
		{"time", p.TimePrecision, TimeAdaptive},
		{"tombstones", p.TombstonesOnDelete, false},
		{"skip t", p.SkippedOps.Has("t"), true},
		{"skip d", p.SkippedOps.Has("d"), true},
		{"skip c", p.SkippedOps.Has("c"), false},
		{"status", p.StatusUpdateInterval.String(), "5s"},
		{"headers", p.ExtendedHeaders, false},
		{"delimiter", p.TopicDelimiter, "_"},
		{"key schemas", p.KeySchemas, false},
		{"value schemas", p.ValueSchemas, true},
		{"topic creation", p.TopicCreation, true},
		{"partitions", p.TopicPartitions, int32(6)},
		{"replication", p.TopicReplication, int16(-1)},
		{"key converter", p.KeyConverter, "org.apache.kafka.connect.json.JsonConverter"},
		{"schema filters", len(p.SchemaInclude), 2},
		{"table excludes", len(p.TableExclude), 2},
		{"key columns", len(p.MessageKeyColumns), 2},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if p.Password.Reveal() != "dbz-Pa55word" {
		t.Errorf("password not kept")
	}
	if got := p.Config.WithPrefix("transforms.route."); got["replacement"] != "$3" {
		t.Errorf("transforms.route.* = %v", got)
	}
	if got := p.Config.Unknown(); got["producer.override.compression.type"] != "lz4" || got["transforms.unwrap.drop.tombstones"] != "false" {
		t.Errorf("unknown properties not kept: %v", got)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], `"producer.override.compression.type" (producer.override.*) is accepted`) {
		t.Errorf("warnings = %q", p.Warnings)
	}
}
