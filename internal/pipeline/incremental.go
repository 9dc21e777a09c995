package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/kafkaclient"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/pgsource"
	"github.com/pgmotion/pgmotion/internal/snapshot"
)

// Signals and incremental snapshots (reference §5) run in
// internal/snapshot: its Incremental is the DBLog window, the signals
// that drive it and the state it keeps in the source offset. This file
// is the task's side: it sets the machine up before the stream starts,
// feeds it the stream's changes and ticks (task.go), stores its state in
// the offsets, and gives it the task's emit path and blocking snapshots.

// incremental is a task's incremental snapshot machinery. It belongs to
// the streaming goroutine.
type incremental = snapshot.Incremental

// IncrementalConfig configures signals and incremental snapshots.
type IncrementalConfig struct {
	// SignalTable is signal.data.collection (schema.table), "" for none.
	SignalTable string
	// Channels is signal.enabled.channels: "source" and/or "kafka".
	Channels []string
	// Poll is signal.poll.interval.ms: how often the kafka channel's
	// signals are picked up.
	Poll time.Duration
	// KafkaTopic is signal.kafka.topic; KafkaBrokers is
	// signal.kafka.bootstrap.servers, empty for the worker's Kafka;
	// KafkaGroup is signal.kafka.groupId; KafkaPollTimeout is
	// signal.kafka.poll.timeout.ms, the consumer's longest fetch wait.
	KafkaTopic       string
	KafkaBrokers     []string
	KafkaGroup       string
	KafkaPollTimeout time.Duration
	// ChunkSize is incremental.snapshot.chunk.size.
	ChunkSize int
	// DeleteWatermark is incremental.snapshot.watermarking.strategy=
	// insert_delete: a window closes by deleting its open row.
	DeleteWatermark bool
	// ReadOnly is read.only: no watermark writes (PostgreSQL 13+).
	ReadOnly bool
}

func (c *IncrementalConfig) channel(name string) bool {
	for _, ch := range c.Channels {
		if strings.EqualFold(strings.TrimSpace(ch), name) {
			return true
		}
	}
	return false
}

// startIncremental sets signals and incremental snapshots up, before the
// stream starts: it finds the signal table (adding it to a filtered
// publication), resumes a snapshot the stored offset holds, and starts the
// kafka channel's consumer.
func (t *Task) startIncremental(ctx context.Context, off *Offset) error {
	cfg := t.cfg.Incremental
	kafkaOn := cfg.channel(snapshot.ChannelKafka)
	if cfg.SignalTable == "" && !kafkaOn {
		if off != nil && off.IncrementalCollections != "" {
			t.log.Warn("the stored offset holds an incremental snapshot in progress, but no signal channel is configured: it cannot go on; set signal.data.collection", "collections", off.IncrementalCollections)
		}
		return nil
	}
	if cfg.ChunkSize <= 0 { // 0 means the default
		cfg.ChunkSize, _ = strconv.Atoi(options.Postgres.Default(options.PropIncrementalChunkSize))
	}
	if cfg.Poll <= 0 {
		ms, _ := strconv.Atoi(options.Postgres.Default(options.PropSignalPollInterval))
		cfg.Poll = time.Duration(ms) * time.Millisecond
	}
	log := t.log.With("component", "incremental-snapshot")
	sc := snapshot.Config{
		ChunkSize:       cfg.ChunkSize,
		DeleteWatermark: cfg.DeleteWatermark,
		ReadOnly:        cfg.ReadOnly,
		SourceSignals:   cfg.channel(snapshot.ChannelSource),
		Poll:            cfg.Poll,
		// The connector's filters: the source's own let the signal table
		// through once CaptureSignalTable has run.
		Include: t.cfg.Source.Include,
	}
	if cfg.SignalTable != "" {
		name, ok := snapshot.ParseTableName(cfg.SignalTable)
		if !ok {
			return fmt.Errorf("signal.data.collection %q: want schema.table", cfg.SignalTable)
		}
		info, err := t.src.CheckSignalTable(ctx, name, t.cfg.Source.PublicationMode == string(options.AutocreateFiltered) && !cfg.ReadOnly)
		switch {
		case err != nil && info == nil && !t.src.MetaOK():
			return err
		case err != nil && info == nil:
			log.Warn("signals from the signal table are off", "err", err)
		default:
			sc.SignalTable = info.Name
			t.src.CaptureSignalTable(info.Name)
			sc.SignalEvents = t.cfg.Source.Include == nil || t.cfg.Source.Include(info.Name.Schema, info.Name.Name)
			if err != nil {
				log.Warn("cannot add the signal table to the publication; signals written to it will not be seen", "table", info.Name.String(), "publication", t.cfg.Source.Publication, "err", err)
			} else if info.Added {
				log.Info("added the signal table to the publication", "table", info.Name.String(), "publication", t.cfg.Source.Publication)
			} else if !info.Published {
				log.Warn("the publication does not cover the signal table: signals written to it, and the watermarks of incremental snapshots, will not be seen; add it (ALTER PUBLICATION ... ADD TABLE)",
					"table", info.Name.String(), "publication", t.cfg.Source.Publication)
			}
			if info.Columns < 3 {
				log.Warn("the signal table needs the columns id, type and data, in that order", "table", info.Name.String(), "columns", info.Columns)
			}
		}
	}
	switch {
	case cfg.ReadOnly:
		v, err := t.src.ServerVersion(ctx)
		if err != nil {
			return err
		}
		if v < pgsource.PG13 {
			sc.Disabled = fmt.Sprintf("read.only=true needs PostgreSQL 13 or later (pg_current_snapshot), and the server is %d", v)
		}
	case sc.SignalTable.Schema == "":
		sc.Disabled = "incremental snapshots need a signal table to write their watermarks to: set signal.data.collection to an existing schema.table, or read.only=true"
	}
	if sc.Disabled != "" {
		log.Warn("incremental snapshots are off: " + sc.Disabled)
	}

	t.inc = snapshot.NewIncremental(ctx, sc, t.src, incTask{t}, log)
	if off != nil {
		if err := t.inc.Restore(off.incrementalKeys()); err != nil {
			return err
		}
	}

	if kafkaOn {
		seeds := cfg.KafkaBrokers
		var conn []kgo.Opt
		if len(seeds) == 0 {
			seeds = t.sink.Client().OptValue(kgo.SeedBrokers).([]string)
			conn = kafkaclient.ConnOpts(t.sink.Client())
		}
		// The consumer's security settings (signal.consumer.* over the
		// worker's consumer.*), over the sink's own connection when the
		// signals are on the sink's cluster (the embedded broker's TLS
		// and SASL, say).
		t.inc.StartKafka(ctx, seeds, cfg.KafkaTopic, cfg.KafkaGroup, t.cfg.TopicPrefix, cfg.KafkaPollTimeout, append(conn, t.signalOpts...)...)
	}
	return nil
}

// stopIncremental stops the kafka channel's consumer.
func (t *Task) stopIncremental() {
	if t.inc != nil {
		t.inc.Close()
	}
}

// incrementalKeys returns the offset's incremental snapshot keys.
func (o *Offset) incrementalKeys() snapshot.OffsetKeys {
	return snapshot.OffsetKeys{
		Collections:        o.IncrementalCollections,
		CorrelationID:      o.IncrementalCorrelationID,
		PrimaryKey:         o.IncrementalPrimaryKey,
		MaximumKey:         o.IncrementalMaximumKey,
		DebeziumPrimaryKey: o.DebeziumPrimaryKey,
	}
}

// incOffset fills an offset's incremental snapshot keys from the state.
func (t *Task) incOffset(off Offset) Offset {
	off.IncrementalCollections, off.IncrementalCorrelationID, off.IncrementalPrimaryKey, off.IncrementalMaximumKey = "", "", "", ""
	off.DebeziumPrimaryKey = ""
	if t.inc != nil {
		k := t.inc.OffsetKeys()
		off.IncrementalCollections, off.IncrementalCorrelationID, off.IncrementalPrimaryKey, off.IncrementalMaximumKey = k.Collections, k.CorrelationID, k.PrimaryKey, k.MaximumKey
	}
	return off
}

// incSeal closes the open batch at the last sealed position, so that the
// offsets take the snapshot's progress once Kafka holds the batch. Before
// any position is known it does nothing; the next batch carries it.
func (t *Task) incSeal() {
	if t.lastOff.LSN == 0 && t.lastOff.LSNProc == 0 && t.lastOff.LSNCommit == 0 {
		return
	}
	t.seal(t.lastOff)
	t.inBatch = 0
}

// incEmit emits a row of an incremental or blocking snapshot through the
// task, sealing the batch once it is large.
func (t *Task) incEmit(c *change.Change) error {
	c.LastCommitLSN = t.lastCommit
	if err := t.emit(c); err != nil {
		return err
	}
	if t.inBatch >= partialEvery {
		t.incSeal()
	}
	return nil
}

// incTask is what the incremental snapshot needs of the task
// (snapshot.Task).
type incTask struct{ t *Task }

func (h incTask) Emit(c *change.Change) error { return h.t.incEmit(c) }

func (h incTask) Checkpoint() { h.t.incSeal() }

func (h incTask) OffsetJSON() []byte {
	b, _ := h.t.incOffset(h.t.lastOff).MarshalJSON()
	return b
}

// Blocking runs a blocking snapshot: the tables are read in one
// transaction and emitted with the markers of an initial snapshot, while
// streaming waits.
func (h incTask) Blocking(ctx context.Context, tables []pgsource.TableName, pos change.LSN) (int64, error) {
	t := h.t
	plan, err := t.src.PlanSnapshot(ctx, tables, 1, nil)
	sink := &blockingSink{t: t}
	if err == nil {
		// One reader: its goroutine emits while this one waits, so the
		// task's state is used by one goroutine at a time.
		err = t.src.RunSnapshot(ctx, plan, pgsource.SnapshotOptions{LSN: pos, Threads: 1}, sink)
	}
	t.incSeal()
	return sink.rows, err
}

// blockingSink emits a blocking snapshot's rows through the task.
type blockingSink struct {
	t    *Task
	rows int64
}

func (b *blockingSink) Row(_ int, _ pgsource.SnapshotRange, c *change.Change) error {
	b.rows++
	return b.t.incEmit(c)
}

func (b *blockingSink) RangeDone(int, pgsource.SnapshotRange, int64) error { return nil }

// jsonString encodes s as a JSON string, without Go's HTML escaping.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// incrementalConfigFrom reads the signal and incremental snapshot options.
func incrementalConfigFrom(pc *options.PostgresConfig) IncrementalConfig {
	c := pc.Config
	ic := IncrementalConfig{
		Poll:             c.Duration(options.PropSignalPollInterval),
		KafkaTopic:       strings.TrimSpace(c.Str(options.PropSignalKafkaTopic)),
		KafkaGroup:       c.Str(options.PropSignalKafkaGroupID),
		KafkaPollTimeout: c.Duration(options.PropSignalKafkaPollTimeout),
		ChunkSize:        c.Int(options.PropIncrementalChunkSize),
		DeleteWatermark:  strings.EqualFold(c.Str(options.PropIncrementalWatermarking), options.WatermarkInsertDelete),
		ReadOnly:         c.Bool(options.PropReadOnly),
	}
	if tables := c.List(options.PropSignalDataCollection); len(tables) > 0 {
		ic.SignalTable = tables[0] // validated: one schema.table
	}
	for _, ch := range c.List(options.PropSignalEnabledChannels) {
		if ch = strings.ToLower(strings.TrimSpace(ch)); ch != "" {
			ic.Channels = append(ic.Channels, ch)
		}
	}
	if ic.KafkaTopic == "" {
		ic.KafkaTopic = pc.TopicPrefix + "-signal"
	}
	for _, b := range strings.Split(c.Str(options.PropSignalKafkaBootstrap), ",") {
		if b = strings.TrimSpace(b); b != "" {
			ic.KafkaBrokers = append(ic.KafkaBrokers, b)
		}
	}
	return ic
}
