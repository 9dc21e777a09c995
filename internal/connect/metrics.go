package connect

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"
	"github.com/twmb/franz-go/plugin/kslog"

	"github.com/pgmotion/pgmotion/internal/metrics"
	"github.com/pgmotion/pgmotion/internal/pipeline"
)

// workerCollector serves Kafka Connect's worker metrics
// (type=connect-worker-metrics) and the status of each connector and task
// this worker runs, named as the JMX exporter's common Kafka Connect rules
// name them but for the "-count" attributes, served as plural nouns
// (connector-count is kafka_connect_worker_connectors): promtool keeps
// the _count suffix for histograms and summaries (see the README's
// monitoring section).
type workerCollector struct {
	w *Worker

	connectorCount, taskCount *prometheus.Desc
	tasksByState              map[State]*prometheus.Desc
	connectorStatus           *prometheus.Desc
	taskStatus                *prometheus.Desc
}

// taskCountStates are the states of connect-worker-metrics'
// connector-<state>-task-count attributes, served as
// kafka_connect_worker_connector_<state>_tasks.
var taskCountStates = []State{StateRunning, StatePaused, StateFailed, StateUnassigned, StateDestroyed, StateRestarting}

func newWorkerCollector(w *Worker) *workerCollector {
	c := &workerCollector{
		w: w,
		connectorCount: prometheus.NewDesc("kafka_connect_worker_connectors",
			"The number of connectors run in this worker.", nil, nil),
		taskCount: prometheus.NewDesc("kafka_connect_worker_tasks",
			"The number of tasks run in this worker.", nil, nil),
		connectorStatus: prometheus.NewDesc("kafka_connect_connector_status",
			"Always 1: the status of each connector run in this worker, as the status label (running, paused, stopped, failed, unassigned, restarting).", []string{"connector", "status"}, nil),
		taskStatus: prometheus.NewDesc("kafka_connect_connector_task_status",
			"Always 1: the status of each task run in this worker, as the status label (running, paused, failed, unassigned, restarting, destroyed).", []string{"connector", "task", "status"}, nil),
		tasksByState: map[State]*prometheus.Desc{},
	}
	c.tasksByState[""] = prometheus.NewDesc("kafka_connect_worker_connector_total_tasks",
		"The number of tasks of the connector on this worker.", []string{"connector"}, nil)
	for _, s := range taskCountStates {
		st := strings.ToLower(string(s))
		c.tasksByState[s] = prometheus.NewDesc("kafka_connect_worker_connector_"+st+"_tasks",
			"The number of "+st+" tasks of the connector on this worker.", []string{"connector"}, nil)
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *workerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.connectorCount
	ch <- c.taskCount
	ch <- c.connectorStatus
	ch <- c.taskStatus
	for _, d := range c.tasksByState {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *workerCollector) Collect(ch chan<- prometheus.Metric) {
	w := c.w
	if w.configs == nil || w.status == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	conns, tasks := 0, 0
	for name := range w.connectorsFromTopic() {
		if w.group != nil && !w.group.owns(name) {
			continue
		}
		cs := w.readStatus(connectorStatusKey(name))
		if cs == nil {
			continue
		}
		conns++
		gauge(c.connectorStatus, 1, name, strings.ToLower(string(cs.State)))
		ts := w.readStatus(taskStatusKey(name))
		counts := map[State]int{}
		if ts != nil {
			tasks++
			counts[ts.State]++
			gauge(c.taskStatus, 1, name, strconv.Itoa(0), strings.ToLower(string(ts.State)))
		}
		total := 0
		for _, s := range taskCountStates {
			gauge(c.tasksByState[s], float64(counts[s]), name)
			total += counts[s]
		}
		gauge(c.tasksByState[""], float64(total), name)
	}
	gauge(c.connectorCount, float64(conns))
	gauge(c.taskCount, float64(tasks))
}

// clientObservability is the Kafka client's metrics (franz-go's kprom,
// on the worker's registry, as pgmotion_kafka_client_*) and its log
// (through kslog, into the worker's log).
func (w *Worker) clientObservability() []kgo.Opt {
	opts := []kgo.Opt{kgo.WithLogger(quietLogger{kslog.New(w.log.With("component", "kafka-client"))})}
	if w.cfg.Metrics != nil {
		reg := &kpromRegisterer{Registerer: w.cfg.Metrics, renamed: map[prometheus.Collector]prometheus.Collector{}}
		opts = append(opts, kgo.WithHooks(kprom.NewMetrics("pgmotion_kafka_client", kprom.Registerer(reg), kprom.Gatherer(noGatherer{}),
			kprom.FetchAndProduceDetail(kprom.ByNode, kprom.ByTopic, kprom.Batches, kprom.Records, kprom.CompressedBytes, kprom.UncompressedBytes, kprom.ConsistentNaming))))
	}
	return opts
}

// quietLogger passes franz-go's warnings and errors to the log, and its
// info lines (metadata refreshes, producer ids: several per topic) only
// when the log shows debug lines.
type quietLogger struct{ *kslog.Logger }

func (l quietLogger) Level() kgo.LogLevel {
	if lv := l.Logger.Level(); lv < kgo.LogLevelDebug {
		return min(lv, kgo.LogLevelWarn)
	}
	return kgo.LogLevelDebug
}

// kpromRegisterer is the registry kprom registers its metrics on: the
// worker's, but for kprom's gauges named …_total (buffered_produce_records_total
// and buffered_fetch_records_total: the records the client holds now),
// which it serves without the _total, as promtool wants of a gauge. kprom
// has no option to name or leave out a metric.
type kpromRegisterer struct {
	prometheus.Registerer

	mu      sync.Mutex
	renamed map[prometheus.Collector]prometheus.Collector // kprom's → served
}

// Register implements prometheus.Registerer.
func (r *kpromRegisterer) Register(c prometheus.Collector) error {
	if g := renamedTotalGauge(c); g != nil {
		if err := r.Registerer.Register(g); err != nil {
			return err
		}
		r.mu.Lock()
		r.renamed[c] = g
		r.mu.Unlock()
		return nil
	}
	return r.Registerer.Register(c)
}

// MustRegister implements prometheus.Registerer, as the registry's own
// does.
func (r *kpromRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// Unregister implements prometheus.Registerer.
func (r *kpromRegisterer) Unregister(c prometheus.Collector) bool {
	r.mu.Lock()
	g, ok := r.renamed[c]
	delete(r.renamed, c)
	r.mu.Unlock()
	if ok {
		c = g
	}
	return r.Registerer.Unregister(c)
}

// totalGauge serves a gauge under another name.
type totalGauge struct {
	g    prometheus.GaugeFunc
	desc *prometheus.Desc
}

// renamedTotalGauge returns c served without its name's _total when c is
// a gauge whose name ends in _total, and nil otherwise.
func renamedTotalGauge(c prometheus.Collector) *totalGauge {
	g, ok := c.(prometheus.GaugeFunc)
	if !ok {
		return nil
	}
	tmp := prometheus.NewRegistry()
	if tmp.Register(g) != nil {
		return nil
	}
	mfs, err := tmp.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 || mfs[0].GetType() != dto.MetricType_GAUGE {
		return nil
	}
	name, ok := strings.CutSuffix(mfs[0].GetName(), "_total")
	if !ok {
		return nil
	}
	labels := prometheus.Labels{}
	for _, l := range mfs[0].GetMetric()[0].GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	return &totalGauge{g: g, desc: prometheus.NewDesc(name, mfs[0].GetHelp(), nil, labels)}
}

// Describe implements prometheus.Collector.
func (t *totalGauge) Describe(ch chan<- *prometheus.Desc) { ch <- t.desc }

// Collect implements prometheus.Collector.
func (t *totalGauge) Collect(ch chan<- prometheus.Metric) {
	var m dto.Metric
	if t.g.Write(&m) == nil {
		ch <- prometheus.MustNewConstMetric(t.desc, prometheus.GaugeValue, m.GetGauge().GetValue())
	}
}

// noGatherer stands in for kprom's gatherer, which only its own HTTP
// handler uses; the worker serves its registry itself.
type noGatherer struct{}

func (noGatherer) Gather() ([]*dto.MetricFamily, error) { return nil, nil }

// startTaskMetrics returns a connector's streaming metrics, which its
// task's every attempt shares, and starts the slot monitor; the function
// it returns stops both and unregisters them.
func (w *Worker) startTaskMetrics(ctx context.Context, tc pipeline.Config, log *slog.Logger) (*metrics.StreamingMetrics, func()) {
	if w.cfg.Metrics == nil {
		return nil, func() {}
	}
	cl := w.sink.Client()
	sm := pipeline.NewStreamingMetrics(w.cfg.Metrics, tc, func() (int64, int64) {
		return cl.BufferedProduceRecords(), cl.BufferedProduceBytes()
	}, log)
	mon := newSlotMonitor(tc.Source.Conn, tc.Source.Slot, tc.Name, log)
	registered := w.cfg.Metrics.Register(mon) == nil
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		mon.Run(mctx)
	}()
	return sm, func() {
		cancel()
		<-done
		if registered {
			w.cfg.Metrics.Unregister(mon)
		}
		if sm != nil {
			sm.SetConnected(false)
			sm.Unregister()
		}
	}
}
