package pipeline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/kafkasink"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/record"
)

// A record that Kafka refuses as too large (MESSAGE_TOO_LARGE, from the
// producer's own max.request.size check or from the broker) would fail
// the task at every restart while the slot keeps its WAL: anyone who can
// log in can write such a record with pg_logical_emit_message. The task
// fails with a RecordTooLargeError that names the record and the fixes;
// one of them, pgmotion.skip.lsn, lets the operator drop exactly the
// records named, each logged. Nothing is skipped without being named.

// bigRecord is the size from which a record's acknowledgement is watched
// for MESSAGE_TOO_LARGE: below it no configured limit refuses a record.
const bigRecord = 16 << 10

// RecordTooLargeError is a record Kafka refused as too large.
type RecordTooLargeError struct {
	LSN   change.LSN
	Topic string
	Size  int   // key, value and headers, in bytes
	Limit int32 // producer.max.request.size
	Err   error // kerr.MessageTooLarge, or kerr.RecordListTooLarge
}

func (e *RecordTooLargeError) Error() string {
	return fmt.Sprintf("a record of %d bytes for topic %q at LSN %s is larger than Kafka accepts (producer.max.request.size is %d; the broker's message.max.bytes may be lower): %v; "+
		"the replication slot keeps its WAL until this is resolved. Fix one of: raise producer.max.request.size in the worker config and the broker's message.max.bytes (or the topic's max.message.bytes) above %d; "+
		"for a logical decoding message, exclude its prefix with message.prefix.exclude.list; or skip exactly this record with %s=%s in the connector config (it is then lost, and logged)",
		e.Size, e.Topic, e.LSN, e.Limit, e.Err, e.Size, options.PropSkipLSN, e.LSN)
}

func (e *RecordTooLargeError) Unwrap() error { return e.Err }

// recordSize is what a record weighs in a produce request, without the
// few bytes of framing.
func recordSize(r *record.Record) int {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// bigAck watches a big record's acknowledgement.
type bigAck struct {
	kafkasink.Acker
	e     *emitter
	lsn   change.LSN
	topic string
	size  int
}

func (a *bigAck) Ack(err error) {
	if err != nil && (errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge)) {
		if a.e.skip[a.lsn] {
			// The producer's callback goroutine: slog is safe here.
			a.e.log.Warn("record too large for Kafka skipped, as "+options.PropSkipLSN+" names its LSN; it is not in Kafka",
				"lsn", a.lsn.String(), "topic", a.topic, "bytes", a.size, "err", err)
			err = nil
		} else {
			err = &RecordTooLargeError{LSN: a.lsn, Topic: a.topic, Size: a.size, Limit: a.e.limit, Err: err}
		}
	}
	a.Acker.Ack(err)
}

// parseSkipLSNs reads pgmotion.skip.lsn.
func parseSkipLSNs(items []string) (map[change.LSN]bool, error) {
	if len(items) == 0 {
		return nil, nil
	}
	out := make(map[change.LSN]bool, len(items))
	for _, it := range items {
		lsn, err := change.ParseLSN(strings.TrimSpace(it))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", options.PropSkipLSN, err)
		}
		out[lsn] = true
	}
	return out, nil
}
