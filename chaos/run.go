package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmotion/pgmotion/internal/pglocal"
	"github.com/pgmotion/pgmotion/internal/procs"
)

// mode is a delivery guarantee a run checks.
type mode struct {
	name        string
	exactlyOnce bool
}

var (
	atLeastOnce = mode{"at-least-once", false}
	exactlyOnce = mode{"exactly-once", true}
)

// outcome is one fault's result.
type outcome struct {
	fault     fault
	recovered bool
	recovery  time.Duration // fault healed → connector and task RUNNING and events flowing again
	err       string
}

// result is one mode's run.
type result struct {
	mode      mode
	planned   int
	outcomes  []outcome
	load      loadStats
	verdict   verdict
	checked   bool
	catchUp   time.Duration
	elapsed   time.Duration
	notes     []string // why the run stopped early, unexpected exits, …
	setupErr  error    // the run could not start: nothing was checked
	checkErr  error
	eosRefuse string // the worker's refusal of the exactly-once settings
}

func (r *result) notef(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// failures lists what failed the run.
func (r *result) failures() []string {
	var fs []string
	if r.eosRefuse != "" {
		fs = append(fs, "the worker rejected the exactly-once settings: "+r.eosRefuse)
	} else if r.setupErr != nil {
		fs = append(fs, "setup: "+r.setupErr.Error())
	}
	if r.checkErr != nil {
		fs = append(fs, "check: "+r.checkErr.Error())
	}
	if n := len(r.outcomes); n < r.planned && r.setupErr == nil {
		fs = append(fs, fmt.Sprintf("only %d of %d faults were injected", n, r.planned))
	}
	for _, o := range r.outcomes {
		if !o.recovered {
			fs = append(fs, fmt.Sprintf("no recovery from %s: %s", o.fault, o.err))
		}
	}
	if r.checked {
		fs = append(fs, r.verdict.failures(r.mode.exactlyOnce)...)
	}
	return fs
}

// env is what every mode's run shares: the options, the PostgreSQL
// server and the child processes.
type env struct {
	opts  options
	pg    *pglocal.Server
	procs *procs.Set
	dir   string
	logf  func(format string, args ...any)
}

// runMode runs the load and faults against a fresh database, broker and
// pair of workers, then checks the topic against the table.
func (e *env) runMode(ctx context.Context, m mode, faults []fault, deadline time.Time) *result {
	res := &result{mode: m, planned: len(faults)}
	start := time.Now()
	defer func() { res.elapsed = time.Since(start) }()
	dir := filepath.Join(e.dir, m.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		res.setupErr = err
		return res
	}
	dbname := "chaos_" + strings.ReplaceAll(m.name, "-", "_")
	if err := e.createDatabase(ctx, dbname); err != nil {
		res.setupErr = err
		return res
	}
	dsn := e.pg.DSN(dbname)
	c, err := e.startCluster(ctx, dir, m)
	if err != nil {
		res.setupErr = err
		if m.exactlyOnce && c != nil && c.workers[0] != nil && c.workers[0].Exited() {
			res.eosRefuse = fmt.Sprintf("worker 1 %s at start with %s=%s; its log:\n%s", c.workers[0].DescribeExit(), propEOSWorker, valueEOSWorker, c.workers[0].LogTail(5))
		}
		if c != nil {
			c.stop()
		}
		return res
	}
	defer c.stop()
	if err := c.createConnector(ctx, c.connectorConfig(dbname, dbname)); err != nil {
		res.setupErr = err
		if m.exactlyOnce && strings.Contains(err.Error(), "refused") && strings.Contains(strings.ToLower(err.Error()), "exactly") {
			res.eosRefuse = err.Error()
		}
		return res
	}
	if err := c.waitRunning(ctx, startLimit); err != nil {
		res.setupErr = err
		return res
	}
	e.logf("%s: connector RUNNING; starting the load", m.name)

	w, err := newWatcher(c.kafkaProxy.addr(), m.exactlyOnce)
	if err != nil {
		res.setupErr = err
		return res
	}
	defer w.close()
	var bg sync.WaitGroup
	wctx, stopWatch := context.WithCancel(ctx)
	defer func() { stopWatch(); bg.Wait() }()
	bg.Go(func() { w.run(wctx) })
	stopLoad := make(chan struct{})
	var lwg sync.WaitGroup
	lwg.Go(func() { load(ctx, stopLoad, dsn, e.opts.seed, e.opts.keys, e.opts.maxOps, e.opts.period, &res.load) })
	stopLoader := sync.OnceFunc(func() { close(stopLoad); lwg.Wait() })
	defer stopLoader()

	// Events must flow before the first fault.
	if rec, err := c.waitRecovered(ctx, w, time.Now(), startLimit); err != nil {
		res.setupErr = fmt.Errorf("no event within %s of starting the load: %w", startLimit, err)
		return res
	} else {
		e.logf("%s: events flowing %s after the load started", m.name, rec.Round(time.Millisecond))
	}
	if n := w.plain.Load(); m.exactlyOnce && n > 0 {
		res.notef("the worker accepted %s=%s and the connector %s=%s, but its first %d events were written outside a producer transaction: exactly-once is not in effect",
			propEOSWorker, valueEOSWorker, propEOSConnector, valueEOSConnector, n)
		e.logf("%s: %s", m.name, res.notes[len(res.notes)-1])
	}

	for i, f := range faults {
		if ctx.Err() != nil {
			res.notef("interrupted after %d faults", i)
			break
		}
		if time.Now().After(deadline) {
			res.notef("the -duration cap ended the faults after %d of %d", i, len(faults))
			break
		}
		o := e.inject(ctx, c, w, f)
		res.outcomes = append(res.outcomes, o)
		state := "recovered in " + o.recovery.Round(time.Millisecond).String()
		if !o.recovered {
			state = "NOT RECOVERED: " + o.err
		}
		e.logf("%s: fault %d/%d: %s: %s", m.name, i+1, len(faults), f, state)
		if !o.recovered {
			// As an operator would: restart what failed, then go on if
			// that brings it back.
			c.restartFailed(ctx)
			if _, err := c.waitRecovered(ctx, w, time.Now(), e.opts.recoveryTimeout); err != nil {
				res.notef("stopped injecting after fault %d: still not recovered after a REST restart of the failed instances: %v", i+1, err)
				break
			}
			res.notef("fault %d (%s) recovered only after a REST restart of the failed instances", i+1, f.kind)
		}
		c.noteUnplanned(res)
		if err := waitCtx(ctx, f.settle); err != nil {
			break
		}
	}
	c.noteUnplanned(res)

	// The end: stop the load, wait for the stream to catch up, check.
	stopLoader()
	e.logf("%s: load stopped after %d transactions (%d changes, %d failed attempts); waiting for the stream to catch up",
		m.name, res.load.txns.Load(), res.load.ops.Load(), res.load.failures.Load())
	table, err := readTable(ctx, dsn)
	if err != nil {
		res.checkErr = err
		return res
	}
	caught := time.Now()
	for n := w.behind(table); n > 0; n = w.behind(table) {
		if time.Since(caught) > e.opts.catchUp {
			res.notef("after %s, %d keys still had changes the live reader had not seen", e.opts.catchUp, n)
			break
		}
		if err := waitCtx(ctx, 100*time.Millisecond); err != nil {
			res.checkErr = err
			return res
		}
	}
	res.catchUp = time.Since(caught)
	stopWatch()
	bg.Wait()
	e.logf("%s: caught up in %s; reading the topic from the start", m.name, res.catchUp.Round(time.Millisecond))
	events, errs, err := readAll(ctx, c.kafkaProxy.addr(), m.exactlyOnce)
	if err != nil {
		res.checkErr = err
		return res
	}
	res.verdict = analyze(events, table, errs)
	res.checked = true
	return res
}

// createDatabase creates dbname with the chaos schema, dropping an earlier
// one.
func (e *env) createDatabase(ctx context.Context, dbname string) error {
	conn, err := pgx.Connect(ctx, e.pg.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	_, _ = conn.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", dbname)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+dbname+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", dbname, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+dbname); err != nil {
		return fmt.Errorf("create database %s: %w", dbname, err)
	}
	db, err := pgx.Connect(ctx, e.pg.DSN(dbname))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", dbname, err)
	}
	defer db.Close(context.Background())
	for _, q := range schema(e.opts.keys) {
		if _, err := db.Exec(ctx, q); err != nil {
			return fmt.Errorf("create the chaos schema: %w: %s", err, q)
		}
	}
	return nil
}

// startCluster starts the proxies, the broker and both workers.
func (e *env) startCluster(ctx context.Context, dir string, m mode) (*cluster, error) {
	port, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: e.opts.bin, dir: dir, procs: e.procs, eos: m.exactlyOnce, group: "chaos-" + m.name,
		brokerAddr: fmt.Sprintf("127.0.0.1:%d", port)}
	if c.kafkaProxy, err = newProxy("kafka", c.brokerAddr); err != nil {
		return nil, err
	}
	if c.pgProxy, err = newProxy("postgres", fmt.Sprintf("127.0.0.1:%d", e.pg.Port())); err != nil {
		c.kafkaProxy.close()
		return nil, err
	}
	if err := c.writeWorkerConfig(); err != nil {
		return c, err
	}
	if err := c.startBroker(ctx); err != nil {
		return c, err
	}
	for n := 1; n <= 2; n++ {
		if _, err := c.startWorker(n, ""); err != nil {
			return c, err
		}
	}
	for _, w := range c.workers {
		if err := w.waitHealthy(ctx); err != nil {
			return c, err
		}
	}
	return c, nil
}

// waitRunning waits until the connector and its tasks are RUNNING.
func (c *cluster) waitRunning(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last string
	for {
		st, err := c.status(ctx)
		if err == nil && st.running() {
			return nil
		}
		if err == nil {
			last = st.describe()
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not RUNNING within %s (last status: %s)", limit, last)
		}
		if err := waitCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// waitRecovered waits until the connector and its tasks are RUNNING and an
// event of a change committed after since has arrived, and returns how
// long after since that was.
func (c *cluster) waitRecovered(ctx context.Context, w *watcher, since time.Time, limit time.Duration) (time.Duration, error) {
	deadline := since.Add(limit)
	var last string
	var failedSince time.Time // when a FAILED status was first read, of the current run of them
	for {
		// PostgreSQL's commit timestamps and this clock are the same
		// machine's; the millisecond after since is safely after it.
		flowing := w.maxTs.Load() > since.UnixMilli()
		st, err := c.status(ctx)
		running := err == nil && st.running()
		if running && flowing {
			return time.Since(since), nil
		}
		switch {
		case err != nil:
			last = err.Error()
		case !running:
			last = st.describe()
		default:
			last = "RUNNING, but no event of a change committed since"
		}
		// A FAILED task stays FAILED until someone restarts it: a task
		// that retries stays RUNNING meanwhile. Five seconds let a status
		// written before the fault be replaced.
		if err == nil && st.failed() {
			if failedSince.IsZero() {
				failedSince = time.Now()
			} else if time.Since(failedSince) > failedGrace {
				return 0, fmt.Errorf("FAILED, which a task that retries never is: %s", last)
			}
		} else {
			failedSince = time.Time{}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("after %s: %s", limit, last)
		}
		if err := waitCtx(ctx, 50*time.Millisecond); err != nil {
			return 0, err
		}
	}
}

// noteUnplanned restarts a worker or broker that exited without being
// killed, which nothing a connector does may cause, and notes it.
func (c *cluster) noteUnplanned(res *result) {
	for i, w := range c.workers {
		if w != nil && w.Exited() {
			res.notef("worker %d (%s) %s without being killed; last lines of %s:\n%s", i+1, w.addr, w.DescribeExit(), w.LogPath(), w.LogTail(8))
			if _, err := c.startWorker(i+1, w.addr); err != nil {
				res.notef("restart worker %d: %v", i+1, err)
			}
		}
	}
	if c.broker != nil && c.broker.Exited() {
		res.notef("the broker %s without being killed; last lines of %s:\n%s", c.broker.DescribeExit(), c.broker.LogPath(), c.broker.LogTail(8))
		if err := c.startBroker(context.Background()); err != nil {
			res.notef("restart the broker: %v", err)
		}
	}
}

// inject injects f, heals it (restarts what was killed, resumes what was
// paused) and waits for recovery.
func (e *env) inject(ctx context.Context, c *cluster, w *watcher, f fault) outcome {
	o := outcome{fault: f}
	healed, err := e.applyFault(ctx, c, f)
	if err != nil {
		o.err = err.Error()
		return o
	}
	o.recovery, err = c.waitRecovered(ctx, w, healed, e.opts.recoveryTimeout)
	if err != nil {
		o.err = err.Error()
		return o
	}
	o.recovered = true
	return o
}

// applyFault injects and heals f, and returns when it was healed.
func (e *env) applyFault(ctx context.Context, c *cluster, f fault) (time.Time, error) {
	switch f.kind {
	case workerKill:
		old := c.victim(ctx, f.owner)
		if err := old.Kill(); err != nil {
			return time.Time{}, err
		}
		addr := old.addr
		if !f.sameAddress {
			if err := waitCtx(ctx, f.down); err != nil {
				return time.Time{}, err
			}
			addr = ""
		}
		healed := time.Now()
		if _, err := c.startWorker(old.n, addr); err != nil {
			return time.Time{}, err
		}
		return healed, nil
	case brokerKill:
		if err := c.broker.Kill(); err != nil {
			return time.Time{}, err
		}
		if err := waitCtx(ctx, f.down); err != nil {
			return time.Time{}, err
		}
		healed := time.Now()
		return healed, c.startBroker(ctx)
	case brokerPause:
		if err := c.broker.Signal(syscall.SIGSTOP); err != nil {
			return time.Time{}, err
		}
		werr := waitCtx(ctx, f.down)
		if err := c.broker.Signal(syscall.SIGCONT); err != nil {
			return time.Time{}, err
		}
		return time.Now(), werr
	case pgRestartFast, pgRestartImmediate:
		m := "fast"
		if f.kind == pgRestartImmediate {
			m = "immediate"
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := e.pg.Restart(rctx, m); err != nil {
			return time.Time{}, err
		}
		return time.Now(), nil
	case cutPostgres:
		if c.pgProxy.cut() == 0 {
			e.logf("cut-postgres: no live connection to cut")
		}
		return time.Now(), nil
	case cutKafka:
		if c.kafkaProxy.cut() == 0 {
			e.logf("cut-kafka: no live connection to cut")
		}
		return time.Now(), nil
	}
	return time.Time{}, errors.New("unknown fault " + f.kind.String())
}

// waitCtx sleeps d or until ctx ends.
func waitCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
