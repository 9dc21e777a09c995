package pgsource

import (
	"context"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestIntegrationCurrentSnapshot: the read-only watermarks of incremental
// snapshots move forward with a committed write.
func TestIntegrationCurrentSnapshot(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE t (id int PRIMARY KEY)`)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{Slot: "xact_snapshot_slot"})
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	low, lsn1, err := src.CurrentSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, dsn, `INSERT INTO t VALUES (1)`)
	high, lsn2, err := src.CurrentSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if low.Xmin == 0 || high.Xmax <= low.Xmax || lsn2 <= lsn1 {
		t.Errorf("watermarks %v@%v then %v@%v", low, lsn1, high, lsn2)
	}
}
