package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/debezium"
	"github.com/pgmotion/pgmotion/internal/kafkasink"
	"github.com/pgmotion/pgmotion/internal/metrics"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/pgsource"
	"github.com/pgmotion/pgmotion/internal/record"
	"github.com/pgmotion/pgmotion/internal/snapshot"
	"github.com/pgmotion/pgmotion/internal/workerconfig"
)

// Config is what a PostgreSQL task needs, taken from the connector's
// parsed options.
type Config struct {
	Name        string
	TopicPrefix string
	Snapshot    snapshot.InitialConfig
	// MetricTags is custom.metric.tags: labels added to the metrics.
	MetricTags map[string]string
	// ToastFill is pgmotion.toast.fill (none, cache or refetch), with
	// ToastCacheBytes the cache's budget (pgmotion.toast.cache.max.bytes).
	ToastFill       string
	ToastCacheBytes int64
	Source          pgsource.Config
	Encoder         debezium.Options
	Topics          kafkasink.TopicSpec
	// SlotRetries and SlotRetryDelay govern waiting for a slot that
	// another process still holds (slot.max.retries, slot.retry.delay.ms).
	SlotRetries    int
	SlotRetryDelay time.Duration
	// MaxRetries and RetryWait govern restarting after a retriable error
	// (errors.max.retries, -1 without limit; and
	// retriable.restart.connector.wait.ms, the longest wait): retry.go.
	MaxRetries int
	RetryWait  time.Duration
	// FlushInterval is how often the acknowledged position is written to
	// the offsets topic and then confirmed to the slot.
	FlushInterval time.Duration
	// Heartbeat is heartbeat.interval.ms (0: off); heartbeats go to
	// topic.heartbeat.name, or topic.heartbeat.prefix + "." + topic.prefix;
	// HeartbeatQuery is heartbeat.action.query.
	Heartbeat                      time.Duration
	HeartbeatPrefix, HeartbeatName string
	HeartbeatQuery                 string
	// Incremental configures signals and incremental snapshots
	// (incremental.go; the signals are internal/snapshot's).
	Incremental IncrementalConfig
	// EOS is the exactly-once configuration (eos.go).
	EOS EOSConfig
	// QueueCapacity and MaxQueueBytes are max.queue.size and
	// max.queue.size.in.bytes, which the streaming metrics report.
	QueueCapacity, MaxQueueBytes int64
	// SkipLSNs is pgmotion.skip.lsn: records Kafka refuses as too large
	// that may be dropped (toolarge.go). MaxRequestSize is the producer's
	// limit, for the error that names it.
	SkipLSNs       map[change.LSN]bool
	MaxRequestSize int32
}

// memoryBudget is the memory the task's options let it hold beyond its
// working set: the streamed-transaction buffer and, when TOAST filling is
// on, the TOAST cache.
func (c Config) memoryBudget() int64 {
	n := max(c.Source.BufferMemory, 0)
	if c.ToastFill == ToastFillCache || c.ToastFill == ToastFillRefetch {
		n += max(c.ToastCacheBytes, 0)
	}
	return n
}

// partialEvery seals a batch inside a large transaction or snapshot after
// this many records, so that its progress reaches the offsets topic.
const partialEvery = 8192

// task streams one PostgreSQL connector into Kafka. Its Handler methods
// run on the streaming goroutine; run's committer goroutine only reads
// the tracker and writes offsets.
type Task struct {
	cfg   Config
	log   *slog.Logger
	src   *pgsource.Source
	enc   *debezium.Encoder
	sink  *kafkasink.Sink
	store Offsets
	tr    *tracker

	// signalOpts are the Kafka signal consumer's security options.
	signalOpts []kgo.Opt

	recs []record.Record
	// out takes every record to the producer (emit.go).
	out *emitter

	// The transaction being read.
	xid uint32
	ts  int64
	// emitLSN is the LSN of the change emit is producing (0 otherwise),
	// which names a record Kafka refuses as too large.
	emitLSN    change.LSN
	lastCommit change.LSN
	inBatch    int
	lastIdle   change.LSN
	lastOff    Offset    // the position of the last sealed batch
	lastBeat   time.Time // when the last heartbeat went out
	// opened is set once the source is open: failures after that are
	// the running connector's, not its configuration's.
	opened atomic.Bool
	// onOpen, if set, runs once the source is open.
	onOpen func()
	// progressed is set once an offset this task produced is in Kafka:
	// the pipeline worked end to end (retry.go counts retries from there).
	progressed atomic.Bool
	// stopCtx bounds the final flush and offset write when the task
	// stops (nil: 30 s); the worker ends it when its shutdown deadline
	// passes.
	stopCtx context.Context
	// skip drops the events of a half-delivered transaction that Kafka
	// already holds when streaming resumes.
	skip *Offset
	// resume drops the events of that transaction Kafka holds; atLSN
	// counts the open transaction's changes at its latest LSN, for the
	// offsets sealed inside it (resume.go).
	resume *resumePoint
	atLSN  lsnCounter
	// metrics receives the connector's metrics (nil: none); progressOut
	// shows the snapshot's progress bar when it is a terminal.
	metrics     prometheus.Registerer
	progressOut io.Writer
	snapMetrics *metrics.SnapshotMetrics // the last snapshot's, until the task ends
	// sm counts the streaming (nil: not counted); the worker sets it.
	sm *metrics.StreamingMetrics
	// toast fills unchanged TOAST values (pgmotion.toast.fill); nil when
	// off. It belongs to the streaming goroutine.
	toast *toastFiller

	// inc runs signals and incremental snapshots (incremental.go); nil
	// when no signal channel is configured. It belongs to the streaming
	// goroutine.
	inc *incremental
	// eos is the open producer transaction when the task is
	// transactional (exactly-once delivery, eos.go); nil otherwise.
	eos *eosState
	// dropErr is set when run ends and slot.drop.on.stop could not drop
	// the slot.
	dropErr *pgsource.SlotDropError
}

// Offsets is where a task reads its stored offset and writes the ones
// Kafka has acknowledged: Kafka Connect's offsets topic, which the worker
// keeps (connect.OffsetStore).
type Offsets interface {
	Get(connector, server string) (*Offset, error)
	Put(ctx context.Context, connector, server string, o *Offset) error
	// ReadToEnd reads the offsets topic to its end, so that Get returns
	// the last committed offset (exactly-once delivery, eos.go).
	ReadToEnd(ctx context.Context) error
}

// Env is what the worker gives a task: where its records and offsets go,
// and how it reports.
type Env struct {
	// Sink is the producer; transactional when cfg.EOS.Enabled.
	Sink    *kafkasink.Sink
	Offsets Offsets
	Log     *slog.Logger
	// OffsetTopic is the offsets topic, which a transactional task
	// writes its offsets to within its transactions.
	OffsetTopic string
	// SignalOpts are the Kafka signal consumer's security options.
	SignalOpts []kgo.Opt
	// Metrics receives the snapshot's metrics (nil: none); Progress
	// shows the snapshot's progress bar when it is a terminal.
	Metrics  prometheus.Registerer
	Progress io.Writer
	// Streaming counts the streaming (nil: not counted). It lives across
	// the attempts of one connector.
	Streaming *metrics.StreamingMetrics
	// OnOpen, if set, runs once the source is open.
	OnOpen func()
	// OnTopic, if set, is told a topic once Kafka has acknowledged the
	// first record this run wrote to it; it runs on the producer's
	// callback goroutine and must not block.
	OnTopic func(topic string)
	// StopCtx bounds the final flush and offset write when the task
	// stops (nil: 30 s).
	StopCtx context.Context
}

// New returns the task of one attempt to run a connector; Run runs it.
func New(cfg Config, env Env) (*Task, error) {
	log := env.Log
	cfg.Source.Log = log
	src, err := pgsource.New(cfg.Source)
	if err != nil {
		return nil, err
	}
	enc, err := debezium.NewEncoder(cfg.Encoder, log)
	if err != nil {
		return nil, err
	}
	enc.RecycleSlabs() // produce calls Handed; the encoder declines with transforms
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = workerconfig.PgmotionOffsetFlushInterval
	}
	t := &Task{cfg: cfg, log: log, src: src, enc: enc, sink: env.Sink, store: env.Offsets, tr: newTracker(),
		signalOpts: env.SignalOpts, metrics: env.Metrics, progressOut: env.Progress, sm: env.Streaming,
		onOpen: env.OnOpen, stopCtx: env.StopCtx}
	t.out = &emitter{sink: env.Sink, spec: cfg.Topics, onTopic: env.OnTopic, skip: cfg.SkipLSNs, limit: cfg.MaxRequestSize, log: log}
	if cfg.EOS.Enabled {
		t.eos = &eosState{cfg: cfg.EOS, offsetTopic: env.OffsetTopic}
	}
	if t.sm != nil {
		t.tr.acked = t.sm.Acked
	}
	return t, nil
}

// Progressed reports whether an offset this task produced reached Kafka:
// the pipeline worked end to end (the retry policy counts from there).
func (t *Task) Progressed() bool { return t.progressed.Load() }

// SlotDropError is set once Run has returned when slot.drop.on.stop could
// not drop the slot.
func (t *Task) SlotDropError() *pgsource.SlotDropError { return t.dropErr }

// Run opens the source, snapshots if the mode and the stored offset say
// so, and streams until ctx ends or something fails.
func (t *Task) Run(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer func() {
		cctx, ccancel := context.WithTimeout(cmp.Or(t.stopCtx, context.WithoutCancel(ctx)), 10*time.Second)
		defer ccancel()
		if cerr := t.src.Close(cctx); cerr != nil {
			var drop *pgsource.SlotDropError
			if errors.As(cerr, &drop) {
				// Reported by runTask even when the task was stopped.
				t.dropErr = drop
			} else if err == nil {
				err = cerr
			}
		}
	}()

	defer func() {
		if t.snapMetrics != nil {
			t.snapMetrics.Unregister()
		}
	}()
	if t.eos != nil {
		if err := t.eosStart(ctx); err != nil {
			return err
		}
	}
	off, err := t.store.Get(t.cfg.Name, t.cfg.TopicPrefix)
	if err != nil {
		return err
	}
	info, err := t.open(ctx)
	if err != nil {
		return err
	}
	t.opened.Store(true)
	t.streamingOpened(ctx) // metrics.go
	t.toast = newToastFiller(t.cfg.ToastFill, t.cfg.ToastCacheBytes, t.src, t.cfg.Source.Held, t.log)
	if t.onOpen != nil {
		t.onOpen()
	}

	// The committer confirms positions while the snapshot and the stream
	// run, and once more after them.
	committed := make(chan error, 1)
	cctx, stopCommitter := context.WithCancel(context.WithoutCancel(ctx))
	go func() { committed <- Guard(func() error { return t.commitLoop(cctx, cancel) }) }()
	defer func() {
		stopCommitter()
		if cerr := <-committed; cerr != nil && err == nil {
			err = cerr
		}
	}()

	dec := snapshot.Decide(t.cfg.Snapshot, off.stored(), info.Created)
	if off != nil && !info.Created && off.ResumeLSN() != 0 && off.ResumeLSN() < info.ConfirmedFlush {
		t.log.Warn("the slot is ahead of the stored offset; streaming starts at the slot's position", "offset_lsn", off.ResumeLSN().String(), "slot_lsn", info.ConfirmedFlush.String())
	}
	if off != nil && info.Created && off.SnapshotDone() && !dec.Snapshot {
		if t.cfg.Source.DropSlotOnStop {
			// The connector drops its slot whenever it stops, so a new
			// slot is what its user asked for: it streams from the new
			// slot's start, as Debezium does in this mode.
			t.log.Warn("the replication slot was dropped when the connector last stopped (slot.drop.on.stop=true): changes made while it was stopped are not captured", "slot", t.cfg.Source.Slot, "offset_lsn", off.ResumeLSN().String())
		} else {
			return t.slotLost(ctx, off)
		}
	}

	start := pgsource.StreamOptions{}
	if off != nil && off.SnapshotDone() && !info.Created {
		start.Start, start.LastCommit = off.ResumeLSN(), off.ResumeLSN()
		if t.resume = resumeFrom(off); t.resume != nil {
			t.skip = off
		}
	}
	if dec.Snapshot {
		t.log.Info("snapshot needed", "reason", dec.Why)
		if err := t.sleep(ctx, t.cfg.Snapshot.Delay, options.PropSnapshotDelay); err != nil {
			return err
		}
		lsn, name, resume := info.ConsistentPoint, info.SnapshotName, ""
		if !info.Created {
			lsn = info.ConfirmedFlush
			if off != nil && !off.SnapshotDone() && off.SnapshotProgress != "" && off.LSN != 0 {
				// A snapshot cut short: the slot has not moved since it
				// began (positions are confirmed only after it), so the
				// stream resumes at its consistent point, and only the
				// ranges Kafka does not hold are read again, under a new
				// snapshot. Rows changed in between come again from the
				// stream, after their snapshot reads.
				lsn, resume = off.LSN, off.SnapshotProgress
			} else {
				t.log.Info("snapshot without an exported snapshot: the slot already existed, so the stream may repeat changes made during the snapshot")
			}
		}
		plan, resumed, err := t.planSnapshot(ctx, resume)
		if err != nil {
			return err
		}
		if err := t.snapshot(ctx, plan, name, lsn, resumed); err != nil {
			return err
		}
		if info.Created {
			start.Start, start.LastCommit = info.ConsistentPoint, 0
		} else if off == nil || !off.SnapshotDone() {
			start.Start = 0
		}
		t.skip, t.resume = nil, nil
	} else if info.Created {
		start.Start = info.ConsistentPoint
	}
	if !dec.Stream {
		t.log.Info("not streaming", "snapshot_mode", t.cfg.Snapshot.Mode)
		<-ctx.Done()
		return context.Cause(ctx)
	}
	if dec.Snapshot {
		if err := t.sleep(ctx, t.cfg.Snapshot.StreamDelay, options.PropStreamingDelay); err != nil {
			return err
		}
	}
	if err := t.startIncremental(ctx, off); err != nil {
		return err
	}
	defer t.stopIncremental()
	t.lastCommit = start.LastCommit
	err = t.src.Stream(ctx, start, t)
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}

// slotLost fails the task when its replication slot was missing (a
// failover to a server that never had it, or someone dropped it) and
// snapshot.mode does not snapshot again then: the changes since the
// stored offset are gone from this slot. The slot this attempt created
// is dropped, so that a restart fails the same way rather than stream
// from now on as if nothing were missing.
func (t *Task) slotLost(ctx context.Context, off *Offset) error {
	slot := t.cfg.Source.Slot
	t.src.Close(ctx)
	if err := pgsource.DropSlot(ctx, t.cfg.Source.Conn, slot); err != nil {
		t.log.Warn("could not drop the replication slot created in place of the missing one", "slot", slot, "err", err)
	}
	return fmt.Errorf("replication slot %q is missing (after a failover to a server without it, or dropped), so the stored offset (lsn %s) can no longer be served and the changes since are lost to it: "+
		"set snapshot.mode=when_needed to snapshot again, or stop the connector and reset its offsets (PUT /connectors/%s/stop, then DELETE /connectors/%s/offsets) to start over",
		slot, off.ResumeLSN(), t.cfg.Name, t.cfg.Name)
}

// open opens the source, waiting while another process holds the slot.
func (t *Task) open(ctx context.Context) (*pgsource.SlotInfo, error) {
	for attempt := 0; ; attempt++ {
		info, err := t.src.Open(ctx)
		var inUse *pgsource.SlotInUseError
		if err == nil || !errors.As(err, &inUse) || attempt >= t.cfg.SlotRetries {
			return info, err
		}
		t.log.Warn("replication slot is busy; retrying", "slot", inUse.Slot, "pid", inUse.PID, "attempt", attempt+1, "of", t.cfg.SlotRetries, "delay", t.cfg.SlotRetryDelay)
		if t.sm != nil {
			t.sm.Retry()
		}
		t.src.Close(ctx)
		src, nerr := pgsource.New(t.cfg.Source)
		if nerr != nil {
			return nil, nerr
		}
		t.src = src
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(t.cfg.SlotRetryDelay):
		}
	}
}

// sleep waits d (an option's delay), or until ctx ends.
func (t *Task) sleep(ctx context.Context, d time.Duration, option string) error {
	if d <= 0 {
		return nil
	}
	t.log.Info("waiting", "delay", d, "option", option)
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(d):
		return nil
	}
}

// emit encodes a change and hands its records to the producer.
func (t *Task) emit(c *change.Change) error {
	var err error
	t.recs, err = t.enc.Encode(t.recs[:0], c)
	if err != nil {
		return err
	}
	t.emitLSN = c.LSN
	err = t.produce()
	t.emitLSN = 0
	return err
}

// produce hands t.recs, the records of the encoder's last call (after the
// transforms), to the producer, in the open batch.
func (t *Task) produce() error {
	if t.sm != nil {
		t.sm.Polled(t.enc.Polled())
	}
	if len(t.recs) == 0 {
		return nil
	}
	if err := t.out.send(t.enc, t.recs, t.tr.current(), t.emitLSN); err != nil {
		return err
	}
	t.inBatch += len(t.recs)
	if t.eos != nil {
		t.eos.produced(len(t.recs))
	}
	if t.sm != nil {
		t.sm.Written(len(t.recs))
	}
	if err := t.tr.Err(); err != nil {
		return fmt.Errorf("deliver to Kafka: %w", err)
	}
	return nil
}

// seal closes the open batch at off and remembers off as the current
// position, which heartbeats repeat.
func (t *Task) seal(off Offset) {
	off = t.incOffset(off)
	t.tr.seal(off)
	t.lastOff = off
	if t.eos != nil {
		t.eos.noteSeal()
	}
}

// Tick implements pgsource.Handler: it sends a heartbeat when one is due
// and no transaction is open. The heartbeat carries the current position,
// so that offsets move during quiet periods, as Debezium's do.
func (t *Task) Tick(now time.Time, inTxn bool) error {
	if t.sm != nil {
		t.sm.Tick(now)
	}
	if t.inc != nil {
		if err := t.inc.Tick(now, inTxn, t.lastIdle, t.lastCommit); err != nil { // the incremental snapshot's clock
			return err
		}
	}
	if t.cfg.Heartbeat <= 0 || inTxn || now.Sub(t.lastBeat) < t.cfg.Heartbeat {
		return t.eosMaybeCommit(now)
	}
	t.lastBeat = now
	if q := t.cfg.HeartbeatQuery; q != "" {
		if err := t.src.Exec(context.Background(), q); err != nil {
			return fmt.Errorf("heartbeat.action.query: %w", err)
		}
	}
	// Transforms apply to heartbeats too, as in Kafka Connect.
	var err error
	if t.recs, err = t.enc.Heartbeat(t.recs[:0], t.enc.HeartbeatTopic(t.cfg.HeartbeatPrefix, t.cfg.HeartbeatName), now.UnixMilli()); err != nil {
		return err
	}
	if err := t.produce(); err != nil {
		return err
	}
	t.seal(t.lastOff)
	return t.eosMaybeCommit(now)
}

// Begin implements pgsource.Handler.
func (t *Task) Begin(xid uint32, lsn, _ change.LSN, ts int64) error {
	t.xid, t.ts = xid, ts
	t.atLSN.reset()
	if t.sm != nil {
		t.sm.Begin(ts)
	}
	return t.txBegin(xid, lsn, ts) // txmeta.go
}

// Change implements pgsource.Handler.
func (t *Task) Change(c *change.Change) error {
	if c.Op == change.OpMessage && !c.HasXid {
		return t.nonTxMessage(c)
	}
	t.atLSN.add(c.LSN)
	if t.resume != nil {
		if t.resume.drop(c) {
			return nil
		}
		t.skip, t.resume = nil, nil
	}
	if t.inc != nil && c.Op != change.OpMessage {
		if skip, err := t.inc.Change(c); err != nil || skip { // a change inside its window
			return err
		}
	}
	if t.toast != nil {
		if err := t.toast.fill(context.Background(), c); err != nil {
			return err
		}
	}
	if err := t.emit(c); err != nil {
		if t.sm != nil {
			t.sm.Erroneous()
		}
		return err
	}
	if t.sm != nil {
		t.sm.Event(c)
	}
	if t.toast != nil {
		t.toast.observe(c)
	}
	if t.inBatch >= partialEvery {
		t.seal(t.txOffset(Offset{LSN: c.LSN, LSNProc: c.LSN, LSNCommit: t.lastCommit, TxID: int64(t.xid), TsUsec: t.ts, MessageType: messageType(c.Op), LSNEvents: t.atLSN.at(c.LSN)}))
		t.inBatch = 0
		return t.eosMaybeCommit(time.Now())
	}
	return nil
}

// nonTxMessage emits a non-transactional logical decoding message, which
// comes on its own, outside any transaction, and seals it in a batch of
// its own. That batch's offset keeps the last commit as the position to
// confirm (or the message's LSN before any commit): every transaction
// that committed before the message was delivered before it, and one
// that commits later comes later in the stream, so nothing is confirmed
// ahead of delivered data; after a restart the message may come again.
// A half-delivered transaction being skipped (t.skip) stays skipped.
func (t *Task) nonTxMessage(c *change.Change) error {
	if err := t.emit(c); err != nil {
		return err
	}
	t.seal(Offset{LSN: c.LSN, LSNProc: c.LSN, LSNCommit: t.lastCommit, TsUsec: c.TsMicros, MessageType: messageType(c.Op)})
	t.inBatch = 0
	if err := t.eosMaybeCommit(time.Now()); err != nil {
		return err
	}
	return t.tr.Err()
}

func messageType(op change.Op) string {
	switch op {
	case change.OpMessage:
		return "MESSAGE"

	case change.OpCreate:
		return "INSERT"
	case change.OpUpdate:
		return "UPDATE"
	case change.OpDelete:
		return "DELETE"
	case change.OpTruncate:
		return "TRUNCATE"
	}
	return "COMMIT"
}

// Commit implements pgsource.Handler.
func (t *Task) Commit(_, end change.LSN, ts int64) error {
	t.skip, t.resume = nil, nil
	if err := t.txEnd(end, ts); err != nil { // txmeta.go
		return err
	}
	if t.sm != nil {
		t.sm.Commit(int64(t.xid), uint64(end), ts)
		if b := t.tr.cur; b != nil {
			b.ackTs = ts // Kafka's acknowledgement of it ends the commit → ack time
		}
	}
	t.seal(Offset{LSN: end, LSNProc: end, LSNCommit: end, TxID: int64(t.xid), TsUsec: ts, MessageType: "COMMIT"})
	t.inBatch = 0
	t.lastCommit = end
	if err := t.eosMaybeCommit(time.Now()); err != nil {
		return err
	}
	return t.tr.Err()
}

// Idle implements pgsource.Handler: the position goes through the tracker
// like any batch, so it is confirmed only after every earlier event.
func (t *Task) Idle(walEnd change.LSN) error {
	if walEnd <= t.lastIdle || walEnd <= t.lastCommit {
		return nil
	}
	t.lastIdle = walEnd
	t.seal(Offset{LSN: walEnd, LSNProc: walEnd, LSNCommit: walEnd, TxID: int64(t.xid), TsUsec: time.Now().UnixMicro(), MessageType: "COMMIT"})
	if err := t.eosMaybeCommit(time.Now()); err != nil {
		return err
	}
	return t.tr.Err()
}

// commitLoop writes the newest fully acknowledged offset to the offsets
// topic and, once Kafka holds it, confirms its LSN to the slot. On a
// delivery failure it cancels the task.
func (t *Task) commitLoop(ctx context.Context, fail context.CancelCauseFunc) error {
	tick := time.NewTicker(t.cfg.FlushInterval)
	defer tick.Stop()
	var written *Offset
	commit := func(ctx context.Context) error {
		off, ok := t.tr.advance()
		if !ok || (written != nil && *written == off) {
			return nil
		}
		began := time.Now()
		err := t.store.Put(ctx, t.cfg.Name, t.cfg.TopicPrefix, &off)
		if t.sm != nil {
			t.sm.OffsetCommit(time.Since(began), err)
		}
		if err != nil {
			return err
		}
		written = &off
		t.progressed.Store(true)
		if l := off.ConfirmLSN(); l != 0 {
			t.src.Confirm(l)
		}
		return nil
	}
	for {
		select {
		case <-t.tr.failed:
			fail(fmt.Errorf("deliver to Kafka: %w", t.tr.Err()))
			return nil
		case <-tick.C:
			if t.eos != nil {
				continue // the streaming goroutine commits (eos.go)
			}
			if err := commit(ctx); err != nil {
				fail(err)
				return err
			}
		case <-ctx.Done():
			// Final commit: wait for what is in flight, then record it.
			fctx, cancel := context.WithTimeout(cmp.Or(t.stopCtx, context.Background()), 30*time.Second)
			defer cancel()
			if t.eos != nil {
				if err := t.eosFinish(fctx); err != nil {
					return err
				}
				return t.src.FlushStatus()
			}
			if err := t.sink.Flush(fctx); err != nil {
				return fmt.Errorf("flush Kafka producer: %w", err)
			}
			if err := commit(fctx); err != nil {
				return err
			}
			return t.src.FlushStatus()
		}
	}
}
