package pgsource

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// chunkKeys reads a table chunk by chunk and returns each chunk's keys.
func chunkKeys(t *testing.T, src *Source, ct *ChunkTable, cond string, limit int) [][]string {
	t.Helper()
	ctx := context.Background()
	max, err := src.MaxKey(ctx, ct, cond)
	if err != nil {
		t.Fatal(err)
	}
	if max == nil {
		return nil
	}
	var out [][]string
	var after []string
	for {
		rows, err := src.ReadChunk(ctx, ct, after, max, cond, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			return out
		}
		var keys []string
		for _, r := range rows {
			if r.Op != change.OpRead || r.Snapshot != change.SnapshotIncremental || r.Rel != ct.Rel || len(r.After) != len(ct.Rel.Columns) {
				t.Fatalf("chunk row %+v", r)
			}
			keys = append(keys, strings.Join(ct.ChunkKey(r), "/"))
		}
		out = append(out, keys)
		after = ct.ChunkKey(rows[len(rows)-1])
	}
}

func TestIntegrationChunks(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE single (id int PRIMARY KEY, color text)`,
		`INSERT INTO single SELECT g, CASE WHEN g % 3 = 0 THEN 'blue' ELSE 'red' END FROM generate_series(1, 10) g`,
		// A composite key whose second column is text, ordered by the key's
		// column order, not the table's.
		`CREATE TABLE composite (b text, a int, v int, PRIMARY KEY (a, b))`,
		`INSERT INTO composite VALUES ('y', 1, 0), ('x', 1, 0), ('a', 2, 0), ('z', 0, 0), ('it''s', 2, 0)`,
		`CREATE TABLE nokey (code text, v int)`,
		`INSERT INTO nokey VALUES ('b', 1), ('a', 2), (NULL, 3), ('c', 4)`,
		`CREATE TABLE empty (id int PRIMARY KEY)`,
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{Slot: "chunk_slot", PublicationMode: "filtered"})
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	table := func(name, surrogate string) *ChunkTable {
		t.Helper()
		ct, err := src.PrepareChunkTable(ctx, TableName{"public", name}, surrogate)
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}

	single := table("single", "")
	if got := chunkKeys(t, src, single, "", 4); len(got) != 3 || strings.Join(got[0], ",") != "1,2,3,4" || strings.Join(got[2], ",") != "9,10" {
		t.Errorf("single: %v", got)
	}
	// An additional condition bounds the largest key too.
	if got := chunkKeys(t, src, single, "color='blue'", 2); len(got) != 2 || strings.Join(got[0], ",") != "3,6" || strings.Join(got[1], ",") != "9" {
		t.Errorf("single, blue: %v", got)
	}
	// Rows inserted above the largest key read at the start are left to
	// the stream.
	max, _ := src.MaxKey(ctx, single, "")
	pgtest.Exec(t, dsn, `INSERT INTO single VALUES (11, 'new')`)
	rows, err := src.ReadChunk(ctx, single, []string{"8"}, max, "", 100)
	if err != nil || len(rows) != 2 {
		t.Errorf("read up to the old maximum: %d rows, %v", len(rows), err)
	}

	comp := table("composite", "")
	if cols := comp.OrderColumns(); strings.Join(cols, ",") != "a,b" {
		t.Errorf("composite key columns %v", cols)
	}
	if got := chunkKeys(t, src, comp, "", 2); len(got) != 3 || strings.Join(got[0], ",") != "0/z,1/x" || strings.Join(got[1], ",") != "1/y,2/a" || strings.Join(got[2], ",") != "2/it's" {
		t.Errorf("composite: %v", got)
	}

	if _, err := src.PrepareChunkTable(ctx, TableName{"public", "nokey"}, ""); err == nil || !strings.Contains(err.Error(), "surrogate-key") {
		t.Errorf("a table without key: %v", err)
	}
	if _, err := src.PrepareChunkTable(ctx, TableName{"public", "nokey"}, "nope"); err == nil || !strings.Contains(err.Error(), `"nope" is not a column`) {
		t.Errorf("a missing surrogate key: %v", err)
	}
	// A nullable surrogate key: the row whose key is NULL cannot be placed.
	if got := chunkKeys(t, src, table("nokey", "code"), "", 2); len(got) != 2 || strings.Join(got[0], ",") != "a,b" || strings.Join(got[1], ",") != "c" {
		t.Errorf("nokey by code: %v", got)
	}
	if got := chunkKeys(t, src, table("empty", ""), "", 2); got != nil {
		t.Errorf("empty: %v", got)
	}
	if _, err := src.MaxKey(ctx, single, "no_such_column = 1"); err == nil || !IsSQLError(err) || !src.MetaOK() {
		t.Errorf("a bad condition: %v (SQL error %v, connection ok %v)", err, IsSQLError(err), src.MetaOK())
	}

}

func TestIntegrationChunkStreamRelation(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE t (id int PRIMARY KEY, v text)`, `INSERT INTO t VALUES (1, 'a')`)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{Slot: "chunk_rel"})
	info, err := src.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.Stream(sctx, StreamOptions{Start: info.ConsistentPoint}, col) }()
	pgtest.Exec(t, dsn, `UPDATE t SET v = 'b'`)
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return len(col.snapshot()) >= 3, nil })
	stop()
	<-done
	// Once the stream has described the table, chunks use its relation,
	// so that the encoder keeps one plan.
	ct, err := src.PrepareChunkTable(ctx, TableName{"public", "t"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var streamed *change.Relation
	for _, r := range src.rels {
		streamed = r
	}
	if ct.Rel != streamed {
		t.Errorf("chunk relation %p, stream relation %p", ct.Rel, streamed)
	}
}

// TestIntegrationChunkFilterReadOnly: a signal's additional-conditions
// filter runs in a read-only transaction, so one with a side effect
// (lo_export writing a file as the server's OS user) fails with a line
// that names the filter and the rule, and writes nothing.
func TestIntegrationChunkFilterReadOnly(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE t (id int PRIMARY KEY)`,
		`INSERT INTO t SELECT generate_series(1, 5)`,
		`SELECT lo_from_bytea(424242, 'written by a filter')`,
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{Slot: "chunk_ro_slot", PublicationMode: "filtered", Include: func(_, table string) bool { return table == "t" }})
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ct, err := src.PrepareChunkTable(ctx, TableName{"public", "t"}, "")
	if err != nil {
		t.Fatal(err)
	}
	// A directory the server's OS user may write to, as /tmp is.
	dir, err := os.MkdirTemp("", "pgmotion-filter-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "pwned")
	check := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "additional-conditions filter of the execute-snapshot signal") ||
			!strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "must only read") {
			t.Errorf("%s: err = %v, want the read-only filter error", what, err)
		}
		if _, err := os.Stat(target); err == nil {
			t.Fatalf("%s: the filter wrote %s", what, target)
		}
	}
	for _, cond := range []string{
		"lo_export(424242, '" + target + "') = 1",
		`id > 0 AND "pg_catalog".LO_EXPORT(424242, $x$` + target + `$x$) = 1`,
	} {
		_, err = src.MaxKey(ctx, ct, cond)
		check("MaxKey", err, "calls lo_export")
		_, err = src.ReadChunk(ctx, ct, nil, []string{"5"}, cond, 10)
		check("ReadChunk", err, "calls lo_export")
	}
	// A write that calls no volatile function fails in the read-only
	// transaction: row locks taken by a subquery.
	_, err = src.ReadChunk(ctx, ct, nil, []string{"5"}, "id IN (SELECT id FROM t FOR UPDATE)", 10)
	check("ReadChunk with a subquery that locks", err, "tried to change the database")
	// The connection goes on: a read-only filter still works.
	if got := chunkKeys(t, src, ct, "id > 3", 10); len(got) != 1 || strings.Join(got[0], ",") != "4,5" {
		t.Errorf("after the refused filter: %v", got)
	}
	// So do the watermark writes on the same connection.
	if err := src.InsertSignal(ctx, TableName{"public", "t"}, "x", "y", "z"); err == nil || strings.Contains(err.Error(), "read-only") {
		t.Errorf("a write after the chunk reads: %v", err)
	}
}
