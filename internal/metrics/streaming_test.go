package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pgmotion/pgmotion/internal/change"
)

func TestStreamingMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewStreamingMetrics(reg, "inventory", StreamingOptions{Connector: "inv", QueueCapacity: 8192,
		Buffered: func() (int64, int64) { return 100, 4096 }})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	m.now = func() time.Time { return now }

	s := m.Read()
	if s.MilliSecondsBehindSource != Unknown || s.MilliSecondsSinceEvent != Unknown || s.LastTransactionID != Unknown {
		t.Errorf("before any event: %+v, want -1 for the times and the transaction", s)
	}

	rel := &change.Relation{Namespace: "public", Name: "orders"}
	commitTs := now.Add(-2 * time.Second).UnixMicro()
	m.Begin(commitTs)
	for _, op := range []change.Op{change.OpCreate, change.OpCreate, change.OpUpdate, change.OpDelete, change.OpTruncate} {
		m.Event(&change.Change{Op: op, Rel: rel, LSN: 1000})
	}
	// Mid-transaction, 3 s after its commit: 3 s behind.
	now = now.Add(time.Second)
	if got := m.Read().MilliSecondsBehindSource; got != 3000 {
		t.Errorf("MilliSecondsBehindSource during the transaction: %d, want 3000", got)
	}
	m.Commit(42, 2000, commitTs)
	now = now.Add(500 * time.Millisecond)
	s = m.Read()
	want := Streaming{Connected: false, EventsSeen: 5, Creates: 2, Updates: 1, Deletes: 1, CommittedTransactions: 1,
		MilliSecondsBehindSource: 3000, MilliSecondsSinceEvent: 500, LastEvent: "t public.orders", SourceLSN: 2000,
		LastTransactionID: 42, QueueCapacity: 8192, QueueRemaining: 8092, QueueBytes: 4096}
	if s.LastEvent != want.LastEvent || s.EventsSeen != want.EventsSeen || s.Creates != 2 || s.Updates != 1 || s.Deletes != 1 ||
		s.CommittedTransactions != 1 || s.MilliSecondsBehindSource != 3000 || s.MilliSecondsSinceEvent != 500 ||
		s.SourceLSN != 2000 || s.LastTransactionID != 42 || s.QueueRemaining != 8092 || s.QueueBytes != 4096 {
		t.Errorf("after one transaction: %+v, want %+v", s, want)
	}

	m.Acked(commitTs)
	expected := `
# HELP debezium_metrics_TotalNumberOfCreateEventsSeen The total number of create (insert) events seen since streaming started.
# TYPE debezium_metrics_TotalNumberOfCreateEventsSeen gauge
debezium_metrics_TotalNumberOfCreateEventsSeen{context="streaming",name="inventory",plugin="postgres"} 2
# HELP pgmotion_commit_to_ack_seconds Seconds from a transaction's commit in PostgreSQL (its commit timestamp) to Kafka's acknowledgement of its last record.
# TYPE pgmotion_commit_to_ack_seconds histogram
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expected), "debezium_metrics_TotalNumberOfCreateEventsSeen"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.collector, "pgmotion_commit_to_ack_seconds"); n != 1 {
		t.Errorf("commit-to-ack histogram series: %d, want 1", n)
	}
	lint, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range lint {
		if !strings.HasPrefix(p.Metric, "debezium_metrics_") || !strings.Contains(p.Text, "camelCase") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}

	m.Unregister()
	m.Unregister()
	if n, _ := reg.Gather(); len(n) != 0 {
		t.Errorf("%d metric families left after Unregister", len(n))
	}
}

func TestRateWindows(t *testing.T) {
	var r rateWindows
	t0 := time.Unix(0, 0)
	if got := r.rate("x", 100, t0); got != 0 {
		t.Errorf("first sample: %v, want 0", got)
	}
	if got := r.rate("x", 400, t0.Add(10*time.Second)); got != 30 {
		t.Errorf("after 10 s: %v, want 30/s", got)
	}
	r.rate("x", 1000, t0.Add(30*time.Second)) // the window moves on
	if got := r.rate("x", 1600, t0.Add(60*time.Second)); got != 20 {
		t.Errorf("over the last window: %v, want 20/s", got)
	}
}

// BenchmarkStreamingEvent is the cost the metrics add to each streamed
// change.
func BenchmarkStreamingEvent(b *testing.B) {
	m, err := NewStreamingMetrics(nil, "bench", StreamingOptions{Connector: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	c := &change.Change{Op: change.OpUpdate, Rel: &change.Relation{Namespace: "public", Name: "t"}, LSN: 1}
	b.ReportAllocs()
	for b.Loop() {
		m.Event(c)
	}
}

// A task sets the filter counter each time its source opens, while the
// registry may be scraping: under -race, the two must not race.
func TestStreamingMetricsSetFilteredWhileRead(t *testing.T) {
	m, err := NewStreamingMetrics(nil, "inventory", StreamingOptions{Connector: "inv"})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Read().Filtered; got != 0 {
		t.Errorf("Filtered before SetFiltered: %d, want 0", got)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			m.Read()
		}
	}()
	for i := range 100 {
		n := int64(i)
		m.SetFiltered(func() int64 { return n })
	}
	<-done
	if got := m.Read().Filtered; got != 99 {
		t.Errorf("Filtered: %d, want 99", got)
	}
}
