package pgsource

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// snapRow is what the tests keep of a snapshot row, in the order the
// sink received them.
type snapRow struct {
	marker change.SnapshotMarker
	table  string
	id     string
	rng    SnapshotRange
}

type recordingSink struct {
	mu    sync.Mutex
	rows  []snapRow
	done  map[SnapshotRange]int64
	after map[SnapshotRange]bool // a row came after RangeDone: a bug
}

func (s *recordingSink) Row(_ int, r SnapshotRange, c *change.Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.done[r]; ok {
		s.after[r] = true
	}
	s.rows = append(s.rows, snapRow{c.Snapshot, c.Rel.Name, string(c.After[0].Data), r})
	return nil
}

func (s *recordingSink) RangeDone(_ int, r SnapshotRange, rows int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done[r] = rows
	return nil
}

func newRecordingSink() *recordingSink {
	return &recordingSink{done: map[SnapshotRange]int64{}, after: map[SnapshotRange]bool{}}
}

// splitSmall makes the planner split tables of a few pages.
func splitSmall(t *testing.T) {
	a, b := minSplitPages, maxRangePages
	minSplitPages, maxRangePages = 8, 40
	t.Cleanup(func() { minSplitPages, maxRangePages = a, b })
}

func TestIntegrationParallelSnapshot(t *testing.T) {
	splitSmall(t)
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE big (id int PRIMARY KEY, pad text)`,
		`INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 30000) g`,
		`CREATE TABLE small (id int PRIMARY KEY)`,
		`INSERT INTO small VALUES (1), (2), (3)`,
		`CREATE TABLE empty (id int PRIMARY KEY)`,
		`VACUUM ANALYZE big`,
		// Dead rows at the end: the last ranges hold no live row, and
		// big's last row must still be marked.
		`DELETE FROM big WHERE id > 27000`,
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{})
	info, err := src.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// After the slot's snapshot: the snapshot must not see these.
	pgtest.Exec(t, dsn, `INSERT INTO big VALUES (30001, 'late')`, `DELETE FROM small WHERE id = 3`, `INSERT INTO empty VALUES (1)`)

	tables := []TableName{{"public", "big"}, {"public", "small"}, {"public", "empty"}}
	plan, err := src.PlanSnapshot(ctx, tables, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan[0].Ranges < 12 || plan[0].Step == 0 || plan[1].Ranges != 1 || plan[0].Rows < 25000 {
		t.Fatalf("plan: big %d ranges of %d pages (%d rows est.), small %d ranges", plan[0].Ranges, plan[0].Step, plan[0].Rows, plan[1].Ranges)
	}
	sink := newRecordingSink()
	if err := src.RunSnapshot(ctx, plan, SnapshotOptions{SnapshotName: info.SnapshotName, LSN: info.ConsistentPoint, Threads: 3}, sink); err != nil {
		t.Fatal(err)
	}
	checkSnapshotRows(t, sink, map[string]int{"big": 27000, "small": 3}, true)
	if len(sink.done) != plan[0].Ranges+2 {
		t.Errorf("%d ranges reported done, want %d", len(sink.done), plan[0].Ranges+2)
	}
	for r := range sink.after {
		t.Errorf("a row of %s came after its RangeDone", r)
	}

	// Resume with half of big's ranges done: only the others are read,
	// and no "first" marker is given again.
	var want int
	for i := range plan[0].Done {
		plan[0].Done[i] = i%2 == 0
		if !plan[0].Done[i] {
			want += int(pgtest.QueryValue[int64](t, dsn, "SELECT count(*) FROM big WHERE "+SnapshotRange{T: plan[0], Index: i}.where()))
		}
	}
	plan = plan[:1]
	sink = newRecordingSink()
	if err := src.RunSnapshot(ctx, plan, SnapshotOptions{LSN: info.ConsistentPoint, Threads: 2, Resumed: true}, sink); err != nil {
		t.Fatal(err)
	}
	// Read under a new snapshot: the late row is there now.
	checkSnapshotRows(t, sink, map[string]int{"big": want}, false)
	if len(sink.done) != (plan[0].Ranges+1)/2 && len(sink.done) != plan[0].Ranges/2 {
		t.Errorf("%d ranges read on resume, want half of %d", len(sink.done), plan[0].Ranges)
	}
}

// checkSnapshotRows checks row counts per table, that no row repeats, and
// that the markers sit where Debezium puts them in the order received.
func checkSnapshotRows(t *testing.T, sink *recordingSink, counts map[string]int, fresh bool) {
	t.Helper()
	rows := sink.rows
	seen := map[string]bool{}
	per := map[string]int{}
	lastIdx := map[string]int{}
	markers := map[string]map[change.SnapshotMarker]int{}
	for i, r := range rows {
		k := r.table + "/" + r.id
		if seen[k] {
			t.Fatalf("row %s twice", k)
		}
		seen[k] = true
		per[r.table]++
		lastIdx[r.table] = i
		if markers[r.table] == nil {
			markers[r.table] = map[change.SnapshotMarker]int{}
		}
		markers[r.table][r.marker]++
	}
	if fmt.Sprint(per) != fmt.Sprint(counts) {
		t.Fatalf("rows per table %v, want %v", per, counts)
	}
	if n := len(rows); n > 0 && rows[n-1].marker != change.SnapshotLast {
		t.Errorf("last row has marker %v, want last", rows[n-1].marker)
	}
	if fresh && rows[0].marker != change.SnapshotFirst {
		t.Errorf("first row has marker %v, want first", rows[0].marker)
	}
	for i, r := range rows {
		switch r.marker {
		case change.SnapshotFirst:
			if i != 0 || !fresh {
				t.Errorf("marker first on row %d (fresh %v)", i, fresh)
			}
		case change.SnapshotLast:
			if i != len(rows)-1 {
				t.Errorf("marker last on row %d of %d", i, len(rows))
			}
		case change.SnapshotLastInDataCollection:
			if lastIdx[r.table] != i {
				t.Errorf("last_in_data_collection on row %d of %s, whose last row is %d", i, r.table, lastIdx[r.table])
			}
		}
	}
	for table, m := range markers {
		if m[change.SnapshotLast]+m[change.SnapshotLastInDataCollection] != 1 {
			t.Errorf("table %s: markers %v, want one last or last_in_data_collection", table, m)
		}
		firsts := m[change.SnapshotFirst] + m[change.SnapshotFirstInDataCollection]
		if fresh && firsts != 1 && !(per[table] == 1) {
			t.Errorf("table %s: markers %v, want one first or first_in_data_collection", table, m)
		}
	}
}

func TestIntegrationSnapshotSelectOverride(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE items (id int PRIMARY KEY, name text, secret text)`,
		`INSERT INTO items VALUES (1, 'a', 'x'), (2, 'b', 'y'), (3, 'c', 'z')`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{})
	info, err := src.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tables := []TableName{{"public", "items"}}
	plan, err := src.PlanSnapshot(ctx, tables, 2, map[string]string{"public.items": `SELECT name, id FROM items WHERE id > 1 ORDER BY id`})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = src.RunSnapshot(ctx, plan, SnapshotOptions{SnapshotName: info.SnapshotName, LSN: info.ConsistentPoint}, &funcSink{row: func(_ int, _ SnapshotRange, c *change.Change) error {
		got = append(got, fmt.Sprintf("%s %s %s %v", c.Snapshot, c.After[0].Data, c.After[1].Data, c.After[2].Kind == change.KindNull))
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"first 2 b true", "last 3 c true"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("override rows %q, want %q", got, want)
	}

	// A column the table does not have is refused, naming the option.
	plan, err = src.PlanSnapshot(ctx, tables, 1, map[string]string{"public.items": `SELECT id, 1 AS bogus FROM items`})
	if err != nil {
		t.Fatal(err)
	}
	err = src.RunSnapshot(ctx, plan, SnapshotOptions{LSN: info.ConsistentPoint}, &funcSink{})
	if err == nil || !strings.Contains(err.Error(), `snapshot.select.statement.overrides.public.items returns column "bogus"`) {
		t.Errorf("bad override: %v", err)
	}
}

// TestIntegrationSnapshotCopyMatchesSelect reads a table of awkward values
// with the snapshot, which uses COPY, and checks every value against the
// text the SELECT of the same row gives: the COPY decoding must be
// invisible.
func TestIntegrationSnapshotCopyMatchesSelect(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TYPE mood AS ENUM ('ok', 'tab	here')`,
		`CREATE TABLE odd (id int PRIMARY KEY, t text, b bytea, a text[], j jsonb, m mood, ts timestamptz, n numeric, x xml, h int4range)`,
		`INSERT INTO odd VALUES
		 (1, E'tab\there\nnewline\rcr\\backslash', E'\\x00ff5c09', ARRAY['a"b', E'c\\d', NULL, 'e,f', ''], '{"k": "v\tw", "n": null}', 'tab	here', '2024-02-29 12:34:56.789+05:30', 'NaN', '<a>x&amp;y</a>', '[1,5)'),
		 (2, '\N', '', '{}', 'null', 'ok', 'infinity', '-12.3400', NULL, 'empty'),
		 (3, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
		 (4, E'\u00fc\u20ac\U0001F600 \b\f\v', E'\\x', ARRAY[E'\n'], '[1, "\\u0000x"]', 'ok', '0001-01-01 00:00:00+00 BC', '1e-20', '', '(,)')`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	want := map[string]string{}
	conn := pgtest.Connect(t, dsn)
	res := conn.PgConn().ExecParams(ctx, `SELECT id, t, b, a, j, m, ts, n, x, h FROM odd`, nil, nil, nil, nil).Read()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	for _, row := range res.Rows {
		var parts []string
		for _, v := range row {
			if v == nil {
				parts = append(parts, "null")
			} else {
				parts = append(parts, fmt.Sprintf("%q", v))
			}
		}
		want[string(row[0])] = strings.Join(parts, " ")
	}

	src := newTestSource(t, dsn, Config{})
	info, err := src.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := src.PlanSnapshot(ctx, []TableName{{"public", "odd"}}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	err = src.RunSnapshot(ctx, plan, SnapshotOptions{SnapshotName: info.SnapshotName, LSN: info.ConsistentPoint}, &funcSink{row: func(_ int, _ SnapshotRange, c *change.Change) error {
		var parts []string
		for _, v := range c.After {
			if v.Kind == change.KindNull {
				parts = append(parts, "null")
			} else {
				parts = append(parts, fmt.Sprintf("%q", v.Data))
			}
		}
		got[string(c.After[0].Data)] = strings.Join(parts, " ")
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("snapshot gave %d rows, the table has %d", len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("row %s:\nsnapshot: %s\nSELECT:   %s", id, got[id], w)
		}
	}
}

// TestIntegrationSnapshotEstimateSmallTable: a table never analysed has
// reltuples -1; a small one is counted, so its estimate is its row count.
func TestIntegrationSnapshotEstimateSmallTable(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE ten (id int PRIMARY KEY)`,
		`INSERT INTO ten SELECT generate_series(1, 10)`,
		`CREATE TABLE empty (id int PRIMARY KEY)`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{})
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	plan, err := src.PlanSnapshot(ctx, []TableName{{"public", "ten"}, {"public", "empty"}}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plan[0].Rows != 10 {
		t.Errorf("estimate of a 10-row table never analysed: %d, want 10", plan[0].Rows)
	}
	if plan[1].Rows != 0 {
		t.Errorf("estimate of an empty table: %d, want 0", plan[1].Rows)
	}
}
