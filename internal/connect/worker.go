// Package connect is the Kafka Connect worker: it keeps connector configs,
// target states, statuses and offsets in Kafka topics laid out the Kafka
// Connect way, shares connectors between workers through Kafka's group
// protocol, answers the Kafka Connect REST API through the Herder
// interface, and runs each connector it owns as an internal/pipeline task,
// restarting it after retriable failures.
package connect

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"

	"github.com/pgmotion/pgmotion/internal/kafkaclient"
	"github.com/pgmotion/pgmotion/internal/kafkasink"
	"github.com/pgmotion/pgmotion/internal/logging"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/pgsource"
	"github.com/pgmotion/pgmotion/internal/pipeline"
	"github.com/pgmotion/pgmotion/internal/transform"
	"github.com/pgmotion/pgmotion/internal/workerconfig"
)

// WorkerConfig configures a worker. Zero values take Kafka Connect's
// defaults, except where a comment says otherwise.
type WorkerConfig struct {
	Brokers []string
	// KafkaOpts are extra connection options (TLS, SASL) for every Kafka
	// client the worker makes, after those of Kafka: the embedded
	// broker's. Clients made from the worker's own take them over in
	// kafkaclient.ConnOpts.
	KafkaOpts []kgo.Opt
	// Kafka holds the Kafka client security settings (security.protocol,
	// sasl.*, ssl.*) of the worker's own clients and of its tasks'
	// (producer.*, consumer.*, admin.*), with
	// connector.client.config.override.policy; zero is PLAINTEXT.
	Kafka kafkaclient.Clients
	// The internal topics: config.storage.topic, status.storage.topic and
	// offset.storage.topic, with the partitions and replication used when
	// the worker creates them (-1 = the broker's default).
	ConfigTopic, StatusTopic, OffsetTopic                   string
	StatusPartitions, OffsetPartitions                      int32
	ConfigReplication, StatusReplication, OffsetReplication int16
	// FlushInterval is offset.flush.interval.ms (by default
	// workerconfig.PgmotionOffsetFlushInterval).
	FlushInterval time.Duration
	Compression   string
	// MaxRequestSize is the producer's max.request.size (0: default).
	MaxRequestSize int32
	// WorkerID names this worker in statuses: its advertised REST
	// host:port, as in Kafka Connect.
	WorkerID string
	// Resolve replaces config provider placeholders (${env:X}) in a
	// connector config before it runs; nil leaves the config as it is.
	Resolve func(map[string]string) (map[string]string, error)
	// Scrub returns, for a connector config as written, a function that
	// hides in a text every value Resolve puts into it (see scrub.go);
	// nil hides nothing.
	Scrub func(map[string]string) func(string) string
	// Converters holds the worker's converter settings (key.converter,
	// value.converter and their options such as
	// key.converter.schemas.enable); a connector that sets none of its own
	// uses them, as in Kafka Connect.
	Converters map[string]string
	// GroupID is group.id: workers sharing it share the connectors. Empty
	// runs every connector on this worker.
	GroupID string
	// SessionTimeout is session.timeout.ms for the worker group: how long
	// a dead worker keeps its connectors (Kafka Connect's default: 10s).
	SessionTimeout time.Duration
	// HeartbeatInterval and RebalanceTimeout are heartbeat.interval.ms and
	// rebalance.timeout.ms (3s and 60s by default).
	HeartbeatInterval, RebalanceTimeout time.Duration
	// DataDir is the worker's --data-dir: streamed transactions past
	// pgmotion.buffer.memory.bytes spill under DataDir/spill/<connector>.
	// Empty spills under os.TempDir.
	DataDir string
	// ReserveMemory, if set, is told the memory each connector's buffers
	// hold (its streamed-transaction buffers, within
	// pgmotion.buffer.memory.bytes, and its TOAST cache, within
	// pgmotion.toast.cache.max.bytes), in steps, as they fill (memory.go);
	// the function it returns gives a step back. The command uses it to
	// raise the garbage collector's soft memory limit, which would
	// otherwise collect without pause once a full cache is live.
	ReserveMemory func(bytes int64) (release func())
	// ExactlyOnceSource is exactly.once.source.support (disabled,
	// preparing or enabled; "" is disabled). With enabled every task is
	// transactional (internal/pipeline/eos.go).
	ExactlyOnceSource string
	// DisableTopicTracking and DisableTopicTrackingReset are
	// topic.tracking.enable=false and topic.tracking.allow.reset=false.
	DisableTopicTracking, DisableTopicTrackingReset bool
	// Loggers are the process's logger levels, which the admin/loggers
	// endpoints change; nil gives the worker a table of its own, which
	// changes no output.
	Loggers *logging.Levels
	// Metrics receives the connectors' metrics; nil keeps none.
	Metrics prometheus.Registerer
	// Progress, if a terminal, shows a snapshot's progress bar; the log
	// gets its progress lines whatever it is.
	Progress io.Writer
	Log      *slog.Logger
}

// Worker runs connectors and keeps their state in Kafka. It implements
// Herder. Start it, use it, then Close it; its methods are safe for
// concurrent use.
type Worker struct {
	cfg     WorkerConfig
	log     *slog.Logger
	sink    *kafkasink.Sink
	store   *OffsetStore
	configs *kvlog
	status  *kvlog

	// sec is the Kafka client security; sink serves the worker's own
	// clients, and taskSink the tasks': sink itself unless producer.* or
	// admin.* security settings differ from the worker's.
	sec      *security
	taskSink *kafkasink.Sink

	ctx    context.Context // the worker's lifetime, ended by Close
	cancel context.CancelFunc
	// hard ends when Close's deadline passes: the tasks' final flushes
	// and offset writes give up then.
	hard       context.Context
	hardCancel context.CancelFunc
	kick       chan struct{}
	wg         sync.WaitGroup
	ready      atomic.Bool
	cluster    string

	group       *membership // nil when not in a group
	groupClient *kgo.Client

	mu      sync.Mutex // guards runners
	runners map[string]*runner
	gen     atomic.Int64

	// stopping is set by Close before it takes the runners: a reconcile
	// after that (a rebalance or a config record read while the tasks
	// stop) starts nothing.
	stopping atomic.Bool

	topicq chan topicSeen // topics to record (topics.go)
}

// runner is one connector's running task.
type runner struct {
	config string // the JSON of the config it runs, to notice changes
	cancel context.CancelFunc
	done   chan struct{}
	// trace, set before done closes, is a failure of the task's stop
	// (a slot slot.drop.on.stop could not drop) for the status.
	trace string
	// streaming is set once the task's source is open: from then on this
	// copy reports the task RUNNING (and keeps reporting it while it
	// retries), and no copy elsewhere may say otherwise.
	streaming atomic.Bool
}

// alive reports whether the runner's task has not ended.
func (r *runner) alive() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// NewWorker checks cfg; it connects to nothing.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("no Kafka bootstrap servers: set --bootstrap-servers or --embedded-broker")
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	d := workerconfig.Default()
	def(&cfg.ConfigTopic, d.ConfigTopic)
	def(&cfg.StatusTopic, d.StatusTopic)
	def(&cfg.OffsetTopic, d.OffsetTopic)
	def(&cfg.WorkerID, workerconfig.PgmotionListener)
	if cfg.OffsetPartitions == 0 {
		cfg.OffsetPartitions = d.OffsetPartitions
	}
	if cfg.StatusPartitions == 0 {
		cfg.StatusPartitions = d.StatusPartitions
	}
	for _, r := range []*int16{&cfg.ConfigReplication, &cfg.StatusReplication, &cfg.OffsetReplication} {
		if *r == 0 {
			*r = -1
		}
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = workerconfig.PgmotionOffsetFlushInterval
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = d.SessionTimeout
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = d.HeartbeatInterval
	}
	if cfg.RebalanceTimeout <= 0 {
		cfg.RebalanceTimeout = d.RebalanceTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Loggers == nil {
		cfg.Loggers = logging.NewLevels(logging.Info)
	}
	sec, err := parseSecurity(cfg.Kafka, cfg.Log)
	if err != nil {
		return nil, err
	}
	return &Worker{cfg: cfg, log: cfg.Log, sec: sec, runners: map[string]*runner{}, kick: make(chan struct{}, 1),
		topicq: make(chan topicSeen, topicQueueSize)}, nil
}

// Start connects to Kafka, reads the internal topics to their end and
// starts every connector they hold, as it was; the worker then runs, on
// goroutines of its own, until Close.
//
// The worker's life is Start and Close, not the blocking Run(ctx) of the
// command's other parts, because a worker is ready before it ends: the
// command serves the REST API while Start runs (Ready answers "still
// starting up" meanwhile), a Start that fails (Kafka out of reach, an
// internal topic it cannot use) fails the command with its one line, and
// once Start returns the command puts the connectors of its files. Close,
// whose ctx bounds the stop, ends what Start started.
func (w *Worker) Start(ctx context.Context) error {
	w.ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w.hard, w.hardCancel = context.WithCancel(context.Background())
	sink, err := w.newSink(workerClientID, w.sec.worker, w.sec.worker)
	if err != nil {
		return err
	}
	w.sink, w.taskSink = sink, sink
	cl := sink.Client()
	meta, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("cannot reach Kafka at %s: %w", strings.Join(w.cfg.Brokers, ","), w.sec.worker.Explain(err))
	}
	if !sameSecurity(w.sec.worker, w.sec.producer) || !sameSecurity(w.sec.producer, w.sec.admin) {
		if w.taskSink, err = w.newSink("pgmotion-tasks", w.sec.producer, w.sec.admin); err != nil {
			return err
		}
	}
	w.cluster = meta.Cluster
	w.store = NewOffsetStore(cl, w.cfg.OffsetTopic, w.log)
	w.configs = newKVLog(cl, w.cfg.ConfigTopic, w.log)
	w.configs.onChange = func(key string, val []byte) {
		// A restart request goes through the config topic, as in Kafka
		// Connect, so that the worker running the connector acts on it
		// whichever worker received the request. Old requests read at
		// start are history.
		if name, ok := strings.CutPrefix(key, "restart-connector-"); ok {
			if val != nil && w.ready.Load() {
				go w.restart(name)
			}
			return
		}
		if w.applyClusterLevel(key, val) {
			return
		}
		w.poke()
	}
	w.status = newKVLog(cl, w.cfg.StatusTopic, w.log)
	for _, s := range []struct {
		kv    *kvlog
		parts int32
		repl  int16
	}{
		{w.store.kv, w.cfg.OffsetPartitions, w.cfg.OffsetReplication},
		{w.configs, 1, w.cfg.ConfigReplication}, // Connect requires one partition
		{w.status, w.cfg.StatusPartitions, w.cfg.StatusReplication},
	} {
		if err := s.kv.start(w.ctx, s.parts, s.repl); err != nil {
			return fmt.Errorf("cannot use Kafka at %s: %w", strings.Join(w.cfg.Brokers, ","), w.sec.worker.Explain(err))
		}
	}
	if w.cfg.GroupID != "" {
		if err := w.joinGroup(); err != nil {
			return err
		}
	}
	w.wg.Add(2)
	go func() {
		defer w.wg.Done()
		w.reconcileLoop()
	}()
	go func() {
		defer w.wg.Done()
		w.topicLoop()
	}()
	w.poke()
	if w.cfg.Metrics != nil {
		if err := w.cfg.Metrics.Register(newWorkerCollector(w)); err != nil {
			w.log.Warn("Kafka Connect worker metrics are not served", "err", err)
		}
	}
	w.ready.Store(true)
	return nil
}

func (w *Worker) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Close stops every connector, waiting for each to write its final
// offsets, leaves the worker group and disconnects. Every step gives up
// when ctx ends, whatever state Kafka is in (gone, stopping, without a
// leader): what was not written is delivered again after a restart, as
// positions are only confirmed for what Kafka holds. It is safe to call
// twice: a Close after one that returned does nothing.
func (w *Worker) Close(ctx context.Context) {
	if w.hard != nil && w.hard.Err() != nil {
		return // closed: hard ends when Close returns, or its deadline passes
	}
	if w.cancel == nil {
		return // not started: Start makes every client after cancel
	}
	stopHard := context.AfterFunc(ctx, w.hardCancel)
	defer stopHard()
	w.stopping.Store(true)
	w.mu.Lock()
	rs := w.runners
	w.runners = map[string]*runner{}
	w.mu.Unlock()
	for _, r := range rs {
		r.cancel()
	}
	for name, r := range rs {
		select {
		case <-r.done:
		case <-ctx.Done():
			w.log.Warn("connector did not stop before the shutdown deadline; its last positions are not written, and it resumes from the ones before", "connector", name)
		}
	}
	if w.groupClient != nil {
		// Leave at once, so that the others take the connectors now
		// rather than after the session timeout.
		if err := w.groupClient.LeaveGroupContext(ctx); err != nil {
			w.log.Warn("leave the worker group", "group", w.cfg.GroupID, "err", err)
		}
	}
	w.cancel()
	within(ctx, w.wg.Wait)
	if w.groupClient != nil {
		within(ctx, w.groupClient.Close)
	}
	if w.taskSink != nil && w.taskSink != w.sink {
		within(ctx, w.taskSink.Close)
	}
	if w.sink != nil {
		within(ctx, w.sink.Close)
	}
	w.hardCancel()
}

// within runs fn and waits for it until ctx ends; past that, fn goes on
// alone. It bounds the shutdown steps that take no context.
func within(ctx context.Context, fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// connectorState is a connector as the config topic describes it.
type connectorState struct {
	config map[string]string
	target TargetState
}

// connectorsFromTopic reads the config topic's view of every connector.
func (w *Worker) connectorsFromTopic() map[string]connectorState {
	out := map[string]connectorState{}
	snap := w.configs.snapshot()
	for k, v := range snap {
		name, ok := strings.CutPrefix(k, "connector-")
		if !ok {
			continue
		}
		var body struct {
			Properties map[string]string `json:"properties"`
		}
		if json.Unmarshal(v, &body) != nil || body.Properties == nil {
			w.log.Warn("ignoring an unreadable connector config in the config topic", "key", k)
			continue
		}
		out[name] = connectorState{config: body.Properties, target: parseTarget(snap["target-state-"+name])}
	}
	return out
}

func parseTarget(v []byte) TargetState {
	var t struct {
		State   string `json:"state"`
		StateV2 string `json:"state.v2"`
	}
	if v == nil || json.Unmarshal(v, &t) != nil {
		return TargetStarted
	}
	if t.StateV2 != "" {
		return TargetState(t.StateV2)
	}
	if t.State == "" {
		return TargetStarted
	}
	return TargetState(t.State)
}

// reconcileLoop makes the running tasks match the config topic whenever
// it changes.
func (w *Worker) reconcileLoop() {
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.kick:
		}
		w.reconcile()
	}
}

func (w *Worker) reconcile() {
	want := w.connectorsFromTopic()
	if w.group != nil {
		names := make([]string, 0, len(want))
		for n := range want {
			names = append(names, n)
		}
		sort.Strings(names)
		w.group.rebalanceIfNeeded(names, w.groupClient)
		// Run only what the group gave this worker; the owners of the
		// others report their states.
		for n := range want {
			if !w.group.owns(n) {
				delete(want, n)
			}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopping.Load() {
		return // Close stops the runners it took; none start again
	}
	for name, r := range w.runners {
		c, ok := want[name]
		cfgJSON, _ := json.Marshal(c.config)
		if ok && c.target == TargetStarted && string(cfgJSON) == r.config {
			// Kept: a copy started elsewhere while this one ran (during
			// a rebalance after a broker restart, say) may have written
			// over its status; this one is the one that runs.
			w.reassertStatus(name, r)
			continue
		}
		r.cancel()
		<-r.done
		delete(w.runners, name)
		switch {
		case !ok && w.group != nil && w.connectorsFromTopic()[name].config != nil:
			// Moved to another worker, which reports it from now on.
		case !ok:
			w.putStatus(name, "", StateDestroyed, "")
		case c.target == TargetPaused:
			w.putStatus(name, "", StatePaused, r.trace)
		case c.target == TargetStopped:
			w.putStatus(name, "", StateStopped, r.trace)
		}
	}
	for name, c := range want {
		if _, running := w.runners[name]; running {
			continue
		}
		switch c.target {
		case TargetStarted:
			w.startLocked(name, c.config)
		case TargetPaused:
			if w.connectorStatus(name) != StatePaused {
				// A connector that never ran has no tasks to pause.
				w.putStatus(name, w.pausedWhich(name), StatePaused, "")
			}
		case TargetStopped:
			if w.connectorStatus(name) != StateStopped {
				w.putStatus(name, "", StateStopped, "")
			}
		}
	}
}

// startLocked starts a connector's task on its own goroutine.
func (w *Worker) startLocked(name string, config map[string]string) {
	cfgJSON, _ := json.Marshal(config)
	ctx, cancel := context.WithCancel(w.ctx)
	r := &runner{config: string(cfgJSON), cancel: cancel, done: make(chan struct{})}
	w.runners[name] = r
	w.putStatus(name, "connector", StateRunning, "")
	go func() {
		defer close(r.done)
		defer w.setStreaming(name, false)
		err := w.ensureTasks(ctx, name, config)
		if err == nil {
			err = pipeline.Guard(func() error { return w.runTask(ctx, name, config, r) })
		}
		err = scrubErr(err, w.scrubber(config))
		if _, ok := errors.AsType[*pgsource.SlotDropError](err); ok {
			// Logged by runTask; the status shows it too if the
			// connector lives on (reconcile).
			r.trace = err.Error()
		}
		if err != nil && ctx.Err() == nil {
			w.log.Error("connector task failed", "connector", name, "err", err)
			w.putStatus(name, "task", StateFailed, err.Error())
		}
	}()
}

// newSink creates a producer with the given security, and a topic
// creation client of its own when admin's differs.
// workerClientID is the client.id of the worker's own Kafka client.
const workerClientID = "pgmotion"

func (w *Worker) newSink(clientID string, producer, admin *kafkaclient.Security) (*kafkasink.Sink, error) {
	opts := append(producer.Opts(), w.cfg.KafkaOpts...)
	if clientID == workerClientID {
		// The worker's own client, which tasks share unless their
		// security differs: its metrics and logs (metrics.go). One
		// client only: kprom registers its metrics once.
		opts = append(opts, w.clientObservability()...)
	} else {
		opts = append(opts, kgo.WithLogger(quietLogger{kslog.New(w.log.With("component", "kafka-client"))}))
	}
	cfg := kafkasink.Config{Brokers: w.cfg.Brokers, ClientID: clientID, Compression: w.cfg.Compression, MaxRequestSize: w.cfg.MaxRequestSize,
		Opts: opts, Log: w.log}
	if !sameSecurity(producer, admin) {
		cfg.AdminOpts = admin.Opts()
	}
	return kafkasink.New(cfg)
}

// runTask runs one connector's task until ctx ends or it fails for
// good: a retriable failure restarts it (internal/pipeline/retry.go), and a panic fails it.
// Nothing a task does ends the process.
func (w *Worker) runTask(ctx context.Context, name string, raw map[string]string, r *runner) (err error) {
	resolved, err := w.effective(raw)
	if err != nil {
		return err
	}
	tc, warnings, err := pipeline.ConfigFrom(name, resolved)
	if err != nil {
		return err
	}
	scrub := w.scrubber(raw)
	log := newScrubLogger(w.log, scrub).With("connector", name)
	for _, warn := range warnings {
		log.Warn(warn)
	}
	tc.FlushInterval = w.cfg.FlushInterval
	tc.MaxRequestSize = cmp.Or(w.cfg.MaxRequestSize, kafkasink.DefaultMaxRequestSize)
	if w.cfg.DataDir != "" {
		tc.Source.SpillDir = filepath.Join(w.cfg.DataDir, "spill", spillName(name))
	}
	if msg := pipeline.EOSCheck(resolved, w.cfg.ExactlyOnceSource); msg != "" {
		return fmt.Errorf("%s=required: %s Set %s=enabled in the worker config, or %s=requested on the connector",
			options.PropExactlyOnceSupport, msg, workerconfig.PropExactlyOnceSource, options.PropExactlyOnceSupport)
	}
	if w.cfg.ExactlyOnceSource == workerconfig.EOSEnabled {
		tc.EOS.Enabled = true
		if tc.EOS.Interval <= 0 {
			tc.EOS.Interval = w.cfg.FlushInterval
		}
		tc.EOS.TransactionTimeout = time.Minute // the Java producer's transaction.timeout.ms
	}
	clients, err := w.sec.forConnector(resolved)
	if err != nil {
		return err
	}
	sink := w.taskSink
	if clients.own {
		// producer.override.* or admin.override.* security: a producer
		// of the connector's own.
		if sink, err = w.newSink("pgmotion-"+name, clients.producer, clients.admin); err != nil {
			return err
		}
		defer sink.Close()
	}
	if w.cfg.ReserveMemory != nil {
		// The memory limit follows what the task's buffers hold, not
		// their budgets (memory.go).
		acct := newMemAccount(w.cfg.ReserveMemory)
		tc.Source.Held = acct.add
		defer acct.close()
	}
	// The streaming metrics and the slot monitor live across restarts,
	// so that a retrying task shows as disconnected (metrics.go).
	sm, stopMetrics := w.startTaskMetrics(ctx, tc, log)
	defer stopMetrics()
	log.Info("connector starting", "topic_prefix", tc.TopicPrefix, "slot", tc.Source.Slot, "snapshot_mode", tc.Snapshot.Mode)
	// The task reports RUNNING once its source is open, not while it
	// waits for a slot another worker still holds, and stays RUNNING
	// while it retries, as under Kafka Connect. While it waits, it says
	// UNASSIGNED only if no other worker reports the task RUNNING: that
	// copy may well be streaming still (the slot will tell), and if it
	// is gone this one says RUNNING as soon as it holds the slot.
	if mayReportWaiting(w.readStatus(taskStatusKey(name)), w.cfg.WorkerID) {
		w.putStatus(name, "task", StateUnassigned, "")
	}
	running := false
	onOpen := func() {
		if !running {
			running = true
			if r != nil {
				r.streaming.Store(true)
			}
			w.setStreaming(name, true)
			w.putStatus(name, "task", StateRunning, "")
		}
	}
	attempts := 0
	var dropErr *pgsource.SlotDropError // a stop that left the slot: reported even then
	attempt := func(ctx context.Context) (progressed bool, err error) {
		if attempts++; attempts > 1 && sm != nil {
			sm.Retry()
		}
		taskSink := sink
		if tc.EOS.Enabled {
			// Exactly-once: a transactional producer of the task's own,
			// new for each attempt, since a failed or fenced transaction
			// ends the producer (internal/pipeline/eos.go).
			group := cmp.Or(w.cfg.GroupID, workerconfig.Default().GroupID)
			txSink, err := kafkasink.New(kafkasink.Config{Brokers: w.cfg.Brokers, ClientID: "pgmotion-" + name, Compression: w.cfg.Compression,
				MaxRequestSize: w.cfg.MaxRequestSize, Log: w.log, TransactionalID: pipeline.TransactionalID(group, name, 0), TransactionTimeout: tc.EOS.TransactionTimeout,
				Opts: append(append(clients.producer.Opts(), w.cfg.KafkaOpts...), kgo.WithLogger(quietLogger{kslog.New(w.log.With("component", "kafka-client"))}))})
			if err != nil {
				return false, err
			}
			defer txSink.Close()
			taskSink = txSink
		}
		t, err := pipeline.New(tc, pipeline.Env{Sink: taskSink, Offsets: w.store, Log: log, OffsetTopic: w.cfg.OffsetTopic,
			SignalOpts: clients.signal.Opts(), Metrics: w.cfg.Metrics, Progress: w.cfg.Progress, Streaming: sm,
			OnOpen: onOpen, OnTopic: func(topic string) { w.sawTopic(name, topic) }, StopCtx: w.hard})
		if err != nil {
			return false, err
		}
		err = pipeline.Guard(func() error { return t.Run(ctx) })
		if sm != nil {
			sm.SetConnected(false)
		}
		if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
			err = nil
		}
		if d := t.SlotDropError(); d != nil {
			attrs := []any{"slot", d.Slot, "err", d.Err, "fix", d.Fix()}
			if d.PID != 0 {
				attrs = append(attrs, "pid", d.PID)
			}
			log.Error("replication slot not dropped on stop (slot.drop.on.stop=true); it keeps WAL on the server until it is dropped", attrs...)
			dropErr = d
			if err == nil {
				err = d
			}
		}
		if err != nil && !pgsource.FromPostgres(err) {
			// A Kafka failure: name the security setting to fix, if
			// that is the cause.
			err = clients.producer.Explain(err)
		}
		return t.Progressed(), err
	}
	if err := pipeline.Supervise(ctx, log, pipeline.NewRetryPolicy(tc.MaxRetries, tc.RetryWait), attempt); err != nil {
		return fmt.Errorf("connector %q: %w", name, err)
	}
	if dropErr != nil {
		return fmt.Errorf("connector %q: %w", name, dropErr)
	}
	log.Info("connector stopped")
	return nil
}

// statusRecord is a value of the status topic, as Kafka Connect writes it.
type statusRecord struct {
	State      State   `json:"state"`
	Trace      *string `json:"trace"`
	WorkerID   string  `json:"worker_id"`
	Generation int64   `json:"generation"`
}

// putStatus records a state: which is "" for the connector and its
// task together, "connector" or "task" for one of them. DESTROYED deletes both.
func (w *Worker) putStatus(name, which string, st State, trace string) {
	ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
	defer cancel()
	// Also give up when Close's deadline passes: reconcile writes
	// statuses holding the runners' lock, which Close waits for.
	defer context.AfterFunc(w.hard, cancel)()
	rec := statusRecord{State: st, WorkerID: w.cfg.WorkerID, Generation: w.gen.Add(1)}
	if trace != "" {
		rec.Trace = &trace
	}
	val, _ := json.Marshal(rec)
	if st == StateDestroyed {
		val = nil
	}
	keys := []string{taskStatusKey(name)}
	if which == "connector" {
		keys = []string{connectorStatusKey(name)}
	}
	if which == "" {
		keys = append(keys, connectorStatusKey(name))
		if st == StateStopped {
			// A stopped connector has no tasks.
			w.status.put(ctx, keys[0], nil)
			keys = keys[1:]
		}
	}
	for _, k := range keys {
		if err := w.status.put(ctx, k, val); err != nil {
			w.log.Warn("write status", "key", k, "err", err)
		}
	}
}

func taskStatusKey(name string) string      { return "status-task-" + name + "-0" }
func connectorStatusKey(name string) string { return "status-connector-" + name }

// mayReportWaiting reports whether a task copy that waits for its source
// may write its task status UNASSIGNED over cur, the status as it is: not
// over another worker's RUNNING, which belongs to a copy that may still
// stream (the copy that holds the slot is the one that reports).
func mayReportWaiting(cur *statusRecord, self string) bool {
	return cur == nil || cur.WorkerID == self || cur.State != StateRunning
}

// reassertStatus writes again the status of a connector this worker keeps
// running when the status topic says otherwise: RUNNING for the connector,
// and for its task once the task's source is open.
func (w *Worker) reassertStatus(name string, r *runner) {
	if !r.alive() {
		return // failed or stopping: its own status stands
	}
	if cs := w.readStatus(connectorStatusKey(name)); cs == nil || cs.WorkerID != w.cfg.WorkerID || cs.State != StateRunning {
		w.putStatus(name, "connector", StateRunning, "")
	}
	if !r.streaming.Load() {
		return
	}
	if ts := w.readStatus(taskStatusKey(name)); ts == nil || ts.WorkerID != w.cfg.WorkerID || ts.State != StateRunning {
		w.log.Info("the task's status named another worker; this worker runs it", "connector", name)
		w.putStatus(name, "task", StateRunning, "")
	}
}

func (w *Worker) readStatus(key string) *statusRecord {
	v := w.status.get(key)
	if v == nil {
		return nil
	}
	var r statusRecord
	if json.Unmarshal(v, &r) != nil {
		return nil
	}
	return &r
}

func (w *Worker) connectorStatus(name string) State {
	if r := w.readStatus(connectorStatusKey(name)); r != nil {
		return r.State
	}
	return ""
}

// Ready reports whether Start has finished.
func (w *Worker) Ready() error {
	if !w.ready.Load() {
		//lint:ignore ST1005 Kafka Connect's exact text
		return errors.New("Worker is still starting up.")
	}
	return nil
}

// ClusterInfo implements Herder.
func (w *Worker) ClusterInfo(context.Context) (ServerInfo, error) {
	commit := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	return ServerInfo{Version: KafkaConnectVersion, Commit: commit, KafkaClusterID: w.cluster}, nil
}

// KafkaConnectVersion is the Kafka Connect version GET / reports: the
// REST API pgmotion implements, the release whose transformations it
// follows.
const KafkaConnectVersion = transform.KafkaVersion

// Connectors implements Herder.
func (w *Worker) Connectors(context.Context) ([]string, error) {
	cs := w.connectorsFromTopic()
	names := make([]string, 0, len(cs))
	for n := range cs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// effective is the config a connector runs with: its own, with the
// worker's converter settings where it has none, and providers resolved.
func (w *Worker) effective(raw map[string]string) (map[string]string, error) {
	cfg := raw
	if len(w.cfg.Converters) > 0 {
		cfg = make(map[string]string, len(raw)+len(w.cfg.Converters))
		for k, v := range w.cfg.Converters {
			cfg[k] = v
		}
		for _, side := range []string{options.PropKeyConverter, options.PropValueConverter} {
			if _, own := raw[side]; own {
				// A connector that names its converter takes none of the
				// worker's options for it.
				for k := range cfg {
					if k == side || strings.HasPrefix(k, side+".") {
						delete(cfg, k)
					}
				}
			}
		}
		for k, v := range raw {
			cfg[k] = v
		}
	}
	if w.cfg.Resolve == nil {
		return cfg, nil
	}
	return w.cfg.Resolve(cfg)
}

// spillName turns a connector name into one path element for its spill
// directory.
func spillName(name string) string {
	n := url.PathEscape(name)
	if n == "" || strings.HasPrefix(n, ".") {
		n = "_" + n
	}
	return n
}
