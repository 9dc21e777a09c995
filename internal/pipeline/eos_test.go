package pipeline

import (
	"testing"
	"time"
)

func TestEOSCheck(t *testing.T) {
	for _, c := range []struct {
		support, value string
		fails          bool
	}{
		{"", "required", true},
		{"disabled", "REQUIRED", true},
		{"preparing", " required ", true},
		{"enabled", "required", false},
		{"disabled", "requested", false},
		{"disabled", "", false},
	} {
		cfg := map[string]string{"name": "x"}
		if c.value != "" {
			cfg["exactly.once.support"] = c.value
		}
		if got := EOSCheck(cfg, c.support); (got != "") != c.fails {
			t.Errorf("exactly.once.support=%q on a worker with %q: %q, want failure %v", c.value, c.support, got, c.fails)
		}
	}
	if got := TransactionalID("connect-cluster", "shop", 0); got != "connect-cluster-shop-0" {
		t.Errorf("TransactionalID = %q, want Connect's connect-cluster-shop-0", got)
	}
}

// TestEOSBoundary: when the open transaction commits, by
// transaction.boundary.
func TestEOSBoundary(t *testing.T) {
	now := time.Now()
	commit := Offset{LSN: 10, MessageType: "COMMIT"}
	slice := Offset{LSN: 10, MessageType: "INSERT", TxID: 3}
	snap := Offset{LSN: 10, Snapshot: "INITIAL"}
	cfg := EOSConfig{MaxBatch: 2048, PollInterval: 500 * time.Millisecond, Interval: time.Second, TransactionTimeout: time.Minute}
	for _, c := range []struct {
		boundary string
		records  int
		age      time.Duration
		off      Offset
		want     bool
	}{
		{BoundaryPoll, 10, 100 * time.Millisecond, commit, false},
		{BoundaryPoll, 2048, 0, slice, true},
		{BoundaryPoll, 10, 600 * time.Millisecond, commit, true},
		{BoundaryInterval, 100000, 600 * time.Millisecond, commit, false},
		{BoundaryInterval, 1, 1100 * time.Millisecond, slice, true},
		{BoundaryConnector, 5, 0, commit, true},
		{BoundaryConnector, 100000, 10 * time.Second, slice, false},
		{BoundaryConnector, 100000, 31 * time.Second, slice, true},
		{BoundaryConnector, 5, 0, snap, true},
	} {
		cfg.Boundary = c.boundary
		e := &eosState{cfg: cfg, began: now.Add(-c.age), records: c.records, sealed: true}
		if got := e.due(c.off, now); got != c.want {
			t.Errorf("%s, %d records, %v old, at %s: due %v, want %v", c.boundary, c.records, c.age, c.off.MessageType, got, c.want)
		}
	}
	e := &eosState{cfg: cfg, began: now.Add(-time.Hour), records: 1 << 20}
	if e.due(commit, now) {
		t.Error("due without a sealed position")
	}
	e.sealed, e.failed = true, true
	if e.due(commit, now) {
		t.Error("due after a failed commit")
	}
}
