package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
)

// BoundSlotWAL sets max_slot_wal_keep_size to 1GB on the throwaway server
// until the test ends, so that checks of unlimited slot WAL pass. It
// returns false, changing nothing, on a server of PGMOTION_TEST_PG, which
// is not the tests' to reconfigure.
func BoundSlotWAL(t testing.TB) bool {
	t.Helper()
	inst := Server(t)
	if inst.Local() == nil {
		return false
	}
	admin := inst.AdminDSN()
	Exec(t, admin, `ALTER SYSTEM SET max_slot_wal_keep_size = '1GB'`, `SELECT pg_reload_conf()`)
	t.Cleanup(func() { Exec(t, admin, `ALTER SYSTEM RESET max_slot_wal_keep_size`, `SELECT pg_reload_conf()`) })
	WaitFor(t, 10*time.Second, func() (bool, error) {
		return QueryValue[string](t, admin, `SHOW max_slot_wal_keep_size`) == "1GB", nil
	})
	return true
}

// StreamSlot starts streaming from the logical slot (pgoutput, protocol 1,
// publication) on a replication connection of its own, as another process
// holding the slot would, and returns that connection; it is closed when
// the test ends, or earlier by the caller.
func StreamSlot(t testing.TB, ctx context.Context, dsn, slot, publication string) *pgconn.PgConn {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("pgtest: parse %s: %v", describe(dsn), err)
	}
	cfg.RuntimeParams["replication"] = "database"
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: replication connection to %s: %v", describe(dsn), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if err := pglogrepl.StartReplication(ctx, conn, slot, 0, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", "publication_names '" + publication + "'"}}); err != nil {
		t.Fatalf("pgtest: stream from slot %s: %v", slot, err)
	}
	return conn
}
