package metrics

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgmotion/pgmotion/internal/change"
)

// contextStreaming is the MBean context of the streaming metrics.
const contextStreaming = "streaming"

// StreamingOptions are the connector settings the streaming metrics
// report as they are.
type StreamingOptions struct {
	// Connector is the connector's name, the connector label of the
	// Kafka Connect and pgmotion metrics.
	Connector string
	// QueueCapacity is max.queue.size, MaxQueueBytes max.queue.size.in.bytes.
	QueueCapacity, MaxQueueBytes int64
	// Buffered, if set, returns the records and bytes that the Kafka
	// producer holds and Kafka has not acknowledged yet (the worker's
	// producer, shared by its connectors): the queue of the Queue…
	// attributes.
	Buffered func() (records, bytes int64)
	// Tags are custom.metric.tags.
	Tags map[string]string
}

// StreamingMetrics counts one connector's streaming: Debezium's streaming
// MBean attributes (context="streaming") and Kafka Connect's source-task
// attributes, served as Prometheus metrics (see the package doc). The
// per-event methods (Event, Polled, Written) are atomic adds; the others
// run once per transaction or less. It is safe for concurrent use.
type StreamingMetrics struct {
	reg        prometheus.Registerer
	collector  *streamingCollector
	unregister sync.Once
	now        func() time.Time
	opts       StreamingOptions

	connected                 atomic.Bool
	events                    atomic.Int64
	creates, updates, deletes atomic.Int64
	erroneous                 atomic.Int64
	committed                 atomic.Int64
	filtered                  atomic.Pointer[func() int64] // nil: none set

	lastEvent    atomic.Int64 // unix nanoseconds, 0 before the first event
	seenAtTick   int64        // events at the last Tick (the stream's goroutine)
	inTxn        atomic.Bool
	txTsMicros   atomic.Int64 // source timestamp of the open transaction
	behindMillis atomic.Int64 // at the last commit; -1 before the first
	lsn          atomic.Uint64
	lastOp       atomic.Int32 // the last event's operation
	lastRel      atomic.Pointer[change.Relation]
	txID         atomic.Int64 // -1 before the first
	captured     atomic.Pointer[[]string]

	// Kafka Connect source-task and connector-task attributes.
	polled, written atomic.Int64
	retries         atomic.Int64
	rates           rateWindows
	commitMu        sync.Mutex
	commitOK        int64
	commitFailed    int64
	commitTimeSum   time.Duration
	commitTimeMax   time.Duration

	// Latency from a transaction's commit in PostgreSQL to Kafka's
	// acknowledgement of its last record.
	commitToAck prometheus.Histogram
}

// NewStreamingMetrics returns the streaming metrics of the connector whose
// topic.prefix is server, and registers them on reg (nil: none). As with
// NewSnapshotMetrics, every connector on one registry must use the same
// custom.metric.tags keys.
func NewStreamingMetrics(reg prometheus.Registerer, server string, o StreamingOptions) (*StreamingMetrics, error) {
	dbz, err := connectorLabels(contextStreaming, server, o.Tags)
	if err != nil {
		return nil, err
	}
	m := &StreamingMetrics{reg: reg, now: time.Now, opts: o}
	m.behindMillis.Store(Unknown)
	m.txID.Store(Unknown)
	m.lastOp.Store(-1)
	m.commitToAck = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:        "pgmotion_commit_to_ack_seconds",
		Help:        "Seconds from a transaction's commit in PostgreSQL (its commit timestamp) to Kafka's acknowledgement of its last record.",
		ConstLabels: prometheus.Labels{"connector": o.Connector},
		Buckets:     []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	})
	m.collector = newStreamingCollector(m, dbz, prometheus.Labels{"connector": o.Connector, "task": "0"})
	if reg != nil {
		if err := reg.Register(m.collector); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("register streaming metrics of server %q: already registered; is another connector using topic.prefix %q?: %w", server, server, err)
			}
			return nil, fmt.Errorf("register streaming metrics of server %q: %w", server, err)
		}
	}
	return m, nil
}

// Unregister removes the metrics from their registry when the task ends.
// It is safe to call more than once, and on nil.
func (m *StreamingMetrics) Unregister() {
	if m == nil || m.reg == nil {
		return
	}
	m.unregister.Do(func() { m.reg.Unregister(m.collector) })
}

// SetFiltered sets the function that counts events dropped by the table
// filters (NumberOfEventsFiltered). The task sets it each time its source
// opens, while a scrape may be reading it.
func (m *StreamingMetrics) SetFiltered(f func() int64) { m.filtered.Store(&f) }

// SetConnected records whether the connector is connected to the database.
func (m *StreamingMetrics) SetConnected(on bool) { m.connected.Store(on) }

// SetCapturedTables records the captured tables (schema.table).
func (m *StreamingMetrics) SetCapturedTables(tables []string) { m.captured.Store(&tables) }

// Begin records the start of a transaction with its source (commit)
// timestamp, in microseconds since the epoch.
func (m *StreamingMetrics) Begin(tsMicros int64) {
	m.txTsMicros.Store(tsMicros)
	m.inTxn.Store(true)
}

// Event counts one change event read from the stream. Only atomic
// stores and adds; the time of the last event is taken by Tick and
// Commit, the position by Commit.
func (m *StreamingMetrics) Event(c *change.Change) {
	m.events.Add(1)
	switch c.Op {
	case change.OpCreate:
		m.creates.Add(1)
	case change.OpUpdate:
		m.updates.Add(1)
	case change.OpDelete:
		m.deletes.Add(1)
	}
	m.lastOp.Store(int32(c.Op))
	if c.Rel != nil {
		m.lastRel.Store(c.Rel)
	}
}

// Erroneous counts an event that failed.
func (m *StreamingMetrics) Erroneous() { m.erroneous.Add(1) }

// Commit records the end of a transaction: its id, the position after it
// and its source timestamp (microseconds), from which the time behind the
// source is taken.
func (m *StreamingMetrics) Commit(xid int64, lsn uint64, tsMicros int64) {
	now := m.now()
	m.committed.Add(1)
	m.txID.Store(xid)
	m.lsn.Store(lsn)
	if tsMicros > 0 {
		m.behindMillis.Store(max(now.UnixMilli()-tsMicros/1000, 0))
	}
	m.inTxn.Store(false)
	m.lastEvent.Store(now.UnixNano())
}

// Tick runs on the stream's goroutine every few milliseconds, or every
// thousand messages: it stamps the time of the last event when events
// came since the last Tick, so that Event need not read the clock.
func (m *StreamingMetrics) Tick(now time.Time) {
	if n := m.events.Load(); n != m.seenAtTick {
		m.seenAtTick = n
		m.lastEvent.Store(now.UnixNano())
	}
}

// Polled counts records read from the source before transforms
// (source-record-poll-total); Written those handed to Kafka after them
// (source-record-write-total).
func (m *StreamingMetrics) Polled(n int) { m.polled.Add(int64(n)) }

// Written: see Polled.
func (m *StreamingMetrics) Written(n int) { m.written.Add(int64(n)) }

// Retry counts one retry of a failed operation (total-retries).
func (m *StreamingMetrics) Retry() { m.retries.Add(1) }

// OffsetCommit records one offset commit that took d and failed when err
// is not nil.
func (m *StreamingMetrics) OffsetCommit(d time.Duration, err error) {
	m.commitMu.Lock()
	defer m.commitMu.Unlock()
	if err != nil {
		m.commitFailed++
		return
	}
	m.commitOK++
	m.commitTimeSum += d
	m.commitTimeMax = max(m.commitTimeMax, d)
}

// Acked observes the time from a transaction's commit (source timestamp,
// microseconds) to now, when Kafka acknowledged its last record.
func (m *StreamingMetrics) Acked(tsMicros int64) {
	if tsMicros <= 0 {
		return
	}
	d := m.now().Sub(time.UnixMicro(tsMicros))
	m.commitToAck.Observe(max(d.Seconds(), 0))
}

// Streaming is a consistent read of the streaming metrics.
type Streaming struct {
	Connected                                        bool
	EventsSeen, Creates, Updates, Deletes            int64
	Filtered, Erroneous, CommittedTransactions       int64
	MilliSecondsBehindSource, MilliSecondsSinceEvent int64 // -1: no event yet
	LastEvent                                        string
	SourceLSN                                        uint64
	LastTransactionID                                int64 // -1: none yet
	CapturedTables                                   []string
	QueueCapacity, QueueRemaining                    int64
	QueueBytes, MaxQueueBytes                        int64
}

// Read returns the current values.
func (m *StreamingMetrics) Read() Streaming {
	now := m.now()
	s := Streaming{
		Connected:  m.connected.Load(),
		EventsSeen: m.events.Load(), Creates: m.creates.Load(), Updates: m.updates.Load(), Deletes: m.deletes.Load(),
		Erroneous: m.erroneous.Load(), CommittedTransactions: m.committed.Load(),
		MilliSecondsBehindSource: m.behindMillis.Load(), MilliSecondsSinceEvent: Unknown,
		SourceLSN: m.lsn.Load(), LastTransactionID: m.txID.Load(),
		QueueCapacity: m.opts.QueueCapacity, QueueRemaining: m.opts.QueueCapacity, MaxQueueBytes: m.opts.MaxQueueBytes,
	}
	if f := m.filtered.Load(); f != nil {
		s.Filtered = (*f)()
	}
	if m.inTxn.Load() {
		// The event being processed now has the open transaction's
		// source time: while it waits (a full producer buffer, a long
		// transaction), the time behind the source grows, as Debezium's
		// does for each event it queues.
		if ts := m.txTsMicros.Load(); ts > 0 {
			s.MilliSecondsBehindSource = max(s.MilliSecondsBehindSource, now.UnixMilli()-ts/1000)
		}
	}
	if t := m.lastEvent.Load(); t != 0 {
		s.MilliSecondsSinceEvent = max(now.Sub(time.Unix(0, t)).Milliseconds(), 0)
	}
	if r := m.lastRel.Load(); r != nil {
		s.LastEvent = string(rune(m.lastOp.Load())) + " " + r.Namespace + "." + r.Name
	}
	if p := m.captured.Load(); p != nil {
		s.CapturedTables = *p
	}
	if m.opts.Buffered != nil {
		recs, bytes := m.opts.Buffered()
		s.QueueRemaining = max(s.QueueCapacity-recs, 0)
		s.QueueBytes = bytes
	}
	return s
}

// rateWindows turns totals into Kafka's windowed rates: per second over
// the last 30 to 60 seconds (Kafka's metrics keep two 30 s samples).
type rateWindows struct {
	mu      sync.Mutex
	samples map[string]rateSample
}

type rateSample struct {
	prev, cur   int64
	prevT, curT time.Time
}

// rate returns the per-second rate of the total named key.
func (r *rateWindows) rate(key string, total int64, now time.Time) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.samples == nil {
		r.samples = map[string]rateSample{}
	}
	s, ok := r.samples[key]
	if !ok {
		s = rateSample{prev: total, cur: total, prevT: now, curT: now}
	}
	if now.Sub(s.curT) >= 30*time.Second {
		s.prev, s.prevT = s.cur, s.curT
		s.cur, s.curT = total, now
	}
	r.samples[key] = s
	el := now.Sub(s.prevT).Seconds()
	if el < 1 {
		return 0
	}
	return float64(total-s.prev) / el
}

// streamingCollector serves StreamingMetrics at scrape time.
type streamingCollector struct {
	m *StreamingMetrics

	connected, behind, sinceLast                        *prometheus.Desc
	events, creates, updates, deletes                   *prometheus.Desc
	filtered, erroneous, committed                      *prometheus.Desc
	queueTotal, queueRemaining, queueBytes, maxQueueB   *prometheus.Desc
	lastEvent, sourcePosition, lastTxID, capturedTables *prometheus.Desc

	pollRate, pollTotal, writeRate, writeTotal *prometheus.Desc
	commitAvg, commitMax, commitOKPct          *prometheus.Desc
	commitFailPct, retries                     *prometheus.Desc
}

func newStreamingCollector(m *StreamingMetrics, l, task prometheus.Labels) *streamingCollector {
	info := func(name, help string, label ...string) *prometheus.Desc {
		return prometheus.NewDesc(debeziumName(name), help, label, l)
	}
	kc := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, task) }
	return &streamingCollector{
		m:         m,
		connected: gaugeDesc(debeziumName("Connected"), "Whether the connector is currently connected to the database server (1) or not (0).", l),
		behind: gaugeDesc(debeziumName("MilliSecondsBehindSource"),
			"The number of milliseconds between the last change event's timestamp (its transaction's commit time) and the connector processing it, growing while the event waits; includes any clock difference between the database server and the connector; -1 before the first event.", l),
		sinceLast: gaugeDesc(debeziumName("MilliSecondsSinceLastEvent"), helpSinceLastEvent, l),
		events:    gaugeDesc(debeziumName("TotalNumberOfEventsSeen"), helpEventsSeen, l),
		creates:   gaugeDesc(debeziumName("TotalNumberOfCreateEventsSeen"), "The total number of create (insert) events seen since streaming started.", l),
		updates:   gaugeDesc(debeziumName("TotalNumberOfUpdateEventsSeen"), "The total number of update events seen since streaming started.", l),
		deletes:   gaugeDesc(debeziumName("TotalNumberOfDeleteEventsSeen"), "The total number of delete events seen since streaming started.", l),
		filtered:  gaugeDesc(debeziumName("NumberOfEventsFiltered"), "The number of events that have been filtered out by the include and exclude lists configured on the connector.", l),
		erroneous: gaugeDesc(debeziumName("NumberOfErroneousEvents"), "The number of events that failed; reset when the task restarts.", l),
		committed: gaugeDesc(debeziumName("NumberOfCommittedTransactions"), "The number of processed transactions that were committed.", l),
		queueTotal: gaugeDesc(debeziumName("QueueTotalCapacity"),
			"The length of the queue between the streamer and the Kafka producer (max.queue.size).", l),
		queueRemaining: gaugeDesc(debeziumName("QueueRemainingCapacity"),
			"The free capacity of the queue: max.queue.size less the records the worker's Kafka producer holds unacknowledged, at least 0.", l),
		queueBytes: gaugeDesc(debeziumName("CurrentQueueSizeInBytes"), "The bytes of the records the worker's Kafka producer holds unacknowledged.", l),
		maxQueueB:  gaugeDesc(debeziumName("MaxQueueSizeInBytes"), "The maximum buffer of the queue in bytes (max.queue.size.in.bytes); 0 means no byte limit.", l),
		lastEvent: info("LastEvent", "Always 1: the last event read, as the event label (<op> <schema.table>); absent before the first event. Debezium's string attribute, which the JMX exporter drops.",
			"event"),
		sourcePosition: prometheus.NewDesc("pgmotion_streaming_source_lsn",
			"The LSN of the last event read or transaction committed, as a number: Debezium's SourceEventPosition {\"lsn\": …}, a map attribute that the JMX exporter drops; 0 before the first.", nil, task),
		lastTxID: prometheus.NewDesc("pgmotion_streaming_last_transaction_id",
			"The id (txId) of the last transaction processed, as a number: Debezium's LastTransactionId, a string attribute that the JMX exporter drops; -1 before the first.", nil, task),
		capturedTables: info("CapturedTables", helpCapturedTables, labelTable),

		pollRate:      kc("kafka_connect_source_task_source_record_poll_rate", "The average per-second number of records produced/polled (before transformation) by this task, over the last 30 to 60 seconds."),
		pollTotal:     kc("kafka_connect_source_task_source_record_poll_total", "The total number of records produced/polled (before transformation) by this task since it started."),
		writeRate:     kc("kafka_connect_source_task_source_record_write_rate", "The average per-second number of records written to Kafka by this task after transformations, filtered records excluded, over the last 30 to 60 seconds."),
		writeTotal:    kc("kafka_connect_source_task_source_record_write_total", "The number of records written to Kafka by this task after transformations, filtered records excluded, since it started."),
		commitAvg:     kc("kafka_connect_connector_task_offset_commit_avg_time_seconds", "The average time in seconds taken by this task to commit offsets (Kafka Connect's offset-commit-avg-time-ms, in seconds)."),
		commitMax:     kc("kafka_connect_connector_task_offset_commit_max_time_seconds", "The maximum time in seconds taken by this task to commit offsets (Kafka Connect's offset-commit-max-time-ms, in seconds)."),
		commitOKPct:   kc("kafka_connect_connector_task_offset_commit_success_percentage", "The average percentage of this task's offset commit attempts that succeeded, as a ratio from 0 to 1 as Kafka Connect reports it."),
		commitFailPct: kc("kafka_connect_connector_task_offset_commit_failure_percentage", "The average percentage of this task's offset commit attempts that failed, as a ratio from 0 to 1 as Kafka Connect reports it."),
		retries:       kc("kafka_connect_task_error_retries_total", "The number of operations this task retried (a busy replication slot, a failed start): Kafka Connect's total-retries."),
	}
}

func (c *streamingCollector) descs() []*prometheus.Desc {
	return []*prometheus.Desc{
		c.connected, c.behind, c.sinceLast, c.events, c.creates, c.updates, c.deletes,
		c.filtered, c.erroneous, c.committed, c.queueTotal, c.queueRemaining, c.queueBytes, c.maxQueueB,
		c.lastEvent, c.sourcePosition, c.lastTxID, c.capturedTables,
		c.pollRate, c.pollTotal, c.writeRate, c.writeTotal,
		c.commitAvg, c.commitMax, c.commitOKPct, c.commitFailPct, c.retries,
	}
}

// Describe implements prometheus.Collector.
func (c *streamingCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs() {
		ch <- d
	}
	c.m.commitToAck.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *streamingCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	s := m.Read()
	now := m.now()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	connected := 0.0
	if s.Connected {
		connected = 1
	}
	gauge(c.connected, connected)
	gauge(c.behind, float64(s.MilliSecondsBehindSource))
	gauge(c.sinceLast, float64(s.MilliSecondsSinceEvent))
	gauge(c.events, float64(s.EventsSeen))
	gauge(c.creates, float64(s.Creates))
	gauge(c.updates, float64(s.Updates))
	gauge(c.deletes, float64(s.Deletes))
	gauge(c.filtered, float64(s.Filtered))
	gauge(c.erroneous, float64(s.Erroneous))
	gauge(c.committed, float64(s.CommittedTransactions))
	gauge(c.queueTotal, float64(s.QueueCapacity))
	gauge(c.queueRemaining, float64(s.QueueRemaining))
	gauge(c.queueBytes, float64(s.QueueBytes))
	gauge(c.maxQueueB, float64(s.MaxQueueBytes))
	if s.LastEvent != "" {
		gauge(c.lastEvent, 1, s.LastEvent)
	}
	gauge(c.sourcePosition, float64(s.SourceLSN))
	gauge(c.lastTxID, float64(s.LastTransactionID))
	for _, t := range s.CapturedTables {
		gauge(c.capturedTables, 1, t)
	}

	polled, written := m.polled.Load(), m.written.Load()
	gauge(c.pollRate, m.rates.rate("poll", polled, now))
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	counter(c.pollTotal, float64(polled))
	gauge(c.writeRate, m.rates.rate("write", written, now))
	counter(c.writeTotal, float64(written))
	m.commitMu.Lock()
	ok, failed, sum, mx := m.commitOK, m.commitFailed, m.commitTimeSum, m.commitTimeMax
	m.commitMu.Unlock()
	avg, okPct, failPct := 0.0, 0.0, 0.0
	if ok > 0 {
		avg = sum.Seconds() / float64(ok)
	}
	if ok+failed > 0 {
		okPct, failPct = float64(ok)/float64(ok+failed), float64(failed)/float64(ok+failed)
	}
	gauge(c.commitAvg, avg)
	gauge(c.commitMax, mx.Seconds())
	gauge(c.commitOKPct, okPct)
	gauge(c.commitFailPct, failPct)
	counter(c.retries, float64(m.retries.Load()))
	m.commitToAck.Collect(ch)
}
