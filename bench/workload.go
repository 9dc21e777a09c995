package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Names the benchmark gives to what it creates in the database.
const (
	benchDB     = "bench"
	publication = "bench_pub"
	topicPrefix = "bench"
	tableName   = "t"
	topic       = topicPrefix + ".public." + tableName
)

// Workload SQL. Rows are about 100 bytes on disk: a bigint key, a 52-char
// name, an int, a numeric, a boolean and a timestamptz.
const (
	createTableSQL = `CREATE TABLE t (
	id      bigint PRIMARY KEY,
	name    text NOT NULL,
	qty     int NOT NULL,
	price   numeric(10,2) NOT NULL,
	active  boolean NOT NULL,
	created timestamptz NOT NULL
)`
	createPublicationSQL = `CREATE PUBLICATION bench_pub FOR TABLE t`
	// insertSQL inserts the rows with ids $1..$2 in one statement, so in one
	// transaction when run on its own.
	insertSQL = `INSERT INTO t (id, name, qty, price, active, created)
SELECT g, 'customer-' || lpad(g::text, 10, '0') || ' ' || md5(g::text), (g % 1000)::int,
       (g % 100000) / 100.0, g % 2 = 0, now()
FROM generate_series($1::bigint, $2::bigint) AS g`
	createSlotSQL = `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`
	copySlotSQL   = `SELECT pg_copy_logical_replication_slot($1, $2, false, 'pgoutput')`
	endLSNSQL     = `SELECT pg_current_wal_insert_lsn()::text`
)

// db is the benchmark's control connection to the bench database. It is
// not safe for concurrent use; the latency writer opens its own.
type db struct {
	conn *pgx.Conn
	dsn  string
}

func connectDB(ctx context.Context, dsn string) (*db, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", dsn, err)
	}
	return &db{conn: conn, dsn: dsn}, nil
}

func (d *db) close() { _ = d.conn.Close(context.Background()) }

func (d *db) exec(ctx context.Context, sql string, args ...any) error {
	if _, err := d.conn.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("%s: %w", firstLine(sql), err)
	}
	return nil
}

// resetTable drops whatever an earlier workload left (its slots, the
// publication and the table) and creates the table and the publication
// afresh.
func (d *db) resetTable(ctx context.Context) error {
	rows, err := d.conn.Query(ctx, `SELECT slot_name FROM pg_replication_slots WHERE database = $1`, benchDB)
	if err != nil {
		return fmt.Errorf("list slots: %w", err)
	}
	slots, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list slots: %w", err)
	}
	for _, s := range slots {
		if err := d.dropSlot(ctx, s); err != nil {
			return err
		}
	}
	for _, sql := range []string{`DROP PUBLICATION IF EXISTS bench_pub`, `DROP TABLE IF EXISTS t`, createTableSQL, createPublicationSQL} {
		if err := d.exec(ctx, sql); err != nil {
			return err
		}
	}
	return nil
}

// createSlot creates a logical slot with pgoutput.
func (d *db) createSlot(ctx context.Context, slot string) error {
	return d.exec(ctx, createSlotSQL, slot)
}

// copySlot copies src to a new permanent slot dst at the same position, so
// that dst's consumer decodes exactly the WAL src's would.
func (d *db) copySlot(ctx context.Context, src, dst string) error {
	return d.exec(ctx, copySlotSQL, src, dst)
}

// dropSlot drops slot, waiting up to 15 s for a consumer that just
// disconnected to release it. A missing slot is not an error.
func (d *db) dropSlot(ctx context.Context, slot string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := d.conn.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, slot)
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &pgErr) && pgErr.Code == "55006" && time.Now().Before(deadline): // object_in_use
		default:
			return fmt.Errorf("drop slot %q: %w", slot, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// insert inserts rows ids from..to in transactions of txRows rows each, and
// returns how long it took.
func (d *db) insert(ctx context.Context, from, to, txRows int64) (time.Duration, error) {
	start := time.Now()
	for lo := from; lo <= to; lo += txRows {
		hi := min(lo+txRows-1, to)
		if _, err := d.conn.Exec(ctx, insertSQL, lo, hi); err != nil {
			return 0, fmt.Errorf("insert rows %d..%d: %w", lo, hi, err)
		}
	}
	return time.Since(start), nil
}

// scalar runs a query returning one text value.
func (d *db) scalar(ctx context.Context, sql string, args ...any) (string, error) {
	var s string
	if err := d.conn.QueryRow(ctx, sql, args...).Scan(&s); err != nil {
		return "", fmt.Errorf("%s: %w", firstLine(sql), err)
	}
	return s, nil
}

// slotStats is what pg_stat_replication_slots says about the decoding
// work done for one slot: spilled or streamed transactions show how the
// server handled transactions larger than logical_decoding_work_mem.
type slotStats struct {
	spillTxns, spillBytes   int64
	streamTxns, streamBytes int64
	totalTxns, totalBytes   int64
}

func (d *db) slotStats(ctx context.Context, slot string) (slotStats, error) {
	var s slotStats
	err := d.conn.QueryRow(ctx, `SELECT spill_txns, spill_bytes, stream_txns, stream_bytes, total_txns, total_bytes
		FROM pg_stat_replication_slots WHERE slot_name = $1`, slot).
		Scan(&s.spillTxns, &s.spillBytes, &s.streamTxns, &s.streamBytes, &s.totalTxns, &s.totalBytes)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read pg_stat_replication_slots for %q: %w", slot, err)
	}
	return s, nil
}

// writerResult is what the rate-controlled writer did.
type writerResult struct {
	rows       int64
	txns       int64
	start      time.Time
	lastCommit time.Time // when the last transaction's commit returned
	elapsed    time.Duration
	behind     int // ticks that started late by more than one period
}

// writeSteady inserts batch rows in one transaction every period for
// duration, starting at id first. Ticks follow a fixed schedule (start +
// k*period): a tick that runs late is not skipped, so a slow server lowers
// the achieved rate instead of the count, and the lateness is counted.
func writeSteady(ctx context.Context, dsn string, first, batch int64, period, duration time.Duration) (writerResult, error) {
	conn, err := openWriter(ctx, dsn)
	if err != nil {
		return writerResult{}, err
	}
	defer conn.Close(context.Background())
	ticks := int64(duration / period)
	r := writerResult{start: time.Now()}
	id := first
	for k := range ticks {
		due := r.start.Add(time.Duration(k) * period)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				return r, ctx.Err()
			case <-time.After(wait):
			}
		} else if -wait > period {
			r.behind++
		}
		if _, err := conn.Exec(ctx, "ins", id, id+batch-1); err != nil {
			return r, fmt.Errorf("writer: insert rows %d..%d: %w", id, id+batch-1, err)
		}
		r.lastCommit = time.Now()
		id += batch
		r.rows += batch
		r.txns++
	}
	// The last transaction's period runs to its end, so a writer on
	// schedule achieves exactly batch/period rows per second.
	if wait := time.Until(r.start.Add(time.Duration(ticks) * period)); wait > 0 {
		time.Sleep(wait)
	}
	r.elapsed = time.Since(r.start)
	return r, nil
}

// openWriter connects a writer session: it commits synchronously, as the
// control session does (see env.setup), so that the latency measured is
// the pipeline's and not the WAL writer's, and has the insert prepared as
// "ins", so that each batch is a single round trip.
func openWriter(ctx context.Context, dsn string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("writer: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "SET synchronous_commit = on"); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("writer: %w", err)
	}
	if _, err := conn.Prepare(ctx, "ins", insertSQL); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("writer: prepare insert: %w", err)
	}
	return conn, nil
}

// writeUntil inserts batch rows in one transaction every period, starting
// at id first, until stop is closed, on the same fixed schedule as
// writeSteady. It calls begin(lo) just before it sends the transaction of
// ids lo..lo+batch-1, on the writer's goroutine.
func writeUntil(ctx context.Context, dsn string, first, batch int64, period time.Duration, stop <-chan struct{}, begin func(lo int64)) (writerResult, error) {
	conn, err := openWriter(ctx, dsn)
	if err != nil {
		return writerResult{}, err
	}
	defer conn.Close(context.Background())
	r := writerResult{start: time.Now()}
	id := first
	for k := int64(0); ; k++ {
		due := r.start.Add(time.Duration(k) * period)
		wait := time.Until(due)
		if wait < 0 {
			if -wait > period {
				r.behind++
			}
			wait = 0
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-stop:
			r.elapsed = time.Since(r.start)
			return r, nil
		case <-time.After(wait):
		}
		begin(id)
		if _, err := conn.Exec(ctx, "ins", id, id+batch-1); err != nil {
			return r, fmt.Errorf("writer: insert rows %d..%d: %w", id, id+batch-1, err)
		}
		r.lastCommit = time.Now()
		id += batch
		r.rows += batch
		r.txns++
	}
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i] + " …"
		}
	}
	return s
}
