package pgsource

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// rowLog is a Handler that keeps, per transaction, the ids (first column)
// of the rows it saw, and what the keepalives offered to confirm.
type rowLog struct {
	mu    sync.Mutex
	txs   [][]int // one entry per committed transaction
	cur   []int
	in    bool
	idles []change.LSN
}

func (l *rowLog) Begin(uint32, change.LSN, change.LSN, int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cur, l.in = nil, true
	return nil
}

func (l *rowLog) Change(c *change.Change) error {
	if c.Op == change.OpMessage || c.Op == change.OpTruncate {
		return nil
	}
	t := c.After
	if t == nil {
		t = c.Before
	}
	id, err := strconv.Atoi(string(t[0].Data))
	if err != nil {
		return fmt.Errorf("row id %q: %w", t[0].Data, err)
	}
	if len(t) > 1 && t[1].Kind == change.KindText && len(t[1].Data) != 200 {
		return fmt.Errorf("row %d: value of %d bytes, want 200", id, len(t[1].Data))
	}
	l.mu.Lock()
	l.cur = append(l.cur, id)
	l.mu.Unlock()
	return nil
}

func (l *rowLog) Commit(_, _ change.LSN, _ int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.txs = append(l.txs, l.cur)
	l.cur, l.in = nil, false
	return nil
}

func (l *rowLog) Idle(walEnd change.LSN) error {
	l.mu.Lock()
	l.idles = append(l.idles, walEnd)
	l.mu.Unlock()
	return nil
}

func (l *rowLog) Tick(time.Time, bool) error { return nil }

func (l *rowLog) committed() [][]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]int(nil), l.txs...)
}

// waitTxs waits until n transactions have committed.
func (l *rowLog) waitTxs(t *testing.T, n int) [][]int {
	t.Helper()
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return len(l.committed()) >= n, nil })
	return l.committed()
}

func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func short(a []int) string {
	if len(a) <= 6 {
		return fmt.Sprint(a)
	}
	return fmt.Sprintf("%d rows %v...%v", len(a), a[:3], a[len(a)-3:])
}

// streamedSource opens a source whose server session streams every
// transaction past 64 kB (logical_decoding_work_mem), and streams into a
// rowLog until the test ends.
func streamedSource(t *testing.T, slot string, budget int64) (dsn string, src *Source, log *rowLog, spillDir string) {
	dsn, src, log, spillDir, _ = streamedSourceLog(t, slot, budget)
	return dsn, src, log, spillDir
}

// lockedBuf is a log destination safe for the streaming goroutine and the
// test to share.
type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func streamedSourceLog(t *testing.T, slot string, budget int64) (dsn string, src *Source, log *rowLog, spillDir string, logs *lockedBuf) {
	t.Helper()
	dsn = pgtest.NewDatabase(t)
	if v := pgtest.QueryValue[int](t, dsn, `SELECT current_setting('server_version_num')::int`); v < 140000 {
		t.Skipf("PostgreSQL %d streams no in-progress transactions", v)
	}
	pgtest.Exec(t, dsn, `CREATE TABLE big (id int PRIMARY KEY, v text)`)
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pc.RuntimeParams["logical_decoding_work_mem"] = "64kB"
	spillDir = t.TempDir()
	logs = &lockedBuf{}
	src, err = New(Config{Log: slog.New(slog.NewTextHandler(logs, nil)), Conn: pc, Slot: slot, Publication: "pgm_pub", PublicationMode: "all_tables", SpillDir: spillDir, BufferMemory: budget,
		StatusInterval: 200 * time.Millisecond}) // a keepalive every second
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	info, err := src.Open(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	log = &rowLog{}
	done := make(chan error, 1)
	go func() { done <- src.Stream(ctx, StreamOptions{Start: info.ConsistentPoint}, log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Stream: %v", err)
		}
		src.Close(context.Background())
	})
	return dsn, src, log, spillDir, logs
}

const bigRow = `rpad(md5(g::text), 200, 'x')`

func insertRows(from, to int) string {
	return fmt.Sprintf(`INSERT INTO big SELECT g, %s FROM generate_series(%d, %d) g`, bigRow, from, to)
}

func slotStats(t *testing.T, dsn, slot string) (spill, stream int64) {
	t.Helper()
	row := pgtest.QueryRow(t, dsn, `SELECT spill_bytes, stream_bytes FROM pg_stat_replication_slots WHERE slot_name = $1`, slot)
	return row[0].(int64), row[1].(int64)
}

func TestIntegrationStreamedTransaction(t *testing.T) {
	const slot = "big_stream"
	dsn, _, log, dir, logs := streamedSourceLog(t, slot, 64<<10)
	// About 1.2 MB of rows: far past 64 kB of logical_decoding_work_mem
	// and past the 64 KiB buffer budget, so it spills on our side too.
	pgtest.Exec(t, dsn, "BEGIN; "+insertRows(1, 5000)+"; UPDATE big SET v = "+strings.Replace(bigRow, "g", "id", -1)+" WHERE id <= 10; DELETE FROM big WHERE id = 11; COMMIT")
	pgtest.Exec(t, dsn, insertRows(100001, 100001))
	txs := log.waitTxs(t, 2)
	want := append(append(seq(1, 5000), seq(1, 11)...), 100001)
	if got := append(append([]int(nil), txs[0]...), txs[1]...); !equalInts(got, want) {
		t.Fatalf("rows %s, want %s", short(got), short(want))
	}
	if f := spillFiles(t, dir); len(f) != 0 {
		t.Errorf("spill files left after commit: %v", f)
	}
	if !strings.Contains(logs.String(), "spilling to disk") {
		t.Errorf("no spill with a 64 KiB budget; log:\n%s", logs.String())
	}
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		spill, stream := slotStats(t, dsn, slot)
		if spill != 0 {
			return false, fmt.Errorf("spill_bytes %d, want 0 under protocol 2", spill)
		}
		return stream > 0, nil
	})
}

func TestIntegrationStreamedAbort(t *testing.T) {
	dsn, _, log, dir := streamedSource(t, "big_abort", 64<<10)
	pgtest.Exec(t, dsn, "BEGIN; "+insertRows(1, 5000)+"; ROLLBACK")
	pgtest.Exec(t, dsn, insertRows(7, 7))
	log.waitTxs(t, 1)
	time.Sleep(200 * time.Millisecond)
	if txs := log.committed(); len(txs) != 1 || !equalInts(txs[0], []int{7}) {
		t.Fatalf("transactions %v, want only [7]", txs)
	}
	if f := spillFiles(t, dir); len(f) != 0 {
		t.Errorf("spill files left after abort: %v", f)
	}
}

func TestIntegrationStreamedSubtransactionRollback(t *testing.T) {
	dsn, _, log, _ := streamedSource(t, "big_subxact", 1<<20)
	pgtest.Exec(t, dsn, "BEGIN; "+insertRows(1, 2000)+"; SAVEPOINT s1; "+insertRows(2001, 4000)+
		"; SAVEPOINT s2; "+insertRows(4001, 5000)+"; ROLLBACK TO SAVEPOINT s1; "+insertRows(6001, 8000)+
		"; SAVEPOINT s3; "+insertRows(8001, 9000)+"; RELEASE SAVEPOINT s3; COMMIT")
	txs := log.waitTxs(t, 1)
	want := append(seq(1, 2000), seq(6001, 9000)...)
	if !equalInts(txs[0], want) {
		t.Fatalf("rows %s, want %s", short(txs[0]), short(want))
	}
}

func TestIntegrationStreamedInterleaved(t *testing.T) {
	dsn, src, log, _ := streamedSource(t, "big_interleaved", 256<<10)
	ctx := context.Background()
	a, b := pgtest.Connect(t, dsn), pgtest.Connect(t, dsn)
	exec := func(c interface {
		Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
	}, sql string) {
		t.Helper()
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%.60s: %v", sql, err)
		}
	}
	exec(a, "BEGIN")
	exec(b, "BEGIN")
	exec(a, insertRows(1, 2000))
	exec(b, insertRows(10001, 12000))
	exec(a, insertRows(2001, 4000))
	exec(b, insertRows(12001, 14000))
	// Wait until both have been streamed: keepalives must then offer
	// nothing to confirm while they stay open.
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		_, stream := slotStats(t, dsn, "big_interleaved")
		return stream > 0, nil
	})
	time.Sleep(300 * time.Millisecond) // the reader catches up
	idlesBefore := log.idleCount()
	pgtest.Exec(t, dsn, `CREATE TABLE unrelated (id int)`) // moves the WAL on
	time.Sleep(2500 * time.Millisecond)
	if n := log.idleCount() - idlesBefore; n != 0 {
		t.Errorf("%d Idle calls while streamed transactions were open", n)
	}
	exec(b, "COMMIT")
	exec(a, insertRows(4001, 5000))
	exec(a, "COMMIT")
	var rows [][]int
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		rows = rows[:0]
		for _, tx := range log.committed() {
			if len(tx) > 0 {
				rows = append(rows, tx)
			}
		}
		return len(rows) >= 2, nil
	})
	if len(rows) != 2 || !equalInts(rows[0], seq(10001, 14000)) || !equalInts(rows[1], seq(1, 5000)) {
		t.Fatalf("transactions in the wrong order or incomplete: %d of them, first %s", len(rows), short(rows[0]))
	}
	// With nothing buffered, keepalives confirm again.
	after := log.idleCount()
	pgtest.WaitFor(t, 10*time.Second, func() (bool, error) { return log.idleCount() > after, nil })
	if c := src.Confirmed(); c != 0 {
		t.Logf("confirmed %s", c)
	}
}

func (l *rowLog) idleCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.idles)
}
