package pgsource

import (
	"context"
	"fmt"
	"strconv"
)

// This file holds what pgmotion does with the signal table (Debezium's
// signal.data.collection): checking it exists and is published, making
// the stream deliver its changes, and writing the watermark rows of
// incremental snapshots into it. Every method runs on the catalog
// connection.

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
