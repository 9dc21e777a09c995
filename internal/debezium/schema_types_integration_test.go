package debezium

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestIntegrationLogicalTypeSchemas creates the columns of every
// logicalCases case in a real PostgreSQL (pgvector ones aside: see
// TestIntegrationGoldenPgvector; PostGIS ones aside: not installed),
// captures one row per table through
// pgsource, and checks that the catalog gives the default texts the
// cases assume and that the schemas are those of the golden files.
func TestIntegrationLogicalTypeSchemas(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE EXTENSION hstore`, `CREATE EXTENSION ltree`,
		`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`,
		`CREATE DOMAIN bits4 AS bit(4)`,
		`CREATE FUNCTION bits_fn() RETURNS bit(8) LANGUAGE sql AS $$SELECT B'00000001'$$`,
		`CREATE FUNCTION pick_mood() RETURNS mood LANGUAGE sql AS $$SELECT 'ok'::mood$$`)
	type tableCase struct {
		lc    logicalCase
		table string
	}
	var cases []tableCase
	var inserts []string
	for i, lc := range logicalCases() {
		if strings.HasSuffix(lc.golden, "Vector") || strings.Contains(lc.golden, ".geometry.G") {
			continue // pgvector is built from source by its own test; no PostGIS here
		}
		table := fmt.Sprintf("logical_%d", i)
		var defs []string
		for _, c := range lc.cols {
			defs = append(defs, c.sql)
		}
		pgtest.Exec(t, dsn, fmt.Sprintf("CREATE TABLE %s (pk int PRIMARY KEY, %s)", table, strings.Join(defs, ", ")))
		inserts = append(inserts, fmt.Sprintf("INSERT INTO %s (pk) VALUES (1)", table))
		cases = append(cases, tableCase{lc, table})
	}
	changes := captureGolden(t, dsn, len(cases), inserts)
	byTable := map[string]*change.Relation{}
	for _, c := range changes {
		byTable[c.Rel.Name] = c.Rel
	}
	for _, tc := range cases {
		t.Run(tc.lc.golden, func(t *testing.T) {
			rel := byTable[tc.table]
			if rel == nil {
				t.Fatalf("no change captured from %s", tc.table)
			}
			e := newTestEncoder(t, tc.lc.opts)
			p, err := e.compile(rel)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.cols) != len(tc.lc.cols)+1 {
				t.Fatalf("%d of %d columns mapped", len(p.cols), len(tc.lc.cols)+1)
			}
			unit := &change.Relation{ID: 1, Namespace: "public", Name: tc.table,
				Columns: []change.Column{{Name: "pk", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true}}, Key: []int{0}}
			for _, c := range tc.lc.cols {
				unit.Columns = append(unit.Columns, c.col)
			}
			up, err := e.compile(unit)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range tc.lc.cols {
				if got := rel.Columns[i+1].Default; got != c.col.Default {
					t.Errorf("%s: PostgreSQL gives the default text %q, the case assumes %q", c.sql, got, c.col.Default)
				}
				got, want := e.appendFieldSchema(nil, &p.cols[i+1]), e.appendFieldSchema(nil, &up.cols[i+1])
				if string(got) != string(want) {
					t.Errorf("%s: schema from the catalog\n got %s\nwant %s", c.sql, got, want)
				}
			}
		})
	}
}
