package pgsource

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pgmotion/pgmotion/internal/change"
)

// SnapshotProgress is reported after each table.
type SnapshotProgress struct {
	Table TableName
	Rows  int64
}

// Snapshot reads every row of tables in one REPEATABLE READ transaction and
// passes each to emit as an op "r" change. With snapshotName (the one the
// slot exported) the view is exactly the slot's starting point, so the
// stream that follows neither repeats nor misses a row. Without it the
// view is the current one, and the stream may repeat some changes.
//
// The markers of source.snapshot follow Debezium: "first" on the first
// row of the first table, "last" on the last row of the whole snapshot
// (even when the last tables are empty), "first_in_data_collection" and
// "last_in_data_collection" on the ends of other tables, "true" elsewhere.
// The change passed to emit is valid only during the call.
func (s *Source) Snapshot(ctx context.Context, tables []TableName, snapshotName string, lsn change.LSN,
	emit func(*change.Change) error, progress func(SnapshotProgress)) error {
	if _, err := s.meta.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ").ReadAll(); err != nil {
		return fmt.Errorf("begin snapshot transaction: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			s.meta.Exec(context.WithoutCancel(ctx), "ROLLBACK").ReadAll()
		}
	}()
	if snapshotName != "" {
		if _, err := s.meta.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+strings.ReplaceAll(snapshotName, "'", "''")+"'").ReadAll(); err != nil {
			return fmt.Errorf("import the slot's snapshot %q: %w", snapshotName, err)
		}
	}
	var xid uint32
	hasXid := false
	if row, err := s.queryOne(ctx, "SELECT txid_current()::text"); err == nil && row != nil {
		if v, err := strconv.ParseUint(string(row[0]), 10, 64); err == nil {
			xid, hasXid = uint32(v), true
		}
	}

	la := lookahead{emit: emit}
	for ti, t := range tables {
		rel, err := s.relationForSnapshot(ctx, t)
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", t, err)
		}
		cols := make([]string, len(rel.Columns))
		for i, c := range rel.Columns {
			cols[i] = quoteIdent(c.Name)
		}
		sql := "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteIdent(t.Schema) + "." + quoteIdent(t.Name)
		if len(cols) == 0 {
			sql = "SELECT FROM " + quoteIdent(t.Schema) + "." + quoteIdent(t.Name)
		}
		start := time.Now()
		rr := s.meta.ExecParams(ctx, sql, nil, nil, nil, nil)
		var n int64
		for rr.NextRow() {
			vals := rr.Values()
			c := la.next(rel, ti == 0, n == 0)
			c.LSN, c.Xid, c.HasXid, c.TsMicros = lsn, xid, hasXid, time.Now().UnixMicro()
			la.fill(vals)
			if err := la.flush(false); err != nil {
				rr.Close()
				return err
			}
			n++
		}
		if _, err := rr.Close(); err != nil {
			return fmt.Errorf("snapshot %s: %w", t, err)
		}
		la.endTable()
		s.log.Info("snapshot of table done", "table", t.String(), "rows", n, "elapsed", time.Since(start).Round(time.Millisecond))
		if progress != nil {
			progress(SnapshotProgress{Table: t, Rows: n})
		}
	}
	if err := la.finish(); err != nil {
		return err
	}
	if _, err := s.meta.Exec(ctx, "COMMIT").ReadAll(); err != nil {
		return fmt.Errorf("end snapshot transaction: %w", err)
	}
	committed = true
	return nil
}

// lookahead holds back one row so that its marker can say whether it was
// the last of its table or of the whole snapshot. Two row buffers take
// turns: one holds the pending row, the other the row being read.
type lookahead struct {
	emit func(*change.Change) error
	bufs [2]struct {
		c          change.Change
		data       []byte
		firstTable bool
		firstRow   bool
		lastRow    bool
	}
	cur     int // the buffer being filled
	pending bool
}

// next returns the change to fill for a new row; the previous one becomes
// pending with a marker still undecided.
func (l *lookahead) next(rel *change.Relation, firstTable, firstRow bool) *change.Change {
	b := &l.bufs[l.cur]
	b.firstTable, b.firstRow, b.lastRow = firstTable, firstRow, false
	b.c.Op, b.c.Rel, b.c.Before = change.OpRead, rel, nil
	return &b.c
}

// fill copies a row's values into the current buffer: the reader reuses
// its own buffer on the next row.
func (l *lookahead) fill(vals [][]byte) {
	b := &l.bufs[l.cur]
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	if cap(b.data) < n {
		b.data = make([]byte, 0, 2*n)
	}
	b.data = b.data[:0]
	b.c.After = b.c.After[:0]
	for _, v := range vals {
		if v == nil {
			b.c.After = append(b.c.After, change.Value{Kind: change.KindNull})
			continue
		}
		start := len(b.data)
		b.data = append(b.data, v...)
		b.c.After = append(b.c.After, change.Value{Kind: change.KindText, Data: b.data[start:len(b.data):len(b.data)]})
	}
}

// flush emits the pending row, if any, and makes the current row pending.
func (l *lookahead) flush(last bool) error {
	if l.pending {
		if err := l.emitPending(last); err != nil {
			return err
		}
	}
	l.pending = true
	l.cur ^= 1
	return nil
}

func (l *lookahead) emitPending(lastOverall bool) error {
	p := &l.bufs[l.cur^1]
	switch {
	case lastOverall:
		p.c.Snapshot = change.SnapshotLast
	case p.firstRow && p.firstTable:
		p.c.Snapshot = change.SnapshotFirst
	case p.lastRow:
		p.c.Snapshot = change.SnapshotLastInDataCollection
	case p.firstRow:
		p.c.Snapshot = change.SnapshotFirstInDataCollection
	default:
		p.c.Snapshot = change.SnapshotTrue
	}
	l.pending = false
	return l.emit(&p.c)
}

// endTable marks the pending row, if it belongs to the table that ended,
// as the last of its table.
func (l *lookahead) endTable() {
	if l.pending {
		l.bufs[l.cur^1].lastRow = true
	}
}

func (l *lookahead) finish() error {
	if !l.pending {
		return nil
	}
	return l.emitPending(true)
}
