// Command consumer prints the events on an outbox topic: key (the
// aggregate id), the eventType and id headers, and the payload. It stops
// after -count events, or at -timeout.
//
//	go run ./examples/outbox/consumer -brokers 127.0.0.1:9092 -topic outbox.event.order -count 4
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "Kafka bootstrap servers, comma-separated")
	topic := flag.String("topic", "outbox.event.order", "topic to read from its start")
	count := flag.Int("count", 0, "stop after this many events (0: run until -timeout or Ctrl-C)")
	timeout := flag.Duration("timeout", time.Minute, "give up after this long")
	flag.Parse()
	if err := run(*brokers, *topic, *count, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
}

func run(brokers, topic string, count int, timeout time.Duration) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(strings.Split(brokers, ",")...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	seen := 0
	for count == 0 || seen < count {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			if count == 0 && errors.Is(err, context.DeadlineExceeded) {
				return nil
			}
			return fmt.Errorf("%d of %d events after %v", seen, count, timeout)
		}
		for _, e := range fs.Errors() {
			return fmt.Errorf("fetch %s[%d]: %w", e.Topic, e.Partition, e.Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			seen++
			var hdrs []string
			for _, h := range r.Headers {
				if h.Key == "id" || h.Key == "eventType" {
					hdrs = append(hdrs, h.Key+"="+string(h.Value))
				}
			}
			fmt.Printf("consumer: %s key=%s %s value=%s\n", r.Topic, r.Key, strings.Join(hdrs, " "), r.Value)
		})
	}
	return nil
}
