package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/procs"
)

// The failover measurement: three workers share a group, the one running
// the connector is killed with SIGKILL under a steady load, and the
// benchmark times how long the connector takes to run, and to stream,
// on another worker, and checks that no event is lost.
const (
	failoverName    = "failover"
	failoverPrefix  = "failover"
	failoverTopic   = failoverPrefix + ".public." + tableName
	failoverSlot    = "bench_failover"
	failoverGroup   = "bench-failover"
	failoverWorkers = 3
	failoverBatch   = 100
	failoverPeriod  = 50 * time.Millisecond
	failoverBefore  = 2 * time.Second            // writing before the kill
	failoverAfter   = 5 * time.Second            // writing after the connector streams again
	failoverLimit   = 2 * time.Minute            // kill → reassigned and streaming, or the run fails
	failoverDrain   = time.Minute                // writer stopped → every id in Kafka, or events are lost
	statusPoll      = 25 * time.Millisecond      // how often the survivors' status is read
	failoverTimeout = 2 * time.Second            // per REST request
	failoverReady   = 30 * time.Second           // worker start → GET /health answers 200
	failoverRunning = 60 * time.Second           // POST /connectors → task RUNNING
	failoverWarmup  = 30 * time.Second           // writer start → its first event in Kafka
	failoverGrace   = 15 * time.Second           // SIGTERM → exit, for the survivors
	slotBusyLogLine = "replication slot is busy" // the task's warning while it waits for the slot
)

// The settings that govern a failover. The benchmark sets none of them:
// these are pgmotion's defaults (internal/workerconfig, internal/options);
// the worker group heartbeats every session.timeout.ms/3
// (internal/connect/group.go).
const (
	sessionTimeout    = 10 * time.Second
	heartbeatInterval = sessionTimeout / 3
	failoverSettings  = "session.timeout.ms=10000 (heartbeats every 3.33 s), slot.retry.delay.ms=10000, slot.max.retries=6, " +
		"offset.flush.interval.ms=1000: pgmotion's defaults, not set by the benchmark"
)

// failoverResult is the outcome of the failover measurement.
type failoverResult struct {
	via        string        // the worker the connector was created through
	owner      string        // worker id of the killed owner
	next       string        // worker id of the survivor that took over
	running    time.Duration // POST /connectors → task RUNNING
	reassigned time.Duration // kill → a survivor's status shows the task RUNNING elsewhere
	streaming  time.Duration // kill → the first event of a transaction begun after the kill in Kafka
	complete   time.Duration // writer stopped → an event for every id written in Kafka
	// sinceJoin is the time from the task RUNNING on the owner, just after
	// the rebalance that gave it the connector, to the kill: when shorter
	// than a heartbeat interval, that rebalance was the owner's last
	// contact with the group, which is when its session timer started.
	sinceJoin  time.Duration
	writer     writerResult
	firstAfter int64 // the first id written after the kill
	distinct   int64 // ids written that have an event in Kafka
	records    int64 // events in Kafka, duplicates included
	timeline   []statusChange
	slotBusy   int // slot-busy warnings in the new owner's log
	notes      []string
	err        error
}

// statusChange is the connector's status as a survivor reported it, at a
// time since the kill.
type statusChange struct {
	at   time.Duration
	text string
}

func (r *failoverResult) lost() int64       { return r.writer.rows - r.distinct }
func (r *failoverResult) duplicates() int64 { return r.records - r.distinct }

// failed reports whether the measurement failed: an error, or an event
// lost.
func (r *failoverResult) failed() bool {
	return r.err != nil || (r.writer.rows > 0 && r.lost() != 0)
}

// failover runs the failover measurement.
func (e *env) failover(ctx context.Context) *failoverResult {
	res := &failoverResult{}
	res.err = e.runFailover(ctx, res)
	return res
}

func (e *env) runFailover(ctx context.Context, res *failoverResult) error {
	dir, done, err := e.freshRun(ctx, "failover", failoverSlot)
	if err != nil {
		return err
	}
	defer done()

	b, err := e.startBroker(ctx, filepath.Join(dir, "broker"))
	if err != nil {
		return err
	}
	defer b.Stop(failoverGrace)
	e.noteCommand("pgmotion broker", shellQuote(b.argv))

	e.logf("failover: starting %d workers in group %s", failoverWorkers, failoverGroup)
	var workers []*restWorker
	defer func() {
		// Survivors stop at once, all together; the killed one is gone.
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(func() { w.Stop(failoverGrace) })
		}
		wg.Wait()
	}()
	for i := range failoverWorkers {
		w, err := e.startRESTWorker(dir, b.addr, i+1)
		if err != nil {
			return err
		}
		workers = append(workers, w)
	}
	e.noteCommand(fmt.Sprintf("pgmotion connect, failover (%d workers, each its own port and data dir)", failoverWorkers), shellQuote(workers[0].argv))
	for _, w := range workers {
		if err := w.waitHealthy(ctx, failoverReady); err != nil {
			return err
		}
	}

	c, err := newIDConsumer(b.addr, failoverTopic)
	if err != nil {
		return err
	}
	defer c.close()
	cctx, stopConsumer := context.WithCancel(ctx)
	var cwg sync.WaitGroup
	cwg.Go(func() { c.run(cctx) })
	defer func() { stopConsumer(); cwg.Wait() }()

	// Any worker takes the request; the group decides which one runs it.
	body, err := json.Marshal(map[string]any{"name": failoverName, "config": e.pgConfig(failoverPrefix, failoverSlot)})
	if err != nil {
		return err
	}
	via := workers[len(workers)-1]
	res.via = via.id
	e.noteCommand("failover connector", shellQuote([]string{"curl", "-X", "POST", "-H", "Content-Type: application/json", "http://" + via.id + "/connectors", "-d", string(body)}))
	created := time.Now()
	code, out, err := via.do(ctx, http.MethodPost, "/connectors", body)
	switch {
	case err != nil:
		return fmt.Errorf("POST /connectors to %s: %w", via.id, err)
	case code != http.StatusCreated:
		return fmt.Errorf("POST /connectors to %s: %d %s, want 201", via.id, code, strings.TrimSpace(string(out)))
	}
	st, err := via.waitTaskRunning(ctx, failoverRunning)
	if err != nil {
		return err
	}
	assigned := time.Now()
	res.running = assigned.Sub(created)
	_, res.owner = st.task()
	var victim *restWorker
	var survivors []*restWorker
	for _, w := range workers {
		if w.id == res.owner {
			victim = w
		} else {
			survivors = append(survivors, w)
		}
	}
	if victim == nil {
		return fmt.Errorf("the task runs on %q, which is none of the workers started", res.owner)
	}
	e.logf("failover: task RUNNING on %s after %s; writing %d rows every %s", res.owner, secs(res.running), failoverBatch, failoverPeriod)

	// The writer notes the first transaction it begins after the kill:
	// that event's arrival is "streaming again".
	var killedAt atomic.Int64
	stopWrite := make(chan struct{})
	writerDone := make(chan struct{})
	var werr error
	go func() {
		defer close(writerDone)
		res.writer, werr = writeUntil(ctx, e.dsn, 1, failoverBatch, failoverPeriod, stopWrite, func(lo int64) {
			if k := killedAt.Load(); k != 0 && c.firstAfter.Load() == 0 && time.Now().UnixNano() >= k {
				c.firstAfter.Store(lo)
			}
		})
	}()
	stopWriter := sync.OnceFunc(func() { close(stopWrite); <-writerDone })
	defer stopWriter()
	// pause sleeps d, failing early if the writer or a worker did.
	pause := func(d time.Duration, ws ...*restWorker) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-writerDone:
			if werr != nil {
				return werr
			}
			return fmt.Errorf("the writer stopped early")
		case <-time.After(d):
		}
		for _, w := range ws {
			if w.Exited() {
				return w.failure("during the failover run")
			}
		}
		return nil
	}

	// Streaming must work before the kill.
	writing := time.Now()
	for c.distinct.Load() == 0 || time.Since(writing) < failoverBefore {
		if time.Since(writing) > failoverWarmup {
			return victim.failure(fmt.Sprintf("no event of the writer in Kafka within %s", failoverWarmup))
		}
		if err := pause(10*time.Millisecond, workers...); err != nil {
			return err
		}
	}

	killed := time.Now()
	killedAt.Store(killed.UnixNano())
	res.sinceJoin = killed.Sub(assigned)
	if err := syscall.Kill(-victim.Pid(), syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill the owner %s (pid %d): %w", victim.id, victim.Pid(), err)
	}
	e.logf("failover: killed the owner %s (pid %d) with SIGKILL after %s events", victim.id, victim.Pid(), commas(c.distinct.Load()))
	last := st.describe()
	res.timeline = append(res.timeline, statusChange{0, last})
	for res.reassigned == 0 || res.streaming == 0 {
		for i, s := range survivors {
			st, err := s.status(ctx)
			if err != nil {
				continue // a survivor busy rebalancing may be slow to answer
			}
			at := time.Since(killed)
			if d := st.describe(); i == 0 && d != last {
				res.timeline = append(res.timeline, statusChange{at, d})
				last = d
			}
			state, wid := st.task()
			switch {
			case state == "FAILED" && wid != res.owner:
				return fmt.Errorf("the task FAILED on %s after the kill: %s", wid, st.trace())
			case res.reassigned == 0 && state == "RUNNING" && wid != "" && wid != res.owner:
				res.reassigned, res.next = at, wid
				e.logf("failover: task RUNNING on %s %s after the kill", wid, secs(at))
			}
		}
		if r := c.resumed.Load(); r != 0 && res.streaming == 0 {
			res.streaming = time.Unix(0, r).Sub(killed)
			e.logf("failover: streaming again %s after the kill", secs(res.streaming))
		}
		if time.Since(killed) > failoverLimit {
			return fmt.Errorf("%s after the kill: reassigned %s, streaming again %s; the survivors' logs are %s",
				failoverLimit, orNot(res.reassigned), orNot(res.streaming), strings.Join(logPaths(survivors), ", "))
		}
		if err := pause(statusPoll, survivors...); err != nil {
			return err
		}
	}

	e.logf("failover: writing %s more", failoverAfter)
	if err := pause(failoverAfter, survivors...); err != nil {
		return err
	}
	stopWriter()
	if werr != nil {
		return werr
	}
	stopped := time.Now()
	for c.distinct.Load() < res.writer.rows && time.Since(stopped) < failoverDrain {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	res.complete = time.Since(stopped)
	// Give late duplicates a moment to show.
	time.Sleep(time.Second)
	stopConsumer()
	cwg.Wait()
	res.distinct, res.records = c.counts(res.writer.rows)
	res.firstAfter = c.firstAfter.Load()
	e.logf("failover: %s rows written, %s with an event in Kafka, %s events", commas(res.writer.rows), commas(res.distinct), commas(res.records))

	if lost := res.lost(); lost > 0 {
		res.notes = append(res.notes, fmt.Sprintf("%s of %s rows written have no event in Kafka %s after the writer stopped", commas(lost), commas(res.writer.rows), failoverDrain))
	}
	if n := c.badKeys.Load(); n > 0 {
		res.notes = append(res.notes, fmt.Sprintf("%s events had no readable id in their key and are not counted", commas(n)))
	}
	if res.writer.behind > 0 {
		res.notes = append(res.notes, fmt.Sprintf("the writer fell behind its schedule by more than one period %d times", res.writer.behind))
	}
	for _, w := range survivors {
		if w.id == res.next {
			res.slotBusy = w.logCount(slotBusyLogLine)
		}
	}
	if st, err := survivors[0].status(ctx); err == nil {
		if state, wid := st.task(); state != "RUNNING" || wid != res.next {
			res.notes = append(res.notes, "at the end the status read "+st.describe())
		}
	}
	for _, w := range survivors {
		if !w.Stop(failoverGrace) {
			res.notes = append(res.notes, fmt.Sprintf("worker %s did not exit within %s of SIGTERM and was killed", w.id, failoverGrace))
		}
	}
	return nil
}

func orNot(d time.Duration) string {
	if d == 0 {
		return "not yet"
	}
	return "after " + secs(d)
}

// restWorker is a `pgmotion connect` process serving the REST API, with
// no connector file: connectors come through the API.
type restWorker struct {
	*procs.Proc
	id   string // 127.0.0.1:PORT, its --rest address and worker id
	argv []string
}

var restClient = &http.Client{Timeout: failoverTimeout}

// startRESTWorker starts worker n of the failover group on a free port
// with a data directory of its own.
func (e *env) startRESTWorker(dir, brokerAddr string, n int) (*restWorker, error) {
	port, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	id := fmt.Sprintf("127.0.0.1:%d", port)
	argv := append(e.connectArgs(brokerAddr), "--rest", id,
		"--data-dir", filepath.Join(dir, fmt.Sprintf("worker%d", n)), "--group-id", failoverGroup)
	p, err := e.procs.Start(fmt.Sprintf("pgmotion connect %s", id), exec.Command(argv[0], argv[1:]...), filepath.Join(dir, fmt.Sprintf("worker%d.log", n)))
	if err != nil {
		return nil, err
	}
	return &restWorker{Proc: p, id: id, argv: argv}, nil
}

// failure describes a worker that exited or failed, with its last log
// lines.
func (w *restWorker) failure(what string) error {
	return fmt.Errorf("%s: pgmotion connect %s %s; last lines of %s:\n%s", what, w.id, w.DescribeExit(), w.LogPath(), w.LogTail(20))
}

// do sends a request to the worker's REST API.
func (w *restWorker) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+w.id+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := restClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, out, err
}

// waitHealthy waits until GET /health answers 200.
func (w *restWorker) waitHealthy(ctx context.Context, limit time.Duration) error {
	err := w.Await(ctx, limit, 50*time.Millisecond, func() bool {
		code, _, err := w.do(ctx, http.MethodGet, "/health", nil)
		return err == nil && code == http.StatusOK
	})
	switch {
	case errors.Is(err, procs.ErrExited):
		return w.failure("before GET /health answered")
	case errors.Is(err, procs.ErrTimeout):
		return w.failure(fmt.Sprintf("GET /health did not answer 200 within %s", limit))
	}
	return err
}

// connectorStatus is the body of GET /connectors/NAME/status.
type connectorStatus struct {
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
	} `json:"connector"`
	Tasks []struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	} `json:"tasks"`
}

// task returns task 0's state and worker, or "".
func (s connectorStatus) task() (state, worker string) {
	if len(s.Tasks) == 0 {
		return "", ""
	}
	return s.Tasks[0].State, s.Tasks[0].WorkerID
}

func (s connectorStatus) trace() string {
	if len(s.Tasks) == 0 {
		return ""
	}
	return firstLine(s.Tasks[0].Trace)
}

// describe renders the status on one line: "task RUNNING on
// 127.0.0.1:1234", with the connector's when it differs.
func (s connectorStatus) describe() string {
	state, wid := s.task()
	d := "no task"
	if state != "" {
		d = "task " + state + " on " + wid
	}
	if s.Connector.State != state || s.Connector.WorkerID != wid {
		d += " (connector " + s.Connector.State + " on " + s.Connector.WorkerID + ")"
	}
	return d
}

// status reads the failover connector's status.
func (w *restWorker) status(ctx context.Context) (connectorStatus, error) {
	var st connectorStatus
	code, out, err := w.do(ctx, http.MethodGet, "/connectors/"+failoverName+"/status", nil)
	if err != nil {
		return st, err
	}
	if code != http.StatusOK {
		return st, fmt.Errorf("GET /connectors/%s/status: %d %s", failoverName, code, strings.TrimSpace(string(out)))
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return st, fmt.Errorf("GET /connectors/%s/status: %w: %s", failoverName, err, out)
	}
	return st, nil
}

// waitTaskRunning waits until the status shows task 0 RUNNING on some
// worker.
func (w *restWorker) waitTaskRunning(ctx context.Context, limit time.Duration) (connectorStatus, error) {
	deadline := time.Now().Add(limit)
	for {
		st, err := w.status(ctx)
		state, wid := st.task()
		switch {
		case err == nil && state == "RUNNING" && wid != "":
			return st, nil
		case err == nil && state == "FAILED":
			return st, fmt.Errorf("the connector's task FAILED on %s: %s", wid, st.trace())
		case w.Exited():
			return st, w.failure("before the connector ran")
		case time.Now().After(deadline):
			return st, fmt.Errorf("the task was not RUNNING within %s of POST /connectors (last status: %s, %v); the workers' logs are in %s", limit, st.describe(), err, filepath.Dir(w.LogPath()))
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logCount counts the lines of the worker's log that contain s.
func (w *restWorker) logCount(s string) int {
	b, err := os.ReadFile(w.LogPath())
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte(s))
}

func logPaths(ws []*restWorker) []string {
	var ps []string
	for _, w := range ws {
		ps = append(ps, w.LogPath())
	}
	return ps
}

// idConsumer reads a topic from the start and counts its events by the
// id in their key. It is owned by the goroutine running run, except for
// the atomic fields and counts.
type idConsumer struct {
	cl *kgo.Client

	firstAfter atomic.Int64 // the first id written after the kill; 0 until then
	resumed    atomic.Int64 // UnixNano when an id ≥ firstAfter first arrived; 0 until then
	records    atomic.Int64 // every event received
	distinct   atomic.Int64 // distinct ids received
	badKeys    atomic.Int64 // events whose key held no id

	mu   sync.Mutex
	seen map[int64]int32 // id → events received
}

func newIDConsumer(addr, topic string) (*idConsumer, error) {
	cl, err := newTopicConsumer(addr, topic, "pgmotion-bench-failover")
	if err != nil {
		return nil, err
	}
	return &idConsumer{cl: cl, seen: map[int64]int32{}}, nil
}

func (c *idConsumer) close() { c.cl.Close() }

func (c *idConsumer) run(ctx context.Context) {
	for ctx.Err() == nil {
		fs := c.cl.PollFetches(ctx)
		now := time.Now().UnixNano()
		// The writer sets firstAfter before it sends that transaction, so
		// it is set before any of its events can be in this fetch.
		after := c.firstAfter.Load()
		c.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			c.records.Add(1)
			id, ok := keyID(r.Key)
			if !ok {
				c.badKeys.Add(1)
				return
			}
			if c.seen[id]++; c.seen[id] == 1 {
				c.distinct.Add(1)
			}
			if after > 0 && id >= after && c.resumed.Load() == 0 {
				c.resumed.Store(now)
			}
		})
		c.mu.Unlock()
	}
}

// counts returns how many of the ids 1..rows have an event, and how many
// events there are in all.
func (c *idConsumer) counts(rows int64) (distinct, records int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.seen {
		if id >= 1 && id <= rows {
			distinct++
		}
	}
	return distinct, c.records.Load()
}

var keyIDField = []byte(`"id"`)

// keyID returns the id in an event key, {"schema":...,"payload":{"id":N}}
// or {"id":N}.
func keyID(k []byte) (int64, bool) {
	if i := indexKey(k, keyPayload); i >= 0 {
		k = k[i:]
	}
	i := indexKey(k, keyIDField)
	if i < 0 {
		return 0, false
	}
	return parseInt(k[i:])
}
