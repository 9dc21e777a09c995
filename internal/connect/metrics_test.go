package connect

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"
)

// TestKpromRegisterer registers franz-go's kprom metrics as the worker
// does: its buffered-records gauges lose their _total, every other metric
// keeps its name, promlint finds nothing, and closing the client
// unregisters them all.
func TestKpromRegisterer(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	kr := &kpromRegisterer{Registerer: reg, renamed: map[prometheus.Collector]prometheus.Collector{}}
	cl, err := kgo.NewClient(kgo.SeedBrokers("127.0.0.1:1"), // never dialled
		kgo.WithHooks(kprom.NewMetrics("pgmotion_kafka_client", kprom.Registerer(kr), kprom.Gatherer(noGatherer{}))))
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]dto.MetricType{}
	for _, mf := range mfs {
		types[mf.GetName()] = mf.GetType()
	}
	for _, name := range []string{"pgmotion_kafka_client_buffered_produce_records", "pgmotion_kafka_client_buffered_fetch_records",
		"pgmotion_kafka_client_buffered_produce_bytes"} {
		if types[name] != dto.MetricType_GAUGE {
			t.Errorf("%s: %v (served: %v), want a gauge", name, types[name], len(types))
		}
	}
	for _, name := range []string{"pgmotion_kafka_client_buffered_produce_records_total", "pgmotion_kafka_client_buffered_fetch_records_total"} {
		if _, ok := types[name]; ok {
			t.Errorf("%s is still served", name)
		}
	}
	if got := testutil.ToFloat64(kr.renamed[firstRenamed(t, kr)]); got != 0 {
		t.Errorf("an idle client's buffered records: %v, want 0", got)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}

	cl.Close()
	if mfs, _ := reg.Gather(); len(mfs) != 0 || len(kr.renamed) != 0 {
		t.Errorf("after Close: %d metric families, %d renamed gauges left", len(mfs), len(kr.renamed))
	}
}

// firstRenamed returns one of the collectors kprom registered that kr
// serves under another name.
func firstRenamed(t *testing.T, kr *kpromRegisterer) prometheus.Collector {
	t.Helper()
	for c := range kr.renamed {
		return c
	}
	t.Fatal("no kprom gauge was renamed")
	return nil
}
