package pgsource

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestIntegrationDropSlotOnStopHeld checks what Close does with
// DropSlotOnStop when another process streams from the slot: a source
// that had the slot retries within its context and then returns a
// SlotDropError that names the holder and the fix; a source that never had
// the slot (it was busy at Open) leaves it alone.
func TestIntegrationDropSlotOnStopHeld(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	const slot = "held_slot"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pgtest.Exec(t, dsn, `SELECT pg_create_logical_replication_slot('held_slot', 'pgoutput')`)
	slotExists := func() bool {
		return pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, slot) == 1
	}

	owner := newTestSource(t, dsn, Config{Slot: slot, DropSlotOnStop: true})
	if _, err := owner.Open(ctx); err != nil {
		t.Fatal(err)
	}

	// Another process streams from the slot.
	holder := pgtest.StreamSlot(t, ctx, dsn, slot, "pgm_pub")
	holderPID := int32(holder.PID())

	// A source that found the slot busy does not drop it when it closes.
	other := newTestSource(t, dsn, Config{Slot: slot, DropSlotOnStop: true})
	_, err := other.Open(ctx)
	if _, ok := errors.AsType[*SlotInUseError](err); !ok {
		t.Fatalf("Open of a busy slot: %v, want a SlotInUseError", err)
	}
	start := time.Now()
	if err := other.Close(ctx); err != nil {
		t.Errorf("Close of a source that never had the slot: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close of a source that never had the slot took %v", d)
	}

	// The owner retries until its context ends, then says how to drop it.
	cctx, ccancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer ccancel()
	err = owner.Close(cctx)
	drop, ok := errors.AsType[*SlotDropError](err)
	if !ok {
		t.Fatalf("Close while another process holds the slot: %v, want a SlotDropError", err)
	}
	if drop.Slot != slot || drop.PID != holderPID {
		t.Errorf("SlotDropError names slot %q, PID %d; want %q, %d", drop.Slot, drop.PID, slot, holderPID)
	}
	for _, want := range []string{`"held_slot"`, "SELECT pg_drop_replication_slot('held_slot')", "still active after"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if !slotExists() {
		t.Fatal("the slot is gone although another process held it")
	}

	// The fix the error gives works once the holder is gone.
	holder.Close(ctx)
	pgtest.WaitFor(t, 10*time.Second, func() (bool, error) {
		return !pgtest.QueryValue[bool](t, dsn, `SELECT active FROM pg_replication_slots WHERE slot_name = $1`, slot), nil
	})
	pgtest.Exec(t, dsn, `SELECT pg_drop_replication_slot('held_slot')`)
}

// TestIntegrationDropSlotOnStopStreaming closes a streaming source with
// DropSlotOnStop: the slot is gone when Close returns, however long its
// walsender takes to exit.
func TestIntegrationDropSlotOnStopStreaming(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE a (id int PRIMARY KEY)`)
	const slot = "streamed_slot"
	for i := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		src := newTestSource(t, dsn, Config{Slot: slot, DropSlotOnStop: true})
		info, err := src.Open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sctx, stop := context.WithCancel(ctx)
		c := &collector{}
		done := make(chan error, 1)
		go func() { done <- src.Stream(sctx, StreamOptions{Start: info.ConsistentPoint}, c) }()
		pgtest.Exec(t, dsn, `INSERT INTO a VALUES (`+string(rune('0'+i))+`)`)
		pgtest.WaitFor(t, 30*time.Second, func() (bool, error) { return len(c.snapshot()) >= 3, nil })
		stop()
		<-done
		if err := src.Close(ctx); err != nil {
			t.Fatalf("round %d: Close: %v", i, err)
		}
		if n := pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, slot); n != 0 {
			t.Fatalf("round %d: the slot is still there after Close", i)
		}
		cancel()
	}
}
