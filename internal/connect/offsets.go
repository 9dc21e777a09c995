package connect

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/pipeline"
)

// OffsetStore keeps source offsets in a compacted Kafka topic, laid out
// the way Kafka Connect's distributed worker lays out connect-offsets, so
// that offsets move between Kafka Connect and pgmotion in both directions.
// It is safe for concurrent use.
type OffsetStore struct {
	kv *kvlog
}

// NewOffsetStore returns a store over topic, using cl to produce.
func NewOffsetStore(cl *kgo.Client, topic string, log *slog.Logger) *OffsetStore {
	return &OffsetStore{kv: newKVLog(cl, topic, log)}
}

// Init creates the topic if it is missing (compacted, as Connect makes
// it), reads it to its end and keeps following it until ctx ends.
func (s *OffsetStore) Init(ctx context.Context, partitions int32, replication int16) error {
	return s.kv.start(ctx, partitions, replication)
}

// Get returns the stored offset of a connector, or nil.
func (s *OffsetStore) Get(connector, server string) (*pipeline.Offset, error) {
	v := s.kv.get(string(pipeline.OffsetKey(connector, server)))
	if v == nil {
		return nil, nil
	}
	o, err := pipeline.ParseOffset(v)
	if err != nil {
		return nil, fmt.Errorf("stored offset of connector %q is not valid: %w (value %s)", connector, err, v)
	}
	return o, nil
}

// Put writes an offset (nil deletes it) and waits until Kafka holds it.
func (s *OffsetStore) Put(ctx context.Context, connector, server string, o *pipeline.Offset) error {
	var val []byte
	if o != nil {
		val, _ = o.MarshalJSON()
	}
	if err := s.kv.put(ctx, string(pipeline.OffsetKey(connector, server)), val); err != nil {
		return fmt.Errorf("write offset of connector %q: %w", connector, err)
	}
	return nil
}

// Raw returns the stored offset of a connector as a JSON object, or nil.
func (s *OffsetStore) Raw(connector, server string) []byte {
	return s.kv.get(string(pipeline.OffsetKey(connector, server)))
}

// ReadToEnd reads the offsets topic to its end.
func (s *OffsetStore) ReadToEnd(ctx context.Context) error { return s.kv.readToEnd(ctx) }
