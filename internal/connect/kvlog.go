package connect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pgmotion/pgmotion/internal/kafkaclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kvlog is a compacted Kafka topic read into memory and kept current: the
// way Kafka Connect keeps its config, status and offset topics. Every
// worker reads the whole topic and follows it, so all see the same state.
// It is safe for concurrent use.
type kvlog struct {
	prod  *kgo.Client
	topic string
	log   *slog.Logger
	// onChange, if set, runs on the reader goroutine after each record is
	// applied (val nil for a deletion).
	onChange func(key string, val []byte)

	mu   sync.Mutex
	cond *sync.Cond
	data map[string][]byte
	read map[int32]int64 // next offset to read, per partition
	err  error
}

func newKVLog(prod *kgo.Client, topic string, log *slog.Logger) *kvlog {
	l := &kvlog{prod: prod, topic: topic, log: log, data: map[string][]byte{}, read: map[int32]int64{}}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// start creates the topic if needed (compacted), then follows it from the
// start on a goroutine that ends with ctx. It returns once the topic has
// been read to its current end.
func (l *kvlog) start(ctx context.Context, partitions int32, replication int16) error {
	adm := kadm.NewClient(l.prod)
	compact := "compact"
	resp, err := adm.CreateTopic(ctx, partitions, replication, map[string]*string{"cleanup.policy": &compact}, l.topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %q: %w", l.topic, err)
	}
	cons, err := kgo.NewClient(append(kafkaclient.ConnOpts(l.prod), kgo.ConsumeTopics(l.topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200e6), kgo.KeepControlRecords())...)
	if err != nil {
		return err
	}
	go l.follow(ctx, cons)
	return l.readToEnd(ctx)
}

func (l *kvlog) follow(ctx context.Context, cons *kgo.Client) {
	defer cons.Close()
	txns := map[txnKey]*openTxn{}
	for {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			l.mu.Lock()
			l.err = ctx.Err()
			l.cond.Broadcast()
			l.mu.Unlock()
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			l.log.Warn("reading internal topic", "topic", t, "partition", p, "err", err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			for _, r := range l.committed(txns, r) {
				l.apply(r)
			}
			l.mu.Lock()
			l.read[r.Partition] = max(l.read[r.Partition], r.Offset+1)
			l.mu.Unlock()
		})
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	}
}

// txnKey names a producer's transaction in one partition.
type txnKey struct {
	partition int32
	producer  int64
}

// openTxn holds the records of a transaction whose end is not read yet.
type openTxn struct {
	epoch int16
	recs  []*kgo.Record
}

// committed returns the records that r makes visible, as a read_committed
// consumer would see them: r itself if it is not transactional, the
// records of its transaction if r is that transaction's commit marker, and
// nothing for a record of an open transaction or an abort marker. The
// topic is read with read_uncommitted and control records kept, so that
// the position reaches the end of the log, markers and aborted batches
// included, and waitFor can compare it with the end offsets. A
// transaction that a broker crash aborted without a marker is dropped
// when its producer writes again under a new epoch.
func (l *kvlog) committed(txns map[txnKey]*openTxn, r *kgo.Record) []*kgo.Record {
	k := txnKey{r.Partition, r.ProducerID}
	switch {
	case r.Attrs.IsControl():
		t := txns[k]
		delete(txns, k)
		// The marker's key: version (int16), then type (int16): 0
		// abort, 1 commit.
		if t != nil && len(r.Key) >= 4 && r.Key[2] == 0 && r.Key[3] == 1 {
			return t.recs
		}
		return nil
	case r.Attrs.IsTransactional():
		t := txns[k]
		if t == nil || t.epoch != r.ProducerEpoch {
			t = &openTxn{epoch: r.ProducerEpoch}
			txns[k] = t
		}
		t.recs = append(t.recs, r)
		return nil
	}
	return []*kgo.Record{r}
}

// apply makes a record's key take its value (nil: deleted).
func (l *kvlog) apply(r *kgo.Record) {
	k := string(r.Key)
	l.mu.Lock()
	if r.Value == nil {
		delete(l.data, k)
	} else {
		l.data[k] = r.Value
	}
	l.mu.Unlock()
	if l.onChange != nil {
		l.onChange(k, r.Value)
	}
}

// readToEnd waits until everything in the topic now has been read.
func (l *kvlog) readToEnd(ctx context.Context) error {
	ends, err := kadm.NewClient(l.prod).ListEndOffsets(ctx, l.topic)
	if err != nil {
		return fmt.Errorf("read end of %q: %w", l.topic, err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	return l.waitFor(ctx, want)
}

func (l *kvlog) waitFor(ctx context.Context, want map[int32]int64) error {
	stop := context.AfterFunc(ctx, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		done := true
		for p, off := range want {
			if l.read[p] < off {
				done = false
			}
		}
		if done {
			return nil
		}
		if l.err != nil {
			return l.err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read topic %q: %w", l.topic, err)
		}
		l.cond.Wait()
	}
}

// put writes key (nil val deletes it) and waits until this worker's own
// view includes the write.
func (l *kvlog) put(ctx context.Context, key string, val []byte) error {
	// Partition -1: the key's murmur2 partition, where Kafka Connect puts
	// it too (the sink's partitioner honours any explicit partition, and
	// a zero-valued Partition would mean partition 0).
	r := &kgo.Record{Topic: l.topic, Partition: -1, Key: []byte(key), Value: val}
	if err := l.prod.ProduceSync(ctx, r).FirstErr(); err != nil {
		return fmt.Errorf("write %q to %q: %w", key, l.topic, err)
	}
	return l.waitFor(ctx, map[int32]int64{r.Partition: r.Offset + 1})
}

func (l *kvlog) get(key string) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.data[key]
}

// snapshot returns a copy of the current contents.
func (l *kvlog) snapshot() map[string][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string][]byte, len(l.data))
	for k, v := range l.data {
		out[k] = v
	}
	return out
}
