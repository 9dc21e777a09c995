package pgsource

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestIntegrationSignalTable: the signal table is found ignoring case,
// added to the filtered publication, and its watermark rows written and
// deleted in transactions of their own.
func TestIntegrationSignalTable(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE t (id int PRIMARY KEY)`,
		`CREATE TABLE debezium_signal (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048) NULL)`,
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{Slot: "signal_slot", PublicationMode: "filtered", Include: func(_, table string) bool { return table != "debezium_signal" }})
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}

	info, err := src.CheckSignalTable(ctx, TableName{"PUBLIC", "Debezium_Signal"}, false)
	if err != nil || info.Name != (TableName{"public", "debezium_signal"}) || info.Columns != 3 || info.Published {
		t.Fatalf("signal table %+v %v", info, err)
	}
	if info, err = src.CheckSignalTable(ctx, info.Name, true); err != nil || !info.Added || !info.Published {
		t.Fatalf("add to publication: %+v %v", info, err)
	}
	if info, err = src.CheckSignalTable(ctx, info.Name, true); err != nil || info.Added || !info.Published {
		t.Fatalf("second check: %+v %v", info, err)
	}
	if _, err := src.CheckSignalTable(ctx, TableName{"public", "nope"}, false); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing signal table: %v", err)
	}
	if err := src.InsertSignal(ctx, info.Name, "c1-open", "snapshot-window-open", `{"openWindowTimestamp": "x"}`); err != nil {
		t.Fatal(err)
	}
	if err := src.InsertSignal(ctx, info.Name, "c1-close", "snapshot-window-close", `{}`); err != nil {
		t.Fatal(err)
	}
	if err := src.DeleteSignal(ctx, info.Name, "c1-open"); err != nil {
		t.Fatal(err)
	}
	if n := pgtest.QueryValue[int64](t, dsn, `SELECT count(*) FROM debezium_signal WHERE id = 'c1-close' AND type = 'snapshot-window-close'`); n != 1 {
		t.Errorf("signal rows: %d", n)
	}
}
