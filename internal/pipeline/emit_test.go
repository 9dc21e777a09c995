package pipeline

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/debezium"
	"github.com/pgmotion/pgmotion/internal/kafkasink"
	"github.com/pgmotion/pgmotion/internal/metrics"
	"github.com/pgmotion/pgmotion/internal/record"
	"github.com/twmb/franz-go/pkg/kfake"
)

type countAck struct {
	context.Context
	acks []error
}

func (c *countAck) Ack(err error) { c.acks = append(c.acks, err) }

// TestAckFirst checks that the first record's acknowledgement reports
// its topic only when Kafka has it, and always reaches the batch.
func TestAckFirst(t *testing.T) {
	inner := &countAck{Context: context.Background()}
	var seen []string
	a := ackFirst(inner, "t1", func(topic string) { seen = append(seen, topic) })
	a.Ack(errors.New("broker gone"))
	if len(seen) != 0 || len(inner.acks) != 1 {
		t.Fatalf("failed delivery: seen %q, acks %v", seen, inner.acks)
	}
	a.Ack(nil)
	if len(seen) != 1 || seen[0] != "t1" || len(inner.acks) != 2 {
		t.Fatalf("delivery: seen %q, acks %v", seen, inner.acks)
	}
	if ackFirst(inner, "t1", nil) != inner {
		t.Error("without a seen function the batch itself should be the acker")
	}
}

// newTestSink is a producer to a fresh kfake cluster (the real Kafka
// protocol) whose max.request.size is limit.
func newTestSink(t *testing.T, limit int32) *kafkasink.Sink {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	s, err := kafkasink.New(kafkasink.Config{Brokers: c.ListenAddrs(), MaxRequestSize: limit, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestEmitterSend checks the one emit path against a broker: each record
// is counted into its batch and acknowledged, a topic is reported active
// once (when Kafka holds its first record), and a record larger than the
// producer's limit fails the batch naming its LSN and size, unless
// pgmotion.skip.lsn names that LSN.
func TestEmitterSend(t *testing.T) {
	const limit = 20_000
	sink := newTestSink(t, limit)
	var mu sync.Mutex
	var seen []string
	e := &emitter{sink: sink, spec: kafkasink.TopicSpec{Partitions: -1, Replication: -1}, limit: limit, log: slog.New(slog.DiscardHandler),
		onTopic: func(topic string) { mu.Lock(); seen = append(seen, topic); mu.Unlock() },
		skip:    map[change.LSN]bool{300: true}}
	enc := &debezium.Encoder{}
	tr := newTracker()
	send := func(lsn change.LSN, recs ...record.Record) *batch {
		t.Helper()
		b := tr.current()
		if err := e.send(enc, recs, b, lsn); err != nil {
			t.Fatal(err)
		}
		tr.seal(Offset{LSN: lsn, LSNProc: lsn, LSNCommit: lsn, MessageType: "COMMIT"})
		if err := sink.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		return b
	}
	rec := func(topic string, size int) record.Record {
		return record.Record{Topic: topic, Partition: -1, Key: []byte("k"), Value: bytes.Repeat([]byte("v"), size)}
	}

	send(100, rec("a", 10), rec("b", 10), rec("a", 10))
	send(200, rec("a", 10), rec("c", 10))
	if off, ok := tr.advance(); !ok || off.LSN != 200 {
		t.Fatalf("tracker at %+v %v, want LSN 200: every record acknowledged", off, ok)
	}
	mu.Lock()
	slices.Sort(seen)
	if !slices.Equal(seen, []string{"a", "b", "c"}) {
		t.Errorf("topics reported active: %q, want a, b and c once each", seen)
	}
	mu.Unlock()
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}

	// Too large, but named by pgmotion.skip.lsn: skipped, nothing fails.
	send(300, rec("a", 2*limit))
	if err := tr.Err(); err != nil {
		t.Fatalf("a record at a skipped LSN failed the task: %v", err)
	}
	// Too large: the tracker fails, naming the record.
	send(400, rec("a", 2*limit))
	var tooLarge *RecordTooLargeError
	if err := tr.Err(); !errors.As(err, &tooLarge) {
		t.Fatalf("oversized record: tracker error %v, want a RecordTooLargeError", err)
	}
	if tooLarge.LSN != 400 || tooLarge.Topic != "a" || tooLarge.Size < 2*limit || tooLarge.Limit != limit {
		t.Errorf("RecordTooLargeError %+v: want LSN 0/190, topic a, size ≥ %d, limit %d", tooLarge, 2*limit, limit)
	}
	if msg := tooLarge.Error(); !strings.Contains(msg, "pgmotion.skip.lsn=0/190") {
		t.Errorf("the error does not give the skip fix: %s", msg)
	}
}

// TestNewWiresEnv checks that New hands the worker's hooks to the parts
// that call them: topic tracking to the emit path, the streaming metrics
// to the tracker, the offsets topic to the transaction state.
func TestNewWiresEnv(t *testing.T) {
	cfg, _, err := ConfigFrom("c", map[string]string{
		"connector.class":   "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname": "localhost",
		"database.user":     "u",
		"database.dbname":   "app",
		"topic.prefix":      "srv",
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.EOS.Enabled = true
	var topics []string
	sm, err := metrics.NewStreamingMetrics(nil, "srv", metrics.StreamingOptions{Connector: "c"})
	if err != nil {
		t.Fatal(err)
	}
	task, err := New(cfg, Env{Log: slog.New(slog.DiscardHandler), OffsetTopic: "offsets", Streaming: sm,
		OnTopic: func(topic string) { topics = append(topics, topic) }})
	if err != nil {
		t.Fatal(err)
	}
	if task.out.onTopic == nil {
		t.Fatal("Env.OnTopic does not reach the emit path: topic tracking would never report a topic")
	}
	task.out.onTopic("x")
	if !slices.Equal(topics, []string{"x"}) {
		t.Errorf("OnTopic got %q", topics)
	}
	if task.tr.acked == nil {
		t.Error("Env.Streaming does not reach the tracker: commit→ack times would not be counted")
	}
	if task.eos == nil || task.eos.offsetTopic != "offsets" {
		t.Errorf("exactly-once state %+v: want the offsets topic from Env", task.eos)
	}
	if task.sm != sm {
		t.Error("Env.Streaming is not the task's streaming metrics")
	}
}
