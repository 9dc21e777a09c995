package pipeline

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgmotion/pgmotion/internal/metrics"
)

// NewStreamingMetrics makes the streaming metrics of a task and registers
// them on reg. A registration that fails (another connector with the same
// topic.prefix, different custom.metric.tags keys) is logged and leaves
// the metrics unregistered: nothing a connector's metrics do stops it.
func NewStreamingMetrics(reg prometheus.Registerer, tc Config, buffered func() (int64, int64), log *slog.Logger) *metrics.StreamingMetrics {
	o := metrics.StreamingOptions{
		Connector:     tc.Name,
		QueueCapacity: tc.QueueCapacity,
		MaxQueueBytes: tc.MaxQueueBytes,
		Buffered:      buffered,
		Tags:          tc.MetricTags,
	}
	prefix := tc.TopicPrefix
	if prefix == "" {
		prefix = tc.Name
	}
	sm, err := metrics.NewStreamingMetrics(reg, prefix, o)
	if err != nil && reg != nil {
		log.Warn("streaming metrics are not served", "err", err)
		o.Tags = nil
		sm, err = metrics.NewStreamingMetrics(nil, prefix, o)
	}
	if err != nil {
		return nil
	}
	return sm
}

// streamingOpened tells the streaming metrics that the source is open:
// connected, with its captured tables and filter counter.
func (t *Task) streamingOpened(ctx context.Context) {
	if t.sm == nil {
		return
	}
	t.sm.SetConnected(true)
	src := t.src
	t.sm.SetFiltered(src.Filtered)
	if tables, err := src.Tables(ctx); err == nil {
		names := make([]string, len(tables))
		for i, tn := range tables {
			names[i] = tn.String()
		}
		t.sm.SetCapturedTables(names)
	}
}
