package console

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// topicRow is one row of the topic list.
type topicRow struct {
	Name              string `json:"name"`
	Internal          bool   `json:"internal"`
	Partitions        int    `json:"partitions"`
	ReplicationFactor int    `json:"replication_factor"`
	// Records is the sum over partitions of end minus start offset: exact
	// for a delete-policy topic without transactions, an upper bound
	// otherwise, which Approximate says.
	Records     int64 `json:"records"`
	Approximate bool  `json:"approximate"`
	Compacted   bool  `json:"compacted"`
	// SizeBytes is the size on the brokers' log dirs, -1 when the brokers
	// do not say.
	SizeBytes int64 `json:"size_bytes"`
}

type topicPage struct {
	Total  int        `json:"total"`
	Offset int        `json:"offset"`
	Topics []topicRow `json:"topics"`
}

// listTopics answers one page of topics, filtered by the substring q.
// Whatever the number of topics, it makes a fixed number of Kafka requests,
// each for the page's topics only.
func (c *Console) listTopics(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset := queryInt(q.Get("offset"), 0, 0, 1<<30)
	limit := queryInt(q.Get("limit"), 50, 1, 500)
	filter := strings.ToLower(q.Get("q"))
	internal := q.Get("internal") == "true"

	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	var details kadm.TopicDetails
	var err error
	if internal {
		details, err = c.adm.ListTopicsWithInternal(ctx)
	} else {
		details, err = c.adm.ListTopics(ctx)
	}
	if err != nil {
		c.kafkaError(w, "list topics", err)
		return
	}
	var names []string
	for name, d := range details {
		if d.Err != nil || (filter != "" && !strings.Contains(strings.ToLower(name), filter)) {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	page := topicPage{Total: len(names), Offset: offset, Topics: []topicRow{}}
	if offset >= len(names) {
		writeJSON(w, http.StatusOK, page)
		return
	}
	names = names[offset:min(len(names), offset+limit)]

	starts, err := c.adm.ListStartOffsets(ctx, names...)
	if err != nil {
		c.kafkaError(w, "list start offsets", err)
		return
	}
	ends, err := c.adm.ListEndOffsets(ctx, names...)
	if err != nil {
		c.kafkaError(w, "list end offsets", err)
		return
	}
	configs, err := c.adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		c.kafkaError(w, "describe topic configs", err)
		return
	}
	sizes := c.topicSizes(ctx, names)
	compacted := map[string]bool{}
	for _, rc := range configs {
		for _, cfg := range rc.Configs {
			if cfg.Key == "cleanup.policy" && cfg.Value != nil && strings.Contains(*cfg.Value, "compact") {
				compacted[rc.Name] = true
			}
		}
	}
	for _, name := range names {
		d := details[name]
		row := topicRow{
			Name:              name,
			Internal:          d.IsInternal,
			Partitions:        len(d.Partitions),
			ReplicationFactor: d.Partitions.NumReplicas(),
			Compacted:         compacted[name],
			SizeBytes:         -1,
		}
		if s, ok := sizes[name]; ok {
			row.SizeBytes = s
		}
		ends.Each(func(e kadm.ListedOffset) {
			if e.Topic != name || e.Err != nil {
				return
			}
			if s, ok := starts.Lookup(name, e.Partition); ok && s.Err == nil {
				row.Records += e.Offset - s.Offset
			}
		})
		row.Approximate = row.Compacted
		page.Topics = append(page.Topics, row)
	}
	writeJSON(w, http.StatusOK, page)
}

// topicSizes sums the log-dir sizes of the topics' partitions (leaders
// and followers alike, as the brokers report them). Brokers that cannot
// say leave their topics out.
func (c *Console) topicSizes(ctx context.Context, names []string) map[string]int64 {
	set := kadm.TopicsSet{}
	for _, n := range names {
		set.Add(n)
	}
	dirs, err := c.adm.DescribeAllLogDirs(ctx, set)
	if err != nil {
		return nil
	}
	out := map[string]int64{}
	dirs.Each(func(d kadm.DescribedLogDir) {
		if d.Err != nil {
			return
		}
		d.Topics.Each(func(p kadm.DescribedLogDirPartition) {
			out[p.Topic] += p.Size
		})
	})
	return out
}

// lastRecordTimes answers, for up to 100 topics given as ?topics=a,b, the
// timestamp of each one's newest record (0 for an empty topic): the
// column the topic list fills in lazily for the rows on screen. One
// consumer reads the last record of every partition of every topic.
func (c *Console) lastRecordTimes(w http.ResponseWriter, r *http.Request) {
	names := splitList(r.URL.Query().Get("topics"))
	if len(names) == 0 || len(names) > 100 {
		writeError(w, http.StatusBadRequest, "topics: give 1 to 100 topic names, comma-separated")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	starts, err := c.adm.ListStartOffsets(ctx, names...)
	if err != nil {
		c.kafkaError(w, "list start offsets", err)
		return
	}
	ends, err := c.adm.ListEndOffsets(ctx, names...)
	if err != nil {
		c.kafkaError(w, "list end offsets", err)
		return
	}
	from := map[string]map[int32]int64{}
	until := map[string]map[int32]int64{}
	ends.Each(func(e kadm.ListedOffset) {
		s, ok := starts.Lookup(e.Topic, e.Partition)
		if e.Err != nil || !ok || s.Err != nil || e.Offset <= s.Offset {
			return
		}
		if from[e.Topic] == nil {
			from[e.Topic], until[e.Topic] = map[int32]int64{}, map[int32]int64{}
		}
		from[e.Topic][e.Partition] = e.Offset - 1
		until[e.Topic][e.Partition] = e.Offset
	})
	out := map[string]int64{}
	for _, n := range names {
		out[n] = 0
	}
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	err = c.consumeRange(rctx, from, until, func(rec *kgo.Record) bool {
		if ms := rec.Timestamp.UnixMilli(); ms > out[rec.Topic] {
			out[rec.Topic] = ms
		}
		return true
	})
	if err != nil && ctx.Err() == nil && rctx.Err() == nil {
		c.kafkaError(w, "read last records", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type partitionInfo struct {
	Partition   int32   `json:"partition"`
	Leader      int32   `json:"leader"`
	Replicas    []int32 `json:"replicas"`
	ISR         []int32 `json:"isr"`
	StartOffset int64   `json:"start_offset"`
	EndOffset   int64   `json:"end_offset"`
}

type configEntry struct {
	Name      string  `json:"name"`
	Value     *string `json:"value"`
	Source    string  `json:"source"`
	Sensitive bool    `json:"sensitive"`
	ReadOnly  bool    `json:"read_only"`
}

type topicInfo struct {
	topicRow
	PartitionList []partitionInfo `json:"partition_list"`
	Configs       []configEntry   `json:"configs"`
}

func (c *Console) getTopic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("topic")
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	details, err := c.adm.ListTopicsWithInternal(ctx, name)
	if err != nil {
		c.kafkaError(w, "describe topic", err)
		return
	}
	d, ok := details[name]
	if !ok || d.Err != nil {
		writeError(w, http.StatusNotFound, "no topic "+strconv.Quote(name))
		return
	}
	starts, err := c.adm.ListStartOffsets(ctx, name)
	if err != nil {
		c.kafkaError(w, "list start offsets", err)
		return
	}
	ends, err := c.adm.ListEndOffsets(ctx, name)
	if err != nil {
		c.kafkaError(w, "list end offsets", err)
		return
	}
	configs, err := c.adm.DescribeTopicConfigs(ctx, name)
	if err != nil {
		c.kafkaError(w, "describe topic configs", err)
		return
	}
	info := topicInfo{topicRow: topicRow{
		Name: name, Internal: d.IsInternal, Partitions: len(d.Partitions),
		ReplicationFactor: d.Partitions.NumReplicas(), SizeBytes: -1,
	}}
	if s, ok := c.topicSizes(ctx, []string{name})[name]; ok {
		info.SizeBytes = s
	}
	for _, p := range d.Partitions.Sorted() {
		pi := partitionInfo{Partition: p.Partition, Leader: p.Leader, Replicas: p.Replicas, ISR: p.ISR}
		if s, ok := starts.Lookup(name, p.Partition); ok && s.Err == nil {
			pi.StartOffset = s.Offset
		}
		if e, ok := ends.Lookup(name, p.Partition); ok && e.Err == nil {
			pi.EndOffset = e.Offset
		}
		info.Records += pi.EndOffset - pi.StartOffset
		info.PartitionList = append(info.PartitionList, pi)
	}
	for _, rc := range configs {
		for _, cfg := range rc.Configs {
			e := configEntry{Name: cfg.Key, Value: cfg.Value, Source: cfg.Source.String(), Sensitive: cfg.Sensitive}
			if cfg.Sensitive {
				hidden := "[hidden]"
				e.Value = &hidden
			}
			if cfg.Key == "cleanup.policy" && cfg.Value != nil && strings.Contains(*cfg.Value, "compact") {
				info.Compacted = true
			}
			info.Configs = append(info.Configs, e)
		}
	}
	info.Approximate = info.Compacted
	slices.SortFunc(info.Configs, func(a, b configEntry) int { return strings.Compare(a.Name, b.Name) })
	writeJSON(w, http.StatusOK, info)
}

type createTopicRequest struct {
	Name              string             `json:"name"`
	Partitions        int32              `json:"partitions"`
	ReplicationFactor int16              `json:"replication_factor"`
	Configs           map[string]*string `json:"configs"`
}

func (c *Console) createTopic(w http.ResponseWriter, r *http.Request) {
	var req createTopicRequest
	if err := readJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Name == "" {
		writeError(w, http.StatusBadRequest, "name: give the topic's name")
		return
	}
	if req.Partitions == 0 {
		req.Partitions = -1 // the broker's num.partitions
	}
	if req.ReplicationFactor == 0 {
		req.ReplicationFactor = -1 // the broker's default.replication.factor
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	resp, err := c.adm.CreateTopic(ctx, req.Partitions, req.ReplicationFactor, req.Configs, req.Name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "create topic "+strconv.Quote(req.Name)+": "+errText(err, resp.ErrMessage))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"name": req.Name})
}

func (c *Console) deleteTopic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("topic")
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	resp, err := c.adm.DeleteTopic(ctx, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "delete topic "+strconv.Quote(name)+": "+errText(err, resp.ErrMessage))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// alterTopicConfigs sets (a string value) or deletes (null) topic configs,
// incrementally: the configs not named keep their values.
func (c *Console) alterTopicConfigs(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("topic")
	var req map[string]*string
	if err := readJSON(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(req) == 0 {
		writeError(w, http.StatusBadRequest, `give the configs to change as {"name": "value"} (null deletes an override)`)
		return
	}
	var alters []kadm.AlterConfig
	for k, v := range req {
		op := kadm.SetConfig
		if v == nil {
			op = kadm.DeleteConfig
		}
		alters = append(alters, kadm.AlterConfig{Op: op, Name: k, Value: v})
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	resps, err := c.adm.AlterTopicConfigs(ctx, alters, name)
	if err != nil {
		c.kafkaError(w, "alter topic configs", err)
		return
	}
	for _, resp := range resps {
		if resp.Err != nil {
			writeError(w, http.StatusBadRequest, "alter configs of "+strconv.Quote(name)+": "+errText(resp.Err, resp.ErrMessage))
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func errText(err error, msg string) string {
	if msg != "" && !strings.Contains(err.Error(), msg) {
		return err.Error() + ": " + msg
	}
	return err.Error()
}

func queryInt(s string, def, lo, hi int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return max(lo, min(hi, n))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// cluster answers the cluster's id, controller and brokers.
func (c *Console) cluster(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	md, err := c.adm.BrokerMetadata(ctx)
	if err != nil {
		c.kafkaError(w, "describe cluster", err)
		return
	}
	type broker struct {
		NodeID int32   `json:"node_id"`
		Host   string  `json:"host"`
		Port   int32   `json:"port"`
		Rack   *string `json:"rack"`
	}
	out := struct {
		ClusterID  string   `json:"cluster_id"`
		Controller int32    `json:"controller"`
		Brokers    []broker `json:"brokers"`
	}{ClusterID: md.Cluster, Controller: md.Controller, Brokers: []broker{}}
	for _, b := range md.Brokers {
		out.Brokers = append(out.Brokers, broker{NodeID: b.NodeID, Host: b.Host, Port: b.Port, Rack: b.Rack})
	}
	writeJSON(w, http.StatusOK, out)
}
