package connect

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
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

// TestPutStatusEndsWithCloseDeadline: a status write to a Kafka that does
// not answer gives up when Close's deadline passes (hard ends), not 30 s
// later: reconcile writes statuses holding the lock Close waits for.
func TestPutStatusEndsWithCloseDeadline(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	w := &Worker{log: log, status: newKVLog(cl, "connect-status", log)}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	defer w.cancel()
	w.hard, w.hardCancel = context.WithCancel(context.Background())
	w.hardCancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.putStatus("a", "task", StateRunning, "")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("putStatus kept writing after Close's deadline")
	}
}
