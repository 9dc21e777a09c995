package metrics

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Label names and values shared by the snapshot metrics and, later, the
// streaming ones. They are the labels the Prometheus JMX exporter's common
// Debezium rule gives an MBean
// debezium.postgres:type=connector-metrics,context=<context>,server=<server>.
const (
	labelPlugin  = "plugin"  // the JMX domain after "debezium."
	labelContext = "context" // snapshot or streaming
	labelName    = "name"    // the MBean's server key: topic.prefix
	labelTable   = "table"   // the key of a per-table map attribute

	pluginPostgres  = "postgres"
	contextSnapshot = "snapshot"

	// debeziumPrefix is what the common rule puts before an MBean
	// attribute's name (debezium_metrics_$attribute).
	debeziumPrefix = "debezium_metrics_"
	// pgmotionSnapshotPrefix starts the names of snapshot metrics that
	// Debezium does not have.
	pgmotionSnapshotPrefix = "pgmotion_snapshot_"
)

// The help texts of the attributes that both the snapshot and the
// streaming MBeans have: a registry wants one help text per name.
const (
	helpEventsSeen     = "The total number of events that this connector has seen: for context=snapshot, rows read since the last start of the snapshot; for context=streaming, change events since streaming started."
	helpSinceLastEvent = "The number of milliseconds since the connector has read and processed the most recent event; -1 before the first."
	helpCapturedTables = "Always 1, one series per captured table (for context=snapshot, per table included in the snapshot): Debezium's String[] attribute, which the JMX exporter drops."
)

// debeziumName is the Prometheus name the JMX exporter's common rule
// gives a Debezium MBean attribute: debezium_metrics_RowsScanned.
func debeziumName(attribute string) string { return debeziumPrefix + attribute }

// reservedLabels may not be used as custom.metric.tags keys because the
// metrics set them themselves.
var reservedLabels = map[string]bool{
	labelPlugin: true, labelContext: true, labelName: true, labelTable: true,
}

// connectorLabels returns the constant labels of one connector's metrics
// of one context: plugin, context, name (= server, the topic.prefix) and
// one label per custom.metric.tags entry.
//
// Tag keys are turned into valid Prometheus label names the way the JMX
// exporter does it: each character outside [a-zA-Z0-9_] becomes '_', and
// a leading digit gets a '_' in front. A key that is empty, starts with
// "__", clashes with plugin, context, name or table, or clashes with
// another key once cleaned is an error.
//
// A Prometheus registry requires every metric of one name to have the same
// label names for the life of the program, so every connector registered
// on one registry must use the same custom.metric.tags keys.
func connectorLabels(context, server string, tags map[string]string) (prometheus.Labels, error) {
	if server == "" {
		return nil, errors.New("metrics: server name (topic.prefix) is empty")
	}
	labels := prometheus.Labels{
		labelPlugin:  pluginPostgres,
		labelContext: context,
		labelName:    server,
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error messages
	from := map[string]string{}
	for _, k := range keys {
		name := labelNameFor(k)
		switch {
		case name == "":
			return nil, errors.New("metrics: custom.metric.tags has an empty key")
		case strings.HasPrefix(name, "__"):
			return nil, fmt.Errorf("metrics: custom.metric.tags key %q: label names starting with __ are reserved; rename the tag", k)
		case reservedLabels[name]:
			return nil, fmt.Errorf("metrics: custom.metric.tags key %q: the metrics already set a %q label; rename the tag", k, name)
		case from[name] != "":
			return nil, fmt.Errorf("metrics: custom.metric.tags keys %q and %q both become label %q; rename one of them", from[name], k, name)
		}
		from[name] = k
		labels[name] = tags[k]
	}
	return labels, nil
}

// labelNameFor cleans a custom tag key into a Prometheus label name.
func labelNameFor(key string) string {
	if key == "" {
		return ""
	}
	var b strings.Builder
	if key[0] >= '0' && key[0] <= '9' {
		b.WriteByte('_')
	}
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// gaugeDesc describes one connector-level gauge.
func gaugeDesc(name, help string, labels prometheus.Labels) *prometheus.Desc {
	return prometheus.NewDesc(name, help, nil, labels)
}

// tableGaugeDesc describes a gauge with one series per table.
func tableGaugeDesc(name, help string, labels prometheus.Labels) *prometheus.Desc {
	return prometheus.NewDesc(name, help, []string{labelTable}, labels)
}
