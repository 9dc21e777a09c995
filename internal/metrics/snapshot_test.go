package metrics

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSnapshotMetricsScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewSnapshotMetrics(reg, "inventory", map[string]string{"env": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	m.now = clk.now

	m.Start([]TableEstimate{
		{Name: "public.orders", Rows: 1000, Chunks: 4},
		{Name: "public.items", Rows: -1},
	})
	clk.advance(10 * time.Second)
	orders := m.Table("public.orders")
	orders.AddRows(300)
	orders.AddRows(100)
	orders.ChunkDone()
	m.ChunkDone("public.orders")
	m.AddRows("public.items", 100)
	m.TableDone("public.items")
	clk.advance(2500 * time.Millisecond)

	// 500 rows in 12.5s is 40 rows/s; 600 left of 1100 is 15s.
	const base = `context="snapshot",env="prod",name="inventory",plugin="postgres"`
	expected := strings.ReplaceAll(`
# HELP debezium_metrics_TotalTableCount The total number of tables that are being included in the snapshot.
# TYPE debezium_metrics_TotalTableCount gauge
debezium_metrics_TotalTableCount{BASE} 2
# HELP debezium_metrics_RemainingTableCount The number of tables that the snapshot has yet to copy.
# TYPE debezium_metrics_RemainingTableCount gauge
debezium_metrics_RemainingTableCount{BASE} 1
# HELP debezium_metrics_SnapshotRunning Whether the snapshot is running (1) or not (0); 0 while paused.
# TYPE debezium_metrics_SnapshotRunning gauge
debezium_metrics_SnapshotRunning{BASE} 1
# HELP debezium_metrics_SnapshotCompleted Whether the snapshot completed (1) or not (0).
# TYPE debezium_metrics_SnapshotCompleted gauge
debezium_metrics_SnapshotCompleted{BASE} 0
# HELP debezium_metrics_SnapshotDurationInSeconds The total number of seconds that the snapshot has taken so far, even if not complete; includes the time when the snapshot was paused.
# TYPE debezium_metrics_SnapshotDurationInSeconds gauge
debezium_metrics_SnapshotDurationInSeconds{BASE} 12
# HELP debezium_metrics_TotalNumberOfEventsSeen The total number of events that this connector has seen: for context=snapshot, rows read since the last start of the snapshot; for context=streaming, change events since streaming started.
# TYPE debezium_metrics_TotalNumberOfEventsSeen gauge
debezium_metrics_TotalNumberOfEventsSeen{BASE} 500
# HELP debezium_metrics_MilliSecondsSinceLastEvent The number of milliseconds since the connector has read and processed the most recent event; -1 before the first.
# TYPE debezium_metrics_MilliSecondsSinceLastEvent gauge
debezium_metrics_MilliSecondsSinceLastEvent{BASE} 2500
# HELP debezium_metrics_RowsScanned The number of rows that have been scanned for each table in the snapshot, including rows read by an earlier run of a resumed snapshot.
# TYPE debezium_metrics_RowsScanned gauge
debezium_metrics_RowsScanned{BASE,table="public.items"} 100
debezium_metrics_RowsScanned{BASE,table="public.orders"} 400
# HELP debezium_metrics_TableChunkCounts The number of chunks (key ranges read in parallel) of each table in the snapshot; 0 when not known yet.
# TYPE debezium_metrics_TableChunkCounts gauge
debezium_metrics_TableChunkCounts{BASE,table="public.items"} 0
debezium_metrics_TableChunkCounts{BASE,table="public.orders"} 4
# HELP debezium_metrics_TableChunksCompletedCounts The number of chunks of each table that the snapshot has read.
# TYPE debezium_metrics_TableChunksCompletedCounts gauge
debezium_metrics_TableChunksCompletedCounts{BASE,table="public.items"} 0
debezium_metrics_TableChunksCompletedCounts{BASE,table="public.orders"} 2
# HELP pgmotion_snapshot_rows_estimated The estimated number of rows of each table in the snapshot (pg_class.reltuples when the snapshot started); -1 when unknown.
# TYPE pgmotion_snapshot_rows_estimated gauge
pgmotion_snapshot_rows_estimated{BASE,table="public.items"} -1
pgmotion_snapshot_rows_estimated{BASE,table="public.orders"} 1000
# HELP pgmotion_snapshot_eta_seconds The estimated number of seconds until every table is read, at the rate of this run so far; 0 once done, -1 when unknown.
# TYPE pgmotion_snapshot_eta_seconds gauge
pgmotion_snapshot_eta_seconds{BASE} 15
`, "BASE", base)
	names := []string{
		"debezium_metrics_TotalTableCount", "debezium_metrics_RemainingTableCount",
		"debezium_metrics_SnapshotRunning", "debezium_metrics_SnapshotCompleted",
		"debezium_metrics_SnapshotDurationInSeconds", "debezium_metrics_TotalNumberOfEventsSeen",
		"debezium_metrics_MilliSecondsSinceLastEvent",
		"debezium_metrics_RowsScanned", "debezium_metrics_TableChunkCounts",
		"debezium_metrics_TableChunksCompletedCounts",
		"pgmotion_snapshot_rows_estimated", "pgmotion_snapshot_eta_seconds",
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expected), names...); err != nil {
		t.Error(err)
	}

	// Every metric is there, with the connector's labels.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range mfs {
		got = append(got, mf.GetName())
		for _, mt := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range mt.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["plugin"] != "postgres" || labels["context"] != "snapshot" || labels["name"] != "inventory" || labels["env"] != "prod" {
				t.Errorf("%s has labels %v", mf.GetName(), labels)
			}
		}
	}
	want := []string{
		"debezium_metrics_CapturedTables",
		"debezium_metrics_MilliSecondsSinceLastEvent",
		"debezium_metrics_RemainingTableCount",
		"debezium_metrics_RowsScanned",
		"debezium_metrics_SnapshotAborted",
		"debezium_metrics_SnapshotCompleted",
		"debezium_metrics_SnapshotDurationInSeconds",
		"debezium_metrics_SnapshotPaused",
		"debezium_metrics_SnapshotPausedDurationInSeconds",
		"debezium_metrics_SnapshotRunning",
		"debezium_metrics_SnapshotSkipped",
		"debezium_metrics_TableChunkCounts",
		"debezium_metrics_TableChunksCompletedCounts",
		"debezium_metrics_TotalNumberOfEventsSeen",
		"debezium_metrics_TotalTableCount",
		"pgmotion_snapshot_eta_seconds",
		"pgmotion_snapshot_progress_ratio",
		"pgmotion_snapshot_rows_estimated",
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("metric names:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Unknown estimate: ratio and ETA are -1. Pausing flips the flags.
	m.AddRows("public.late", 1)
	m.Pause()
	clk.advance(3 * time.Second)
	for name, want := range map[string]float64{
		"pgmotion_snapshot_progress_ratio":                 -1,
		"pgmotion_snapshot_eta_seconds":                    -1,
		"debezium_metrics_SnapshotRunning":                 0,
		"debezium_metrics_SnapshotPaused":                  1,
		"debezium_metrics_SnapshotPausedDurationInSeconds": 3,
		"debezium_metrics_TotalTableCount":                 3,
	} {
		if got := gatherValue(t, reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}

	m.Unpause()
	m.TableDone("public.orders")
	m.TableDone("public.late")
	m.Completed()
	for name, want := range map[string]float64{
		"pgmotion_snapshot_progress_ratio":     1,
		"pgmotion_snapshot_eta_seconds":        0,
		"debezium_metrics_SnapshotRunning":     0,
		"debezium_metrics_SnapshotPaused":      0,
		"debezium_metrics_SnapshotCompleted":   1,
		"debezium_metrics_RemainingTableCount": 0,
	} {
		if got := gatherValue(t, reg, name); got != want {
			t.Errorf("after Completed: %s = %v, want %v", name, got, want)
		}
	}

	m.Unregister()
	m.Unregister()
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Errorf("after Unregister: %d metrics, err %v", n, err)
	}
}

// gatherValue returns the value of the only series of a connector-level
// metric.
func gatherValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			if len(mf.GetMetric()) != 1 {
				t.Fatalf("%s has %d series", name, len(mf.GetMetric()))
			}
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestSnapshotMetricsBeforeStart(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := NewSnapshotMetrics(reg, "db1", nil); err != nil {
		t.Fatal(err)
	}
	const expected = `
# HELP debezium_metrics_MilliSecondsSinceLastEvent The number of milliseconds since the connector has read and processed the most recent event; -1 before the first.
# TYPE debezium_metrics_MilliSecondsSinceLastEvent gauge
debezium_metrics_MilliSecondsSinceLastEvent{context="snapshot",name="db1",plugin="postgres"} -1
# HELP debezium_metrics_SnapshotRunning Whether the snapshot is running (1) or not (0); 0 while paused.
# TYPE debezium_metrics_SnapshotRunning gauge
debezium_metrics_SnapshotRunning{context="snapshot",name="db1",plugin="postgres"} 0
# HELP debezium_metrics_TotalTableCount The total number of tables that are being included in the snapshot.
# TYPE debezium_metrics_TotalTableCount gauge
debezium_metrics_TotalTableCount{context="snapshot",name="db1",plugin="postgres"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expected),
		"debezium_metrics_MilliSecondsSinceLastEvent", "debezium_metrics_SnapshotRunning", "debezium_metrics_TotalTableCount",
		"debezium_metrics_RowsScanned"); err != nil {
		t.Error(err)
	}
}

func TestSnapshotMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := NewSnapshotMetrics(reg, "a", map[string]string{"env": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSnapshotMetrics(reg, "b", map[string]string{"env": "test"}); err != nil {
		t.Errorf("second connector: %v", err)
	}

	_, err = NewSnapshotMetrics(reg, "a", map[string]string{"env": "prod"})
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) || !strings.Contains(err.Error(), "Unregister") {
		t.Errorf("same server twice: err = %v, want an AlreadyRegisteredError", err)
	}
	a.Unregister()
	if _, err := NewSnapshotMetrics(reg, "a", map[string]string{"env": "prod"}); err != nil {
		t.Errorf("after Unregister: %v", err)
	}

	// Prometheus wants one set of label names per metric name.
	if _, err := NewSnapshotMetrics(reg, "c", nil); err == nil {
		t.Error("different tag keys on one registry: no error")
	}
}

func TestConnectorLabels(t *testing.T) {
	tests := []struct {
		server string
		tags   map[string]string
		want   string // labels, or the error
	}{
		{"s", nil, "context=snapshot name=s plugin=postgres"},
		{"s", map[string]string{"env": "prod", "k8s.ns": "cdc", "1x": "y"}, "_1x=y context=snapshot env=prod k8s_ns=cdc name=s plugin=postgres"},
		{"", nil, "server name (topic.prefix) is empty"},
		{"s", map[string]string{"": "x"}, "empty key"},
		{"s", map[string]string{"name": "x"}, `already set a "name" label`},
		{"s", map[string]string{"table": "x"}, `already set a "table" label`},
		{"s", map[string]string{"__x": "x"}, "reserved"},
		{"s", map[string]string{"a.b": "1", "a-b": "2"}, `keys "a-b" and "a.b" both become label "a_b"`},
	}
	for _, tt := range tests {
		labels, err := connectorLabels(contextSnapshot, tt.server, tt.tags)
		var got string
		if err != nil {
			got = err.Error()
			if !strings.Contains(got, tt.want) {
				t.Errorf("connectorLabels(%q, %v): error %q, want it to contain %q", tt.server, tt.tags, got, tt.want)
			}
			continue
		}
		var parts []string
		for k, v := range labels {
			parts = append(parts, k+"="+v)
		}
		sort.Strings(parts)
		if got = strings.Join(parts, " "); got != tt.want {
			t.Errorf("connectorLabels(%q, %v) = %s, want %s", tt.server, tt.tags, got, tt.want)
		}
	}
}

// TestConcurrentCounting runs readers, table discovery, Progress and
// scrapes at once; run it with -race.
func TestConcurrentCounting(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewSnapshotMetrics(reg, "race", nil)
	if err != nil {
		t.Fatal(err)
	}
	const tables, readers, batches, batch = 3, 8, 500, 7
	est := make([]TableEstimate, tables)
	for i := range est {
		est[i] = TableEstimate{Name: fmt.Sprintf("t%d", i), Rows: readers * batches * batch / tables, Chunks: readers}
	}
	m.Start(est)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range readers {
		wg.Go(func() {
			name := fmt.Sprintf("t%d", r%tables)
			c := m.Table(name)
			for i := range batches {
				if i%2 == 0 {
					c.AddRows(batch)
				} else {
					m.AddRows(name, batch)
				}
			}
			m.ChunkDone(name)
			m.AddRows(fmt.Sprintf("late%d", r), 1) // discovered while others count
		})
	}
	var watchers sync.WaitGroup
	watchers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = m.Progress()
			if _, err := reg.Gather(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	watchers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			m.Pause()
			m.Unpause()
		}
	})
	wg.Wait()
	close(stop)
	watchers.Wait()

	p := m.Progress()
	if want := int64(readers*batches*batch + readers); p.Scanned != want {
		t.Errorf("Scanned = %d, want %d", p.Scanned, want)
	}
	if p.TotalTables != tables+readers {
		t.Errorf("TotalTables = %d, want %d", p.TotalTables, tables+readers)
	}
	var chunks int64
	for _, tp := range p.Tables {
		chunks += tp.ChunksDone
	}
	if chunks != readers {
		t.Errorf("chunks done = %d, want %d", chunks, readers)
	}
}

func BenchmarkAddRows(b *testing.B) {
	m, err := NewSnapshotMetrics(nil, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	m.Start([]TableEstimate{{Name: "public.a", Rows: -1}, {Name: "public.b", Rows: -1}})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.AddRows("public.a", 4096)
		}
	})
}
