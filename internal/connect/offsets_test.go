package connect

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/broker"
	"github.com/pgmotion/pgmotion/internal/kafkasink"
	"github.com/pgmotion/pgmotion/internal/pipeline"
)

// TestOffsetStorePartitioning checks, against the embedded broker, that an
// offset lands on the partition Kafka Connect's producer would choose for
// its key (murmur2 of the key bytes), so that offsets move between Kafka
// Connect and pgmotion, and that a restarted store reads it back.
func TestOffsetStorePartitioning(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	b, err := broker.New(broker.Options{Listen: addr, DataDir: t.TempDir(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go b.Run(ctx)
	<-b.Ready()
	defer b.Close(context.Background())

	sink, err := kafkasink.New(kafkasink.Config{Brokers: []string{b.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	store := NewOffsetStore(sink.Client(), "connect-offsets", slog.New(slog.DiscardHandler))
	if err := store.Init(ctx, 25, -1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		name := "connector-" + strconv.Itoa(i)
		if err := store.Put(ctx, name, "srv", &pipeline.Offset{LSN: 100, LSNCommit: 90, TxID: 7}); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("connect-offsets"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	java := kgo.StickyKeyPartitioner(nil).ForTopic("connect-offsets")
	seen := 0
	for seen < 8 {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of 8 offsets", seen)
		}
		fs.EachRecord(func(r *kgo.Record) {
			seen++
			if want := int32(java.Partition(&kgo.Record{Key: r.Key}, 25)); r.Partition != want {
				t.Errorf("offset %s is in partition %d, Kafka Connect would put it in %d", r.Key, r.Partition, want)
			}
		})
	}
	again := NewOffsetStore(sink.Client(), "connect-offsets", slog.New(slog.DiscardHandler))
	if err := again.Init(ctx, 25, -1); err != nil {
		t.Fatal(err)
	}
	if o, err := again.Get("connector-3", "srv"); err != nil || o == nil || o.ResumeLSN() != 90 {
		t.Fatalf("read back: %+v %v", o, err)
	}
}
