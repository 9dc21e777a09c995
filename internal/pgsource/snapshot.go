package pgsource

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/pgmotion/pgmotion/internal/change"
)

// SnapshotTable is one table of a snapshot plan. A large table is split
// into ranges of Step heap pages, [i*Step, (i+1)*Step), the last range open
// at the end so that pages added since planning are read too; each range
// is read with a TID range scan (PostgreSQL 14 and later). A small table,
// an older server, or a table with a SELECT override is one range.
type SnapshotTable struct {
	Table TableName
	// Select is the SELECT that replaces the default one
	// (snapshot.select.statement.overrides); it is one range.
	Select string
	// Pages and Rows are the table's size and PostgreSQL's row estimate
	// when planned (Rows is -1 when the table was never analysed).
	Pages, Rows int64
	// Step is the number of pages per range; 0 means one range.
	Step   int64
	Ranges int
	// Done marks the ranges already delivered (a resumed snapshot).
	Done []bool

	rel       *change.Relation
	left      int         // ranges not yet finished; guarded by snapshotRun.mu
	tail      heldRow     // the last row of the last range finished; guarded by snapshotRun.mu
	firstDone atomic.Bool // a row of this table has been emitted
}

// SnapshotRange is one range of a SnapshotTable.
type SnapshotRange struct {
	T     *SnapshotTable
	Index int
}

// where returns the TID condition that selects r's pages, or "".
func (r SnapshotRange) where() string {
	if r.T.Step == 0 {
		return ""
	}
	lo := int64(r.Index) * r.T.Step
	cond := fmt.Sprintf("ctid >= '(%d,0)'::tid", lo)
	if r.Index < r.T.Ranges-1 {
		cond += fmt.Sprintf(" AND ctid < '(%d,0)'::tid", lo+r.T.Step)
	}
	return cond
}

func (r SnapshotRange) String() string {
	if r.T.Step == 0 {
		return r.T.Table.String()
	}
	return fmt.Sprintf("%s[%d/%d]", r.T.Table, r.Index+1, r.T.Ranges)
}

// Splitting: tables under minSplitPages are one range; larger ones get at
// least rangesPerThread ranges per reader (so that readers finish together)
// and ranges of at most maxRangePages (so that a resumed snapshot repeats
// little).
// Variables so that tests can split small tables.
var (
	minSplitPages   int64 = 2048  // 16 MiB of 8 KiB pages
	maxRangePages   int64 = 16384 // 128 MiB
	rangesPerThread       = 4
)

// PlanSnapshot sizes tables and splits the large ones into page ranges for
// threads readers. overrides maps "schema.table" to a SELECT that replaces
// the default query of that table.
func (s *Source) PlanSnapshot(ctx context.Context, tables []TableName, threads int, overrides map[string]string) ([]*SnapshotTable, error) {
	if threads < 1 {
		threads = 1
	}
	var plan []*SnapshotTable
	for _, t := range tables {
		row, err := s.queryOne(ctx, `SELECT (pg_relation_size(c.oid) / current_setting('block_size')::int8)::text, c.reltuples::int8::text
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, t.Schema, t.Name)
		if err != nil {
			return nil, fmt.Errorf("size of table %s: %w", t, err)
		}
		if row == nil {
			return nil, fmt.Errorf("table %s does not exist", t)
		}
		st := &SnapshotTable{Table: t, Select: overrides[t.String()], Ranges: 1}
		st.Pages, _ = strconv.ParseInt(string(row[0]), 10, 64)
		st.Rows, _ = strconv.ParseInt(string(row[1]), 10, 64)
		if st.Rows < 0 || (st.Rows == 0 && st.Pages > 0) {
			st.Rows = -1 // never analysed
			if st.Pages <= countPagesMax {
				// A small table: counting it costs less than a guess.
				st.Rows = s.countRows(ctx, t)
			}
		}
		if st.Select == "" && s.serverVersion >= pg14 && st.Pages >= minSplitPages {
			n := max(int64(threads*rangesPerThread), (st.Pages+maxRangePages-1)/maxRangePages)
			st.Step = (st.Pages + n - 1) / n
			st.Ranges = int((st.Pages + st.Step - 1) / st.Step)
		}
		st.Done = make([]bool, st.Ranges)
		plan = append(plan, st)
	}
	return plan, nil
}

// countPagesMax is the size, in pages (8 MB), up to which a table that
// was never analysed is counted for its snapshot's row estimate.
const countPagesMax = 1024

// countRows counts a small table's rows for the snapshot's estimate,
// reading at most countRowsMax of them: -1 if that fails.
func (s *Source) countRows(ctx context.Context, t TableName) int64 {
	row, err := s.queryOne(ctx, `SELECT count(*)::text FROM (SELECT FROM `+quoteIdent(t.Schema)+`.`+quoteIdent(t.Name)+` LIMIT `+strconv.Itoa(countRowsMax)+`) r`)
	if err != nil || row == nil {
		return -1
	}
	n, err := strconv.ParseInt(string(row[0]), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// countRowsMax bounds countRows.
const countRowsMax = 1_000_000

// SnapshotSink receives a snapshot's rows. Row and RangeDone are called
// from several reader goroutines at once; worker (0 to threads-1) names
// the calling goroutine, so that a sink may keep per-reader state. A
// change is valid only during the call.
type SnapshotSink interface {
	Row(worker int, r SnapshotRange, c *change.Change) error
	// RangeDone follows the Row call of a range's last row: no more rows
	// of r will come.
	RangeDone(worker int, r SnapshotRange, rows int64) error
}

// SnapshotOptions configure RunSnapshot.
type SnapshotOptions struct {
	// SnapshotName is the snapshot the slot exported; the readers import
	// it, so that snapshot and stream meet exactly at the slot's
	// consistent point. Empty: the readers share a snapshot of now.
	SnapshotName string
	// LSN is the position snapshot events carry.
	LSN     change.LSN
	Threads int
	// Resumed says that rows were emitted by an earlier run: the "first"
	// marker is not given again.
	Resumed bool
}

// snapshotRun is the shared state of RunSnapshot's readers.
type snapshotRun struct {
	sink SnapshotSink
	opts SnapshotOptions
	xid  uint32

	firstDone atomic.Bool

	mu   sync.Mutex
	left int // ranges not yet finished, all tables
	// held is the last row of the table that finished last, waiting to
	// learn whether it is the last row of the whole snapshot.
	held heldRow
}

// RunSnapshot reads the ranges of plan not marked Done with opts.Threads
// connections sharing one snapshot, and passes every row to sink as an op
// "r" change. The result is the view one connection would have read.
//
// The markers of source.snapshot follow Debezium as if the rows came in
// the order they reach the sink: "first" on the first row, "last" on the
// last row of the whole snapshot (even when the last tables are empty),
// "first_in_data_collection" on a table's first row and
// "last_in_data_collection" on its last, "true" elsewhere. To make that
// hold with several readers, each reader keeps its range's last row back
// until it knows whether other ranges of the table are still running, and
// the last row of a finished table waits until the next table finishes.
func (s *Source) RunSnapshot(ctx context.Context, plan []*SnapshotTable, opts SnapshotOptions, sink SnapshotSink) error {
	if opts.Threads < 1 {
		opts.Threads = 1
	}
	run := &snapshotRun{sink: sink, opts: opts}
	run.firstDone.Store(opts.Resumed)
	var queue []SnapshotRange
	for _, t := range plan {
		rel, err := s.relationForSnapshot(ctx, t.Table)
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", t.Table, err)
		}
		t.rel, t.left = rel, 0
		for i := 0; i < t.Ranges; i++ {
			if i < len(t.Done) && t.Done[i] {
				t.firstDone.Store(true)
				continue
			}
			t.left++
			queue = append(queue, SnapshotRange{T: t, Index: i})
		}
		run.left += t.left
	}
	if len(queue) == 0 {
		return nil
	}
	threads := min(opts.Threads, len(queue))
	conns, err := s.openReaders(ctx, threads, opts.SnapshotName)
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range conns {
			c.Close(context.WithoutCancel(ctx))
		}
	}()
	if row, err := queryOneOn(ctx, conns[0], "SELECT txid_current()::text"); err == nil && row != nil {
		if v, err := strconv.ParseUint(string(row[0]), 10, 64); err == nil {
			run.xid = uint32(v)
		}
	}

	next := make(chan SnapshotRange)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(next)
		for _, r := range queue {
			select {
			case next <- r:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	for w, conn := range conns {
		g.Go(func() error {
			rd := &snapReader{run: run, worker: w, conn: conn, log: s.log}
			for r := range next {
				if err := rd.read(gctx, r); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, c := range conns {
		if _, err := c.Exec(ctx, "COMMIT").ReadAll(); err != nil {
			return fmt.Errorf("end snapshot transaction: %w", err)
		}
	}
	return nil
}

// openReaders opens n connections in REPEATABLE READ transactions on one
// snapshot: the one named, or one exported by the first connection.
func (s *Source) openReaders(ctx context.Context, n int, name string) (conns []*pgconn.PgConn, err error) {
	defer func() {
		if err != nil {
			for _, c := range conns {
				c.Close(context.WithoutCancel(ctx))
			}
		}
	}()
	for i := 0; i < n; i++ {
		c, err := pgconn.ConnectConfig(ctx, s.connConfig(false))
		if err != nil {
			return conns, fmt.Errorf("snapshot connection: %w", explain(err, s.cfg.Conn.User, s.dbName))
		}
		conns = append(conns, c)
		if _, err := c.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").ReadAll(); err != nil {
			return conns, fmt.Errorf("begin snapshot transaction: %w", err)
		}
		if name == "" {
			row, err := queryOneOn(ctx, c, "SELECT pg_export_snapshot()")
			if err != nil {
				return conns, fmt.Errorf("export a snapshot for the snapshot readers: %w", err)
			}
			name = string(row[0])
			continue
		}
		if _, err := c.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+strings.ReplaceAll(name, "'", "''")+"'").ReadAll(); err != nil {
			return conns, fmt.Errorf("import snapshot %q: %w", name, err)
		}
	}
	return conns, nil
}

// queryOneOn runs sql on c, a snapshot connection, and returns its first
// row (nil when there is none); (*Source).queryOne does the same on the
// catalog connection.
func queryOneOn(ctx context.Context, c *pgconn.PgConn, sql string) ([][]byte, error) {
	res := c.ExecParams(ctx, sql, nil, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, res.Err
	}
	if len(res.Rows) == 0 {
		return nil, nil
	}
	return res.Rows[0], nil
}

// snapReader is one snapshot connection and the row it holds back.
type snapReader struct {
	run    *snapshotRun
	worker int
	conn   *pgconn.PgConn
	log    *slog.Logger
	bufs   [2]rowBuf
	cur    int
	n      int   // rows emitted
	ts     int64 // the clock, as of the last lookup
}

// rowBuf holds one row's change and a copy of its values.
type rowBuf struct {
	c    change.Change
	data []byte
}

func (b *rowBuf) fill(rel *change.Relation, vals [][]byte, cols []int) {
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	if cap(b.data) < n {
		b.data = make([]byte, 0, n)
	}
	b.data = b.data[:0]
	b.c.Op, b.c.Rel, b.c.Before = change.OpRead, rel, nil
	if cap(b.c.After) < len(rel.Columns) {
		b.c.After = make(change.Tuple, len(rel.Columns))
	}
	b.c.After = b.c.After[:len(rel.Columns)]
	for i := range b.c.After {
		b.c.After[i] = change.Value{Kind: change.KindNull}
	}
	for i, v := range vals {
		col := i
		if cols != nil {
			if col = cols[i]; col < 0 {
				continue
			}
		}
		if v == nil {
			continue
		}
		start := len(b.data)
		b.data = append(b.data, v...)
		b.c.After[col] = change.Value{Kind: change.KindText, Data: b.data[start:len(b.data):len(b.data)]}
	}
}

// copyFrom makes b a copy of o that does not share o's buffers.
func (b *rowBuf) copyFrom(o *rowBuf) {
	n := 0
	for _, v := range o.c.After {
		n += len(v.Data)
	}
	b.c = o.c
	b.data = make([]byte, 0, n)
	b.c.After = make(change.Tuple, len(o.c.After))
	for i, v := range o.c.After {
		if v.Kind == change.KindText {
			start := len(b.data)
			b.data = append(b.data, v.Data...)
			v.Data = b.data[start:len(b.data):len(b.data)]
		}
		b.c.After[i] = v
	}
}

func (rd *snapReader) read(ctx context.Context, r SnapshotRange) error {
	start := time.Now()
	var (
		n   int64
		err error
	)
	if r.T.Select != "" {
		n, err = rd.readSelect(ctx, r)
	} else {
		n, err = rd.readCopy(ctx, r)
	}
	if err != nil {
		return err
	}
	rd.log.Debug("snapshot range read", "range", r.String(), "rows", n, "elapsed", time.Since(start).Round(time.Millisecond))
	var last *rowBuf
	if n > 0 {
		last = &rd.bufs[rd.cur^1]
	}
	return rd.finish(r, last, n)
}

// next emits the row read before the one just filled, if any: each row
// waits for the next, so that the range's last row is held back.
func (rd *snapReader) next(r SnapshotRange, n int64) error {
	if n > 0 {
		if err := rd.emit(r, &rd.bufs[rd.cur^1]); err != nil {
			return err
		}
	}
	rd.cur ^= 1
	return nil
}

// readCopy reads r with COPY (SELECT ...) TO STDOUT, the cheaper way for
// the server (copytext.go); it returns the rows read.
func (rd *snapReader) readCopy(ctx context.Context, r SnapshotRange) (int64, error) {
	w := &copyRows{rd: rd, r: r}
	if _, err := rd.conn.CopyTo(ctx, w, "COPY ("+r.query()+") TO STDOUT"); err != nil {
		if w.err != nil {
			// The sink's or the row's error, which made CopyTo give up.
			return 0, w.err
		}
		return 0, fmt.Errorf("snapshot %s: %w", r, err)
	}
	return w.n, nil
}

// copyRows receives a COPY's rows, one per Write.
type copyRows struct {
	rd  *snapReader
	r   SnapshotRange
	n   int64
	err error
}

func (w *copyRows) Write(line []byte) (int, error) {
	rd := w.rd
	if err := rd.bufs[rd.cur].fillCopy(w.r.T.rel, line); err != nil {
		w.err = fmt.Errorf("snapshot %s: row %d: %w", w.r, w.n+1, err)
		return 0, w.err
	}
	if err := rd.next(w.r, w.n); err != nil {
		w.err = err
		return 0, err
	}
	w.n++
	return len(line), nil
}

// readSelect reads r, a table with a SELECT override, whose columns are
// matched to the table's by name; it returns the rows read.
func (rd *snapReader) readSelect(ctx context.Context, r SnapshotRange) (int64, error) {
	rr := rd.conn.ExecParams(ctx, r.query(), nil, nil, nil, nil)
	cols, err := overrideColumns(r.T, rr.FieldDescriptions())
	if err != nil {
		rr.Close()
		return 0, err
	}
	var n int64
	for rr.NextRow() {
		rd.bufs[rd.cur].fill(r.T.rel, rr.Values(), cols)
		if err := rd.next(r, n); err != nil {
			rr.Close()
			return 0, err
		}
		n++
	}
	if _, err := rr.Close(); err != nil {
		return 0, fmt.Errorf("snapshot %s: %w", r, err)
	}
	return n, nil
}

// query returns the SQL that reads r: the table's override, or its
// columns in the relation's order within r's pages.
func (r SnapshotRange) query() string {
	if r.T.Select != "" {
		return r.T.Select
	}
	sql := selectAll(r.T.rel)
	if w := r.where(); w != "" {
		sql += " WHERE " + w
	}
	return sql
}

// overrideColumns maps the columns of an overriding SELECT to the table's
// columns by name; a column of the result that the table lacks is an error,
// a table column the SELECT leaves out is null.
func overrideColumns(t *SnapshotTable, fds []pgconn.FieldDescription) ([]int, error) {
	idx := make(map[string]int, len(t.rel.Columns))
	for i, c := range t.rel.Columns {
		idx[c.Name] = i
	}
	cols := make([]int, len(fds))
	for i, fd := range fds {
		j, ok := idx[fd.Name]
		if !ok {
			return nil, fmt.Errorf("snapshot.select.statement.overrides.%s returns column %q, which table %s does not have: select the table's columns (SELECT * FROM %s WHERE ...)", t.Table, fd.Name, t.Table, t.Table)
		}
		cols[i] = j
	}
	return cols, nil
}

// emit passes a row that is not the last of its range to the sink. Its
// source.ts_ms is the time it was read, to the millisecond, looked up once
// every 256 rows: a clock read per row costs more than the rest of the
// reader's work.
func (rd *snapReader) emit(r SnapshotRange, b *rowBuf) error {
	if rd.n&255 == 0 {
		rd.ts = time.Now().UnixMicro()
	}
	rd.n++
	rd.run.mark(&b.c, r.T, false, false, rd.ts)
	return rd.run.sink.Row(rd.worker, r, &b.c)
}

// finish handles the end of a range. Its last row is kept as the table's
// tail, and the tail it replaces is emitted: the table's last row is
// known only once every range of the table has finished, since the last
// range to finish may be empty.
func (rd *snapReader) finish(r SnapshotRange, last *rowBuf, rows int64) error {
	run, t := rd.run, r.T
	run.mu.Lock()
	defer run.mu.Unlock()
	t.left--
	run.left--
	if last == nil {
		if err := run.sink.RangeDone(rd.worker, r, rows); err != nil {
			return err
		}
	} else {
		if err := run.release(rd.worker, &t.tail, false, false); err != nil {
			return err
		}
		t.tail.keep(r, rows, last)
	}
	if t.left == 0 && t.tail.set {
		// The previous finished table's last row is not the snapshot's.
		if err := run.release(rd.worker, &run.held, true, false); err != nil {
			return err
		}
		run.held, t.tail = t.tail, heldRow{}
	}
	if run.left == 0 {
		return run.release(rd.worker, &run.held, true, true)
	}
	return nil
}

// heldRow is a row kept back until its marker is known, with its range,
// which is done once the row is emitted.
type heldRow struct {
	set  bool
	rng  SnapshotRange
	rows int64
	buf  rowBuf
}

func (h *heldRow) keep(r SnapshotRange, rows int64, b *rowBuf) {
	h.set, h.rng, h.rows = true, r, rows
	h.buf.copyFrom(b)
}

// release emits h's row, if any, and reports its range done. Called with
// mu held.
func (run *snapshotRun) release(worker int, h *heldRow, tableLast, lastOverall bool) error {
	if !h.set {
		return nil
	}
	h.set = false
	run.mark(&h.buf.c, h.rng.T, tableLast, lastOverall, time.Now().UnixMicro())
	if err := run.sink.Row(worker, h.rng, &h.buf.c); err != nil {
		return err
	}
	return run.sink.RangeDone(worker, h.rng, h.rows)
}

// mark sets c's position fields and its snapshot marker.
func (run *snapshotRun) mark(c *change.Change, t *SnapshotTable, tableLast, lastOverall bool, ts int64) {
	c.LSN, c.Xid, c.HasXid, c.TsMicros = run.opts.LSN, run.xid, run.xid != 0, ts
	firstOverall := !run.firstDone.Load() && run.firstDone.CompareAndSwap(false, true)
	firstInTable := !t.firstDone.Load() && t.firstDone.CompareAndSwap(false, true)
	switch {
	case lastOverall:
		c.Snapshot = change.SnapshotLast
	case firstOverall:
		c.Snapshot = change.SnapshotFirst
	case tableLast:
		c.Snapshot = change.SnapshotLastInDataCollection
	case firstInTable:
		c.Snapshot = change.SnapshotFirstInDataCollection
	default:
		c.Snapshot = change.SnapshotTrue
	}
}
