package rest

import (
	"context"
	"net/http"
	"strings"

	"github.com/pgmotion/pgmotion/internal/connect"
	"github.com/pgmotion/pgmotion/internal/logging"
)

// Kafka Connect's LoggingResource: /admin/loggers.

const (
	scopeWorker  = "worker"
	scopeCluster = "cluster"
)

// loggers is GET /admin/loggers: {"<logger>": {"level": ..., "last_modified": ...}},
// sorted by name.
func (h *handler) loggers(ctx context.Context, _ *call) (*reply, error) {
	levels, err := h.herder.LoggerLevels(ctx)
	if err != nil {
		return nil, err
	}
	if levels == nil {
		levels = map[string]connect.LoggerLevel{}
	}
	return ok(levels) // encoding/json sorts map keys, as Connect's TreeMap does
}

// logger is GET /admin/loggers/{logger}.
func (h *handler) logger(ctx context.Context, c *call) (*reply, error) {
	ll, err := h.herder.LoggerLevel(ctx, c.logger)
	if err != nil {
		return nil, err
	}
	return ok(ll)
}

// setLogger is PUT /admin/loggers/{logger} {"level": "<LEVEL>"}: with
// scope=worker (the default) 200 and the sorted loggers whose level
// changed, with scope=cluster 204. A missing level is a 400 and an
// unknown one a 404, whatever the scope, as in Kafka Connect; an unknown
// scope is logged and acts as worker.
func (h *handler) setLogger(ctx context.Context, c *call) (*reply, error) {
	body, err := parseNullableConfig(c.body)
	if err != nil {
		return nil, err
	}
	level := body["level"]
	if level == nil {
		return nil, connect.BadRequestf("Desired 'level' parameter was not specified in request.")
	}
	if _, valid := logging.ParseLevel(*level); !valid {
		return nil, connect.NotFoundf("invalid log level '%s'.", *level)
	}
	scope := scopeWorker
	if v, given := c.query["scope"]; given && len(v) > 0 {
		scope = v[0]
	}
	switch strings.ToLower(scope) {
	case scopeCluster:
		if err := h.herder.SetClusterLoggerLevel(ctx, c.logger, *level); err != nil {
			return nil, err
		}
		return noBody(http.StatusNoContent), nil
	case scopeWorker:
	default:
		h.log.Warn("Received invalid scope in request to adjust logging level; will default to worker", "scope", scope)
	}
	changed, err := h.herder.SetWorkerLoggerLevel(ctx, c.logger, *level)
	if err != nil {
		return nil, err
	}
	if changed == nil {
		changed = []string{}
	}
	return ok(changed)
}
