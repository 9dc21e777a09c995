// Package doctor is pgmotion's preflight: it checks what one connector
// needs from PostgreSQL (internal/pgsource does the SQL) and from Kafka
// before it runs, and reports each problem with its fix. It changes
// nothing: topic creation is only validated (CreateTopics with
// ValidateOnly), and no slot or publication is created.
package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/debezium"
	"github.com/pgmotion/pgmotion/internal/pgsource"
	"github.com/pgmotion/pgmotion/internal/pipeline"
)

// Finding is the result of one check; see pgsource.Finding.
type Finding = pgsource.Finding

// Severities of a Finding.
const (
	OK      = pgsource.OK
	Warn    = pgsource.Warn
	Problem = pgsource.Problem
)

// Options say what to check.
type Options struct {
	// Name and Config are the connector's, with config provider
	// placeholders already resolved.
	Name   string
	Config map[string]string

	// SkipKafka leaves Kafka out.
	SkipKafka bool
	// Brokers and KafkaOpts reach Kafka as the worker's own clients do.
	Brokers   []string
	KafkaOpts []kgo.Opt
	// KafkaSecurity describes the security settings for messages, without
	// secrets ("SASL_SSL, SCRAM-SHA-512 as \"connect\""); empty for none.
	KafkaSecurity string
	// ExplainKafka, when set, turns a failed connection into one line that
	// names the property to fix (kafkaclient.Security.Explain).
	ExplainKafka func(error) error
	// The worker's storage topics (config.storage.topic and so on).
	ConfigTopic, OffsetTopic, StatusTopic string
	// The partitions and replication factor the worker creates its
	// storage topics with; -1 for the broker's default.
	OffsetPartitions, StatusPartitions                      int32
	ConfigReplication, OffsetReplication, StatusReplication int16

	// Timeout bounds each side's checks; 0 means 30 s.
	Timeout time.Duration
	Log     *slog.Logger
}

// Report is what the checks found, in the order they ran.
type Report struct {
	Connector string    `json:"connector"`
	Findings  []Finding `json:"findings"`
}

// Count returns how many findings have severity s.
func (r *Report) Count(s pgsource.Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// Run checks the connector. Its error is a connector config that does not
// parse; what the checks find, connection failures included, is in the
// report.
func Run(ctx context.Context, o Options) (*Report, error) {
	tc, warnings, err := pipeline.ConfigFrom(o.Name, o.Config)
	if err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	r := &Report{Connector: o.Name}
	for _, w := range warnings {
		r.Findings = append(r.Findings, Finding{Check: "config", Severity: Warn, What: w})
	}

	pctx, cancel := context.WithTimeout(ctx, o.Timeout)
	src := tc.Source
	src.Log = o.Log
	res, err := pgsource.Preflight(pctx, src, pgsource.PreflightOptions{ToastFilled: tc.ToastFill != pipeline.ToastFillNone})
	cancel()
	var captured []pgsource.TableName
	if err != nil {
		r.Findings = append(r.Findings, Finding{Check: "postgres_connection", Severity: Problem,
			What: "cannot check PostgreSQL", Fix: err.Error()})
	} else {
		r.Findings = append(r.Findings, res.Findings...)
		captured = res.Captured
	}
	if o.SkipKafka {
		return r, nil
	}
	kctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	r.Findings = append(r.Findings, checkKafka(kctx, o, tc, captured)...)
	return r, nil
}

func checkKafka(ctx context.Context, o Options, tc pipeline.Config, captured []pgsource.TableName) []Finding {
	var out []Finding
	add := func(check string, sev pgsource.Severity, what, fix string, topics ...string) {
		out = append(out, Finding{Check: check, Severity: sev, What: what, Fix: fix, Tables: topics})
	}
	brokers := strings.Join(o.Brokers, ",")
	opts := append([]kgo.Opt{kgo.SeedBrokers(o.Brokers...)}, o.KafkaOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		add("kafka_connection", Problem, "cannot set up a Kafka client: "+err.Error(), "fix bootstrap.servers and the worker's Kafka settings")
		return out
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	md, err := adm.BrokerMetadata(ctx)
	if err != nil {
		as := ""
		if o.KafkaSecurity != "" {
			as = " over " + o.KafkaSecurity
		}
		if o.ExplainKafka != nil {
			if explained := o.ExplainKafka(err); explained.Error() != err.Error() {
				add("kafka_connection", Problem, fmt.Sprintf("cannot connect to Kafka at %s%s", brokers, as), explained.Error())
				return out
			}
		}
		add("kafka_connection", Problem, fmt.Sprintf("cannot reach Kafka at %s%s: %v", brokers, as, err),
			"check bootstrap.servers (--bootstrap-servers), that the brokers run, and the worker's security settings (security.protocol, sasl.*, ssl.*)")
		return out
	}
	add("kafka_connection", OK, fmt.Sprintf("connected to Kafka at %s (%s, cluster %s)", brokers, count(len(md.Brokers), "broker"), md.Cluster), "")

	// The worker's storage topics: present and compacted, or creatable.
	storage := []struct {
		topic       string
		partitions  int32
		replication int16
	}{
		{o.ConfigTopic, 1, o.ConfigReplication},
		{o.OffsetTopic, o.OffsetPartitions, o.OffsetReplication},
		{o.StatusTopic, o.StatusPartitions, o.StatusReplication},
	}
	var names []string
	for _, s := range storage {
		if s.topic != "" {
			names = append(names, s.topic)
		}
	}
	state, err := describeTopics(ctx, cl, names)
	if err != nil {
		add("storage_topics", Problem, "cannot describe the worker's storage topics: "+err.Error(), "check that the worker's Kafka user may DESCRIBE topics")
		return out
	}
	var existing []string
	for _, s := range storage {
		if s.topic == "" {
			continue
		}
		switch st := state[s.topic]; {
		case st.err == nil:
			existing = append(existing, s.topic)
		case errors.Is(st.err, kerr.UnknownTopicOrPartition):
			compact := "compact"
			err := validateCreate(ctx, adm, s.partitions, s.replication, map[string]*string{"cleanup.policy": &compact}, s.topic)
			if err != nil {
				add("storage_topics", Problem, fmt.Sprintf("topic %s does not exist, and the worker may not create it: %v", s.topic, err),
					fmt.Sprintf("create it with cleanup.policy=compact (kafka-topics.sh --create --topic %s --config cleanup.policy=compact), or allow the worker's user to CREATE topics", s.topic))
			} else {
				add("storage_topics", OK, fmt.Sprintf("topic %s does not exist yet; the worker creates it", s.topic), "")
			}
		default:
			add("storage_topics", Problem, fmt.Sprintf("topic %s: %v", s.topic, st.err), "allow the worker's Kafka user to DESCRIBE, READ and WRITE it")
		}
	}
	if len(existing) > 0 {
		configs, err := adm.DescribeTopicConfigs(ctx, existing...)
		if err != nil {
			add("storage_topics", Problem, "cannot read the storage topics' configs: "+err.Error(), "allow the worker's Kafka user to DESCRIBE_CONFIGS them")
		}
		for _, rc := range configs {
			if rc.Err != nil {
				add("storage_topics", Problem, fmt.Sprintf("cannot read topic %s's configs: %v", rc.Name, rc.Err), "allow the worker's Kafka user to DESCRIBE_CONFIGS it")
				continue
			}
			policy := "delete"
			for _, c := range rc.Configs {
				if c.Key == "cleanup.policy" && c.Value != nil {
					policy = *c.Value
				}
			}
			if policy != "compact" {
				add("storage_topics", Problem, fmt.Sprintf("topic %s has cleanup.policy=%s, and Kafka Connect keeps its state there only with compact: retention deletes the connectors' configs, offsets or statuses", rc.Name, policy),
					fmt.Sprintf("kafka-configs.sh --alter --entity-type topics --entity-name %s --add-config cleanup.policy=compact", rc.Name))
			} else if st := state[rc.Name]; !st.writable {
				add("storage_topics", Problem, fmt.Sprintf("the worker's Kafka user may not WRITE topic %s", rc.Name), "grant it WRITE and READ on the topic")
			} else {
				add("storage_topics", OK, fmt.Sprintf("topic %s exists, compacted", rc.Name), "")
			}
		}
	}

	// The connector's data topics.
	if tc.Encoder.Transforms != nil {
		add("data_topics", OK, "data topics not checked: the connector's transforms may rename them", "")
		return out
	}
	enc, err := debezium.NewEncoder(tc.Encoder, nil)
	if err != nil {
		add("data_topics", Problem, "cannot name the data topics: "+err.Error(), "fix the connector's topic settings")
		return out
	}
	var topics []string
	for _, t := range captured {
		topics = append(topics, enc.Topic(&change.Relation{Namespace: t.Schema, Name: t.Name}))
	}
	if len(topics) == 0 {
		return out
	}
	state, err = describeTopics(ctx, cl, topics)
	if err != nil {
		add("data_topics", Problem, "cannot describe the data topics: "+err.Error(), "allow the worker's Kafka user to DESCRIBE topics")
		return out
	}
	var missing, denied, readOnly []string
	for _, t := range topics {
		switch st := state[t]; {
		case errors.Is(st.err, kerr.UnknownTopicOrPartition):
			missing = append(missing, t)
		case st.err != nil:
			denied = append(denied, t)
		case !st.writable:
			readOnly = append(readOnly, t)
		}
	}
	if len(denied) > 0 || len(readOnly) > 0 {
		bad := append(denied, readOnly...)
		sort.Strings(bad)
		add("data_topics", Problem, fmt.Sprintf("the worker's Kafka user may not write %s: %s", topicsN(len(bad)), named(bad)),
			fmt.Sprintf("grant it DESCRIBE and WRITE on the topics prefixed %s", tc.TopicPrefix), bad...)
	}
	var uncreatable []string
	var why error
	if len(missing) > 0 {
		res, err := adm.ValidateCreateTopics(ctx, tc.Topics.Partitions, tc.Topics.Replication, nil, missing...)
		if err != nil {
			uncreatable, why = missing, err
		}
		for _, t := range missing {
			if r, ok := res[t]; ok && r.Err != nil {
				uncreatable = append(uncreatable, t)
				why = r.Err
			}
		}
	}
	if len(uncreatable) > 0 {
		sort.Strings(uncreatable)
		add("data_topics", Problem, fmt.Sprintf("%s, and the worker may not create %s (%v): %s", doNotExist(len(uncreatable)), them(len(uncreatable)), why, named(uncreatable)),
			fmt.Sprintf("create %s, or allow the worker's Kafka user to CREATE topics prefixed %s", them(len(uncreatable)), tc.TopicPrefix), uncreatable...)
	}
	if len(denied)+len(readOnly)+len(uncreatable) == 0 {
		add("data_topics", OK, fmt.Sprintf("%s %s or can be created, and may be written", topicsN(len(topics)), map[bool]string{true: "exists", false: "exist"}[len(topics) == 1]), "")
	}
	return out
}

// validateCreate asks the cluster whether it would create topic, without
// creating it.
func validateCreate(ctx context.Context, adm *kadm.Client, partitions int32, replication int16, configs map[string]*string, topic string) error {
	if partitions == 0 {
		partitions = -1
	}
	res, err := adm.ValidateCreateTopics(ctx, partitions, replication, configs, topic)
	if err != nil {
		return err
	}
	if r, ok := res[topic]; ok && r.Err != nil {
		return r.Err
	}
	return nil
}

type topicState struct {
	err error
	// writable is false only when the broker reports the topic's
	// authorized operations and WRITE is not among them.
	writable bool
}

// describeTopics asks for the metadata of topics, without creating them,
// and with the operations the client may perform on each (Kafka 2.3+).
func describeTopics(ctx context.Context, cl *kgo.Client, topics []string) (map[string]topicState, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false
	req.IncludeTopicAuthorizedOperations = true
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	out := make(map[string]topicState, len(topics))
	for _, t := range resp.Topics {
		if t.Topic == nil {
			continue
		}
		st := topicState{err: kerr.ErrorForCode(t.ErrorCode), writable: true}
		if ops := t.AuthorizedOperations; ops != math.MinInt32 && ops&(1<<int(kmsg.ACLOperationWrite)) == 0 && ops&(1<<int(kmsg.ACLOperationAll)) == 0 {
			st.writable = false
		}
		out[*t.Topic] = st
	}
	for _, t := range topics {
		if _, ok := out[t]; !ok {
			out[t] = topicState{err: kerr.UnknownTopicOrPartition}
		}
	}
	return out, nil
}

// count says "1 thing" or "n things".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func topicsN(n int) string {
	if n == 1 {
		return "1 data topic"
	}
	return fmt.Sprintf("%d data topics", n)
}

func doNotExist(n int) string {
	if n == 1 {
		return "1 data topic does not exist"
	}
	return fmt.Sprintf("%d data topics do not exist", n)
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// maxNamed bounds the names one line lists.
const maxNamed = 10

func named(names []string) string {
	if len(names) <= maxNamed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxNamed], ", ") + fmt.Sprintf(" and %d more", len(names)-maxNamed)
}

// WriteText writes one line per finding, OK ones only when verbose, and a
// summary line.
func (r *Report) WriteText(w io.Writer, verbose bool) error {
	var b strings.Builder
	for _, f := range r.Findings {
		if f.Severity == OK && !verbose {
			continue
		}
		b.WriteString(Line(f))
		b.WriteByte('\n')
	}
	problems, warnings, ok := r.Count(Problem), r.Count(Warn), r.Count(OK)
	fmt.Fprintf(&b, "connector %s: %s, %s, %s passed\n", r.Connector, count(problems, "problem"), count(warnings, "warning"), count(ok, "check"))
	_, err := io.WriteString(w, b.String())
	return err
}

// Line is the one-line form of a finding: "PROBLEM what: fix".
func Line(f Finding) string {
	s := f.Severity.String() + " " + oneLine(f.What)
	if f.Fix != "" {
		s += ": " + oneLine(f.Fix)
	}
	return s
}

// oneLine keeps a text on one line whatever a server's message holds.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*Report
		Problems int `json:"problems"`
		Warnings int `json:"warnings"`
	}{r, r.Count(Problem), r.Count(Warn)})
}
