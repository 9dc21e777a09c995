package pipeline

import (
	"testing"
)

// TestColumnOptionsMapped checks that the type handling and column.*
// options reach the encoder's options.
func TestColumnOptionsMapped(t *testing.T) {
	cfg := map[string]string{
		"connector.class":                "io.debezium.connector.postgresql.PostgresConnector",
		"plugin.name":                    "pgoutput",
		"database.hostname":              "localhost",
		"database.user":                  "u",
		"database.dbname":                "app",
		"topic.prefix":                   "srv",
		"time.precision.mode":            "isostring",
		"hstore.handling.mode":           "map",
		"include.unknown.datatypes":      "true",
		"column.exclude.list":            `public\.t\.secret, public\.u\..*`,
		"column.mask.with.4.chars":       "public.t.email",
		"column.truncate.to.10.chars":    "public.t.name",
		"column.propagate.source.type":   "public.t.amount",
		"datatype.propagate.source.type": "varchar",
	}
	tc, warnings, err := ConfigFrom("c", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warnings {
		t.Errorf("unexpected warning %q", w)
	}
	o := tc.Encoder
	if o.TimePrecision != "isostring" || o.HstoreHandling != "map" || !o.IncludeUnknownDatatypes {
		t.Errorf("handling modes not mapped: %q %q %v", o.TimePrecision, o.HstoreHandling, o.IncludeUnknownDatatypes)
	}
	if o.ColumnIncluded == nil || o.ColumnIncluded("public", "t", "secret") || o.ColumnIncluded("public", "u", "x") ||
		!o.ColumnIncluded("public", "t", "email") || o.ColumnIncluded("PUBLIC", "T", "SECRET") {
		t.Errorf("column.exclude.list not mapped")
	}
	if len(o.ColumnMasks) != 1 || o.ColumnMasks[0].Chars != 4 || !o.ColumnMasks[0].Match("public.t.email") {
		t.Errorf("mask %+v", o.ColumnMasks)
	}
	if len(o.ColumnTruncates) != 1 || o.ColumnTruncates[0].Chars != 10 || !o.ColumnTruncates[0].Match("public.t.name") {
		t.Errorf("truncate %+v", o.ColumnTruncates)
	}
	if o.PropagateSourceType == nil || !o.PropagateSourceType("public.t.amount") || o.PropagateDataType == nil || !o.PropagateDataType("VARCHAR") {
		t.Errorf("propagate options not mapped")
	}
}
