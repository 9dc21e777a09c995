package debezium

import (
	"strconv"

	"github.com/pgmotion/pgmotion/internal/record"
)

// Heartbeat records (heartbeat.interval.ms), as Debezium writes them: topic
// <topic.heartbeat.prefix>.<topic.prefix> (or topic.heartbeat.name), key
// io.debezium.connector.common.ServerNameKey {serverName}, value
// io.debezium.connector.common.Heartbeat {ts_ms} with the wall clock, and
// always Kafka partition 0.

const (
	heartbeatKeySchema   = `{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],"optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1}`
	heartbeatValueSchema = `{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.common.Heartbeat","version":1}`
)

// HeartbeatTopic returns the heartbeat topic for prefix (the value of
// topic.heartbeat.prefix) or name (topic.heartbeat.name, which wins).
func (e *Encoder) HeartbeatTopic(prefix, name string) string {
	if name != "" {
		return name
	}
	if prefix == "" {
		prefix = defaultHeartbeatPrefix
	}
	return prefix + e.s.delimiter + e.opts.TopicPrefix
}

// Heartbeat appends the heartbeat record for topic at tsMillis to dst, or
// what the transformation chain makes of it.
func (e *Encoder) Heartbeat(dst []record.Record, topic string, tsMillis int64) ([]record.Record, error) {
	out := append(dst, e.heartbeat(topic, tsMillis))
	e.polled = 1
	if e.chain != nil {
		var err error
		if out, err = e.chainJSON(out, len(dst)); err != nil {
			return dst, err
		}
	}
	return out, nil
}

func (e *Encoder) heartbeat(topic string, tsMillis int64) record.Record {
	e.reserve(512)
	start := len(e.slab)
	if e.s.keySchemas {
		e.slab = append(e.slab, `{"schema":`+heartbeatKeySchema+`,"payload":`...)
	}
	e.slab = append(e.slab, `{"serverName":`...)
	e.slab = appendJSONStr(e.slab, e.opts.TopicPrefix)
	e.slab = append(e.slab, '}')
	if e.s.keySchemas {
		e.slab = append(e.slab, '}')
	}
	key := e.carve(start)
	start = len(e.slab)
	if e.s.valueSchemas {
		e.slab = append(e.slab, `{"schema":`+heartbeatValueSchema+`,"payload":`...)
	}
	e.slab = append(e.slab, `{"ts_ms":`...)
	e.slab = strconv.AppendInt(e.slab, tsMillis, 10)
	e.slab = append(e.slab, '}')
	if e.s.valueSchemas {
		e.slab = append(e.slab, '}')
	}
	r := record.Record{Topic: topic, Partition: 0, Key: key, Value: e.carve(start)}
	if len(e.ctxHdrs) > 0 {
		r.Headers = e.ctxHdrs
	}
	if e.recycle {
		rs := [1]record.Record{r}
		e.stamp(rs[:])
		r = rs[0]
	}
	return r
}
