package rest

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/pgmotion/pgmotion/internal/connect"
)

// pgmotion's own health endpoints, for load balancers and Kubernetes
// probes (Kafka Connect has only GET /health):
//
//	GET /health/ready              200 when the worker has started and no connector or task
//	                               is FAILED, UNASSIGNED or RESTARTING; 503 otherwise.
//	GET /health/connectors/{name}  200 when the connector and its task are RUNNING; 503
//	                               otherwise; 404 for an unknown connector.
//
// The bodies name each connector and task with its state and, when it is
// not running, the reason: the first line of its error, never its config.

// healthTask is one task in a health body.
type healthTask struct {
	ID     int    `json:"id"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// connectorHealth is the body of GET /health/connectors/{name} and an
// entry of GET /health/ready.
type connectorHealth struct {
	Name    string       `json:"name"`
	Healthy bool         `json:"healthy"`
	State   string       `json:"state"`
	Reason  string       `json:"reason,omitempty"`
	Tasks   []healthTask `json:"tasks"`
}

// readiness is the body of GET /health/ready.
type readiness struct {
	Status     string            `json:"status"` // ready, not_ready or starting
	Message    string            `json:"message"`
	Connectors []connectorHealth `json:"connectors"`
}

// maxReason bounds the reason quoted from a trace.
const maxReason = 300

// reason is the first line of a trace, shortened.
func reason(trace string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(trace), "\n")
	if len(line) > maxReason {
		line = line[:maxReason] + "…"
	}
	return line
}

// badState is a state that a probe reports as not ready.
func badState(s connect.State) bool {
	return s == connect.StateFailed || s == connect.StateUnassigned || s == connect.StateRestarting
}

// healthOf sums up one connector's status. running says whether it and
// its task run; ready whether it counts as ready for the worker, which a
// deliberately paused or stopped connector does.
func healthOf(st *connect.ConnectorStateInfo) (h connectorHealth, ready bool) {
	h = connectorHealth{Name: st.Name, State: string(st.Connector.State), Tasks: []healthTask{}}
	ready = !badState(st.Connector.State)
	running := st.Connector.State == connect.StateRunning
	if st.Connector.State != connect.StateRunning {
		h.Reason = reason(st.Connector.Trace)
	}
	for _, t := range st.Tasks {
		ht := healthTask{ID: t.ID, State: string(t.State)}
		if t.State != connect.StateRunning {
			ht.Reason = reason(t.Trace)
			running = false
		}
		if badState(t.State) {
			ready = false
		}
		h.Tasks = append(h.Tasks, ht)
	}
	if st.Connector.State == connect.StateRunning && len(st.Tasks) == 0 {
		running, ready = false, false
		h.Reason = "the connector has no task yet"
	}
	h.Healthy = running
	return h, ready
}

// ready answers GET /health/ready.
func (h *handler) ready(ctx context.Context, _ *call) (*reply, error) {
	if err := h.herder.Ready(); err != nil {
		return &reply{status: http.StatusServiceUnavailable, body: readiness{Status: "starting", Message: "Worker is still starting up.", Connectors: []connectorHealth{}}}, nil
	}
	names, err := h.herder.Connectors(ctx)
	if err != nil {
		return nil, err
	}
	body := readiness{Status: "ready", Message: "Every connector and task is running, paused or stopped.", Connectors: []connectorHealth{}}
	for _, n := range names {
		st, err := h.herder.ConnectorStatus(ctx, n)
		var ce *connect.Error
		if errors.As(err, &ce) && ce.Code == http.StatusNotFound {
			// Created a moment ago: no status yet.
			body.Connectors = append(body.Connectors, connectorHealth{Name: n, State: string(connect.StateUnassigned), Reason: "no status reported yet", Tasks: []healthTask{}})
			body.Status = "not_ready"
			continue
		}
		if err != nil {
			return nil, err
		}
		ch, ok := healthOf(st)
		body.Connectors = append(body.Connectors, ch)
		if !ok {
			body.Status = "not_ready"
		}
	}
	if body.Status != "ready" {
		body.Message = "A connector or task is failed, unassigned or restarting."
		return &reply{status: http.StatusServiceUnavailable, body: body}, nil
	}
	return &reply{status: http.StatusOK, body: body}, nil
}

// connectorHealth answers GET /health/connectors/{connector}.
func (h *handler) connectorHealth(ctx context.Context, c *call) (*reply, error) {
	if err := h.herder.Ready(); err != nil {
		return &reply{status: http.StatusServiceUnavailable, body: connectorHealth{Name: c.connector, State: string(connect.StateUnassigned),
			Reason: "Worker is still starting up.", Tasks: []healthTask{}}}, nil
	}
	st, err := h.herder.ConnectorStatus(ctx, c.connector)
	if err != nil {
		return nil, err
	}
	ch, _ := healthOf(st)
	if !ch.Healthy {
		return &reply{status: http.StatusServiceUnavailable, body: ch}, nil
	}
	return &reply{status: http.StatusOK, body: ch}, nil
}
