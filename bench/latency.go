package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/procs"
)

// The latency workload: batch rows in one transaction every period, which
// is 10,000 rows a second.
const (
	latencyBatch  = 100
	latencyPeriod = 10 * time.Millisecond
	latencySlot   = "bench_live"
)

// latencyResult is the outcome of the live-streaming measurement.
type latencyResult struct {
	duration time.Duration
	writer   writerResult
	startup  time.Duration // worker start → first event in the topic
	received int64         // events of the writer's transactions received
	stats    latencyStats
	drain    time.Duration // writer's last commit → last event received
	rate     float64       // events received per second of the window
	avgValue int64         // average record value size, bytes
	coarse   int64         // events with ts_ms only (millisecond precision)
	unparsed int64         // events whose commit time was not found
	worker   procs.Sample
	broker   procs.Sample
	notes    []string
	err      error

	// The same latency split at the Kafka record's timestamp, which the
	// worker's producer sets when it hands the record over (ms precision):
	// commit → produce is the worker's part, produce → receive is the
	// broker's and the consumer's.
	toProduce, fromProduce latencyStats
}

// latency streams a steady write load live through pgmotion and measures,
// for every event, the time from its transaction's commit to its arrival
// at a consumer.
func (e *env) latency(ctx context.Context, d time.Duration) *latencyResult {
	res := &latencyResult{duration: d}
	res.err = e.runLatency(ctx, res)
	return res
}

func (e *env) runLatency(ctx context.Context, res *latencyResult) error {
	dir, done, err := e.freshRun(ctx, "latency", latencySlot)
	if err != nil {
		return err
	}
	defer done()

	b, err := e.startBroker(ctx, filepath.Join(dir, "broker"))
	if err != nil {
		return err
	}
	defer b.Stop(15 * time.Second)
	ow, err := newOffsetWatcher(b.addr)
	if err != nil {
		return err
	}
	defer ow.close()
	c, err := newConsumer(b.addr)
	if err != nil {
		return err
	}
	defer c.close()
	cctx, stopConsumer := context.WithCancel(ctx)
	var cwg sync.WaitGroup
	cwg.Go(func() { c.run(cctx) })
	defer func() { stopConsumer(); cwg.Wait() }()

	// One row is waiting when the worker starts: the time until its event
	// is in the topic is the worker's start-up time.
	if _, err := e.db.insert(ctx, 0, 0, 1); err != nil {
		return err
	}
	e.logf("latency: starting pgmotion on a fresh slot")
	w, err := e.startWorker(dir, b, latencySlot)
	if err != nil {
		return err
	}
	defer w.Stop(15 * time.Second)
	for {
		n, err := ow.events(ctx)
		if err == nil && n > 0 {
			res.startup = time.Since(w.Started())
			break
		}
		if w.Exited() {
			return w.failure("before the first event arrived")
		}
		if time.Since(w.Started()) > 2*time.Minute {
			return w.failure("no event within 2 minutes of starting")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	// Let the consumer see the topic too before the clock starts.
	for c.total.Load() == 0 {
		if time.Since(w.Started()) > 3*time.Minute {
			return fmt.Errorf("the consumer got no event within a minute of it reaching the topic")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	e.logf("latency: first event after %s; writing %d rows every %s for %s", secs(res.startup), latencyBatch, latencyPeriod, res.duration)

	// Only events committed from now on count.
	c.from.Store(time.Now().UnixMicro())
	res.writer, err = writeSteady(ctx, e.dsn, 1, latencyBatch, latencyPeriod, res.duration)
	if err != nil {
		return err
	}

	// Wait for the stragglers.
	deadline := time.Now().Add(30 * time.Second)
	for c.counted.Load() < res.writer.rows && time.Now().Before(deadline) && !w.Exited() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	// Read CPU and memory before shutdown work, then give duplicates a
	// moment to show.
	if s, err := procs.Measure(w.Pid()); err == nil {
		res.worker = s
	}
	if s, err := procs.Measure(b.Pid()); err == nil {
		res.broker = s
	}
	if w.Exited() {
		return w.failure(fmt.Sprintf("during the run, after %s of %s events", commas(c.counted.Load()), commas(res.writer.rows)))
	}
	time.Sleep(500 * time.Millisecond)
	stopConsumer()
	cwg.Wait()

	lat, toProduce, fromProduce, last, coarse, unparsed := c.results()
	res.received, res.coarse, res.unparsed = int64(len(lat)), coarse, unparsed
	if res.received > 0 {
		res.avgValue = c.bytes.Load() / res.received
	}
	res.stats = summarise(lat)
	res.toProduce, res.fromProduce = summarise(toProduce), summarise(fromProduce)
	if !last.IsZero() {
		res.drain = last.Sub(res.writer.lastCommit)
		res.rate = rate(res.received, last.Sub(res.writer.start))
	}
	switch missing := res.writer.rows - res.received; {
	case missing > 0:
		res.notes = append(res.notes, fmt.Sprintf("%s of %s events did not arrive within 30 s of the last commit", commas(missing), commas(res.writer.rows)))
	case missing < 0:
		res.notes = append(res.notes, fmt.Sprintf("%s more events than rows written (duplicates)", commas(-missing)))
	}
	if res.writer.behind > 0 {
		res.notes = append(res.notes, fmt.Sprintf("the writer fell behind its schedule by more than one period %d times: the server or CPU was saturated", res.writer.behind))
	}
	if coarse > 0 {
		res.notes = append(res.notes, fmt.Sprintf("%s events carried no source.ts_us; their latency uses source.ts_ms (millisecond precision)", commas(coarse)))
	}
	if unparsed > 0 {
		res.notes = append(res.notes, fmt.Sprintf("%s events had no readable source.ts_us or ts_ms and are not counted", commas(unparsed)))
	}
	if !w.Stop(15 * time.Second) {
		res.notes = append(res.notes, "the worker did not exit within 15 s of SIGTERM and was killed")
	}
	return nil
}

// consumer reads the events topic from the start and records, for each
// event committed at or after from, its latency: the time it was received
// minus its commit time. It is owned by the goroutine running run, except
// for the atomic counters.
type consumer struct {
	cl *kgo.Client

	from    atomic.Int64 // µs since epoch; 0 counts nothing
	total   atomic.Int64 // every record received
	counted atomic.Int64 // records committed at or after from
	bytes   atomic.Int64 // value bytes of the counted records

	mu          sync.Mutex
	lat         []int64 // µs, commit → received
	toProduce   []int64 // µs, commit → record timestamp
	fromProduce []int64 // µs, record timestamp → received
	last        time.Time
	coarse      int64
	unparsed    int64
}

func newConsumer(addr string) (*consumer, error) {
	cl, err := newTopicConsumer(addr, topic, "pgmotion-bench-consumer")
	if err != nil {
		return nil, err
	}
	return &consumer{cl: cl, lat: make([]int64, 0, 1<<18), toProduce: make([]int64, 0, 1<<18), fromProduce: make([]int64, 0, 1<<18)}, nil
}

// newTopicConsumer returns a client that reads topic from the start,
// without a group.
func newTopicConsumer(addr, topic, clientID string) (*kgo.Client, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ClientID(clientID),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// The topic appears only with the first event; look for it often.
		kgo.MetadataMinAge(100*time.Millisecond),
		kgo.MetadataMaxAge(time.Second),
		kgo.FetchMaxWait(time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("kafka consumer for %s: %w", addr, err)
	}
	return cl, nil
}

func (c *consumer) close() { c.cl.Close() }

func (c *consumer) run(ctx context.Context) {
	for ctx.Err() == nil {
		fs := c.cl.PollFetches(ctx)
		now := time.Now()
		nowUS := now.UnixMicro()
		from := c.from.Load()
		c.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			c.total.Add(1)
			if from == 0 {
				return
			}
			ts, coarse, ok := commitMicros(r.Value)
			switch {
			case !ok:
				c.unparsed++
				return
			case ts < from:
				return // warm-up
			case coarse:
				c.coarse++
			}
			c.lat = append(c.lat, nowUS-ts)
			c.bytes.Add(int64(len(r.Value)))
			produced := r.Timestamp.UnixMicro()
			c.toProduce = append(c.toProduce, produced-ts)
			c.fromProduce = append(c.fromProduce, nowUS-produced)
			c.last = now
			c.counted.Add(1)
		})
		c.mu.Unlock()
	}
}

// results returns the latencies in µs (whole, and split at the record
// timestamp), the time the last counted event arrived, and the events
// counted with ts_ms only and those not counted.
func (c *consumer) results() (lat, toProduce, fromProduce []int64, last time.Time, coarse, unparsed int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lat, c.toProduce, c.fromProduce, c.last, c.coarse, c.unparsed
}

var (
	keyPayload = []byte(`"payload"`)
	keySource  = []byte(`"source"`)
	keyTsUs    = []byte(`"ts_us"`)
	keyTsMs    = []byte(`"ts_ms"`)
)

// commitMicros finds the commit time in a Debezium JSON event: the number
// in payload.source.ts_us, or payload.source.ts_ms×1000 (coarse) for
// encoders before Debezium 2.6. It scans the bytes instead of decoding
// ~2 KB of JSON per event. The schema section names "source" and "ts_us"
// only as values ("field":"source"), so the first "source" key after
// "payload" is the source block; that block holds no nested object, so it
// ends at the first '}'. Values without a schema section (no "payload")
// are scanned from the start.
func commitMicros(v []byte) (us int64, coarse, ok bool) {
	if i := indexKey(v, keyPayload); i >= 0 {
		v = v[i:]
	}
	i := indexKey(v, keySource)
	if i < 0 {
		return 0, false, false
	}
	src := skipSpace(v[i:])
	if len(src) == 0 || src[0] != '{' {
		return 0, false, false
	}
	if end := bytes.IndexByte(src, '}'); end >= 0 {
		src = src[:end]
	}
	if j := indexKey(src, keyTsUs); j >= 0 {
		if n, ok := parseInt(src[j:]); ok {
			return n, false, true
		}
	}
	if j := indexKey(src, keyTsMs); j >= 0 {
		if n, ok := parseInt(src[j:]); ok {
			return n * 1000, true, true
		}
	}
	return 0, false, false
}

// indexKey returns the index just past `key:` (with optional white space
// around the colon) in b, or -1: key followed by anything else, such as a
// comma when it is a value, does not match.
func indexKey(b, key []byte) int {
	off := 0
	for {
		i := bytes.Index(b[off:], key)
		if i < 0 {
			return -1
		}
		rest := skipSpace(b[off+i+len(key):])
		if len(rest) > 0 && rest[0] == ':' {
			rest = skipSpace(rest[1:])
			return len(b) - len(rest)
		}
		off += i + len(key)
	}
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// parseInt parses the non-negative decimal integer at the start of b.
func parseInt(b []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(b) && i < 19 && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	return n, i > 0
}

// freshRun prepares a live run: its directory, an empty table and a new
// slot. done drops the slot.
func (e *env) freshRun(ctx context.Context, name, slot string) (dir string, done func(), err error) {
	dir = filepath.Join(e.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	if err := e.db.resetTable(ctx); err != nil {
		return "", nil, err
	}
	if err := e.db.createSlot(ctx, slot); err != nil {
		return "", nil, err
	}
	return dir, func() {
		if err := e.db.dropSlot(context.WithoutCancel(ctx), slot); err != nil {
			e.logf("warning: %v", err)
		}
	}, nil
}
