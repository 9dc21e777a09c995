package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/options"
)

// Signals (reference §5): commands to the connector, written as rows of
// the signal table (the source channel, acted on when the INSERT comes
// through the stream) or as records of the signal topic (the kafka
// channel). This file parses both, and runs the kafka channel's consumer.

// The signal types pgmotion knows.
const (
	sigExecuteSnapshot = "execute-snapshot"
	sigStopSnapshot    = "stop-snapshot"
	sigPauseSnapshot   = "pause-snapshot"
	sigResumeSnapshot  = "resume-snapshot"
	sigLog             = "log"
	sigSchemaChanges   = "schema-changes"
	// The incremental snapshot's own watermarks.
	sigWindowOpen  = "snapshot-window-open"
	sigWindowClose = "snapshot-window-close"
)

// knownSignals is the list logged with an unknown signal type.
const knownSignals = "execute-snapshot, stop-snapshot, pause-snapshot, resume-snapshot, log"

// The signal channels (signal.enabled.channels).
const (
	ChannelSource = options.SignalChannelSource
	ChannelKafka  = options.SignalChannelKafka
)

// signal is one signal read from a channel.
type signal struct {
	ID   string
	Type string
	// Data is the JSON object of the signal's data; nil when the signal
	// had none.
	Data []byte
	// Channel is "source" or "kafka"; Offset is the record's offset in
	// the signal topic.
	Channel string
	Offset  int64
}

func (s signal) String() string {
	if s.Channel == ChannelKafka {
		return fmt.Sprintf("%q (type %q, signal topic offset %d)", s.ID, s.Type, s.Offset)
	}
	return fmt.Sprintf("%q (type %q)", s.ID, s.Type)
}

// signalColumns finds the id, type and data columns of the signal table:
// by name, or else the first three of a table of three columns.
func signalColumns(rel *change.Relation) ([3]int, error) {
	idx := [3]int{-1, -1, -1}
	for i, c := range rel.Columns {
		switch strings.ToLower(c.Name) {
		case "id":
			idx[0] = i
		case "type":
			idx[1] = i
		case "data":
			idx[2] = i
		}
	}
	if idx[0] < 0 || idx[1] < 0 || idx[2] < 0 {
		if len(rel.Columns) != 3 {
			return idx, fmt.Errorf("signal table %s has %d columns; it needs id, type and data (CREATE TABLE ... (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048) NULL))", rel.QualifiedName(), len(rel.Columns))
		}
		idx = [3]int{0, 1, 2}
	}
	return idx, nil
}

func textValue(row change.Tuple, i int) (string, bool) {
	if i >= len(row) || row[i].Kind != change.KindText {
		return "", false
	}
	return string(row[i].Data), true
}

// signalFromRow reads a signal from a row of the signal table.
func signalFromRow(rel *change.Relation, row change.Tuple) (signal, error) {
	if len(row) != len(rel.Columns) {
		return signal{}, fmt.Errorf("signal row has %d values for %d columns", len(row), len(rel.Columns))
	}
	idx, err := signalColumns(rel)
	if err != nil {
		return signal{}, err
	}
	id, _ := textValue(row, idx[0])
	typ, ok := textValue(row, idx[1])
	if !ok || typ == "" {
		return signal{ID: id}, fmt.Errorf("signal %q has no type", id)
	}
	s := signal{ID: id, Type: typ, Channel: ChannelSource}
	if d, ok := textValue(row, idx[2]); ok && strings.TrimSpace(d) != "" {
		s.Data = []byte(d)
	}
	return s, nil
}

// signalRowID returns the id of a signal table row (of a delete, whose
// other columns may be null).
func signalRowID(rel *change.Relation, row change.Tuple) (string, bool) {
	idx, err := signalColumns(rel)
	if err != nil {
		return "", false
	}
	return textValue(row, idx[0])
}

// errSignalKey marks a signal record whose key is not the connector's
// topic.prefix: it is for another connector, and is skipped.
var errSignalKey = errors.New("the signal's key is not this connector's topic.prefix")

// parseKafkaSignal reads a record of the signal topic: its key must equal
// topic.prefix and its value be {"id":…,"type":…,"data":{…}}.
func parseKafkaSignal(key, value []byte, prefix string) (signal, error) {
	if string(key) != prefix {
		return signal{}, fmt.Errorf("%w (key %q, topic.prefix %q)", errSignalKey, key, prefix)
	}
	var v struct {
		ID   *string         `json:"id"`
		Type *string         `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if len(bytes.TrimSpace(value)) == 0 {
		return signal{}, errors.New("the signal record has no value; want {\"type\":\"execute-snapshot\",\"data\":{…}}")
	}
	if err := json.Unmarshal(value, &v); err != nil {
		return signal{}, fmt.Errorf("the signal record's value is not a JSON object {\"type\":…,\"data\":{…}}: %w", err)
	}
	s := signal{Channel: ChannelKafka}
	if v.ID != nil {
		s.ID = *v.ID
	}
	if v.Type == nil || *v.Type == "" {
		return s, errors.New(`the signal record has no "type"; want {"type":"execute-snapshot","data":{…}}`)
	}
	s.Type = *v.Type
	if d := bytes.TrimSpace(v.Data); len(d) > 0 && string(d) != "null" {
		if d[0] != '{' {
			return s, fmt.Errorf(`the signal's "data" must be a JSON object, got %.40s`, d)
		}
		s.Data = d
	}
	return s, nil
}

// Snapshot types of execute-snapshot and stop-snapshot.
const (
	snapshotIncremental = "incremental"
	snapshotBlocking    = "blocking"
)

// additionalCondition is one entry of additional-conditions: the filter
// applies to the tables whose schema.table the pattern matches.
type additionalCondition struct {
	Collection string
	re         *regexp.Regexp
	Filter     string
}

// snapshotRequest is the data of an execute-snapshot or stop-snapshot
// signal.
type snapshotRequest struct {
	// Collections are the data-collections as given: schema.table names or
	// regular expressions on them.
	Collections  []string
	Type         string
	Conditions   []additionalCondition
	SurrogateKey string
	// Warnings are problems that do not stop the signal.
	Warnings []string
}

// conditionFor returns the filter of the first additional condition whose
// pattern matches table, or "".
func (r *snapshotRequest) conditionFor(table string) string {
	for _, c := range r.Conditions {
		if c.re.MatchString(table) {
			return c.Filter
		}
	}
	return ""
}

// decodeData decodes a signal's data into v; no data decodes as {}.
func decodeData(data []byte, v any) error {
	if len(data) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("the signal's data is not a JSON object: %w", err)
	}
	return nil
}

// snapshotType reads "type": incremental (the default) or blocking, in any
// case.
func snapshotType(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return snapshotIncremental, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf(`"type" must be a string, incremental or blocking: %w`, err)
	}
	switch t := strings.ToLower(strings.TrimSpace(s)); t {
	case snapshotIncremental, snapshotBlocking:
		return t, nil
	}
	return "", fmt.Errorf("unexpected snapshot type %q: want incremental or blocking", s)
}

// collections reads "data-collections": a list of strings, which may be
// missing or empty.
func collections(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf(`"data-collections" must be a list of schema.table names or regular expressions: %w`, err)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err != nil {
			return nil, fmt.Errorf(`"data-collections" holds %s, which is not a string`, it)
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// parseExecuteSnapshot reads execute-snapshot's data:
// {"data-collections":[…],"type":"incremental"|"blocking",
// "additional-conditions":[{"data-collection":…,"filter":…}],"surrogate-key":…}.
func parseExecuteSnapshot(data []byte) (snapshotRequest, error) {
	var d struct {
		Collections json.RawMessage `json:"data-collections"`
		Type        json.RawMessage `json:"type"`
		Conditions  json.RawMessage `json:"additional-conditions"`
		Legacy      json.RawMessage `json:"additional-condition"`
		Surrogate   json.RawMessage `json:"surrogate-key"`
	}
	if err := decodeData(data, &d); err != nil {
		return snapshotRequest{}, err
	}
	var r snapshotRequest
	var err error
	if r.Collections, err = collections(d.Collections); err != nil {
		return r, err
	}
	if len(r.Collections) == 0 {
		return r, errors.New(`"data-collections" is missing or empty: list the tables to snapshot, e.g. {"data-collections":["public.orders"]}`)
	}
	if r.Type, err = snapshotType(d.Type); err != nil {
		return r, err
	}
	if len(d.Legacy) > 0 && string(d.Legacy) != "null" {
		r.Warnings = append(r.Warnings, `"additional-condition" (a single string) is ignored, as by Debezium 3.0 and later: use "additional-conditions":[{"data-collection":"schema.table","filter":"…"}]`)
	}
	if len(d.Conditions) > 0 && string(d.Conditions) != "null" {
		var conds []struct {
			Collection *string `json:"data-collection"`
			Filter     *string `json:"filter"`
		}
		if err := json.Unmarshal(d.Conditions, &conds); err != nil {
			return r, fmt.Errorf(`"additional-conditions" must be a list of {"data-collection":"schema.table","filter":"…"}: %w`, err)
		}
		for i, c := range conds {
			if c.Collection == nil || strings.TrimSpace(*c.Collection) == "" || c.Filter == nil {
				return r, fmt.Errorf(`"additional-conditions" entry %d needs both "data-collection" and "filter"`, i+1)
			}
			// Debezium compiles it case-insensitively and matches the whole name.
			re, err := regexp.Compile(`(?i)^(?:` + strings.TrimSpace(*c.Collection) + `)$`)
			if err != nil {
				return r, fmt.Errorf(`"additional-conditions" entry %d: "data-collection" %q is not a valid regular expression: %w`, i+1, *c.Collection, err)
			}
			r.Conditions = append(r.Conditions, additionalCondition{Collection: *c.Collection, re: re, Filter: *c.Filter})
		}
	}
	if len(d.Surrogate) > 0 && string(d.Surrogate) != "null" {
		var s string
		if err := json.Unmarshal(d.Surrogate, &s); err != nil {
			return r, fmt.Errorf(`"surrogate-key" must be a column name: %w`, err)
		}
		r.SurrogateKey = strings.TrimSpace(s)
	}
	return r, nil
}

// parseStopSnapshot reads stop-snapshot's data: {"type":…,
// "data-collections":[…]}, the list optional (none: stop everything).
func parseStopSnapshot(data []byte) (snapshotRequest, error) {
	var d struct {
		Collections json.RawMessage `json:"data-collections"`
		Type        json.RawMessage `json:"type"`
	}
	if err := decodeData(data, &d); err != nil {
		return snapshotRequest{}, err
	}
	var r snapshotRequest
	var err error
	if r.Collections, err = collections(d.Collections); err != nil {
		return r, err
	}
	r.Type, err = snapshotType(d.Type)
	return r, err
}

// parseLogSignal reads the log signal's {"message":"…"}.
func parseLogSignal(data []byte) (string, error) {
	var d struct {
		Message *string `json:"message"`
	}
	if err := decodeData(data, &d); err != nil {
		return "", err
	}
	if d.Message == nil || *d.Message == "" {
		return "", errors.New(`the log signal needs {"message":"…"} ({} stands for the current offset)`)
	}
	return *d.Message, nil
}

// kafkaSignal is a record of the signal topic handed to the task. The
// consumer commits past it once done is closed.
type kafkaSignal struct {
	sig  signal
	err  error // the record could not be read as a signal
	done chan struct{}
}

// kafkaSignals consumes the signal topic's partition 0 for one task, from
// the group's committed offset (or the earliest), the way Debezium's
// KafkaSignalChannel assigns it, and commits past each record once the
// task has acted on it. Run and Close belong to the task; out is read by
// the streaming goroutine.
type kafkaSignals struct {
	topic, group, prefix string
	opts                 []kgo.Opt
	log                  *slog.Logger
	out                  chan kafkaSignal

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newKafkaSignals(seeds []string, topic, group, prefix string, fetchWait time.Duration, log *slog.Logger, security ...kgo.Opt) *kafkaSignals {
	opts := append([]kgo.Opt{kgo.SeedBrokers(seeds...), kgo.ClientID("pgmotion-signal")}, security...)
	if fetchWait > 0 {
		opts = append(opts, kgo.FetchMaxWait(fetchWait))
	} else {
		opts = append(opts, kgo.FetchMaxWait(500*time.Millisecond))
	}
	return &kafkaSignals{topic: topic, group: group, prefix: prefix, opts: opts, log: log, out: make(chan kafkaSignal)}
}

// start runs the consumer on a goroutine until Close or ctx ends.
func (k *kafkaSignals) start(ctx context.Context) {
	ctx, k.cancel = context.WithCancel(ctx)
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		for ctx.Err() == nil {
			err := k.run(ctx)
			if ctx.Err() != nil {
				return
			}
			k.log.Warn("kafka signal channel failed; retrying in 5s", "topic", k.topic, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
		}
	}()
}

// Close stops the consumer and waits for it.
func (k *kafkaSignals) Close() {
	if k.cancel != nil {
		k.cancel()
	}
	k.wg.Wait()
}

func (k *kafkaSignals) run(ctx context.Context) error {
	admCl, err := kgo.NewClient(k.opts...)
	if err != nil {
		return err
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	// The topic is created if missing, with the one partition signals use.
	if resp, err := adm.CreateTopic(ctx, 1, -1, nil, k.topic); err == nil && resp.Err == nil {
		k.log.Info("created the signal topic", "topic", k.topic)
	} else if err == nil && resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		k.log.Warn("cannot create the signal topic; waiting for it to exist", "topic", k.topic, "err", resp.Err)
	}
	start := kgo.NewOffset().AtStart()
	offs, err := adm.FetchOffsetsForTopics(ctx, k.group, k.topic)
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		// No commit yet (Kafka answers with no offsets, some brokers so).
	case err != nil:
		return fmt.Errorf("read the committed offset of group %q on %q: %w", k.group, k.topic, err)
	default:
		if o, ok := offs.Lookup(k.topic, 0); ok && o.Err == nil && o.At >= 0 {
			start = kgo.NewOffset().At(o.At)
		}
	}
	cons, err := kgo.NewClient(append(k.opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{k.topic: {0: start}}))...)
	if err != nil {
		return err
	}
	defer cons.Close()
	k.log.Info("reading signals from the kafka channel", "topic", k.topic, "group", k.group)
	for {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, kerr.UnknownTopicOrPartition) {
				ferr = fmt.Errorf("fetch %s/%d: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		for _, r := range fs.Records() {
			ks := kafkaSignal{done: make(chan struct{})}
			ks.sig, ks.err = parseKafkaSignal(r.Key, r.Value, k.prefix)
			ks.sig.Offset = r.Offset
			if errors.Is(ks.err, errSignalKey) {
				k.log.Info("skipping a signal meant for another connector: its key is not this connector's topic.prefix", "topic", k.topic, "offset", r.Offset, "key", string(r.Key), "topic_prefix", k.prefix)
				close(ks.done)
			} else {
				select {
				case k.out <- ks:
				case <-ctx.Done():
					return ctx.Err()
				}
				select {
				case <-ks.done:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			var os kadm.Offsets
			os.AddOffset(k.topic, 0, r.Offset+1, -1)
			resp, err := adm.CommitOffsets(ctx, k.group, os)
			if err == nil {
				err = resp.Error()
			}
			if err != nil {
				return fmt.Errorf("commit signal offset %d of group %q on %q: %w", r.Offset+1, k.group, k.topic, err)
			}
		}
	}
}
