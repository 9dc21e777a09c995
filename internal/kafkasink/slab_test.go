package kafkasink

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/pgmotion/pgmotion/internal/record"
)

// countAcker counts acknowledgements.
type countAcker struct {
	context.Context
	mu   sync.Mutex
	n    int
	errs []error
}

func (a *countAcker) Ack(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	if err != nil {
		a.errs = append(a.errs, err)
	}
}

// TestProduceRetainsSlabsUntilAcknowledged produces records carved from
// pooled slabs through a Kafka broker (kfake): while they are in flight
// their slab holds a reference for each, and once Kafka has acknowledged
// them only the encoder's own reference is left.
func TestProduceRetainsSlabsUntilAcknowledged(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "slabs"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := New(Config{Brokers: c.ListenAddrs(), ClientID: "slab-test", Compression: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	slabs := []*record.Slab{record.GetSlab(), record.GetSlab()}
	ack := &countAcker{Context: context.Background()}
	const n = 1000
	for i := range n {
		sl := slabs[i%2]
		buf := sl.Buf()[:8]
		rec := &record.Record{Topic: "slabs", Partition: -1, Key: buf[:4:4], Value: buf[4:8:8], Slab: sl}
		s.Produce(rec, ack)
	}
	// Records produced without a slab are not counted anywhere.
	s.Produce(&record.Record{Topic: "slabs", Partition: -1, Key: []byte("k"), Value: []byte("v")}, ack)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ack.mu.Lock()
	defer ack.mu.Unlock()
	if ack.n != n+1 || len(ack.errs) > 0 {
		t.Fatalf("%d acknowledgements (errors %v), want %d", ack.n, ack.errs, n+1)
	}
	for i, sl := range slabs {
		if got := sl.Refs(); got != 1 {
			t.Errorf("slab %d: %d references after every record was acknowledged, want 1 (the encoder's)", i, got)
		}
	}
}
