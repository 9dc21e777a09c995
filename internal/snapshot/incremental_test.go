package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/pgsource"
)

// The tests below drive the incremental snapshot's state machine the way
// the task does, with no PostgreSQL and no Kafka: fakeDB answers its
// chunk reads and records the watermarks it writes, and harness plays the
// stream, feeding the watermarks back, and the table changes a test
// chooses, in the order it chooses. What the task would emit, streamed
// events and snapshot rows, is logged in order, as "table:op:key".

// fakeTable is a table of fakeDB: its rows, kept in key order.
type fakeTable struct {
	rel  *change.Relation
	rows []change.Tuple
}

// newTable describes schema.name with columns cols, the first nKey of
// which are its primary key, and rows of text values.
func newTable(id uint32, name string, cols []string, nKey int, rows ...[]string) *fakeTable {
	schema, table, _ := strings.Cut(name, ".")
	rel := &change.Relation{ID: id, Namespace: schema, Name: table}
	for i, c := range cols {
		rel.Columns = append(rel.Columns, change.Column{Name: c})
		if i < nKey {
			rel.Key = append(rel.Key, i)
		}
	}
	ft := &fakeTable{rel: rel}
	for _, r := range rows {
		ft.put(r...)
	}
	return ft
}

func tuple(vals ...string) change.Tuple {
	var t change.Tuple
	for _, v := range vals {
		if v == "NULL" {
			t = append(t, null)
		} else {
			t = append(t, text(v))
		}
	}
	return t
}

// put inserts or replaces a row, keeping key order.
func (ft *fakeTable) put(vals ...string) {
	row := tuple(vals...)
	k := keyOf(row, ft.rel.Key)
	i, found := slices.BinarySearchFunc(ft.rows, k, func(r change.Tuple, k []string) int { return cmpKey(keyOf(r, ft.rel.Key), k) })
	if found {
		ft.rows[i] = row
	} else {
		ft.rows = slices.Insert(ft.rows, i, row)
	}
}

func keyOf(row change.Tuple, cols []int) []string {
	k := make([]string, len(cols))
	for i, c := range cols {
		k[i] = string(row[c].Data)
	}
	return k
}

// cmpKey orders keys as PostgreSQL orders these tests' columns: integers
// as numbers, the rest as text.
func cmpKey(a, b []string) int {
	for i := range a {
		x, errX := strconv.Atoi(a[i])
		y, errY := strconv.Atoi(b[i])
		c := strings.Compare(a[i], b[i])
		if errX == nil && errY == nil {
			c = x - y
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// watermarkWrite is a row fakeDB wrote to or deleted from the signal
// table, which the stream shows later.
type watermarkWrite struct {
	del          bool
	id, typ, dat string
}

// errNoTable is what PostgreSQL answers for a table dropped mid-snapshot.
var errNoTable = errors.New(`relation does not exist (SQLSTATE 42P01)`)

// fakeDB stands for PostgreSQL behind the Source interface.
type fakeDB struct {
	tables map[string]*fakeTable
	// conds evaluates the additional conditions the tests use, by their
	// text (in parentheses, as the machine passes them); an unknown one
	// is an SQL error.
	conds map[string]func(ft *fakeTable, row change.Tuple) bool
	// writes are the watermark rows written and not yet streamed.
	writes []watermarkWrite
	// reads logs each ReadChunk as "table after..max".
	reads []string
	// lost makes every call fail as a lost connection does;
	// refuseWrites makes watermark writes fail as without privileges.
	lost, refuseWrites bool
	// low, high and highLSN are what CurrentSnapshot returns, in turn.
	low, high  pgsource.XactSnapshot
	highLSN    change.LSN
	snapshotNo int
}

func (db *fakeDB) table(t pgsource.TableName) (*fakeTable, error) {
	if db.lost {
		return nil, errors.New("conn closed")
	}
	ft := db.tables[t.String()]
	if ft == nil {
		return nil, fmt.Errorf("%s: %w", t, errNoTable)
	}
	return ft, nil
}

func (db *fakeDB) match(ft *fakeTable, cond string, row change.Tuple) (bool, error) {
	if cond == "" {
		return true, nil
	}
	f := db.conds[cond]
	if f == nil {
		return false, fmt.Errorf("syntax error in %s", cond)
	}
	return f(ft, row), nil
}

func (db *fakeDB) ListTables(context.Context) ([]pgsource.TableName, error) {
	if db.lost {
		return nil, errors.New("conn closed")
	}
	var out []pgsource.TableName
	for name := range db.tables {
		n, _ := ParseTableName(name)
		out = append(out, n)
	}
	out = append(out, sigTable)
	slices.SortFunc(out, func(a, b pgsource.TableName) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

func (db *fakeDB) PrepareChunkTable(_ context.Context, t pgsource.TableName, surrogateKey string) (*pgsource.ChunkTable, error) {
	ft, err := db.table(t)
	if err != nil {
		return nil, err
	}
	ct := &pgsource.ChunkTable{Name: t, Rel: ft.rel, Order: ft.rel.Key}
	if surrogateKey != "" {
		ct.Order = nil
		for i, c := range ft.rel.Columns {
			if c.Name == surrogateKey {
				ct.Order = []int{i}
			}
		}
	}
	if len(ct.Order) == 0 {
		return nil, fmt.Errorf("table %s has no key to read it in chunks by", t)
	}
	return ct, nil
}

func (db *fakeDB) MaxKey(_ context.Context, ct *pgsource.ChunkTable, cond string) ([]string, error) {
	ft, err := db.table(ct.Name)
	if err != nil {
		return nil, err
	}
	var maxKey []string
	for _, r := range ft.rows {
		ok, err := db.match(ft, cond, r)
		if err != nil {
			return nil, err
		}
		if k := keyOf(r, ct.Order); ok && (maxKey == nil || cmpKey(k, maxKey) > 0) {
			maxKey = k
		}
	}
	return maxKey, nil
}

func (db *fakeDB) ReadChunk(_ context.Context, ct *pgsource.ChunkTable, after, max []string, cond string, limit int) ([]*change.Change, error) {
	ft, err := db.table(ct.Name)
	if err != nil {
		return nil, err
	}
	db.reads = append(db.reads, fmt.Sprintf("%s %s..%s", ct.Name.Name, strings.Join(after, ","), strings.Join(max, ",")))
	var out []*change.Change
	for _, r := range ft.rows {
		k := keyOf(r, ct.Order)
		if (after != nil && cmpKey(k, after) <= 0) || cmpKey(k, max) > 0 {
			continue
		}
		ok, err := db.match(ft, cond, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, &change.Change{Op: change.OpRead, Snapshot: change.SnapshotIncremental, Rel: ft.rel, After: slices.Clone(r)})
	}
	slices.SortFunc(out, func(a, b *change.Change) int { return cmpKey(keyOf(a.After, ct.Order), keyOf(b.After, ct.Order)) })
	return out, nil
}

func (db *fakeDB) InsertSignal(_ context.Context, table pgsource.TableName, id, typ, data string) error {
	if db.lost {
		return errors.New("conn closed")
	}
	if db.refuseWrites {
		return errors.New("permission denied for table debezium_signal (SQLSTATE 42501)")
	}
	if table != sigTable {
		return fmt.Errorf("watermark written to %s", table)
	}
	db.writes = append(db.writes, watermarkWrite{id: id, typ: typ, dat: data})
	return nil
}

func (db *fakeDB) DeleteSignal(_ context.Context, table pgsource.TableName, id string) error {
	if db.lost {
		return errors.New("conn closed")
	}
	db.writes = append(db.writes, watermarkWrite{del: true, id: id})
	return nil
}

func (db *fakeDB) CurrentSnapshot(context.Context) (pgsource.XactSnapshot, change.LSN, error) {
	if db.lost {
		return pgsource.XactSnapshot{}, 0, errors.New("conn closed")
	}
	db.snapshotNo++
	if db.snapshotNo%2 == 1 {
		return db.low, 0, nil
	}
	return db.high, db.highLSN, nil
}

func (db *fakeDB) MetaOK() bool { return !db.lost }

// fakeTask stands for the task: it logs what it is asked to emit, and
// keeps the offset keys of each checkpoint.
type fakeTask struct {
	h           *harness
	checkpoints []OffsetKeys
	blocking    []string
}

func (ft *fakeTask) Emit(c *change.Change) error {
	if c.Op != change.OpRead || c.Snapshot != change.SnapshotIncremental {
		ft.h.t.Errorf("emitted %v (snapshot %v), want an incremental read", c.Op, c.Snapshot)
	}
	if c.LSN == 0 || c.TsMicros == 0 {
		ft.h.t.Errorf("emitted row without position: lsn %d ts %d", c.LSN, c.TsMicros)
	}
	ft.h.event("r", c.Rel, c.After)
	return nil
}

func (ft *fakeTask) Checkpoint() { ft.checkpoints = append(ft.checkpoints, ft.h.inc.OffsetKeys()) }

func (ft *fakeTask) Blocking(_ context.Context, tables []pgsource.TableName, _ change.LSN) (int64, error) {
	for _, t := range tables {
		ft.blocking = append(ft.blocking, t.String())
	}
	return 0, nil
}

func (ft *fakeTask) OffsetJSON() []byte { return []byte(`{}`) }

var (
	sigTable = pgsource.TableName{Schema: "public", Name: "debezium_signal"}
	sigRel   = &change.Relation{ID: 1, Namespace: "public", Name: "debezium_signal",
		Columns: []change.Column{{Name: "id"}, {Name: "type"}, {Name: "data"}}, Key: []int{0}}
)

// harness plays the stream and the task around one machine.
type harness struct {
	t      *testing.T
	cfg    Config
	db     *fakeDB
	task   *fakeTask
	inc    *Incremental
	lsn    change.LSN
	events []string
	sigNo  int
	// expectErr makes feed keep a change's error in err rather than fail.
	expectErr bool
	err       error
}

func newHarness(t *testing.T, cfg Config, tables ...*fakeTable) *harness {
	db := &fakeDB{tables: map[string]*fakeTable{}, conds: map[string]func(*fakeTable, change.Tuple) bool{},
		low: pgsource.XactSnapshot{Xmin: 100, Xmax: 105}, high: pgsource.XactSnapshot{Xmin: 100, Xmax: 110}, highLSN: 1000}
	for _, ft := range tables {
		db.tables[ft.rel.Namespace+"."+ft.rel.Name] = ft
	}
	h := &harness{t: t, cfg: cfg, db: db, lsn: 10}
	h.start(OffsetKeys{})
	return h
}

// start runs a new machine, as a task (re)starting with the offset keys.
func (h *harness) start(keys OffsetKeys) {
	h.task = &fakeTask{h: h}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{h.t}, nil))
	}
	h.inc = NewIncremental(context.Background(), h.cfg, h.db, h.task, log)
	if err := h.inc.Restore(keys); err != nil {
		h.t.Fatalf("restore: %v", err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func (h *harness) event(op string, rel *change.Relation, row change.Tuple) {
	h.events = append(h.events, rel.Name+":"+op+":"+strings.Join(keyOf(row, rel.Key), ","))
}

// feed streams a change, as the task does: the machine first, then,
// unless it says to skip it, the change is emitted.
func (h *harness) feed(c *change.Change) {
	h.t.Helper()
	h.lsn++
	c.LSN = h.lsn
	skip, err := h.inc.Change(c)
	if err != nil && h.expectErr {
		h.err = err
		return
	}
	if err != nil {
		h.t.Fatalf("change at %d: %v", c.LSN, err)
	}
	if skip || c.Rel == sigRel {
		return
	}
	switch c.Op {
	case change.OpDelete:
		h.event("d", c.Rel, c.Before)
	case change.OpTruncate:
		h.events = append(h.events, c.Rel.Name+":t")
	default:
		h.event(map[change.Op]string{change.OpCreate: "c", change.OpUpdate: "u"}[c.Op], c.Rel, c.After)
	}
}

// step is one thing that happens to the machine, in a test's order.
type step func(h *harness)

// sig streams a signal written to the signal table.
func sig(typ, data string) step {
	return func(h *harness) {
		h.sigNo++
		h.feed(&change.Change{Op: change.OpCreate, Rel: sigRel, After: tuple(fmt.Sprintf("sig-%d", h.sigNo), typ, data)})
	}
}

func execute(tables ...string) step {
	return sig(sigExecuteSnapshot, `{"data-collections":["`+strings.Join(tables, `","`)+`"]}`)
}

func stop(tables ...string) step {
	if len(tables) == 0 {
		return sig(sigStopSnapshot, `{}`)
	}
	return sig(sigStopSnapshot, `{"data-collections":["`+strings.Join(tables, `","`)+`"]}`)
}

var (
	pause  = sig(sigPauseSnapshot, "NULL")
	resume = sig(sigResumeSnapshot, "NULL")
)

// watermark streams the oldest watermark row not yet streamed, which must
// be of the kind given: "open", "close" or "delete".
func watermark(kind string) step {
	return func(h *harness) {
		h.t.Helper()
		if len(h.db.writes) == 0 {
			h.t.Fatalf("no %s watermark was written", kind)
		}
		w := h.db.writes[0]
		h.db.writes = h.db.writes[1:]
		switch {
		case w.del:
			if kind != "delete" {
				h.t.Fatalf("watermark: a delete of %s, want %s", w.id, kind)
			}
			h.feed(&change.Change{Op: change.OpDelete, Rel: sigRel, Before: tuple(w.id, "NULL", "NULL")})
			return
		case w.typ != "snapshot-window-"+kind:
			h.t.Fatalf("watermark: %s %s, want %s", w.typ, w.id, kind)
		}
		h.feed(&change.Change{Op: change.OpCreate, Rel: sigRel, After: tuple(w.id, w.typ, w.dat)})
	}
}

var (
	open   = watermark("open")
	closeW = watermark("close")
	// wholeWindow streams a whole window with nothing inside.
	wholeWindow = []step{open, closeW}
)

// openOnly streams the open watermark written for a chunk that found
// nothing left to read: it opens nothing, and none closes it.
var openOnly = watermark("open")

// noWatermark checks that no watermark waits to be streamed: no chunk is
// in flight.
func noWatermark(h *harness) {
	h.t.Helper()
	if len(h.db.writes) != 0 {
		h.t.Fatalf("watermarks written: %+v", h.db.writes)
	}
}

func rowChange(op change.Op, table string, vals ...string) step {
	return func(h *harness) {
		ft := h.db.tables[table]
		if ft == nil {
			h.t.Fatalf("no table %s", table)
		}
		row := tuple(vals...)
		c := &change.Change{Op: op, Rel: ft.rel, Xid: 7, HasXid: true}
		switch op {
		case change.OpDelete:
			ft.rows = slices.DeleteFunc(ft.rows, func(r change.Tuple) bool { return cmpKey(keyOf(r, ft.rel.Key), keyOf(row, ft.rel.Key)) == 0 })
			c.Before = row
		case change.OpTruncate:
			ft.rows = nil
		default:
			ft.put(vals...)
			c.After = row
		}
		h.feed(c)
	}
}

// upd, ins and del change a row of a table and stream the change; del's
// row holds the key and NULLs, as REPLICA IDENTITY DEFAULT sends it.
func upd(table string, vals ...string) step { return rowChange(change.OpUpdate, table, vals...) }
func ins(table string, vals ...string) step { return rowChange(change.OpCreate, table, vals...) }
func del(table string, vals ...string) step { return rowChange(change.OpDelete, table, vals...) }

// restart starts a new machine from the offset keys of the last
// checkpoint, as a task restarting from what Kafka holds; watermarks the
// old one wrote and nobody streamed yet are lost with it.
func restart(h *harness) {
	var keys OffsetKeys
	if n := len(h.task.checkpoints); n > 0 {
		keys = h.task.checkpoints[n-1]
	}
	h.db.writes = nil
	h.start(keys)
}

func dropTable(table string) step {
	return func(h *harness) { delete(h.db.tables, table) }
}

// failing runs s, which must fail as a lost connection fails the task.
func failing(s step) step {
	return func(h *harness) {
		h.t.Helper()
		h.expectErr, h.err = true, nil
		s(h)
		h.expectErr = false
		if h.err == nil {
			h.t.Fatal("the change did not fail")
		}
	}
}

// lose loses the database connection; reconnect brings it back.
func lose(h *harness)      { h.db.lost = true }
func reconnect(h *harness) { h.db.lost = false }

// at sets the LSN of the next change to lsn.
func at(lsn change.LSN) step { return func(h *harness) { h.lsn = lsn - 1 } }

// tick ticks the machine outside a transaction, the stream idle at idle,
// its last commit the last change streamed.
func tick(idle change.LSN) step {
	return func(h *harness) {
		h.t.Helper()
		if err := h.inc.Tick(time.Now(), false, idle, h.lsn); err != nil {
			h.t.Fatalf("tick: %v", err)
		}
	}
}

func steps(parts ...any) []step {
	var out []step
	for _, p := range parts {
		switch p := p.(type) {
		case step:
			out = append(out, p)
		case func(*harness):
			out = append(out, p)
		case []step:
			out = append(out, p...)
		default:
			panic(fmt.Sprintf("steps: %T", p))
		}
	}
	return out
}

func rows(n int) [][]string {
	var out [][]string
	for i := 1; i <= n; i++ {
		out = append(out, []string{strconv.Itoa(i), "v" + strconv.Itoa(i)})
	}
	return out
}

func tableT(n int) *fakeTable { return newTable(10, "public.t", []string{"id", "v"}, 1, rows(n)...) }
func tableU(n int) *fakeTable { return newTable(11, "public.u", []string{"id", "v"}, 1, rows(n)...) }

func TestIncrementalWindow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Config
		tables []*fakeTable
		// conds are the additional conditions the fake database knows.
		conds map[string]func(ft *fakeTable, row change.Tuple) bool
		steps []step
		// want are the events emitted, in order: streamed changes and
		// snapshot rows ("t:r:1").
		want []string
		// reads are the chunk reads, when the test cares: "t after..max".
		reads []string
		// keys are the offset keys at the end; checkpoints those at each
		// checkpoint, when the test cares.
		keys        OffsetKeys
		checkpoints []OffsetKeys
	}{{
		name:   "a chunk the stream does not touch is emitted whole as r",
		tables: []*fakeTable{tableT(3)},
		steps:  steps(execute("public.t"), wholeWindow, openOnly, noWatermark),
		want:   []string{"t:r:1", "t:r:2", "t:r:3"},
		reads:  []string{"t ..3", "t 3..3"},
	}, {
		name:   "chunks follow one another in key order up to the maximum key",
		cfg:    Config{ChunkSize: 2},
		tables: []*fakeTable{tableT(5)},
		steps:  steps(execute("public.t"), wholeWindow, wholeWindow, wholeWindow, openOnly, noWatermark),
		want:   []string{"t:r:1", "t:r:2", "t:r:3", "t:r:4", "t:r:5"},
		reads:  []string{"t ..5", "t 2..5", "t 4..5", "t 5..5"},
		checkpoints: []OffsetKeys{
			{Collections: collsKey("public.t", "", "sig-1"), CorrelationID: "sig-1", PrimaryKey: `["2"]`, MaximumKey: `["5"]`},
			{Collections: collsKey("public.t", "", "sig-1"), CorrelationID: "sig-1", PrimaryKey: `["4"]`, MaximumKey: `["5"]`},
			{Collections: collsKey("public.t", "", "sig-1"), CorrelationID: "sig-1", PrimaryKey: `["5"]`, MaximumKey: `["5"]`},
		},
	}, {
		name:   "a key updated inside the window: its chunk row is dropped",
		tables: []*fakeTable{tableT(3)},
		steps:  steps(execute("public.t"), open, upd("public.t", "2", "new"), closeW, openOnly),
		want:   []string{"t:u:2", "t:r:1", "t:r:3"},
	}, {
		name:   "a key deleted inside the window: its chunk row is dropped",
		tables: []*fakeTable{tableT(3)},
		steps:  steps(execute("public.t"), open, del("public.t", "2", "NULL"), closeW, openOnly),
		want:   []string{"t:d:2", "t:r:1", "t:r:3"},
	}, {
		name:   "a change before the open watermark drops nothing: the read saw it",
		tables: []*fakeTable{tableT(3)},
		steps:  steps(execute("public.t"), upd("public.t", "2", "new"), open, closeW, openOnly),
		want:   []string{"t:u:2", "t:r:1", "t:r:2", "t:r:3"},
	}, {
		name:   "a change after the close watermark drops nothing: it follows the rows",
		tables: []*fakeTable{tableT(3)},
		steps:  steps(execute("public.t"), wholeWindow, upd("public.t", "2", "new"), openOnly),
		want:   []string{"t:r:1", "t:r:2", "t:r:3", "t:u:2"},
	}, {
		name:   "a key inserted inside the window beyond the chunk drops nothing",
		cfg:    Config{ChunkSize: 2},
		tables: []*fakeTable{tableT(3)},
		steps:  steps(execute("public.t"), open, ins("public.t", "3b", "x"), closeW, wholeWindow, openOnly),
		want:   []string{"t:c:3b", "t:r:1", "t:r:2", "t:r:3"},
	}, {
		name:   "another table's change with the same key drops nothing",
		tables: []*fakeTable{tableT(2), tableU(2)},
		steps:  steps(execute("public.t"), open, upd("public.u", "1", "x"), closeW, openOnly),
		want:   []string{"u:u:1", "t:r:1", "t:r:2"},
	}, {
		name:   "a truncate inside the window drops the whole chunk",
		tables: []*fakeTable{tableT(3)},
		steps:  steps(execute("public.t"), open, rowChange(change.OpTruncate, "public.t"), closeW, openOnly),
		want:   []string{"t:t"},
	}, {
		name:   "insert_delete: deleting the open watermark closes the window",
		cfg:    Config{ChunkSize: 2, DeleteWatermark: true},
		tables: []*fakeTable{tableT(3)},
		steps: steps(execute("public.t"), open, upd("public.t", "1", "x"), watermark("delete"),
			open, watermark("delete"), open, watermark("delete"), noWatermark),
		want: []string{"t:u:1", "t:r:2", "t:r:3"},
	}, {
		name:   "a watermark of another chunk neither opens nor closes the window",
		tables: []*fakeTable{tableT(2)},
		steps: steps(execute("public.t"), sig(sigWindowClose, "{}"), open,
			func(h *harness) {
				h.feed(&change.Change{Op: change.OpCreate, Rel: sigRel, After: tuple("other-close", sigWindowClose, "{}")})
			}, upd("public.t", "2", "x"), closeW, openOnly),
		want: []string{"t:u:2", "t:r:1"},
	}, {
		name:   "pause: the chunk in flight is emitted, no other is read; resume goes on from the stored key",
		cfg:    Config{ChunkSize: 2},
		tables: []*fakeTable{tableT(5)},
		steps: steps(execute("public.t"), pause, wholeWindow, noWatermark, upd("public.t", "3", "x"),
			resume, wholeWindow, wholeWindow, openOnly, noWatermark),
		want:  []string{"t:r:1", "t:r:2", "t:u:3", "t:r:3", "t:r:4", "t:r:5"},
		reads: []string{"t ..5", "t 2..5", "t 4..5", "t 5..5"},
	}, {
		name:   "pause while paused and resume while running are ignored",
		tables: []*fakeTable{tableT(2)},
		steps:  steps(execute("public.t"), resume, pause, pause, wholeWindow, noWatermark, resume, openOnly, noWatermark),
		want:   []string{"t:r:1", "t:r:2"},
	}, {
		name:   "stop: the window in flight is emitted, then the snapshot ends",
		cfg:    Config{ChunkSize: 2},
		tables: []*fakeTable{tableT(5), tableU(2)},
		steps:  steps(execute("public.t", "public.u"), open, stop(), closeW, noWatermark),
		want:   []string{"t:r:1", "t:r:2"},
	}, {
		name:   "stop one table: the others go on",
		cfg:    Config{ChunkSize: 2},
		tables: []*fakeTable{tableT(5), tableU(2)},
		steps:  steps(execute("public.t", "public.u"), open, stop("public.t"), closeW, wholeWindow, openOnly, noWatermark),
		want:   []string{"t:r:1", "t:r:2", "u:r:1", "u:r:2"},
		reads:  []string{"t ..5", "u ..2", "u 2..2"},
	}, {
		name:   "stop by a regular expression while paused ends it at once",
		cfg:    Config{ChunkSize: 2},
		tables: []*fakeTable{tableT(5)},
		steps:  steps(execute("public.t"), pause, wholeWindow, stop(`public\\..*`), noWatermark, resume, noWatermark),
		want:   []string{"t:r:1", "t:r:2"},
	}, {
		name:   "a table queued while one is read waits its turn, and one queued twice is read once",
		cfg:    Config{ChunkSize: 2},
		tables: []*fakeTable{tableT(3), tableU(1)},
		steps:  steps(execute("public.t"), open, execute("public.u", "public.t"), closeW, wholeWindow, wholeWindow, openOnly),
		want:   []string{"t:r:1", "t:r:2", "t:r:3", "u:r:1"},
	}, {
		name:   "additional-conditions: only the rows the filter selects are read",
		tables: []*fakeTable{tableT(4), tableU(2)},
		conds: map[string]func(*fakeTable, change.Tuple) bool{
			"(id % 2 = 0)": func(ft *fakeTable, r change.Tuple) bool { n, _ := strconv.Atoi(string(r[0].Data)); return n%2 == 0 },
		},
		steps: steps(sig(sigExecuteSnapshot, `{"data-collections":["public.t","public.u"],"additional-conditions":[{"data-collection":"public.T","filter":"id % 2 = 0"}]}`),
			open, func(h *harness) {
				want := `"incremental_snapshot_collections_additional_condition":"(id % 2 = 0)"`
				if got := h.inc.OffsetKeys().Collections; !strings.Contains(got, want) {
					h.t.Errorf("offset collections %s lack %s", got, want)
				}
			}, closeW, wholeWindow, openOnly),
		want:  []string{"t:r:2", "t:r:4", "u:r:1", "u:r:2"},
		reads: []string{"t ..4", "t 4..4", "u ..2", "u 2..2"},
	}, {
		name:   "a filter the database refuses skips its table",
		tables: []*fakeTable{tableT(2), tableU(1)},
		steps: steps(sig(sigExecuteSnapshot, `{"data-collections":["public.t","public.u"],"additional-conditions":[{"data-collection":"public.t","filter":"nonsense"}]}`),
			wholeWindow, openOnly),
		want: []string{"u:r:1"},
	}, {
		name:   "restart: the snapshot resumes after the stored key, up to the stored maximum",
		cfg:    Config{ChunkSize: 2},
		tables: []*fakeTable{tableT(5)},
		// Rows inserted after the snapshot began come from the stream.
		steps: steps(execute("public.t"), wholeWindow, open, restart, ins("public.t", "6", "x"), wholeWindow, wholeWindow, openOnly, noWatermark),
		want:  []string{"t:r:1", "t:r:2", "t:c:6", "t:r:3", "t:r:4", "t:r:5"},
		reads: []string{"t ..5", "t 2..5", "t 2..5", "t 4..5", "t 5..5"},
	}, {
		name: "composite keys: rows are windowed and chunked by every key column",
		cfg:  Config{ChunkSize: 2},
		tables: []*fakeTable{newTable(12, "public.c", []string{"a", "b", "v"}, 2,
			[]string{"1", "x", "p"}, []string{"1", "y", "q"}, []string{"2", "x", "r"}, []string{"10", "a", "s"})},
		steps: steps(execute("public.c"), open, upd("public.c", "1", "y", "new"), closeW,
			open, del("public.c", "2", "x", "NULL"), closeW, openOnly),
		want:  []string{"c:u:1,y", "c:r:1,x", "c:d:2,x", "c:r:10,a"},
		reads: []string{"c ..10,a", "c 1,y..10,a", "c 10,a..10,a"},
		checkpoints: []OffsetKeys{
			{Collections: collsKey("public.c", "", "sig-1"), CorrelationID: "sig-1", PrimaryKey: `["1","y"]`, MaximumKey: `["10","a"]`},
			{Collections: collsKey("public.c", "", "sig-1"), CorrelationID: "sig-1", PrimaryKey: `["10","a"]`, MaximumKey: `["10","a"]`},
		},
	}, {
		name:   "a table dropped mid-snapshot is skipped, and the next one read",
		cfg:    Config{ChunkSize: 2},
		tables: []*fakeTable{tableT(5), tableU(1)},
		steps:  steps(execute("public.t", "public.u"), open, dropTable("public.t"), closeW, wholeWindow, openOnly),
		want:   []string{"t:r:1", "t:r:2", "u:r:1"},
	}, {
		name:   "a lost connection fails the task; restarted, it goes on from the last checkpoint",
		cfg:    Config{ChunkSize: 2},
		tables: []*fakeTable{tableT(5)},
		// The window closing emits its rows and checkpoints them before
		// the next open watermark fails.
		steps: steps(execute("public.t"), wholeWindow, open, lose, failing(closeW), reconnect, restart, wholeWindow, openOnly, noWatermark),
		want:  []string{"t:r:1", "t:r:2", "t:r:3", "t:r:4", "t:r:5"},
		reads: []string{"t ..5", "t 2..5", "t 4..5", "t 5..5"},
	}, {
		name:   "a watermark the database refuses ends the snapshot, not the task",
		cfg:    Config{ChunkSize: 2},
		tables: []*fakeTable{tableT(5)},
		steps:  steps(execute("public.t"), wholeWindow, open, func(h *harness) { h.db.refuseWrites = true }, closeW, noWatermark),
		want:   []string{"t:r:1", "t:r:2", "t:r:3", "t:r:4"},
	}, {
		name:   "with incremental snapshots off, execute-snapshot is ignored",
		cfg:    Config{Disabled: "no signal table"},
		tables: []*fakeTable{tableT(1)},
		steps:  steps(execute("public.t"), noWatermark),
	}, {
		name:   "tables that match nothing, or the signal table, are not queued",
		tables: []*fakeTable{tableT(1)},
		steps:  steps(execute("public.nope", "public.debezium_signal"), noWatermark, execute(`public\\.t.*`), wholeWindow, openOnly),
		want:   []string{"t:r:1"},
	}, {
		name:   "an empty table is done at once",
		tables: []*fakeTable{newTable(13, "public.e", []string{"id"}, 1), tableT(1)},
		steps:  steps(execute("public.e", "public.t"), wholeWindow, openOnly),
		want:   []string{"t:r:1"},
		reads:  []string{"t ..1", "t 1..1"},
	}, {
		name:   "read.only: changes before the high watermark drop keys, the first one past it closes the window",
		cfg:    Config{ReadOnly: true},
		tables: []*fakeTable{tableT(3)},
		steps: steps(execute("public.t"), noWatermark, upd("public.t", "1", "x"),
			at(1000), upd("public.t", "2", "x"), noWatermark),
		want: []string{"t:u:1", "t:r:2", "t:r:3", "t:u:2"},
	}, {
		name:   "read.only: a tick with the stream idle past the high watermark closes the window",
		cfg:    Config{ReadOnly: true},
		tables: []*fakeTable{tableT(3)},
		steps:  steps(execute("public.t"), tick(999), upd("public.t", "3", "x"), tick(1000)),
		want:   []string{"t:u:3", "t:r:1", "t:r:2"},
	}, {
		name:   "blocking: the tables go to the task's blocking snapshot",
		tables: []*fakeTable{tableT(1)},
		steps: steps(sig(sigExecuteSnapshot, `{"data-collections":["public.t"],"type":"blocking"}`), noWatermark,
			func(h *harness) {
				if strings.Join(h.task.blocking, ",") != "public.t" {
					h.t.Errorf("blocking snapshot of %q", h.task.blocking)
				}
			}),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.ChunkSize == 0 {
				cfg.ChunkSize = 1024
			}
			cfg.SignalTable, cfg.SourceSignals = sigTable, true
			h := newHarness(t, cfg, tc.tables...)
			for k, f := range tc.conds {
				h.db.conds[k] = f
			}
			for _, s := range tc.steps {
				s(h)
			}
			if strings.Join(h.events, " ") != strings.Join(tc.want, " ") {
				t.Errorf("events:\n got %q\nwant %q", h.events, tc.want)
			}
			if tc.reads != nil && strings.Join(h.db.reads, " | ") != strings.Join(tc.reads, " | ") {
				t.Errorf("reads:\n got %q\nwant %q", h.db.reads, tc.reads)
			}
			if got := h.inc.OffsetKeys(); got != tc.keys {
				t.Errorf("offset keys at the end: %+v, want %+v", got, tc.keys)
			}
			if tc.checkpoints != nil && !slices.Equal(h.task.checkpoints, tc.checkpoints) {
				t.Errorf("checkpoints:\n got %+v\nwant %+v", h.task.checkpoints, tc.checkpoints)
			}
		})
	}
}

// collsKey is incremental_snapshot_collections with one table.
func collsKey(id, cond, corr string) string {
	s := incState{colls: []incCollection{{ID: id, Condition: cond, CorrelationID: corr}}}
	c, _, _, _ := s.offsetFields()
	return c
}

// TestIncrementalKafkaChannel: the kafka channel's signals are acted on
// at the ticks, once per signal.poll.interval.ms, and each is marked done
// so that the consumer commits past it.
func TestIncrementalKafkaChannel(t *testing.T) {
	h := newHarness(t, Config{ChunkSize: 1024, SignalTable: sigTable, Poll: time.Minute}, tableT(2))
	h.inc.kafka = &kafkaSignals{out: make(chan kafkaSignal, 2)}
	bad := kafkaSignal{err: errors.New("not JSON"), done: make(chan struct{})}
	exec := kafkaSignal{sig: signal{ID: "k1", Type: sigExecuteSnapshot, Channel: ChannelKafka, Data: []byte(`{"data-collections":["public.t"]}`)}, done: make(chan struct{})}
	h.inc.kafka.out <- bad
	h.inc.kafka.out <- exec

	now := time.Now()
	tick := func(at time.Time) {
		t.Helper()
		if err := h.inc.Tick(at, true, 0, h.lsn); err != nil {
			t.Fatal(err)
		}
	}
	tick(now)
	for _, ks := range []kafkaSignal{bad, exec} {
		select {
		case <-ks.done:
		default:
			t.Fatalf("signal %+v not marked done", ks)
		}
	}
	if got := h.inc.OffsetKeys(); got.CorrelationID != "k1" || !strings.Contains(got.Collections, `"public.t"`) {
		t.Errorf("offset keys %+v", got)
	}

	// The next signal waits for the poll interval.
	pause := kafkaSignal{sig: signal{ID: "k2", Type: sigPauseSnapshot, Channel: ChannelKafka}, done: make(chan struct{})}
	h.inc.kafka.out <- pause
	tick(now.Add(time.Second))
	if len(h.inc.kafka.out) != 1 || h.inc.paused {
		t.Fatal("a signal was read before the poll interval passed")
	}
	tick(now.Add(time.Minute))
	if !h.inc.paused {
		t.Fatal("pause-snapshot from the kafka channel not acted on")
	}
	for _, s := range wholeWindow {
		s(h)
	}
	noWatermark(h)
	if strings.Join(h.events, " ") != "t:r:1 t:r:2" {
		t.Errorf("events %q", h.events)
	}
}
