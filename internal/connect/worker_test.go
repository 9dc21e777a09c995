package connect

import (
	"log/slog"
	"testing"
)

// TestReconcileWhileStopping: once Close has taken the runners, a
// reconcile (a rebalance or a config record read while the tasks stop)
// starts no connector again.
func TestReconcileWhileStopping(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	w := &Worker{log: log, runners: map[string]*runner{}, configs: newKVLog(nil, "connect-configs", log)}
	w.configs.data["connector-a"] = []byte(`{"properties":{"name":"a"}}`)
	w.stopping.Store(true)
	w.reconcile()
	if len(w.runners) != 0 {
		t.Fatalf("reconcile started %d connectors on a stopping worker", len(w.runners))
	}
}
