package pipeline

import (
	"context"
	"log/slog"
	"sync"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/debezium"
	"github.com/pgmotion/pgmotion/internal/kafkasink"
	"github.com/pgmotion/pgmotion/internal/record"
)

// emitter is the one path from encoded records to the producer, which
// streaming, heartbeats, the initial snapshot's readers and blocking and
// incremental snapshots all take: it creates a topic on first use, tells
// the worker a topic is active once Kafka holds its first record (topic
// tracking), watches big records for MESSAGE_TOO_LARGE (toolarge.go) and
// counts each record into its batch, whose acknowledgements move the
// offsets (tracker.go). It is safe for concurrent use by the snapshot's
// readers.
type emitter struct {
	sink    *kafkasink.Sink
	spec    kafkasink.TopicSpec
	onTopic func(topic string)
	// skip and limit name a record Kafka refuses as too large
	// (pgmotion.skip.lsn, producer.max.request.size); log says what was
	// skipped.
	skip  map[change.LSN]bool
	limit int32
	log   *slog.Logger
	// topics holds the topics created or known to exist, sparing the
	// hot path the sink's lock.
	topics sync.Map
}

// send hands recs, enc's output for the change at lsn (0 for none), to
// the producer in batch b, and gives enc its buffers back once the
// producer has them.
func (e *emitter) send(enc *debezium.Encoder, recs []record.Record, b *batch, lsn change.LSN) error {
	for i := range recs {
		r := &recs[i]
		var ack kafkasink.Acker = b
		if _, ok := e.topics.Load(r.Topic); !ok {
			if err := e.ensureTopic(r.Topic); err != nil {
				return err
			}
			ack = ackFirst(b, r.Topic, e.onTopic)
		}
		if n := recordSize(r); n >= bigRecord {
			ack = &bigAck{Acker: ack, e: e, lsn: lsn, topic: r.Topic, size: n}
		}
		b.pending.Add(1)
		e.sink.Produce(r, ack)
	}
	enc.Handed()
	return nil
}

// ensureTopic creates topic unless it is known to exist.
func (e *emitter) ensureTopic(topic string) error {
	if _, ok := e.topics.Load(topic); ok {
		return nil
	}
	if err := e.sink.EnsureTopic(context.Background(), topic, e.spec); err != nil {
		return err
	}
	e.topics.Store(topic, true)
	return nil
}

// firstAck is the acknowledgement of a task's first record to a topic:
// once Kafka has it, the topic is active.
type firstAck struct {
	kafkasink.Acker
	topic string
	seen  func(topic string)
}

func (a *firstAck) Ack(err error) {
	if err == nil {
		a.seen(a.topic)
	}
	a.Acker.Ack(err)
}

// ackFirst wraps the acknowledgement of a task's first record to topic;
// without a seen function it is ack itself.
func ackFirst(ack kafkasink.Acker, topic string, seen func(string)) kafkasink.Acker {
	if seen == nil {
		return ack
	}
	return &firstAck{Acker: ack, topic: topic, seen: seen}
}
