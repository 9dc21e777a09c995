package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	tableName   = "chaos"
	counterName = "chaos_seq"
	publication = "chaos_pub"
)

// schema creates the table the load changes and its key counters.
// chaos_seq is not published: it numbers each key's changes, in the
// transaction that makes them, so that a lost or repeated change shows as
// a gap or a repeat in the key's sequence whatever PostgreSQL restarts
// roll back. REPLICA IDENTITY FULL puts the deleted row, with its number,
// in a delete's before image.
func schema(keys int) []string {
	return []string{
		`CREATE TABLE ` + tableName + ` (id int PRIMARY KEY, seq bigint NOT NULL, val text NOT NULL)`,
		`ALTER TABLE ` + tableName + ` REPLICA IDENTITY FULL`,
		`CREATE TABLE ` + counterName + ` (id int PRIMARY KEY, seq bigint NOT NULL DEFAULT 0)`,
		fmt.Sprintf(`INSERT INTO %s (id) SELECT generate_series(1, %d)`, counterName, keys),
		`CREATE PUBLICATION ` + publication + ` FOR TABLE ` + tableName,
		// chaos_op makes the next change of key k: an insert when the row
		// is missing, else a delete with probability pdel, else an update.
		`CREATE FUNCTION chaos_op(k int, r float8, pdel float8) RETURNS void LANGUAGE plpgsql AS $$
DECLARE s bigint;
BEGIN
	UPDATE ` + counterName + ` SET seq = seq + 1 WHERE id = k RETURNING seq INTO s;
	IF NOT EXISTS (SELECT 1 FROM ` + tableName + ` WHERE id = k) THEN
		INSERT INTO ` + tableName + ` (id, seq, val) VALUES (k, s, md5(k || ':' || s));
	ELSIF r < pdel THEN
		DELETE FROM ` + tableName + ` WHERE id = k;
	ELSE
		UPDATE ` + tableName + ` SET seq = s, val = md5(k || ':' || s) WHERE id = k;
	END IF;
END $$`,
	}
}

// loadStats counts the load's work.
type loadStats struct {
	txns     atomic.Int64 // transactions committed
	ops      atomic.Int64 // changes in them
	failures atomic.Int64 // transactions that failed (PostgreSQL restarting)
}

// load runs transactions of random changes against dsn, one every period,
// until stop is closed (between transactions) or ctx ends: keys keys, up
// to maxOps changes each. It reconnects after errors, which PostgreSQL
// restarts cause. It talks to PostgreSQL directly, not through the proxy,
// so that a cut hits only the workers.
func load(ctx context.Context, stop <-chan struct{}, dsn string, seed uint64, keys, maxOps int, period time.Duration, st *loadStats) {
	r := rand.New(rand.NewPCG(seed, 7))
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-tick.C:
		}
		if conn == nil || conn.IsClosed() {
			c, err := pgx.Connect(ctx, dsn)
			if err != nil {
				st.failures.Add(1)
				continue
			}
			conn = c
		}
		n := 1 + r.IntN(maxOps)
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		for range n {
			b.Queue("SELECT chaos_op($1, $2, 0.15)", 1+r.IntN(keys), r.Float64())
		}
		b.Queue("COMMIT")
		if err := conn.SendBatch(ctx, b).Close(); err != nil {
			st.failures.Add(1)
			conn.Close(context.Background())
			conn = nil
			continue
		}
		st.txns.Add(1)
		st.ops.Add(int64(n))
	}
}

// readTable reads every key's counter and row.
func readTable(ctx context.Context, dsn string) (map[int64]row, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to read the table: %w", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT s.id, s.seq, t.seq IS NOT NULL, coalesce(t.seq, 0), coalesce(t.val, '')
		FROM `+counterName+` s LEFT JOIN `+tableName+` t USING (id)`)
	if err != nil {
		return nil, fmt.Errorf("read the table: %w", err)
	}
	table := map[int64]row{}
	for rows.Next() {
		var id int64
		var r row
		if err := rows.Scan(&id, &r.last, &r.present, &r.seq, &r.val); err != nil {
			return nil, fmt.Errorf("read the table: %w", err)
		}
		table[id] = r
	}
	return table, rows.Err()
}
