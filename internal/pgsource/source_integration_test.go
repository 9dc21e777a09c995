package pgsource

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// collector is a Handler that keeps a text summary of what it saw.
type collector struct {
	mu     sync.Mutex
	events []string
	idle   change.LSN
}

func (c *collector) add(s string) {
	c.mu.Lock()
	c.events = append(c.events, s)
	c.mu.Unlock()
}

func (c *collector) Begin(uint32, change.LSN, change.LSN, int64) error { c.add("BEGIN"); return nil }
func (c *collector) Commit(_, end change.LSN, _ int64) error {
	c.add("COMMIT")
	return nil
}
func (c *collector) Tick(time.Time, bool) error { return nil }

func (c *collector) Idle(l change.LSN) error {
	c.mu.Lock()
	c.idle = l
	c.mu.Unlock()
	return nil
}
func (c *collector) Change(ch *change.Change) error {
	if ch.Op == change.OpMessage {
		c.add(fmt.Sprintf("m %s %s tx=%t xid=%t", ch.Message.Prefix, ch.Message.Content, ch.Message.Transactional, ch.HasXid))
		return nil
	}
	s := ch.Op.String() + " " + ch.Rel.QualifiedName()
	for _, t := range []change.Tuple{ch.Before, ch.After} {
		s += " ["
		for i, v := range t {
			if i > 0 {
				s += ","
			}
			switch v.Kind {
			case change.KindNull:
				s += "null"
			case change.KindUnchangedToast:
				s += "toast"
			default:
				s += string(v.Data)
			}
		}
		s += "]"
	}
	c.add(s)
	return nil
}

func (c *collector) snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.events...)
}

func newTestSource(t *testing.T, dsn string, cfg Config) *Source {
	t.Helper()
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Conn = pc
	if cfg.Slot == "" {
		cfg.Slot = "pgm_test"
	}
	if cfg.Publication == "" {
		cfg.Publication = "pgm_pub"
	}
	if cfg.PublicationMode == "" {
		cfg.PublicationMode = "all_tables"
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func TestIntegrationSnapshotThenStream(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE a (id int PRIMARY KEY, name text)`,
		`CREATE TABLE b (k1 int, k2 text, v int, PRIMARY KEY (k2, k1))`,
		`CREATE TABLE skipped (id int PRIMARY KEY)`,
		`INSERT INTO a VALUES (1, 'one'), (2, NULL)`,
		`INSERT INTO b VALUES (1, 'x', 10)`,
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{Include: func(_, table string) bool { return table != "skipped" }})
	info, err := src.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Created || info.SnapshotName == "" || info.ConsistentPoint == 0 {
		t.Fatalf("slot info %+v", info)
	}
	// Written after the slot exists: must come through the stream, not
	// the snapshot.
	pgtest.Exec(t, dsn, `INSERT INTO a VALUES (3, 'three')`)

	tables, err := src.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 2 || tables[0].String() != "public.a" || tables[1].String() != "public.b" {
		t.Fatalf("tables %v", tables)
	}
	var snap []string
	plan, err := src.PlanSnapshot(ctx, tables, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = src.RunSnapshot(ctx, plan, SnapshotOptions{SnapshotName: info.SnapshotName, LSN: info.ConsistentPoint}, &funcSink{row: func(_ int, _ SnapshotRange, c *change.Change) error {
		if c.LSN != info.ConsistentPoint || !c.HasXid {
			t.Errorf("snapshot change position %v %v", c.LSN, c.HasXid)
		}
		snap = append(snap, c.Snapshot.String()+" "+c.Rel.QualifiedName()+" "+string(c.After[0].Data))
		if c.Rel.Name == "b" && (len(c.Rel.Key) != 2 || c.Rel.Columns[c.Rel.Key[0]].Name != "k2") {
			t.Errorf("key of b: %v", c.Rel.Key)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"first public.a 1", "last_in_data_collection public.a 2", "last public.b 1"}
	if len(snap) != len(want) {
		t.Fatalf("snapshot rows %q, want %q", snap, want)
	}
	for i := range want {
		if snap[i] != want[i] {
			t.Errorf("snapshot row %d = %q, want %q", i, snap[i], want[i])
		}
	}

	col := &collector{}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.Stream(sctx, StreamOptions{Start: info.ConsistentPoint}, col) }()
	pgtest.Exec(t, dsn,
		`UPDATE a SET name = 'uno' WHERE id = 1`,
		`UPDATE a SET id = 10 WHERE id = 2`,
		`DELETE FROM a WHERE id = 3`,
		`INSERT INTO skipped VALUES (1)`,
		`ALTER TABLE a REPLICA IDENTITY FULL`,
		`DELETE FROM a WHERE id = 10`,
	)
	wantStream := []string{
		"BEGIN", "c public.a [] [3,three]", "COMMIT",
		"BEGIN", "u public.a [] [1,uno]", "COMMIT",
		"BEGIN", "u public.a [2,null] [10,null]", "COMMIT",
		"BEGIN", "d public.a [3,null] []", "COMMIT",
		"BEGIN", "COMMIT",
		"BEGIN", "d public.a [10,null] []", "COMMIT",
	}
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return len(col.snapshot()) >= len(wantStream), nil })
	stop()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Stream returned %v, want context.Canceled", err)
	}
	got := col.snapshot()
	for i := range wantStream {
		if i >= len(got) || got[i] != wantStream[i] {
			t.Fatalf("stream event %d: got %q\nall: %q", i, got, wantStream)
		}
	}
}

func TestIntegrationIdleConfirm(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE captured (id int PRIMARY KEY)`, `CREATE TABLE noisy (id int PRIMARY KEY)`)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{Slot: "idle_slot", Include: func(_, table string) bool { return table == "captured" }, StatusInterval: time.Second})
	info, err := src.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go src.Stream(sctx, StreamOptions{Start: info.ConsistentPoint}, col)
	// Writes to a table nobody captures still move the server's WAL; the
	// idle keepalive lets the slot follow.
	pgtest.Exec(t, dsn, `INSERT INTO noisy SELECT generate_series(1, 1000)`)
	target := pgtest.QueryValue[string](t, dsn, `SELECT pg_current_wal_insert_lsn()::text`)
	want, _ := change.ParseLSN(target)
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		col.mu.Lock()
		l := col.idle
		col.mu.Unlock()
		if l >= want {
			src.Confirm(l)
			return true, nil
		}
		return false, nil
	})
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		v := pgtest.QueryValue[string](t, dsn, `SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'idle_slot'`)
		l, err := change.ParseLSN(v)
		return l >= want, err
	})
}

func TestIntegrationErrors(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE ROLE norepl LOGIN PASSWORD 'secret-pw'`, `CREATE TABLE t (id int PRIMARY KEY)`)
	t.Cleanup(func() { pgtest.Exec(t, pgtest.Server(t).AdminDSN(), `DROP ROLE IF EXISTS norepl`) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pc, _ := pgconn.ParseConfig(dsn)
	pc.User, pc.Password = "norepl", "secret-pw"
	s, _ := New(Config{Conn: pc, Slot: "s1", Publication: "p1", PublicationMode: "disabled"})
	_, err := s.Open(ctx)
	if err == nil || !regexp.MustCompile(`no REPLICATION privilege: run ALTER ROLE norepl WITH REPLICATION`).MatchString(err.Error()) {
		t.Errorf("no replication: %v", err)
	}
	s.Close(ctx)

	src := newTestSource(t, dsn, Config{Slot: "busy", PublicationMode: "disabled"})
	if _, err := src.Open(ctx); err == nil || !regexp.MustCompile(`publication "pgm_pub" does not exist`).MatchString(err.Error()) {
		t.Errorf("missing publication: %v", err)
	}

	first := newTestSource(t, dsn, Config{Slot: "busy"})
	info, err := first.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go first.Stream(sctx, StreamOptions{Start: info.ConsistentPoint}, &collector{})
	pgtest.WaitFor(t, 10*time.Second, func() (bool, error) {
		return pgtest.QueryValue[bool](t, dsn, `SELECT active FROM pg_replication_slots WHERE slot_name = 'busy'`), nil
	})
	second := newTestSource(t, dsn, Config{Slot: "busy"})
	_, err = second.Open(ctx)
	var inUse *SlotInUseError
	if !asSlotInUse(err, &inUse) || inUse.PID == 0 {
		t.Errorf("second open of an active slot: %v", err)
	}
}

func asSlotInUse(err error, target **SlotInUseError) bool {
	e, ok := err.(*SlotInUseError)
	if ok {
		*target = e
	}
	return ok
}

func TestIntegrationCatalogTypes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`,
		`ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok'`,
		`CREATE DOMAIN year AS integer CHECK (VALUE > 1900)`,
		`CREATE TABLE typed (id int PRIMARY KEY, m mood, y year, tags text[], moods mood[])`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{Slot: "types_slot"})
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	rel, err := src.relationForSnapshot(ctx, TableName{Schema: "public", Name: "typed"})
	if err != nil {
		t.Fatal(err)
	}
	c := rel.Columns
	if c[1].TypeType != 'e' || strings.Join(c[1].EnumValues, ",") != "sad,meh,ok,happy" {
		t.Errorf("enum column: %+v", c[1])
	}
	if c[2].TypeType != 'd' || c[2].BaseTypeName != "int4" || c[2].BaseTypeOID != 23 {
		t.Errorf("domain column: %+v", c[2])
	}
	if c[3].ElemTypeName != "text" || c[3].ElemTypeOID != 25 {
		t.Errorf("text[] column: %+v", c[3])
	}
	if c[4].ElemTypeName != "mood" || strings.Join(c[4].EnumValues, ",") != "sad,meh,ok,happy" {
		t.Errorf("mood[] column: %+v", c[4])
	}
}

// Connectors that share a publication name and start together race to create
// it; every one of them must go on. The barrier lines the CREATEs up so that
// the race is hit every round rather than by luck.
func TestIntegrationConcurrentPublicationCreate(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE t (id int PRIMARY KEY)`)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const n = 6
	for round := 0; round < 5; round++ {
		pub := fmt.Sprintf("race_pub_%d", round)
		var start sync.WaitGroup
		start.Add(1)
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			src := newTestSource(t, dsn, Config{Publication: pub})
			var err error
			if src.meta, err = pgconn.ConnectConfig(ctx, src.connConfig(false)); err != nil {
				t.Fatal(err)
			}
			go func() {
				start.Wait()
				errs <- src.ensurePublication(ctx)
			}()
		}
		start.Done()
		for i := 0; i < n; i++ {
			if err := <-errs; err != nil {
				t.Errorf("round %d: %v", round, err)
			}
		}
	}
}

// funcSink is a SnapshotSink over functions; a nil function does nothing.
type funcSink struct {
	row  func(worker int, r SnapshotRange, c *change.Change) error
	done func(worker int, r SnapshotRange, rows int64) error
}

func (f *funcSink) Row(w int, r SnapshotRange, c *change.Change) error {
	if f.row == nil {
		return nil
	}
	return f.row(w, r, c)
}

func (f *funcSink) RangeDone(w int, r SnapshotRange, rows int64) error {
	if f.done == nil {
		return nil
	}
	return f.done(w, r, rows)
}
