package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// brokerCollector serves the embedded broker's topics, records and bytes
// as pgmotion_broker_* metrics. It asks the broker over the Kafka protocol
// at scrape time (Metadata, ListOffsets, DescribeLogDirs), as any client
// could, within brokerScrapeTimeout; a broker that does not answer in
// time leaves the series out of that scrape.
type brokerCollector struct {
	adm *kadm.Client

	topics, partitions, records, bytes *prometheus.Desc
}

const brokerScrapeTimeout = 3 * time.Second

// newBrokerCollector connects to the broker at addr lazily; Close the
// returned client when the broker stops.
func newBrokerCollector(addr string, opts ...kgo.Opt) (*brokerCollector, *kgo.Client, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.ClientID("pgmotion-broker-metrics")}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	return &brokerCollector{
		adm: kadm.NewClient(cl),
		topics: prometheus.NewDesc("pgmotion_broker_topics",
			"The number of topics in the embedded broker, internal topics included.", nil, nil),
		partitions: prometheus.NewDesc("pgmotion_broker_partitions",
			"The number of partitions in the embedded broker.", nil, nil),
		records: prometheus.NewDesc("pgmotion_broker_topic_records",
			"The records each topic of the embedded broker holds: the sum over its partitions of the end offset less the start offset.", []string{"topic"}, nil),
		bytes: prometheus.NewDesc("pgmotion_broker_topic_bytes",
			"The bytes of the log segments of each topic of the embedded broker.", []string{"topic"}, nil),
	}, cl, nil
}

// Describe implements prometheus.Collector.
func (c *brokerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.topics
	ch <- c.partitions
	ch <- c.records
	ch <- c.bytes
}

// Collect implements prometheus.Collector.
func (c *brokerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), brokerScrapeTimeout)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	details, err := c.adm.ListTopics(ctx)
	if err != nil {
		return
	}
	parts := 0
	names := details.Names()
	for _, t := range details {
		parts += len(t.Partitions)
	}
	gauge(c.topics, float64(len(names)))
	gauge(c.partitions, float64(parts))
	if len(names) == 0 {
		return
	}
	starts, err1 := c.adm.ListStartOffsets(ctx, names...)
	ends, err2 := c.adm.ListEndOffsets(ctx, names...)
	if err1 == nil && err2 == nil {
		records := map[string]int64{}
		ends.Each(func(o kadm.ListedOffset) {
			if o.Err != nil {
				return
			}
			n := o.Offset
			if s, ok := starts.Lookup(o.Topic, o.Partition); ok && s.Err == nil {
				n -= s.Offset
			}
			records[o.Topic] += n
		})
		for t, n := range records {
			gauge(c.records, float64(n), t)
		}
	}
	dirs, err := c.adm.DescribeAllLogDirs(ctx, nil)
	if err == nil {
		size := map[string]int64{}
		dirs.Each(func(d kadm.DescribedLogDir) {
			for t, ps := range d.Topics {
				for _, p := range ps {
					size[t] += p.Size
				}
			}
		})
		for t, n := range size {
			gauge(c.bytes, float64(n), t)
		}
	}
}
