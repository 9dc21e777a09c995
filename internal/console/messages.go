package console

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// message is one record as the console shows it. Key and value are text
// when they are valid UTF-8 and base64 otherwise (KeyBase64, ValueBase64);
// a nil value is a tombstone.
type message struct {
	Partition   int32    `json:"partition"`
	Offset      int64    `json:"offset"`
	Timestamp   int64    `json:"timestamp"` // Unix milliseconds
	Key         *string  `json:"key"`
	KeyBase64   bool     `json:"key_base64,omitempty"`
	Value       *string  `json:"value"`
	ValueBase64 bool     `json:"value_base64,omitempty"`
	Tombstone   bool     `json:"tombstone"`
	Headers     []header `json:"headers"`
}

type header struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Base64 bool   `json:"base64,omitempty"`
}

func toMessage(r *kgo.Record) message {
	m := message{Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli(), Tombstone: r.Value == nil, Headers: []header{}}
	m.Key, m.KeyBase64 = text(r.Key)
	m.Value, m.ValueBase64 = text(r.Value)
	for _, h := range r.Headers {
		v, b64 := text(h.Value)
		hv := ""
		if v != nil {
			hv = *v
		}
		m.Headers = append(m.Headers, header{Key: h.Key, Value: hv, Base64: b64})
	}
	return m
}

func text(b []byte) (*string, bool) {
	if b == nil {
		return nil, false
	}
	if utf8.Valid(b) {
		s := string(b)
		return &s, false
	}
	s := base64.StdEncoding.EncodeToString(b)
	return &s, true
}

// consumeRange reads, per topic and partition, the records from the offset
// in from up to (not including) the one in until, calling fn for each until
// it returns false. It returns when every partition reached its end, fn
// said stop, or ctx ended (ctx's error).
func (c *Console) consumeRange(ctx context.Context, from, until map[string]map[int32]int64, fn func(*kgo.Record) bool) error {
	remaining := map[string]map[int32]int64{}
	parts := map[string]map[int32]kgo.Offset{}
	for t, ps := range from {
		for p, off := range ps {
			end := until[t][p]
			if off >= end {
				continue
			}
			if parts[t] == nil {
				parts[t], remaining[t] = map[int32]kgo.Offset{}, map[int32]int64{}
			}
			parts[t][p] = kgo.NewOffset().At(off)
			remaining[t][p] = end
		}
	}
	if len(parts) == 0 {
		return nil
	}
	opts := append(slices.Clip(c.opts), kgo.ConsumePartitions(parts), kgo.FetchMaxWait(250*time.Millisecond),
		kgo.FetchIsolationLevel(kgo.ReadUncommitted()), kgo.KeepControlRecords())
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	left := 0
	for _, ps := range remaining {
		left += len(ps)
	}
	for left > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		var ferr error
		fetches.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				ferr = err
			}
		})
		if ferr != nil {
			return ferr
		}
		stop := false
		fetches.EachRecord(func(r *kgo.Record) {
			if stop {
				return
			}
			end, ok := remaining[r.Topic][r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			if r.Offset+1 >= end {
				delete(remaining[r.Topic], r.Partition)
				left--
			}
			if r.Attrs.IsControl() {
				return
			}
			if !fn(r) {
				stop = true
			}
		})
		if stop {
			return nil
		}
		// A partition whose last records are aborted or control batches
		// may return nothing more; its high watermark tells.
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			end, ok := remaining[p.Topic][p.Partition]
			if ok && p.HighWatermark >= end && len(p.Records) == 0 && p.Err == nil {
				// Nothing left to read below end in this partition.
				if lso := p.LastStableOffset; lso >= end {
					delete(remaining[p.Topic], p.Partition)
					left--
				}
			}
		})
	}
	return nil
}

// messages answers up to limit records of a topic: the newest (the
// default), from an offset, from a timestamp, or those with a key, which
// is hashed to its partition with Kafka's default partitioner, so only
// that partition is read.
//
// Query: partition (all when absent), mode=newest|offset|timestamp|key,
// offset, timestamp (Unix ms), key, limit (1–1000, default 50).
func (c *Console) messages(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("topic")
	q := r.URL.Query()
	limit := queryInt(q.Get("limit"), 50, 1, 1000)
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	starts, ends, ok := c.topicOffsets(ctx, w, topic)
	if !ok {
		return
	}
	partitions := sortedPartitions(ends)
	if s := q.Get("partition"); s != "" {
		p, err := strconv.ParseInt(s, 10, 32)
		if _, ok := ends[int32(p)]; err != nil || !ok {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("partition: %q is not a partition of %s (it has %d)", s, topic, len(ends)))
			return
		}
		partitions = []int32{int32(p)}
	}
	from := map[int32]int64{}
	var keep func(*kgo.Record) bool
	switch mode := q.Get("mode"); mode {
	case "", "newest":
		// Up to limit from each partition's end; the newest limit of
		// those are kept.
		for _, p := range partitions {
			from[p] = max(starts[p], ends[p]-int64(limit))
		}
	case "offset":
		off, err := strconv.ParseInt(q.Get("offset"), 10, 64)
		if err != nil || off < 0 {
			writeError(w, http.StatusBadRequest, "offset: give a number of at least 0")
			return
		}
		for _, p := range partitions {
			from[p] = max(starts[p], off)
		}
	case "timestamp":
		ms, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "timestamp: give Unix milliseconds")
			return
		}
		after, err := c.adm.ListOffsetsAfterMilli(ctx, ms, topic)
		if err != nil {
			c.kafkaError(w, "list offsets after timestamp", err)
			return
		}
		for _, p := range partitions {
			from[p] = ends[p]
			if o, ok := after.Lookup(topic, p); ok && o.Err == nil && o.Offset >= 0 {
				from[p] = max(starts[p], o.Offset)
			}
		}
	case "key":
		key := []byte(q.Get("key"))
		p := kgo.StickyKeyPartitioner(nil).ForTopic(topic).Partition(&kgo.Record{Key: key}, len(ends))
		partitions = []int32{int32(p)}
		// The newest keyScanLimit records of the key's partition.
		from[int32(p)] = max(starts[int32(p)], ends[int32(p)]-keyScanLimit)
		keep = func(r *kgo.Record) bool { return bytes.Equal(r.Key, key) }
	default:
		writeError(w, http.StatusBadRequest, "mode: want newest, offset, timestamp or key, not "+strconv.Quote(mode))
		return
	}
	var got []*kgo.Record
	newest := q.Get("mode") == "" || q.Get("mode") == "newest" || q.Get("mode") == "key"
	perPartition := map[int32]int{}
	err := c.consumeRange(ctx, map[string]map[int32]int64{topic: from}, map[string]map[int32]int64{topic: ends}, func(rec *kgo.Record) bool {
		if keep != nil && !keep(rec) {
			return true
		}
		if !newest {
			if perPartition[rec.Partition] >= limit {
				return true
			}
			perPartition[rec.Partition]++
		}
		got = append(got, rec)
		if keep != nil && len(got) > limit {
			got = got[1:] // keep the newest
		}
		return true
	})
	if err != nil {
		c.kafkaError(w, "read records", err)
		return
	}
	slices.SortFunc(got, func(a, b *kgo.Record) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
	if newest && len(got) > limit {
		got = got[len(got)-limit:]
	} else if !newest && len(got) > limit {
		got = got[:limit]
	}
	out := struct {
		Partitions []int32   `json:"partitions"`
		Messages   []message `json:"messages"`
	}{Partitions: partitions, Messages: make([]message, 0, len(got))}
	for _, rec := range got {
		out.Messages = append(out.Messages, toMessage(c.shown(rec)))
	}
	writeJSON(w, http.StatusOK, out)
}

// keyScanLimit bounds how far back a key lookup reads in the key's
// partition.
const keyScanLimit = 1_000_000

// offsets returns the start and end offsets of topic's partitions; both
// maps are empty when the topic does not exist.
func (c *Console) offsets(ctx context.Context, topic string) (map[int32]int64, map[int32]int64, error) {
	starts, err := c.adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, nil, err
	}
	ends, err := c.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, nil, err
	}
	s, e := map[int32]int64{}, map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil || o.Topic != topic {
			return
		}
		e[o.Partition] = o.Offset
		s[o.Partition] = 0
		if so, ok := starts.Lookup(topic, o.Partition); ok && so.Err == nil {
			s[o.Partition] = so.Offset
		}
	})
	return s, e, nil
}

// topicOffsets is offsets for a request: on a failure, or a topic that
// does not exist (404), it answers the request and returns ok false.
func (c *Console) topicOffsets(ctx context.Context, w http.ResponseWriter, topic string) (starts, ends map[int32]int64, ok bool) {
	starts, ends, err := c.offsets(ctx, topic)
	if err != nil {
		c.kafkaError(w, "list offsets", err)
		return nil, nil, false
	}
	if len(ends) == 0 {
		writeError(w, http.StatusNotFound, "no topic "+strconv.Quote(topic))
		return nil, nil, false
	}
	return starts, ends, true
}

func sortedPartitions(m map[int32]int64) []int32 {
	ps := make([]int32, 0, len(m))
	for p := range m {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// sse is a server-sent event stream.
type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// newSSE starts a stream. It lifts the server's read and write deadlines,
// if any, for the stream's life, which the client ends: a read deadline
// passing would end the request (net/http's background read of the
// connection fails, and cancels the request's context).
func newSSE(w http.ResponseWriter) (*sse, bool) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{}) // not every writer has them
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, false
	}
	return &sse{w: w, rc: rc}, true
}

func (s *sse) flush() error { return s.rc.Flush() }

func (s *sse) send(event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", event, b); err != nil {
		return err
	}
	return s.flush()
}

// searchProgress is the "progress" and "done" events' data.
type searchProgress struct {
	Scanned int64  `json:"scanned"`
	Matched int64  `json:"matched"`
	Total   int64  `json:"total"`
	Reason  string `json:"reason,omitempty"` // with "done": end, limit, max_scan
}

// search streams the records of a topic whose key or value contains q,
// server-side, as server-sent events: "progress" about four times a
// second ({scanned, matched, total}), "match" for each match (a message),
// and "done" at the end. It reads from the start of each partition, or of
// the partition given, and stops after max_scan records (default
// 1,000,000, at most 100,000,000) or limit matches (default 100, at most
// 10,000), or when the client goes away.
//
// Query: q (required), in=value|key|both (default both), case=true for a
// case-sensitive match, partition, max_scan, limit.
func (c *Console) search(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("topic")
	q := r.URL.Query()
	needle := q.Get("q")
	if needle == "" {
		writeError(w, http.StatusBadRequest, "q: give the text to look for")
		return
	}
	in := q.Get("in")
	if in == "" {
		in = "both"
	}
	if in != "key" && in != "value" && in != "both" {
		writeError(w, http.StatusBadRequest, "in: want key, value or both")
		return
	}
	maxScan := int64(queryInt(q.Get("max_scan"), 1_000_000, 1, 100_000_000))
	limit := int64(queryInt(q.Get("limit"), 100, 1, 10_000))
	fold := q.Get("case") != "true"
	nb := []byte(needle)
	if fold {
		nb = bytes.ToLower(nb)
	}
	match := func(b []byte) bool {
		if fold {
			return containsFold(b, nb)
		}
		return bytes.Contains(b, nb)
	}

	ctx := r.Context()
	octx, cancel := context.WithTimeout(ctx, requestTimeout)
	starts, ends, ok := c.topicOffsets(octx, w, topic)
	cancel()
	if !ok {
		return
	}
	if s := q.Get("partition"); s != "" {
		p, err := strconv.ParseInt(s, 10, 32)
		if _, ok := ends[int32(p)]; err != nil || !ok {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("partition: %q is not a partition of %s", s, topic))
			return
		}
		starts = map[int32]int64{int32(p): starts[int32(p)]}
	}
	var total int64
	for p, s := range starts {
		total += ends[p] - s
	}
	total = min(total, maxScan)
	stream, ok := newSSE(w)
	if !ok {
		return
	}
	prog := searchProgress{Total: total, Reason: "end"}
	last := time.Now()
	var sendErr error
	err := c.consumeRange(ctx, map[string]map[int32]int64{topic: starts}, map[string]map[int32]int64{topic: ends}, func(rec *kgo.Record) bool {
		prog.Scanned++
		rec = c.shown(rec)
		if (in != "key" && match(rec.Value)) || (in != "value" && match(rec.Key)) {
			prog.Matched++
			if sendErr = stream.send("match", toMessage(rec)); sendErr != nil {
				return false
			}
		}
		if now := time.Now(); now.Sub(last) >= 250*time.Millisecond {
			last = now
			if sendErr = stream.send("progress", prog); sendErr != nil {
				return false
			}
		}
		switch {
		case prog.Matched >= limit:
			prog.Reason = "limit"
			return false
		case prog.Scanned >= maxScan:
			prog.Reason = "max_scan"
			return false
		}
		return true
	})
	if sendErr != nil || ctx.Err() != nil {
		return // the client went away
	}
	if err != nil {
		_ = stream.send("error", errorBody{ErrorCode: http.StatusBadGateway, Message: "read records: " + err.Error()})
		return
	}
	_ = stream.send("done", prog)
}

// containsFold reports whether b, lowered, contains lower (already
// lowered), without allocating for ASCII input.
func containsFold(b, lower []byte) bool {
	if len(lower) == 0 {
		return true
	}
	for i := 0; i+len(lower) <= len(b); i++ {
		j := 0
		for ; j < len(lower); j++ {
			c := b[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lower[j] {
				break
			}
		}
		if j == len(lower) {
			return true
		}
	}
	// Non-ASCII letters: fall back to a full lowering.
	if !isASCII(b) {
		return bytes.Contains(bytes.ToLower(b), lower)
	}
	return false
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// tail streams a topic's new records as server-sent "record" events, from
// the end of every partition at the time of the request, until the client
// goes away. A comment line every 15 s keeps proxies from closing an idle
// stream.
func (c *Console) tail(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("topic")
	ctx := r.Context()
	octx, cancel := context.WithTimeout(ctx, requestTimeout)
	_, ends, ok := c.topicOffsets(octx, w, topic)
	cancel()
	if !ok {
		return
	}
	parts := map[int32]kgo.Offset{}
	for p, e := range ends {
		parts[p] = kgo.NewOffset().At(e)
	}
	opts := append(slices.Clip(c.opts), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchMaxWait(500*time.Millisecond))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		c.kafkaError(w, "tail", err)
		return
	}
	defer cl.Close()
	stream, ok := newSSE(w)
	if !ok {
		return
	}
	if err := stream.send("ready", map[string]any{"partitions": len(ends)}); err != nil {
		return
	}
	for {
		pctx, pcancel := context.WithTimeout(ctx, 15*time.Second)
		fetches := cl.PollFetches(pctx)
		pcancel()
		if ctx.Err() != nil {
			return
		}
		var sendErr error
		fetches.EachRecord(func(rec *kgo.Record) {
			if sendErr == nil {
				sendErr = stream.send("record", toMessage(c.shown(rec)))
			}
		})
		if sendErr != nil {
			return
		}
		if fetches.NumRecords() == 0 {
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || stream.flush() != nil {
				return
			}
		}
	}
}
