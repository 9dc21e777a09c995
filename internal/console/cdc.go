package console

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// cdcPrefixes are the metric families the CDC views keep a history of:
// Debezium's streaming and snapshot metrics and pgmotion's slot, latency
// and snapshot figures.
var cdcPrefixes = []string{"debezium_metrics_", "pgmotion_slot_", "pgmotion_snapshot_", "pgmotion_commit_to_ack_seconds", "pgmotion_incremental_"}

// point is one sample: Unix milliseconds and the value.
type point [2]float64

type series struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	Points []point           `json:"points"`

	// for histograms: the previous cumulative buckets, to derive
	// quantiles of each interval
	prevCount  uint64
	prevBounds []float64
	prevCounts []uint64
}

// sampler keeps, for the CDC views, the recent history of the worker's
// CDC metrics: one sample every interval, the last keep of each series.
// It is safe for concurrent use.
type sampler struct {
	g        prometheus.Gatherer
	interval time.Duration
	keep     int

	mu     sync.Mutex
	series map[string]*series
}

func newSampler(g prometheus.Gatherer, interval time.Duration, keep int) *sampler {
	return &sampler{g: g, interval: interval, keep: keep, series: map[string]*series{}}
}

func (s *sampler) run(ctx context.Context) {
	if s.g == nil {
		return
	}
	t := time.NewTicker(s.interval)
	defer t.Stop()
	s.sample(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.sample(now)
		}
	}
}

func wanted(name string) bool {
	for _, p := range cdcPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// sample gathers once and appends a point to every wanted series. A series
// that no longer appears (a stopped connector) keeps its history until it
// ages out.
func (s *sampler) sample(now time.Time) {
	fams, err := s.g.Gather()
	if err != nil && len(fams) == 0 {
		return
	}
	ms := float64(now.UnixMilli())
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, f := range fams {
		if !wanted(f.GetName()) {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM:
				s.histogram(f.GetName(), labels, m.GetHistogram(), ms, seen)
			default:
				v := m.GetGauge().GetValue()
				if f.GetType() == dto.MetricType_COUNTER {
					v = m.GetCounter().GetValue()
				} else if f.GetType() == dto.MetricType_UNTYPED {
					v = m.GetUntyped().GetValue()
				}
				s.add(f.GetName(), labels, ms, v, seen)
			}
		}
	}
	for k, ser := range s.series {
		if seen[k] {
			continue
		}
		if len(ser.Points) == 0 || ser.Points[len(ser.Points)-1][0] < ms-float64(s.keep)*float64(s.interval.Milliseconds()) {
			delete(s.series, k)
		}
	}
}

func (s *sampler) get(name string, labels map[string]string, seen map[string]bool) *series {
	k := seriesKey(name, labels)
	seen[k] = true
	ser := s.series[k]
	if ser == nil {
		ser = &series{Name: name, Labels: labels}
		s.series[k] = ser
	}
	return ser
}

func (s *sampler) add(name string, labels map[string]string, ms, v float64, seen map[string]bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	ser := s.get(name, labels, seen)
	ser.Points = append(ser.Points, point{ms, v})
	if len(ser.Points) > s.keep {
		ser.Points = slices.Delete(ser.Points, 0, len(ser.Points)-s.keep)
	}
}

// histogram derives, from the buckets added since the last sample, the
// interval's p50 and p99 (as series name:p50 and name:p99) and its count
// (name:count); no point is added for an interval without observations.
func (s *sampler) histogram(name string, labels map[string]string, h *dto.Histogram, ms float64, seen map[string]bool) {
	base := s.get(name, labels, seen)
	bounds := make([]float64, 0, len(h.GetBucket()))
	counts := make([]uint64, 0, len(h.GetBucket()))
	for _, b := range h.GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
		counts = append(counts, b.GetCumulativeCount())
	}
	total := h.GetSampleCount()
	first := base.prevBounds == nil
	delta := total - base.prevCount
	if !first && delta > 0 && slices.Equal(bounds, base.prevBounds) && total >= base.prevCount {
		d := make([]uint64, len(counts))
		for i := range counts {
			d[i] = counts[i] - min(counts[i], base.prevCounts[i])
		}
		s.add(name+":p50", labels, ms, quantile(0.50, bounds, d, delta), seen)
		s.add(name+":p99", labels, ms, quantile(0.99, bounds, d, delta), seen)
	}
	if !first {
		s.add(name+":count", labels, ms, float64(delta), seen)
	}
	base.prevCount, base.prevBounds, base.prevCounts = total, bounds, counts
}

// quantile interpolates the q-quantile within cumulative bucket counts, as
// PromQL's histogram_quantile does.
func quantile(q float64, bounds []float64, cum []uint64, total uint64) float64 {
	rank := q * float64(total)
	var prevBound float64
	var prevCount uint64
	for i, b := range bounds {
		if float64(cum[i]) >= rank {
			if cum[i] == prevCount {
				return b
			}
			return prevBound + (b-prevBound)*(rank-float64(prevCount))/float64(cum[i]-prevCount)
		}
		prevBound, prevCount = b, cum[i]
	}
	return prevBound // in the +Inf bucket: the highest finite bound
}

func seriesKey(name string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(name)
	for _, k := range keys {
		b.WriteString("\x00" + k + "\x00" + labels[k])
	}
	return b.String()
}

// snapshot copies the history for the API.
func (s *sampler) snapshot() []series {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]series, 0, len(s.series))
	for _, ser := range s.series {
		if len(ser.Points) == 0 {
			continue
		}
		out = append(out, series{Name: ser.Name, Labels: ser.Labels, Points: slices.Clone(ser.Points)})
	}
	slices.SortFunc(out, func(a, b series) int {
		return strings.Compare(seriesKey(a.Name, a.Labels), seriesKey(b.Name, b.Labels))
	})
	return out
}

// cdc answers the CDC views' history: every kept series with its points
// ([Unix ms, value]), sampled every interval_ms. Counters are cumulative;
// the client derives rates.
func (c *Console) cdc(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("refresh") == "true" {
		c.sampler.sample(time.Now())
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"interval_ms": c.sampler.interval.Milliseconds(),
		"series":      c.sampler.snapshot(),
	})
}
