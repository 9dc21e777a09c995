package connect

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Topic tracking (KIP-558): the first time a connector's task has a record
// acknowledged by a topic, the worker records the topic in the status
// topic, under Kafka Connect's key and value, so that every worker, and
// this one after a restart, reads the connector's active topics back.

// Kafka Connect's status-topic key for an active topic:
// status-topic-<topic>:connector-<connector>.
const (
	topicStatusPrefix    = "status-topic-"
	topicStatusSeparator = ":connector-"
)

func topicStatusKey(connector, topic string) string {
	return topicStatusPrefix + topic + topicStatusSeparator + connector
}

// parseTopicStatusKey splits a key as KafkaStatusBackingStore does: the
// topic ends at the first ':' (a topic name has none).
func parseTopicStatusKey(key string) (topic, connector string, ok bool) {
	rest, ok := strings.CutPrefix(key, topicStatusPrefix)
	if !ok {
		return "", "", false
	}
	topic, connector, ok = strings.Cut(rest, topicStatusSeparator)
	if !ok || topic == "" || connector == "" || strings.Contains(topic, ":") {
		return "", "", false
	}
	return topic, connector, true
}

// topicStatus is the value Kafka Connect's JsonConverter writes for an
// active topic, fields in its schema's order.
type topicStatus struct {
	Topic topicStatusBody `json:"topic"`
}

type topicStatusBody struct {
	Name              string `json:"name"`
	Connector         string `json:"connector"`
	Task              int    `json:"task"`
	DiscoverTimestamp int64  `json:"discoverTimestamp"`
}

// Kafka Connect's texts for disabled tracking.
const (
	msgTrackingDisabled = "Topic tracking is disabled."
	msgResetDisabled    = "Topic tracking reset is disabled."
)

// topicSeen is a topic a task has written to, waiting to be recorded.
type topicSeen struct {
	connector, topic string
	at               time.Time
}

// topicQueueSize bounds the topics waiting to be recorded; a task reports
// each topic once per run, so this is never reached in practice.
const topicQueueSize = 1024

// sawTopic queues topic for recording. It runs on the producer's callback
// goroutine, so it never blocks: the worker's topic loop writes.
func (w *Worker) sawTopic(connector, topic string) {
	if w.cfg.DisableTopicTracking || w.status.get(topicStatusKey(connector, topic)) != nil {
		return
	}
	select {
	case w.topicq <- topicSeen{connector, topic, time.Now()}:
	default:
		w.log.Warn("too many new topics at once; this one is recorded when the connector next writes to it after a restart", "connector", connector, "topic", topic)
	}
}

// topicLoop records queued topics until the worker closes.
func (w *Worker) topicLoop() {
	for {
		select {
		case <-w.ctx.Done():
			return
		case s := <-w.topicq:
			key := topicStatusKey(s.connector, s.topic)
			if w.status.get(key) != nil {
				continue // recorded already, by this run or an earlier one
			}
			val, _ := json.Marshal(topicStatus{topicStatusBody{Name: s.topic, Connector: s.connector, Task: 0, DiscoverTimestamp: s.at.UnixMilli()}})
			ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
			if err := w.status.put(ctx, key, val); err != nil && w.ctx.Err() == nil {
				w.log.Warn("cannot record the connector's active topic", "connector", s.connector, "topic", s.topic, "err", err)
			}
			cancel()
		}
	}
}

// activeTopics lists the topics recorded for connector, sorted.
func (w *Worker) activeTopics(connector string) []string {
	out := []string{}
	for k, v := range w.status.snapshot() {
		topic, conn, ok := parseTopicStatusKey(k)
		if ok && conn == connector && v != nil {
			out = append(out, topic)
		}
	}
	sort.Strings(out)
	return out
}

// ActiveTopics implements Herder.
func (w *Worker) ActiveTopics(_ context.Context, name string) ([]string, error) {
	if w.cfg.DisableTopicTracking {
		return nil, &Error{Code: http.StatusForbidden, Msg: msgTrackingDisabled}
	}
	return w.activeTopics(name), nil
}

// ResetActiveTopics implements Herder. Unlike Kafka Connect, which resets
// at any time (a running task records its topics again as it writes), it
// needs the connector STOPPED; a connector that does not exist (deleted,
// say) has nothing running and may be reset.
func (w *Worker) ResetActiveTopics(ctx context.Context, name string) error {
	if w.cfg.DisableTopicTracking {
		return &Error{Code: http.StatusForbidden, Msg: msgTrackingDisabled}
	}
	if w.cfg.DisableTopicTrackingReset {
		return &Error{Code: http.StatusForbidden, Msg: msgResetDisabled}
	}
	if c, exists := w.connectorsFromTopic()[name]; exists {
		w.mu.Lock()
		_, running := w.runners[name]
		w.mu.Unlock()
		if c.target != TargetStopped || running {
			return BadRequestf("Connectors must be in the STOPPED state before their active topics can be reset. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
		}
	}
	return w.forgetTopics(ctx, name)
}

// forgetTopics writes a tombstone for each active topic of connector.
func (w *Worker) forgetTopics(ctx context.Context, connector string) error {
	for _, t := range w.activeTopics(connector) {
		if err := w.status.put(ctx, topicStatusKey(connector, t), nil); err != nil {
			return err
		}
	}
	return nil
}
