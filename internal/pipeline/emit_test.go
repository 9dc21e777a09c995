package pipeline

import (
	"context"
	"errors"
	"testing"
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
