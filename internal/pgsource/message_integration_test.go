package pgsource

import (
	"context"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestIntegrationLogicalMessages streams pg_logical_emit_message calls:
// transactional ones inside their transaction, non-transactional ones on
// their own (PostgreSQL 14+ sends them when asked with messages 'true').
func TestIntegrationLogicalMessages(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE a (id int PRIMARY KEY)`)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{Slot: "msg_slot"})
	info, err := src.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if src.serverVersion < 140000 {
		t.Skipf("PostgreSQL %d sends no logical decoding messages through pgoutput", src.serverVersion)
	}
	col := &collector{}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.Stream(sctx, StreamOptions{Start: info.ConsistentPoint}, col) }()
	pgtest.Exec(t, dsn,
		`BEGIN; INSERT INTO a VALUES (1); SELECT pg_logical_emit_message(true, 'outbox', '{"a":1}'); COMMIT`,
		`SELECT pg_logical_emit_message(false, 'audit', 'hello')`,
		`BEGIN; SELECT pg_logical_emit_message(true, 'rolled', 'back'); ROLLBACK`,
		`SELECT pg_logical_emit_message(true, 'bin', '\x00ff'::bytea)`,
	)
	want := []string{
		"BEGIN", "c public.a [] [1]", `m outbox {"a":1} tx=true xid=true`, "COMMIT",
		"m audit hello tx=false xid=false",
		"BEGIN", "m bin \x00\xff tx=true xid=true", "COMMIT",
	}
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return len(col.snapshot()) >= len(want), nil })
	stop()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Stream returned %v, want context.Canceled", err)
	}
	got := col.snapshot()
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("stream event %d: got %q\nwant %q", i, got, want)
		}
	}
}
