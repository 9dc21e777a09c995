package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	connopts "github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/procs"
	"github.com/pgmotion/pgmotion/internal/workerconfig"
)

const (
	connectorName = "chaos"
	restTimeout   = 2 * time.Second
	startLimit    = 60 * time.Second // process start → ready
	stopGrace     = 15 * time.Second // SIGTERM → exit at the end of a run
	failedGrace   = 5 * time.Second  // a FAILED status read for this long fails the fault
)

// The Kafka Connect and Debezium settings the run sets, as issue 13 names
// them.
const (
	propEOSWorker     = workerconfig.PropExactlyOnceSource // worker: enabled
	propEOSConnector  = connopts.PropExactlyOnceSupport    // connector: required
	propMaxRetries    = connopts.PropErrorsMaxRetries      // connector: -1 retries retriable errors without limit
	propBootstrap     = workerconfig.PropBootstrapServers
	valueEOSWorker    = workerconfig.EOSEnabled
	valueEOSConnector = "required"
)

// cluster is one run's broker and workers, reached through the proxies.
// Only the goroutine running the run uses it.
type cluster struct {
	bin   string
	dir   string
	procs *procs.Set
	eos   bool
	group string

	brokerAddr string // where the broker listens; it advertises kafkaProxy's address
	broker     *procs.Proc
	kafkaProxy *proxy // clients → broker
	pgProxy    *proxy // workers → PostgreSQL

	workers [2]*worker
	props   string // the workers' --worker-config file
}

// worker is one `pgmotion connect` process.
type worker struct {
	*procs.Proc
	n    int    // 1 or 2
	addr string // its --rest address, which is its worker id
}

var restClient = &http.Client{Timeout: restTimeout}

// startBroker starts (or restarts, on the same port and data dir) the
// broker and waits until it accepts connections.
func (c *cluster) startBroker(ctx context.Context) error {
	argv := []string{c.bin, "broker", "--listen", c.brokerAddr, "--advertise", c.kafkaProxy.addr(),
		"--data-dir", filepath.Join(c.dir, "broker")}
	p, err := c.procs.Start("pgmotion broker", exec.Command(argv[0], argv[1:]...), filepath.Join(c.dir, "broker.log"))
	if err != nil {
		return err
	}
	c.broker = p
	err = p.Await(ctx, startLimit, 20*time.Millisecond, func() bool {
		conn, err := net.DialTimeout("tcp", c.brokerAddr, time.Second)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	switch {
	case errors.Is(err, procs.ErrExited):
		return fmt.Errorf("pgmotion broker %s before it listened; its log:\n%s", p.DescribeExit(), p.LogTail(15))
	case errors.Is(err, procs.ErrTimeout):
		return fmt.Errorf("pgmotion broker did not listen on %s within %s; its log:\n%s", c.brokerAddr, startLimit, p.LogTail(15))
	}
	return err
}

// writeWorkerConfig writes the workers' properties file.
func (c *cluster) writeWorkerConfig() error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s=%s\n", propBootstrap, c.kafkaProxy.addr())
	if c.eos {
		fmt.Fprintf(&b, "%s=%s\n", propEOSWorker, valueEOSWorker)
	}
	c.props = filepath.Join(c.dir, "worker.properties")
	return os.WriteFile(c.props, []byte(b.String()), 0o644)
}

// startWorker starts worker n (1 or 2) on addr, or on a new free port when
// addr is "".
func (c *cluster) startWorker(n int, addr string) (*worker, error) {
	if addr == "" {
		port, err := procs.FreePort()
		if err != nil {
			return nil, err
		}
		addr = "127.0.0.1:" + strconv.Itoa(port)
	}
	argv := []string{c.bin, "connect", "--worker-config", c.props, "--rest", addr, "--group-id", c.group,
		"--data-dir", filepath.Join(c.dir, fmt.Sprintf("worker%d", n))}
	p, err := c.procs.Start(fmt.Sprintf("pgmotion connect %d (%s)", n, addr), exec.Command(argv[0], argv[1:]...),
		filepath.Join(c.dir, fmt.Sprintf("worker%d.log", n)))
	if err != nil {
		return nil, err
	}
	w := &worker{Proc: p, n: n, addr: addr}
	c.workers[n-1] = w
	return w, nil
}

// do sends a REST request to w.
func (w *worker) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+w.addr+path, bytes.NewReader(body))
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
func (w *worker) waitHealthy(ctx context.Context) error {
	err := w.Await(ctx, startLimit, 50*time.Millisecond, func() bool {
		code, _, err := w.do(ctx, http.MethodGet, "/health", nil)
		return err == nil && code == http.StatusOK
	})
	switch {
	case errors.Is(err, procs.ErrExited):
		return fmt.Errorf("worker %d (%s) %s before GET /health answered; its log:\n%s", w.n, w.addr, w.DescribeExit(), w.LogTail(15))
	case errors.Is(err, procs.ErrTimeout):
		return fmt.Errorf("worker %d (%s): GET /health did not answer 200 within %s; its log:\n%s", w.n, w.addr, startLimit, w.LogTail(15))
	}
	return err
}

// status is the body of GET /connectors/NAME/status.
type status struct {
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

// running reports whether the connector and all its tasks are RUNNING.
func (s status) running() bool {
	if s.Connector.State != "RUNNING" || len(s.Tasks) == 0 {
		return false
	}
	for _, t := range s.Tasks {
		if t.State != "RUNNING" {
			return false
		}
	}
	return true
}

// failed reports whether the connector or a task is FAILED.
func (s status) failed() bool {
	if s.Connector.State == "FAILED" {
		return true
	}
	for _, t := range s.Tasks {
		if t.State == "FAILED" {
			return true
		}
	}
	return false
}

// describe renders the status on one line.
func (s status) describe() string {
	d := "connector " + s.Connector.State + " on " + s.Connector.WorkerID
	for i, t := range s.Tasks {
		d += fmt.Sprintf(", task %d %s on %s", i, t.State, t.WorkerID)
		if t.Trace != "" {
			d += " (" + strings.SplitN(t.Trace, "\n", 2)[0] + ")"
		}
	}
	return d
}

// status asks the live workers, in turn, for the connector's status.
func (c *cluster) status(ctx context.Context) (status, error) {
	var lastErr error = fmt.Errorf("no worker is running")
	for _, w := range c.workers {
		if w == nil || w.Exited() {
			continue
		}
		code, out, err := w.do(ctx, http.MethodGet, "/connectors/"+connectorName+"/status", nil)
		if err != nil {
			lastErr = err
			continue
		}
		var st status
		if code != http.StatusOK {
			lastErr = fmt.Errorf("GET /connectors/%s/status from worker %d: %d %s", connectorName, w.n, code, strings.TrimSpace(string(out)))
			continue
		}
		if err := json.Unmarshal(out, &st); err != nil {
			lastErr = fmt.Errorf("GET /connectors/%s/status from worker %d: %w", connectorName, w.n, err)
			continue
		}
		return st, nil
	}
	return status{}, lastErr
}

// connectorConfig is the connector the run creates: the chaos table, from
// the database through the PostgreSQL proxy.
func (c *cluster) connectorConfig(dbname, slot string) map[string]string {
	host, port, _ := net.SplitHostPort(c.pgProxy.addr())
	cfg := map[string]string{
		connopts.PropConnectorClass:  connopts.PostgresClass,
		connopts.PropHostname:        host,
		connopts.PropPort:            port,
		connopts.PropUser:            "postgres",
		connopts.PropPassword:        "x",
		connopts.PropDBName:          dbname,
		connopts.PropPluginName:      "pgoutput",
		connopts.PropTopicPrefix:     topicPrefix,
		connopts.PropSlotName:        slot,
		connopts.PropPublicationName: publication,
		connopts.PropTableInclude:    "public." + tableName,
		propMaxRetries:               "-1",
	}
	if c.eos {
		cfg[propEOSConnector] = valueEOSConnector
	}
	return cfg
}

const topicPrefix = "chaos"

// topic is the chaos table's topic.
const topic = topicPrefix + ".public." + tableName

// createConnector creates the connector through worker 1. A 4xx answer,
// such as a worker that rejects exactly.once.support=required, is returned
// as an error carrying the worker's message.
func (c *cluster) createConnector(ctx context.Context, cfg map[string]string) error {
	body, err := json.Marshal(map[string]any{"name": connectorName, "config": cfg})
	if err != nil {
		return err
	}
	w := c.workers[0]
	deadline := time.Now().Add(startLimit)
	for {
		code, out, err := w.do(ctx, http.MethodPost, "/connectors", body)
		switch {
		case err == nil && code == http.StatusCreated:
			return nil
		case err == nil && code >= 400 && code < 500 && code != http.StatusConflict:
			return fmt.Errorf("the worker refused the connector: %d %s", code, strings.TrimSpace(string(out)))
		case time.Now().After(deadline):
			return fmt.Errorf("POST /connectors to worker 1 failed for %s: %d %s %v", startLimit, code, strings.TrimSpace(string(out)), err)
		}
		// 409 while the group rebalances, or 5xx while it forms.
		if err := waitCtx(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// restartFailed asks a live worker to restart the connector's failed
// instances, as an operator would.
func (c *cluster) restartFailed(ctx context.Context) {
	for _, w := range c.workers {
		if w != nil && !w.Exited() {
			if code, _, err := w.do(ctx, http.MethodPost, "/connectors/"+connectorName+"/restart?includeTasks=true&onlyFailed=true", nil); err == nil && code < 300 {
				return
			}
		}
	}
}

// stop stops the workers, then the broker, then the proxies.
func (c *cluster) stop() {
	for _, w := range c.workers {
		if w != nil {
			w.Stop(stopGrace)
		}
	}
	if c.broker != nil {
		c.broker.Stop(stopGrace)
	}
	c.kafkaProxy.close()
	c.pgProxy.close()
}

// victim returns the worker whose task status names it as the task's
// worker when owner is set, else the other one; worker 1 when the status
// does not tell.
func (c *cluster) victim(ctx context.Context, owner bool) *worker {
	st, err := c.status(ctx)
	if err == nil && len(st.Tasks) > 0 {
		for i, w := range c.workers {
			if w.addr == st.Tasks[0].WorkerID {
				if owner {
					return w
				}
				return c.workers[1-i]
			}
		}
	}
	return c.workers[0]
}
