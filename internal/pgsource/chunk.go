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

// This file holds the database side of incremental snapshots (Debezium's
// DBLog-style chunked snapshots run while streaming): reading a table's
// largest key and one chunk of rows by key range, writing and deleting the
// watermark rows of the signal table, and the read-only watermarks taken
// from pg_current_snapshot(). Every method runs on the catalog connection
// and belongs to the streaming goroutine, which is the only other user of
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
	err := s.readOnly(ctx, func() error {
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
	err := s.readOnly(ctx, func() error {
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
// ONLY transaction. Chunk reads paste a signal's additional-conditions
// into their WHERE clause, as Debezium does, and whoever can send a
// signal is not necessarily allowed to run SQL as the connector's user:
// in a read-only transaction anything that writes (lo_export, nextval,
// INSERT in a function, ...) fails with SQLSTATE 25006 instead.
func (s *Source) readOnly(ctx context.Context, query func() error) error {
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

// ChunkKey returns the chunk key of a row ReadChunk returned.
func (ct *ChunkTable) ChunkKey(c *change.Change) []string {
	key := make([]string, len(ct.Order))
	for i, col := range ct.Order {
		key[i] = string(c.After[col].Data)
	}
	return key
}

// InsertSignal inserts a row into the signal table in a transaction of
// its own, as Debezium writes its watermarks: INSERT INTO <table> VALUES
// (id, type, data), so the table's column order matters.
func (s *Source) InsertSignal(ctx context.Context, table TableName, id, typ, data string) error {
	sql := "INSERT INTO " + quoteIdent(table.Schema) + "." + quoteIdent(table.Name) + " VALUES ($1, $2, $3)"
	if err := s.execWatermark(ctx, sql, []byte(id), []byte(typ), []byte(data)); err != nil {
		return fmt.Errorf("insert %s row %q into signal table %s: %w", typ, id, table, err)
	}
	return nil
}

// execWatermark runs one statement in a transaction of its own that
// flushes its commit record at once (synchronous_commit=local): the
// stream carries only flushed WAL, and with synchronous_commit=off the
// server would wait for its WAL writer (wal_writer_delay, 200 ms by
// default) before the watermark reached the stream, for every chunk.
func (s *Source) execWatermark(ctx context.Context, sql string, params ...[]byte) error {
	if _, err := s.meta.Exec(ctx, "BEGIN; SET LOCAL synchronous_commit TO local").ReadAll(); err != nil {
		return err
	}
	res := s.meta.ExecParams(ctx, sql, params, nil, nil, nil).Read()
	if res.Err != nil {
		s.meta.Exec(context.WithoutCancel(ctx), "ROLLBACK").ReadAll()
		return res.Err
	}
	_, err := s.meta.Exec(ctx, "COMMIT").ReadAll()
	return err
}

// DeleteSignal deletes the signal table's row id in a transaction of its
// own (the insert_delete watermarking strategy closes a window so).
func (s *Source) DeleteSignal(ctx context.Context, table TableName, id string) error {
	sql := "DELETE FROM " + quoteIdent(table.Schema) + "." + quoteIdent(table.Name) + " WHERE id = $1"
	if err := s.execWatermark(ctx, sql, []byte(id)); err != nil {
		return fmt.Errorf("delete row %q from signal table %s: %w", id, table, err)
	}
	return nil
}

// CaptureSignalTable makes the stream deliver the signal table's changes
// even when the connector's filters exclude it, as Debezium adds the
// signal table to its table filter; call it before Stream. The caller
// decides whether those changes become events.
func (s *Source) CaptureSignalTable(t TableName) {
	inc := s.cfg.Include
	s.cfg.Include = func(schema, table string) bool {
		return (schema == t.Schema && table == t.Name) || inc == nil || inc(schema, table)
	}
}

// SignalTableInfo is what CheckSignalTable found.
type SignalTableInfo struct {
	// Name is the table's name as the catalog spells it.
	Name TableName
	// Columns is the number of columns.
	Columns int
	// Published reports whether the publication covers the table (after
	// AddToPublication, if it was asked for and done).
	Published bool
	// Added reports whether CheckSignalTable added it to the publication.
	Added bool
}

// CheckSignalTable looks the signal table up (its name as written, or
// else ignoring case) and whether the publication covers it. With add, a
// table the publication lacks is added to it (ALTER PUBLICATION ... ADD
// TABLE), which publication.autocreate.mode=filtered calls for. A table
// that does not exist is an error.
func (s *Source) CheckSignalTable(ctx context.Context, t TableName, add bool) (*SignalTableInfo, error) {
	row, err := s.queryOne(ctx, `SELECT n.nspname, c.relname, c.oid::int8::text,
			(SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)::text
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND ((n.nspname = $1 AND c.relname = $2) OR (lower(n.nspname) = lower($1) AND lower(c.relname) = lower($2)))
		ORDER BY (n.nspname = $1 AND c.relname = $2) DESC LIMIT 1`, t.Schema, t.Name)
	if err != nil {
		return nil, fmt.Errorf("look up signal table %s: %w", t, err)
	}
	if row == nil {
		return nil, fmt.Errorf("signal table %s does not exist: create it (CREATE TABLE %s.%s (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048) NULL)) or fix signal.data.collection", t, quoteIdent(t.Schema), quoteIdent(t.Name))
	}
	info := &SignalTableInfo{Name: TableName{Schema: string(row[0]), Name: string(row[1])}}
	info.Columns, _ = strconv.Atoi(string(row[3]))
	pub, err := s.queryOne(ctx, `SELECT EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND tablename = $3)::text`,
		s.cfg.Publication, info.Name.Schema, info.Name.Name)
	if err != nil {
		return nil, fmt.Errorf("look up signal table %s in publication %q: %w", info.Name, s.cfg.Publication, err)
	}
	info.Published = pub != nil && string(pub[0]) == "true"
	if !info.Published && add {
		sql := "ALTER PUBLICATION " + quoteIdent(s.cfg.Publication) + " ADD TABLE " + quoteIdent(info.Name.Schema) + "." + quoteIdent(info.Name.Name)
		if err := s.execMeta(ctx, sql, "add the signal table to publication "+s.cfg.Publication); err != nil {
			return info, err
		}
		info.Published, info.Added = true, true
	}
	return info, nil
}

// ListTables lists the tables (ordinary and partitioned, not partitions)
// outside the system schemas, sorted, whether captured or not.
func (s *Source) ListTables(ctx context.Context) ([]TableName, error) {
	res := s.meta.ExecParams(ctx, `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
		ORDER BY 1, 2`, nil, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, fmt.Errorf("list tables: %w", res.Err)
	}
	out := make([]TableName, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = TableName{Schema: string(r[0]), Name: string(r[1])}
	}
	return out, nil
}

// XactSnapshot is a transaction snapshot as pg_current_snapshot() gives
// it: every transaction below Xmin has ended, none from Xmax on has, and
// Xip lists those in between still in progress. Ids are 64-bit
// (epoch and xid), as xid8.
type XactSnapshot struct {
	Xmin, Xmax uint64
	Xip        []uint64
}

// ParseXactSnapshot parses pg_snapshot's text form "xmin:xmax:xip,xip".
func ParseXactSnapshot(s string) (XactSnapshot, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return XactSnapshot{}, fmt.Errorf("parse pg_snapshot %q: want xmin:xmax:xip_list", s)
	}
	var snap XactSnapshot
	var err error
	if snap.Xmin, err = strconv.ParseUint(parts[0], 10, 64); err != nil {
		return XactSnapshot{}, fmt.Errorf("parse pg_snapshot %q: xmin: %w", s, err)
	}
	if snap.Xmax, err = strconv.ParseUint(parts[1], 10, 64); err != nil {
		return XactSnapshot{}, fmt.Errorf("parse pg_snapshot %q: xmax: %w", s, err)
	}
	if parts[2] != "" {
		for _, x := range strings.Split(parts[2], ",") {
			v, err := strconv.ParseUint(x, 10, 64)
			if err != nil {
				return XactSnapshot{}, fmt.Errorf("parse pg_snapshot %q: xip: %w", s, err)
			}
			snap.Xip = append(snap.Xip, v)
		}
	}
	if snap.Xmin > snap.Xmax {
		return XactSnapshot{}, fmt.Errorf("parse pg_snapshot %q: xmin above xmax", s)
	}
	return snap, nil
}

// String formats the snapshot as PostgreSQL does.
func (x XactSnapshot) String() string {
	ip := make([]string, len(x.Xip))
	for i, v := range x.Xip {
		ip[i] = strconv.FormatUint(v, 10)
	}
	return strconv.FormatUint(x.Xmin, 10) + ":" + strconv.FormatUint(x.Xmax, 10) + ":" + strings.Join(ip, ",")
}

// CurrentSnapshot returns pg_current_snapshot() and the WAL position at
// that moment (the insert position, or the replayed one on a standby):
// every transaction the snapshot sees as committed has its commit record
// below that position. It writes nothing; it needs PostgreSQL 13 or later.
func (s *Source) CurrentSnapshot(ctx context.Context) (XactSnapshot, change.LSN, error) {
	row, err := s.queryOne(ctx, `SELECT pg_current_snapshot()::text,
		(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text`)
	if err != nil {
		return XactSnapshot{}, 0, fmt.Errorf("read the read-only watermark (pg_current_snapshot, PostgreSQL 13 or later): %w", err)
	}
	snap, err := ParseXactSnapshot(string(row[0]))
	if err != nil {
		return XactSnapshot{}, 0, err
	}
	var lsn change.LSN
	if row[1] != nil {
		if lsn, err = change.ParseLSN(string(row[1])); err != nil {
			return XactSnapshot{}, 0, err
		}
	}
	return snap, lsn, nil
}

// ServerVersion returns server_version_num, such as 160004.
func (s *Source) ServerVersion(ctx context.Context) (int, error) {
	row, err := s.queryOne(ctx, `SELECT current_setting('server_version_num')`)
	if err != nil {
		return 0, fmt.Errorf("read server_version_num: %w", err)
	}
	return strconv.Atoi(string(row[0]))
}

// IsSQLError reports whether err is an error the server reported for a
// statement (bad SQL, a missing table, a failed condition), after which
// the connection is still usable, as opposed to a lost connection.
func IsSQLError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr)
}

// MetaOK reports whether the catalog connection is still open: after an
// error, it tells a failed statement from a lost connection.
func (s *Source) MetaOK() bool { return s.meta != nil && !s.meta.IsClosed() }
