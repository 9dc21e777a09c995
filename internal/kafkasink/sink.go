// Package kafkasink delivers records to Kafka with franz-go's idempotent
// producer and reports each delivery back, so that positions are
// confirmed only for what Kafka has acknowledged.
package kafkasink

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/record"
)

// Producer properties pgmotion's producer uses (producer.* in a worker
// config), and the compression it applies when none is asked for: Kafka's
// producer default, and so Kafka Connect's. Every Kafka client reads
// uncompressed batches; kafkajs, for one, needs an extra codec package for
// snappy, lz4 and zstd.
const (
	PropCompressionType = "compression.type"
	PropMaxRequestSize  = "max.request.size"

	DefaultCompression = "none"
	// Compressions lists the values of compression.type, for help texts.
	Compressions = "none, gzip, snappy, lz4 or zstd"
)

// Config says where to deliver.
type Config struct {
	Brokers  []string
	ClientID string
	// Compression is compression.type: one of Compressions; ""
	// means DefaultCompression.
	Compression string
	// MaxBufferedBytes bounds the records held in memory while in flight;
	// Produce blocks past it, which slows the reader instead of growing
	// without bound.
	MaxBufferedBytes int
	// MaxRequestSize is max.request.size: the largest record batch sent
	// (franz-go's ProducerBatchMaxBytes); 0 means DefaultMaxRequestSize.
	MaxRequestSize int32
	// TransactionalID, if set, makes the producer transactional
	// (exactly-once source, KIP-618): every record must then be produced
	// between Begin and Commit or Abort. TransactionTimeout is its
	// transaction.timeout.ms (0: Kafka's producer default, 60 s).
	TransactionalID    string
	TransactionTimeout time.Duration
	// Extra options, for tests and for worker producer.* overrides
	// (the Kafka client security settings among them).
	Opts []kgo.Opt
	// AdminOpts, if not nil, give topic creation a client of its own with
	// these options added to Brokers (admin.* security settings that
	// differ from the producer's).
	AdminOpts []kgo.Opt
	Log       *slog.Logger
}

// Sink produces records. Produce and EnsureTopics are safe for concurrent
// use; Close ends it.
type Sink struct {
	cl  *kgo.Client
	adm *kadm.Client
	// admCl is the admin client's own connection, nil when it shares cl.
	admCl *kgo.Client
	log   *slog.Logger

	mu     sync.Mutex
	topics map[string]bool
}

// Acker is told the outcome of each record produced with it. It travels in
// the kgo.Record's Context field, so that delivery needs no closure per
// record: Ack(nil) means Kafka acknowledged the record.
type Acker interface {
	context.Context
	Ack(err error)
}

// codecs maps compression names to franz-go codecs.
var codecs = map[string]kgo.CompressionCodec{
	"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
	"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
}

// CheckCompression tells whether name is a compression.type value the
// producer accepts ("" is DefaultCompression), so that a bad one stops the
// worker before it starts anything.
func CheckCompression(name string) error {
	_, err := compression(name)
	return err
}

func compression(name string) (kgo.CompressionCodec, error) {
	codec, ok := codecs[cmp.Or(name, DefaultCompression)]
	if !ok {
		return codec, fmt.Errorf("producer compression %q (producer.%s or --compression): want %s", name, PropCompressionType, Compressions)
	}
	return codec, nil
}

// DefaultMaxRequestSize is franz-go's default ProducerBatchMaxBytes,
// 1,000,012 bytes: 48,564 less than Kafka's max.request.size default
// (1,048,576), so a record Kafka Connect sends may be refused here.
const DefaultMaxRequestSize = 1_000_012

// New creates the client. It does not connect until the first request.
func New(cfg Config) (*Sink, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("no Kafka bootstrap servers: set --bootstrap-servers or --embedded-broker")
	}
	codec, err := compression(cfg.Compression)
	if err != nil {
		return nil, err
	}
	if cfg.MaxBufferedBytes <= 0 {
		cfg.MaxBufferedBytes = 32 << 20
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
		// Kafka's own murmur2 partitioner over the serialized key bytes, so
		// a row lands on the partition Kafka Connect would have chosen;
		// a record that names its partition (heartbeats) keeps it.
		kgo.RecordPartitioner(explicitOr{kgo.StickyKeyPartitioner(nil)}),
		kgo.ProducerBatchCompression(codec),
		kgo.MaxBufferedBytes(cfg.MaxBufferedBytes),
		kgo.ProducerBatchMaxBytes(cmp.Or(cfg.MaxRequestSize, DefaultMaxRequestSize)),
		kgo.ProducerLinger(5 * time.Millisecond),
		kgo.RecordDeliveryTimeout(0),
		kgo.AllowAutoTopicCreation(),
	}
	if cfg.TransactionalID != "" {
		opts = append(opts, kgo.TransactionalID(cfg.TransactionalID),
			kgo.TransactionTimeout(cmp.Or(cfg.TransactionTimeout, time.Minute)))
	}
	opts = append(opts, cfg.Opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create Kafka client: %w", err)
	}
	s := &Sink{cl: cl, adm: kadm.NewClient(cl), log: cfg.Log, topics: map[string]bool{}}
	if cfg.AdminOpts != nil {
		admCl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.ClientID(cfg.ClientID + "-admin")}, cfg.AdminOpts...)...)
		if err != nil {
			cl.Close()
			return nil, fmt.Errorf("create Kafka admin client: %w", err)
		}
		s.admCl, s.adm = admCl, kadm.NewClient(admCl)
	}
	return s, nil
}

// Client returns the underlying franz-go client, for offset and config
// storage that shares its connections.
func (s *Sink) Client() *kgo.Client { return s.cl }

// slabRecord is a kgo.Record with the slab its key and value lie in,
// retained while franz-go holds it. Every record this package produces is
// one, so promise can reach its slab from the *kgo.Record it is given.
type slabRecord struct {
	kgo.Record
	slab *record.Slab
}

var recPool = sync.Pool{New: func() any { return new(slabRecord) }}

func promise(kr *kgo.Record, err error) {
	r := (*slabRecord)(unsafe.Pointer(kr))
	a := r.Context.(Acker)
	slab := r.slab
	*r = slabRecord{}
	recPool.Put(r)
	if slab != nil {
		// franz-go is done with the record: nothing reads its bytes now.
		slab.Release()
	}
	a.Ack(err)
}

// Produce hands rec to the producer; ack.Ack runs once Kafka has
// acknowledged it or delivery has failed for good. It blocks while the
// producer's buffer is full.
func (s *Sink) Produce(rec *record.Record, ack Acker) {
	r := recPool.Get().(*slabRecord)
	if rec.Slab != nil {
		rec.Slab.Retain()
		r.slab = rec.Slab
	}
	r.Topic, r.Key, r.Value, r.Partition, r.Context = rec.Topic, rec.Key, rec.Value, rec.Partition, ack
	r.Headers = kgoHeaders(rec.Headers)
	if rec.Timestamp != 0 {
		r.Timestamp = time.UnixMilli(rec.Timestamp)
	}
	s.cl.Produce(context.Background(), &r.Record, promise)
}

// kgoHeaders views headers as franz-go's, without copying: a Record's
// headers are never written once built, and the two types have one layout
// (sameHeaderLayout, checked by a test). Copying them cost 8% of a
// snapshot's CPU.
func kgoHeaders(h []record.Header) []kgo.RecordHeader {
	if len(h) == 0 {
		return nil
	}
	return unsafe.Slice((*kgo.RecordHeader)(unsafe.Pointer(unsafe.SliceData(h))), len(h))
}

// sameHeaderLayout reports whether record.Header and kgo.RecordHeader
// have one memory layout, which kgoHeaders relies on.
func sameHeaderLayout() bool {
	var a record.Header
	var b kgo.RecordHeader
	return unsafe.Sizeof(a) == unsafe.Sizeof(b) &&
		unsafe.Offsetof(a.Key) == unsafe.Offsetof(b.Key) && unsafe.Sizeof(a.Key) == unsafe.Sizeof(b.Key) &&
		unsafe.Offsetof(a.Value) == unsafe.Offsetof(b.Value) && unsafe.Sizeof(a.Value) == unsafe.Sizeof(b.Value)
}

// Fence initializes the transactional producer: the broker bumps the
// epoch of its transactional ID, which fences any older producer with the
// same ID (a zombie task) and aborts the transaction that one left open,
// so that what the offsets topic holds afterwards is final.
func (s *Sink) Fence(ctx context.Context) error {
	if _, _, err := s.cl.ProducerID(ctx); err != nil {
		return fmt.Errorf("initialize the transactional producer: %w", err)
	}
	return nil
}

// Begin opens a producer transaction; Kafka hears of it with its first
// record.
func (s *Sink) Begin() error { return s.cl.BeginTransaction() }

// Commit waits until every record of the open transaction is acknowledged,
// then commits it. After an error the transaction's outcome is abort or
// unknown, and the producer must be closed: a new one resumes from the
// last committed offsets.
func (s *Sink) Commit(ctx context.Context) error {
	if err := s.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flush the producer transaction: %w", err)
	}
	if err := s.cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return fmt.Errorf("commit the producer transaction: %w", err)
	}
	return nil
}

// Abort drops what the open transaction buffered and aborts it.
func (s *Sink) Abort(ctx context.Context) error {
	if err := s.cl.AbortBufferedRecords(ctx); err != nil {
		return err
	}
	return s.cl.EndTransaction(ctx, kgo.TryAbort)
}

// Flush waits until every buffered record is acknowledged or failed.
func (s *Sink) Flush(ctx context.Context) error { return s.cl.Flush(ctx) }

// TopicSpec is how to create a topic that does not exist.
type TopicSpec struct {
	Partitions  int32 // -1: the broker's default
	Replication int16 // -1: the broker's default
	Configs     map[string]*string
}

// EnsureTopic creates topic if this Sink has not seen it yet and it does
// not exist. A topic that already exists is left as it is.
func (s *Sink) EnsureTopic(ctx context.Context, topic string, spec TopicSpec) error {
	s.mu.Lock()
	known := s.topics[topic]
	s.mu.Unlock()
	if known {
		return nil
	}
	resp, err := s.adm.CreateTopic(ctx, spec.Partitions, spec.Replication, spec.Configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %q: %w", topic, err)
	}
	if err == nil {
		s.log.Info("created topic", "topic", topic, "partitions", resp.NumPartitions)
	}
	s.mu.Lock()
	s.topics[topic] = true
	s.mu.Unlock()
	return nil
}

// Close flushes nothing: callers Flush first. It is safe to call twice.
func (s *Sink) Close() {
	s.cl.Close()
	if s.admCl != nil {
		s.admCl.Close()
	}
}

// ParseBrokers splits a bootstrap.servers list.
func ParseBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// explicitOr sends a record with Partition >= 0 to that partition and
// leaves every other record to its fallback partitioner. Records produced
// with this client must set Partition to -1 unless they mean a partition:
// a kgo.Record's zero value names partition 0.
type explicitOr struct{ fallback kgo.Partitioner }

func (p explicitOr) ForTopic(topic string) kgo.TopicPartitioner {
	return explicitTopic{p.fallback.ForTopic(topic)}
}

type explicitTopic struct{ fallback kgo.TopicPartitioner }

func (p explicitTopic) RequiresConsistency(r *kgo.Record) bool {
	return r.Partition >= 0 || p.fallback.RequiresConsistency(r)
}

func (p explicitTopic) Partition(r *kgo.Record, n int) int {
	if r.Partition >= 0 && int(r.Partition) < n {
		return int(r.Partition)
	}
	return p.fallback.Partition(r, n)
}

// OnNewBatch keeps the fallback's sticky choice for null keys working.
func (p explicitTopic) OnNewBatch() {
	if s, ok := p.fallback.(kgo.TopicPartitionerOnNewBatch); ok {
		s.OnNewBatch()
	}
}
