package pgsource

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/change"
)

// This file holds the chunk reads of incremental snapshots (Debezium's
// DBLog-style chunked snapshots run while streaming): preparing a table,
// reading its largest key and one chunk of rows by key range. The
// watermarks around each chunk are in signal.go (rows written to the
// signal table) and xactsnapshot.go (read-only, from
// pg_current_snapshot()). Every method runs on the catalog connection and
// belongs to the streaming goroutine, which is the only other user of
// that connection once streaming has started.

// ChunkTable is a table prepared for an incremental snapshot.
type ChunkTable struct {
	Name TableName
	// Rel describes the rows ReadChunk returns: the stream's own Relation
	// when the stream has already described the table the same way (so
	// that the encoder keeps one plan for both), else one built from the
	// catalog.
	Rel *change.Relation
	// Order indexes Rel.Columns: the columns chunks are ordered and
	// bounded by, the surrogate key when one is given, else Rel.Key.
	Order []int
	// nullable is set when some Order column may hold NULL: rows whose
	// chunk key has a NULL cannot be placed in key order and are skipped.
	nullable bool
}

// OrderColumns returns the names of the columns chunks are ordered by.
func (ct *ChunkTable) OrderColumns() []string {
	out := make([]string, len(ct.Order))
	for i, c := range ct.Order {
		out[i] = ct.Rel.Columns[c].Name
	}
	return out
}

// ChunkKey returns the chunk key of a row ReadChunk returned.
func (ct *ChunkTable) ChunkKey(c *change.Change) []string {
	key := make([]string, len(ct.Order))
	for i, col := range ct.Order {
		key[i] = string(c.After[col].Data)
	}
	return key
}

// PrepareChunkTable looks a table up for an incremental snapshot. With
// surrogateKey (a column name, or several separated by commas) chunks
// follow that column instead of the table's key; a table with neither
// cannot be read in chunks.
func (s *Source) PrepareChunkTable(ctx context.Context, t TableName, surrogateKey string) (*ChunkTable, error) {
	cat, err := s.relationForSnapshot(ctx, t)
	if err != nil {
		return nil, err
	}
	rel := s.streamRelation(cat)
	ct := &ChunkTable{Name: t, Rel: rel}
	if surrogateKey != "" {
		for _, name := range strings.Split(surrogateKey, ",") {
			name = strings.TrimSpace(name)
			idx := -1
			for i, c := range rel.Columns {
				if c.Name == name {
					idx = i
					break
				}
			}
			if idx < 0 {
				return nil, fmt.Errorf("surrogate-key column %q is not a column of %s", name, t)
			}
			ct.Order = append(ct.Order, idx)
		}
	} else {
		ct.Order = append(ct.Order, rel.Key...)
	}
	if len(ct.Order) == 0 {
		return nil, fmt.Errorf("table %s has no primary key (nor message.key.columns entry): give a surrogate-key in the execute-snapshot signal", t)
	}
	for _, c := range ct.Order {
		if !rel.Columns[c].NotNull {
			ct.nullable = true
		}
	}
	return ct, nil
}

// streamRelation returns the stream's Relation of a table when it has the
// same columns, types and key as cat, else cat.
func (s *Source) streamRelation(cat *change.Relation) *change.Relation {
	r := s.rels[cat.ID]
	if r == nil || len(r.Columns) != len(cat.Columns) || len(r.Key) != len(cat.Key) ||
		r.Namespace != cat.Namespace || r.Name != cat.Name {
		return cat
	}
	for i := range r.Columns {
		a, b := &r.Columns[i], &cat.Columns[i]
		if a.Name != b.Name || a.TypeOID != b.TypeOID || a.TypeMod != b.TypeMod {
			return cat
		}
	}
	for i := range r.Key {
		if r.Key[i] != cat.Key[i] {
			return cat
		}
	}
	return r
}

func (ct *ChunkTable) from() string {
	return quoteIdent(ct.Name.Schema) + "." + quoteIdent(ct.Name.Name)
}

// keyTuple is "k1" or "ROW(k1, k2)".
func (ct *ChunkTable) keyTuple() string {
	cols := make([]string, len(ct.Order))
	for i, c := range ct.Order {
		cols[i] = quoteIdent(ct.Rel.Columns[c].Name)
	}
	if len(cols) == 1 {
		return cols[0]
	}
	return "ROW(" + strings.Join(cols, ", ") + ")"
}

// params is "$n" or "ROW($n, $n+1)" for the key's columns.
func (ct *ChunkTable) params(first int) string {
	ps := make([]string, len(ct.Order))
	for i := range ps {
		ps[i] = "$" + strconv.Itoa(first+i)
	}
	if len(ps) == 1 {
		return ps[0]
	}
	return "ROW(" + strings.Join(ps, ", ") + ")"
}

// where joins the conditions every chunk query shares with extra ones.
func (ct *ChunkTable) where(cond string, extra ...string) string {
	conds := append([]string(nil), extra...)
	if ct.nullable {
		for _, c := range ct.Order {
			conds = append(conds, quoteIdent(ct.Rel.Columns[c].Name)+" IS NOT NULL")
		}
	}
	if cond = strings.TrimSpace(cond); cond != "" {
		conds = append(conds, "("+cond+")")
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

func (ct *ChunkTable) orderBy(desc bool) string {
	cols := make([]string, len(ct.Order))
	for i, c := range ct.Order {
		cols[i] = quoteIdent(ct.Rel.Columns[c].Name)
		if desc {
			cols[i] += " DESC"
		}
	}
	return " ORDER BY " + strings.Join(cols, ", ")
}

// MaxKey returns the largest chunk key of the rows that pass cond (an SQL
// condition, "" for none), or nil when there are none.
func (s *Source) MaxKey(ctx context.Context, ct *ChunkTable, cond string) ([]string, error) {
	cols := make([]string, len(ct.Order))
	for i, c := range ct.Order {
		cols[i] = quoteIdent(ct.Rel.Columns[c].Name)
	}
	if err := s.checkFilter(ctx, cond); err != nil {
		return nil, fmt.Errorf("read the largest key of %s: %w", ct.Name, err)
	}
	sql := "SELECT " + strings.Join(cols, ", ") + " FROM " + ct.from() + ct.where(cond) + ct.orderBy(true) + " LIMIT 1"
	var res *pgconn.Result
	err := s.readOnly(ctx, cond, func() error {
		res = s.meta.ExecParams(ctx, sql, nil, nil, nil, nil).Read()
		return res.Err
	})
	if err != nil {
		return nil, fmt.Errorf("read the largest key of %s (%s): %w", ct.Name, sql, filterError(err, cond))
	}
	if len(res.Rows) == 0 {
		return nil, nil
	}
	key := make([]string, len(cols))
	for i, v := range res.Rows[0] {
		if v == nil {
			return nil, fmt.Errorf("read the largest key of %s: column %s is NULL", ct.Name, cols[i])
		}
		key[i] = string(v)
	}
	return key, nil
}

// ReadChunk reads at most limit rows of a table whose chunk key lies above
// after (nil: from the first row) and at most max, passing cond, in key
// order. The rows are op "r" changes with the marker "incremental" that
// the caller owns; their positions are left for the caller to set.
func (s *Source) ReadChunk(ctx context.Context, ct *ChunkTable, after, max []string, cond string, limit int) ([]*change.Change, error) {
	n := len(ct.Order)
	if len(max) != n || (after != nil && len(after) != n) {
		return nil, fmt.Errorf("read chunk of %s: key of %d columns, bounds of %d and %d values", ct.Name, n, len(after), len(max))
	}
	if err := s.checkFilter(ctx, cond); err != nil {
		return nil, fmt.Errorf("read chunk of %s: %w", ct.Name, err)
	}
	var params [][]byte
	var bounds []string
	if after != nil {
		bounds = append(bounds, ct.keyTuple()+" > "+ct.params(1))
		for _, v := range after {
			params = append(params, []byte(v))
		}
	}
	bounds = append(bounds, ct.keyTuple()+" <= "+ct.params(len(params)+1))
	for _, v := range max {
		params = append(params, []byte(v))
	}
	sql := selectAll(ct.Rel) + ct.where(cond, bounds...) + ct.orderBy(false) + " LIMIT " + strconv.Itoa(limit)
	var out []*change.Change
	err := s.readOnly(ctx, cond, func() error {
		rr := s.meta.ExecParams(ctx, sql, params, nil, nil, nil)
		for rr.NextRow() {
			b := new(rowBuf) // each row is the caller's to keep
			b.fill(ct.Rel, rr.Values(), nil)
			b.c.Snapshot = change.SnapshotIncremental
			out = append(out, &b.c)
		}
		_, err := rr.Close()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read chunk of %s (%s): %w", ct.Name, sql, filterError(err, cond))
	}
	return out, nil
}

// readOnly runs query, a statement on the catalog connection, in a READ
// ONLY transaction when it pastes a signal's filter cond. Chunk reads
// paste a signal's additional-conditions into their WHERE clause, as
// Debezium does, and whoever can send a signal is not necessarily allowed
// to run SQL as the connector's user: in a read-only transaction anything
// that writes (lo_export, nextval, INSERT in a function, ...) fails with
// SQLSTATE 25006 instead. Without a filter the query is ours and reads
// only, so it runs alone, without BEGIN and COMMIT round trips per chunk.
func (s *Source) readOnly(ctx context.Context, cond string, query func() error) error {
	if cond == "" {
		return query()
	}
	if _, err := s.meta.Exec(ctx, "BEGIN READ ONLY").ReadAll(); err != nil {
		return err
	}
	err := query()
	end := "COMMIT"
	if err != nil {
		end = "ROLLBACK"
	}
	if _, cerr := s.meta.Exec(context.WithoutCancel(ctx), end).ReadAll(); err == nil {
		err = cerr
	}
	return err
}

// sqlStateReadOnly is read_only_sql_transaction.
const sqlStateReadOnly = "25006"

// filterError explains a chunk read that tried to write: only the
// additional condition can, and it came from a signal.
func filterError(err error, cond string) error {
	var pgErr *pgconn.PgError
	if cond == "" || !errors.As(err, &pgErr) || pgErr.Code != sqlStateReadOnly {
		return err
	}
	return fmt.Errorf("the additional-conditions filter of the execute-snapshot signal, %s, tried to change the database; "+
		"snapshot filters run in a read-only transaction and must only read (a WHERE condition on the table's columns): %w", cond, err)
}
