package broker_test

import (
	"context"
	"fmt"
	"hash/crc32"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// rawProduce sends one idempotent (or transactional) batch of n records
// with the given first sequence, as a producer's retry would send it
// again byte for byte, and returns the base offset the broker answers.
func rawProduce(t *testing.T, cl *kgo.Client, topic string, pid int64, epoch int16, seq int32, first, n int, txn bool) (int64, error) {
	t.Helper()
	var recs []byte
	for i := 0; i < n; i++ {
		r := kmsg.Record{OffsetDelta: int32(i), Key: []byte(testKey(first + i)), Value: []byte(testValue(first + i))}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // the body after a one-byte zero length
		recs = r.AppendTo(recs)
	}
	now := time.Now().UnixMilli()
	b := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, LastOffsetDelta: int32(n - 1), FirstTimestamp: now, MaxTimestamp: now,
		ProducerID: pid, ProducerEpoch: epoch, FirstSequence: seq, NumRecords: int32(n), Records: recs}
	if txn {
		b.Attributes = 0x10
	}
	raw := b.AppendTo(nil)
	b.Length = int32(len(raw) - 12)
	raw = b.AppendTo(nil)
	b.CRC = int32(crc32c(raw[21:]))
	raw = b.AppendTo(nil)

	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, 5000
	if txn {
		id := "txn-recover"
		req.TransactionID = &id
	}
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	if td, err := kadm.NewClient(cl).ListTopics(context.Background(), topic); err == nil {
		rt.TopicID = td[topic].ID // Produce v13 names topics by ID
	}
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = 0, raw
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	return p.BaseOffset, kerr.ErrorForCode(p.ErrorCode)
}

// TestRetryAfterSIGKILL: an idempotent producer writes two batches, the
// broker is SIGKILLed before the producer hears back, and the producer
// retries both after the restart. Each batch must be recognised as the
// one already in the log, answered with its offset, and not written
// again.
func TestRetryAfterSIGKILL(t *testing.T) {
	dir := t.TempDir()
	p := startBrokerProc(t, dir, freePort(t))
	cl := newClient(t, p.addr)
	const topic = "retried"
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionTimeoutMillis = 60000
	iresp, err := init.RequestWith(context.Background(), cl)
	if err != nil || iresp.ErrorCode != 0 {
		t.Fatalf("InitProducerID: %v %v", err, kerr.ErrorForCode(iresp.ErrorCode))
	}
	pid, epoch := iresp.ProducerID, iresp.ProducerEpoch
	off1, err := rawProduce(t, cl, topic, pid, epoch, 0, 0, 10, false)
	if err != nil {
		t.Fatal(err)
	}
	off2, err := rawProduce(t, cl, topic, pid, epoch, 10, 10, 10, false)
	if err != nil {
		t.Fatal(err)
	}
	cl.Close()
	p.kill9(t)

	p = startBrokerProc(t, dir, p.addr)
	cl = newClient(t, p.addr)
	for _, r := range []struct {
		seq      int32
		first    int
		original int64
	}{{0, 0, off1}, {10, 10, off2}} {
		got, err := rawProduce(t, cl, topic, pid, epoch, r.seq, r.first, 10, false)
		if err != nil {
			t.Fatalf("retry of the batch with sequence %d after the crash: %v", r.seq, err)
		}
		if got != r.original {
			t.Fatalf("retry of the batch with sequence %d answered offset %d, want %d, where it already is", r.seq, got, r.original)
		}
	}
	// The producer goes on after its retries.
	if _, err := rawProduce(t, cl, topic, pid, epoch, 20, 20, 10, false); err != nil {
		t.Fatalf("next batch after the retries: %v", err)
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	if end, _ := ends.Lookup(topic, 0); end.Offset != 30 {
		t.Fatalf("the log ends at %d after the retries, want 30: a retried batch was written again", end.Offset)
	}
	checkKeyed(t, consumeAll(t, p.addr, topic, 30), 0)
	p.term(t)
}

// TestOpenTransactionAfterSIGKILL: a transaction open when the broker is
// SIGKILLed is aborted, with a marker, so that a read_committed consumer
// still sees the producer's later transactions.
func TestOpenTransactionAfterSIGKILL(t *testing.T) {
	dir := t.TempDir()
	p := startBrokerProc(t, dir, freePort(t))
	const topic = "txns"
	admin := newClient(t, p.addr)
	if _, err := kadm.NewClient(admin).CreateTopic(context.Background(), 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	txnClient := func() *kgo.Client {
		return newClient(t, p.addr, kgo.TransactionalID("recover-txn"), kgo.DefaultProduceTopic(topic))
	}
	produce := func(cl *kgo.Client, first, n int, commit bool) {
		t.Helper()
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := first; i < first+n; i++ {
			if err := cl.ProduceSync(context.Background(), &kgo.Record{Key: []byte(testKey(i)), Value: []byte(testValue(i))}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if commit {
			if err := cl.EndTransaction(context.Background(), kgo.TryCommit); err != nil {
				t.Fatal(err)
			}
		}
	}
	cl := txnClient()
	produce(cl, 0, 10, true)
	produce(cl, 10, 10, false) // open at the crash
	p.kill9(t)
	cl.Close()

	p = startBrokerProc(t, dir, p.addr)
	cl = txnClient()
	produce(cl, 20, 10, true)
	produce(cl, 30, 10, true)
	recs := consumeAll(t, p.addr, topic, 30, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	var got []string
	for _, r := range recs {
		got = append(got, string(r.Key))
	}
	want := 30
	if len(recs) != want || string(recs[10].Key) != testKey(20) {
		t.Fatalf("read_committed consumer read %d records, want %d (0-9 and 20-39): %s", len(recs), want, fmt.Sprint(got))
	}
	p.term(t)
}
