package pgsource

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestIntegrationSlotReader reads a slot's status as WAL is written and
// then confirmed, while a connection streams from it, after the slot is
// dropped and made again, and after the server ends the reader's
// connection.
func TestIntegrationSlotReader(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	const slot, app = "status_slot", "pgmotion-slot-test"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pgtest.Exec(t, dsn,
		`CREATE TABLE a (id int PRIMARY KEY, pad text)`,
		`CREATE PUBLICATION pgm_pub FOR ALL TABLES`,
		`SELECT pg_create_logical_replication_slot('status_slot', 'pgoutput')`)
	lsnOf := func(sql string, args ...any) change.LSN {
		t.Helper()
		l, err := change.ParseLSN(pgtest.QueryValue[string](t, dsn, sql, args...))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	slotLSN := func(column string) change.LSN {
		t.Helper()
		return lsnOf(`SELECT `+column+`::text FROM pg_replication_slots WHERE slot_name = $1`, slot)
	}
	pg13Plus := pgtest.QueryValue[int32](t, dsn, `SELECT current_setting('server_version_num')::int`) >= PG13
	safeLimited := pg13Plus && pgtest.QueryValue[string](t, dsn, `SHOW max_slot_wal_keep_size`) != "-1"

	// The reader must drop a replication parameter it is given: a
	// replication connection cannot run the query.
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["replication"] = "database"
	r := NewSlotReader(cfg, slot, app)
	defer r.Close(context.Background())
	if cfg.RuntimeParams["replication"] != "database" {
		t.Error("NewSlotReader changed the caller's config")
	}

	read := func(what string) SlotStatus {
		t.Helper()
		st, err := r.Read(ctx)
		if err != nil {
			t.Fatalf("%s: Read: %v", what, err)
		}
		if !st.HasLag || !st.HasRetained || st.LagBytes < 0 || st.RetainedBytes < st.LagBytes {
			t.Errorf("%s: lag %d (%t), retained %d (%t): want both present, 0 <= lag <= retained",
				what, st.LagBytes, st.HasLag, st.RetainedBytes, st.HasRetained)
		}
		if pg13Plus && st.WALStatus != "reserved" {
			t.Errorf("%s: wal_status %q, want reserved", what, st.WALStatus)
		}
		if !pg13Plus && st.WALStatus != "" {
			t.Errorf("%s: wal_status %q before PostgreSQL 13", what, st.WALStatus)
		}
		if st.HasSafeWALSize != safeLimited || (st.HasSafeWALSize && st.SafeWALSize <= 0) {
			t.Errorf("%s: safe_wal_size %d (%t), want present only with max_slot_wal_keep_size set", what, st.SafeWALSize, st.HasSafeWALSize)
		}
		return st
	}

	// With nothing consuming the slot its positions stay put, and the
	// retained WAL exceeds the lag by the distance between them.
	checkPositions := func(what string, st SlotStatus) {
		t.Helper()
		confirmed, restart := slotLSN("confirmed_flush_lsn"), slotLSN("restart_lsn")
		if st.ConfirmedFlush != confirmed || st.RetainedBytes-st.LagBytes != int64(confirmed-restart) {
			t.Errorf("%s: confirmed %s, retained - lag = %d; want %s, %d (confirmed_flush_lsn - restart_lsn)",
				what, st.ConfirmedFlush, st.RetainedBytes-st.LagBytes, confirmed, int64(confirmed-restart))
		}
	}

	// A new slot: nothing streams from it.
	confirmed := slotLSN("confirmed_flush_lsn")
	before := read("new slot")
	checkPositions("new slot", before)
	if before.Active || before.ConfirmedFlush != confirmed {
		t.Errorf("new slot: active %t, confirmed %s; want false, %s", before.Active, before.ConfirmedFlush, confirmed)
	}
	if n := pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app); n != 1 {
		t.Errorf("%d connections named %s, want 1", n, app)
	}

	// WAL written and not confirmed: the lag grows by at least what was
	// written, the confirmed position stays.
	start := lsnOf(`SELECT pg_current_wal_lsn()::text`)
	pgtest.Exec(t, dsn, `INSERT INTO a SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g`)
	end := lsnOf(`SELECT pg_current_wal_lsn()::text`)
	written := int64(end - start)
	if written < 2000*200 {
		t.Fatalf("the insert wrote %d bytes of WAL", written)
	}
	after := read("WAL written")
	checkPositions("WAL written", after)
	if after.ConfirmedFlush != confirmed {
		t.Errorf("WAL written: confirmed %s, want %s", after.ConfirmedFlush, confirmed)
	}
	if after.LagBytes < before.LagBytes+written || after.RetainedBytes < before.RetainedBytes+written {
		t.Errorf("WAL written (%d bytes): lag %d → %d, retained %d → %d; want each up by at least that",
			written, before.LagBytes, after.LagBytes, before.RetainedBytes, after.RetainedBytes)
	}

	// The WAL confirmed: the lag is what was written since. A slot is
	// advanced only as far as the WAL is flushed, which the test server
	// (synchronous_commit=off) does a little later.
	target := end
	pgtest.WaitFor(t, 10*time.Second, func() (bool, error) {
		return lsnOf(`SELECT pg_current_wal_flush_lsn()::text`) >= target, nil
	})
	pgtest.Exec(t, dsn, `SELECT pg_replication_slot_advance('status_slot', '`+target.String()+`')`)
	if got := slotLSN("confirmed_flush_lsn"); got != target {
		t.Fatalf("pg_replication_slot_advance confirmed %s, want %s", got, target)
	}
	confirmedSt := read("WAL confirmed")
	checkPositions("WAL confirmed", confirmedSt)
	sinceTarget := int64(lsnOf(`SELECT pg_current_wal_lsn()::text`) - target)
	if confirmedSt.ConfirmedFlush != target {
		t.Errorf("WAL confirmed: confirmed %s, want %s", confirmedSt.ConfirmedFlush, target)
	}
	if confirmedSt.LagBytes > sinceTarget || confirmedSt.LagBytes >= after.LagBytes {
		t.Errorf("WAL confirmed: lag %d, want at most %d (the WAL since the confirmed position) and below %d", confirmedSt.LagBytes, sinceTarget, after.LagBytes)
	}

	// A connection streams from the slot.
	rc := cfg.Copy()
	holder, err := pgconn.ConnectConfig(ctx, rc)
	if err != nil {
		t.Fatal(err)
	}
	if err := pglogrepl.StartReplication(ctx, holder, slot, 0, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names 'pgm_pub'"}}); err != nil {
		t.Fatal(err)
	}
	if st := read("streaming"); !st.Active {
		t.Error("streaming: active is false")
	}
	holder.Close(ctx)
	pgtest.WaitFor(t, 10*time.Second, func() (bool, error) {
		st, err := r.Read(ctx)
		return err == nil && !st.Active, err
	})

	// No slot: an error, and the reader connects again for the next read.
	pgtest.Exec(t, dsn, `SELECT pg_drop_replication_slot('status_slot')`)
	if _, err := r.Read(ctx); !errors.Is(err, errSlotNotFound) {
		t.Errorf("Read of a dropped slot: %v, want %v", err, errSlotNotFound)
	}
	pgtest.Exec(t, dsn, `SELECT pg_create_logical_replication_slot('status_slot', 'pgoutput')`)
	if st := read("slot made again"); st.ConfirmedFlush != slotLSN("confirmed_flush_lsn") {
		t.Errorf("slot made again: confirmed %s, want the new slot's", st.ConfirmedFlush)
	}

	// The server ends the reader's connection: that read fails, the next
	// one connects again.
	if !pgtest.QueryValue[bool](t, dsn, `SELECT bool_and(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app) {
		t.Fatal("cannot end the reader's connection")
	}
	if _, err := r.Read(ctx); err == nil {
		t.Error("Read on a connection the server ended: no error")
	}
	read("after the server ended the connection")

	r.Close(ctx)
	r.Close(ctx)
	pgtest.WaitFor(t, 10*time.Second, func() (bool, error) {
		return pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app) == 0, nil
	})
	pgtest.Exec(t, dsn, `SELECT pg_drop_replication_slot('status_slot')`)
}
