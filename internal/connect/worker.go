// Package connect is pgmotion's Kafka Connect-style runtime: it turns
// connector configs into running tasks, wires each task's PostgreSQL
// source to the encoder and the Kafka sink, and keeps source offsets in
// Kafka the way Kafka Connect does.
package connect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pgmotion/pgmotion/internal/kafkasink"
)

// WorkerConfig configures a worker.
type WorkerConfig struct {
	Brokers []string
	// OffsetTopic is offset.storage.topic; OffsetPartitions and
	// OffsetReplication are used when the worker creates it.
	OffsetTopic       string
	OffsetPartitions  int32
	OffsetReplication int16
	// FlushInterval is offset.flush.interval.ms.
	FlushInterval time.Duration
	Compression   string
	Log           *slog.Logger
}

// Worker runs connectors. Start it, then RunConnector for each connector;
// Close when done. RunConnector may be called from several goroutines.
type Worker struct {
	cfg   WorkerConfig
	log   *slog.Logger
	sink  *kafkasink.Sink
	store *OffsetStore
}

// NewWorker checks cfg; it connects to nothing.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("no Kafka bootstrap servers: set --bootstrap-servers or --embedded-broker")
	}
	if cfg.OffsetTopic == "" {
		cfg.OffsetTopic = "connect-offsets"
	}
	if cfg.OffsetPartitions == 0 {
		cfg.OffsetPartitions = 25
	}
	if cfg.OffsetReplication == 0 {
		cfg.OffsetReplication = -1
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Worker{cfg: cfg, log: cfg.Log}, nil
}

// Start connects to Kafka and reads the stored offsets.
func (w *Worker) Start(ctx context.Context) error {
	sink, err := kafkasink.New(kafkasink.Config{Brokers: w.cfg.Brokers, ClientID: "pgmotion", Compression: w.cfg.Compression, Log: w.log})
	if err != nil {
		return err
	}
	w.sink = sink
	w.store = NewOffsetStore(sink.Client(), w.cfg.OffsetTopic)
	if err := w.store.Init(ctx, w.cfg.OffsetPartitions, w.cfg.OffsetReplication); err != nil {
		return fmt.Errorf("cannot use Kafka at %v: %w", w.cfg.Brokers, err)
	}
	return nil
}

// Validate parses a connector config without running it, returning its
// warnings.
func (w *Worker) Validate(name string, raw map[string]string) ([]string, error) {
	_, warnings, err := TaskConfigFrom(name, raw)
	return warnings, err
}

// RunConnector runs one connector until ctx ends or it fails.
func (w *Worker) RunConnector(ctx context.Context, name string, raw map[string]string) error {
	tc, warnings, err := TaskConfigFrom(name, raw)
	if err != nil {
		return err
	}
	log := w.log.With("connector", name)
	for _, warn := range warnings {
		log.Warn(warn)
	}
	tc.FlushInterval = w.cfg.FlushInterval
	t, err := newTask(tc, w.sink, w.store, log)
	if err != nil {
		return err
	}
	log.Info("connector starting", "topic_prefix", tc.TopicPrefix, "slot", tc.Source.Slot, "snapshot_mode", tc.SnapshotMode)
	err = t.run(ctx)
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("connector %q: %w", name, err)
	}
	log.Info("connector stopped")
	return nil
}

// Close disconnects from Kafka. It is safe to call twice.
func (w *Worker) Close() {
	if w.sink != nil {
		w.sink.Close()
	}
}
