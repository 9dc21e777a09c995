package pipeline

import (
	"github.com/pgmotion/pgmotion/internal/kafkasink"
)

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
