package connect

import (
	"context"
	"log/slog"
	"maps"
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

// TestKeepStoredSecrets: a config read through the REST API (secrets
// masked) and sent back keeps the stored secrets; new values win.
func TestKeepStoredSecrets(t *testing.T) {
	stored := map[string]string{
		"name": "a", "database.password": "pg-s3cret", "database.hostname": "db",
		"sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`,
		"notes":            "postgres://app:url-s3cret@db/app",
	}
	for _, tc := range []struct {
		name     string
		in, want map[string]string
	}{
		{"masked values come back",
			map[string]string{"name": "a", "database.password": "[hidden]", "database.hostname": "db2", "sasl.jaas.config": "[hidden]", "notes": "postgres://app:[hidden]@db/app"},
			map[string]string{"name": "a", "database.password": "pg-s3cret", "database.hostname": "db2", "sasl.jaas.config": stored["sasl.jaas.config"], "notes": "postgres://app:url-s3cret@db/app"}},
		{"new values win",
			map[string]string{"database.password": "new", "notes": "postgres://app:other@db/app"},
			map[string]string{"database.password": "new", "notes": "postgres://app:other@db/app"}},
		{"a mask for a key never stored stays",
			map[string]string{"other.password": "[hidden]"},
			map[string]string{"other.password": "[hidden]"}},
		{"a mask on a value that is not secret stays",
			map[string]string{"database.hostname": "[hidden]"},
			map[string]string{"database.hostname": "[hidden]"}},
	} {
		keepStoredSecrets(tc.in, stored)
		if !maps.Equal(tc.in, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.in, tc.want)
		}
	}
}
