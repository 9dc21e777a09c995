package rest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/pgmotion/pgmotion/internal/connect"
	"github.com/pgmotion/pgmotion/internal/options"
)

func ok(body any) (*reply, error) { return &reply{status: http.StatusOK, body: body}, nil }

func noBody(status int) *reply { return &reply{status: status} }

// listConnectors is GET /connectors: the sorted names or, with expand,
// {"name": {"status": ..., "info": ...}} in the order the expansions were
// asked for. Unknown expansions are ignored and a connector that vanishes
// meanwhile is left out, as in Kafka Connect.
func (h *handler) listConnectors(ctx context.Context, c *call) (*reply, error) {
	names, err := h.herder.Connectors(ctx)
	if err != nil {
		return nil, err
	}
	names = slices.Sorted(slices.Values(names))
	if names == nil {
		names = []string{}
	}
	expand, expanded := c.query["expand"]
	if !expanded {
		return ok(names)
	}
	var keys []string
	for _, e := range expand {
		if (e == "status" || e == "info") && !slices.Contains(keys, e) {
			keys = append(keys, e)
		}
	}
	out := make(map[string]expansions, len(names))
next:
	for _, name := range names {
		x := expansions{}
		for _, k := range keys {
			var v any
			var err error
			if k == "status" {
				var st *connect.ConnectorStateInfo
				st, err = h.herder.ConnectorStatus(ctx, name)
				v = normalStatus(st)
			} else {
				var info *connect.ConnectorInfo
				info, err = h.herder.ConnectorInfo(ctx, name)
				v = maskInfo(info)
			}
			var ce *connect.Error
			if errors.As(err, &ce) && ce.Code == http.StatusNotFound {
				continue next
			}
			if err != nil {
				return nil, err
			}
			x = append(x, expansion{k, v})
		}
		out[name] = x
	}
	return ok(out)
}

type expansion struct {
	key   string
	value any
}

// expansions is a JSON object keeping its keys in order.
type expansions []expansion

func (xs expansions) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := marshal(x.key)
		v, err := marshal(x.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// location is the Location of a created connector: absolute, as Jersey
// resolves it against the request. Unlike Jersey, a slash in the name is
// escaped, so that the Location names the connector.
func location(c *call, name string) string {
	return c.base + "/connectors/" + url.PathEscape(name)
}

func (h *handler) createConnector(ctx context.Context, c *call) (*reply, error) {
	req, err := parseCreate(c.body)
	if err != nil {
		return nil, err
	}
	_, info, err := h.herder.PutConnectorConfig(ctx, req.name, req.config, false, req.initial)
	if err != nil {
		return nil, err
	}
	return &reply{status: http.StatusCreated, body: maskInfo(info), location: location(c, req.name)}, nil
}

func (h *handler) getConnector(ctx context.Context, c *call) (*reply, error) {
	info, err := h.herder.ConnectorInfo(ctx, c.connector)
	if err != nil {
		return nil, err
	}
	return ok(maskInfo(info))
}

func (h *handler) deleteConnector(ctx context.Context, c *call) (*reply, error) {
	if err := h.herder.DeleteConnector(ctx, c.connector); err != nil {
		return nil, err
	}
	return noBody(http.StatusNoContent), nil
}

func (h *handler) getConfig(ctx context.Context, c *call) (*reply, error) {
	cfg, err := h.herder.ConnectorConfig(ctx, c.connector)
	if err != nil {
		return nil, err
	}
	return ok(options.MaskConfig(cfg))
}

// putConfig creates (201) or replaces (200) a connector's config.
func (h *handler) putConfig(ctx context.Context, c *call) (*reply, error) {
	cfg, err := options.ParseConfigJSON(c.body)
	if err != nil {
		return nil, badBody(err)
	}
	if n, ok := cfg[options.PropName]; ok && n != c.connector {
		return nil, connect.BadRequestf("Connector name configuration (%s) doesn't match connector name in the URL (%s)", n, c.connector)
	}
	cfg[options.PropName] = c.connector
	created, info, err := h.herder.PutConnectorConfig(ctx, c.connector, cfg, true, connect.TargetStarted)
	if err != nil {
		return nil, err
	}
	if created {
		return &reply{status: http.StatusCreated, body: maskInfo(info), location: location(c, c.connector)}, nil
	}
	return ok(maskInfo(info))
}

func (h *handler) patchConfig(ctx context.Context, c *call) (*reply, error) {
	patch, err := parseNullableConfig(c.body)
	if err != nil {
		return nil, err
	}
	info, err := h.herder.PatchConnectorConfig(ctx, c.connector, patch)
	if err != nil {
		return nil, err
	}
	return ok(maskInfo(info))
}

// normalStatus copies st with nil task lists made empty.
func normalStatus(st *connect.ConnectorStateInfo) *connect.ConnectorStateInfo {
	if st == nil {
		return nil
	}
	out := *st
	if out.Tasks == nil {
		out.Tasks = []connect.TaskState{}
	}
	return &out
}

func (h *handler) status(ctx context.Context, c *call) (*reply, error) {
	st, err := h.herder.ConnectorStatus(ctx, c.connector)
	if err != nil {
		return nil, err
	}
	return ok(normalStatus(st))
}

func (h *handler) tasks(ctx context.Context, c *call) (*reply, error) {
	tasks, err := h.herder.Tasks(ctx, c.connector)
	if err != nil {
		return nil, err
	}
	return ok(maskTasks(tasks))
}

// tasksConfig is the deprecated GET /connectors/{name}/tasks-config:
// {"<name>-<task>": {config}}.
func (h *handler) tasksConfig(ctx context.Context, c *call) (*reply, error) {
	h.log.Warn("The 'GET /connectors/{connector}/tasks-config' endpoint is deprecated; use 'GET /connectors/{connector}/tasks' instead")
	tasks, err := h.herder.Tasks(ctx, c.connector)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]string, len(tasks))
	for _, t := range maskTasks(tasks) {
		out[t.ID.Connector+"-"+strconv.Itoa(t.ID.Task)] = t.Config
	}
	return ok(out)
}

func (h *handler) taskStatus(ctx context.Context, c *call) (*reply, error) {
	st, err := h.herder.TaskStatus(ctx, c.connector, c.task)
	if err != nil {
		return nil, err
	}
	return ok(st)
}

func (h *handler) restartTask(ctx context.Context, c *call) (*reply, error) {
	if err := h.herder.RestartTask(ctx, c.connector, c.task); err != nil {
		return nil, err
	}
	return noBody(http.StatusNoContent), nil
}

// boolParam reads a Boolean query parameter as Jersey does: the first
// value, true when it is "true" in any case, the default when absent or
// empty.
func boolParam(q url.Values, name string, def bool) bool {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return def
	}
	return strings.EqualFold(v, "true")
}

// restart answers 204 when only the connector restarts (Kafka Connect's
// old behaviour) and 202 with the status otherwise.
func (h *handler) restart(ctx context.Context, c *call) (*reply, error) {
	includeTasks := boolParam(c.query, "includeTasks", false)
	onlyFailed := boolParam(c.query, "onlyFailed", false)
	st, err := h.herder.RestartConnector(ctx, c.connector, includeTasks, onlyFailed)
	if err != nil {
		return nil, err
	}
	if !includeTasks && !onlyFailed {
		return noBody(http.StatusNoContent), nil
	}
	return &reply{status: http.StatusAccepted, body: normalStatus(st)}, nil
}

func (h *handler) pause(ctx context.Context, c *call) (*reply, error) {
	if err := h.herder.Pause(ctx, c.connector); err != nil {
		return nil, err
	}
	return noBody(http.StatusAccepted), nil
}

func (h *handler) resume(ctx context.Context, c *call) (*reply, error) {
	if err := h.herder.Resume(ctx, c.connector); err != nil {
		return nil, err
	}
	return noBody(http.StatusAccepted), nil
}

func (h *handler) stop(ctx context.Context, c *call) (*reply, error) {
	if err := h.herder.Stop(ctx, c.connector); err != nil {
		return nil, err
	}
	return noBody(http.StatusNoContent), nil
}

// activeTopicsBody is Kafka Connect's ActiveTopicsInfo entity.
type activeTopicsBody struct {
	Topics []string `json:"topics"`
}

// topics is GET /connectors/{name}/topics: {"<name>": {"topics": [...]}},
// empty for a connector that does not exist, as in Kafka Connect.
func (h *handler) topics(ctx context.Context, c *call) (*reply, error) {
	topics, err := h.herder.ActiveTopics(ctx, c.connector)
	if err != nil {
		return nil, err
	}
	if topics == nil {
		topics = []string{}
	}
	return ok(map[string]activeTopicsBody{c.connector: {topics}})
}

// resetTopics is PUT /connectors/{name}/topics/reset: 202 without a body.
func (h *handler) resetTopics(ctx context.Context, c *call) (*reply, error) {
	if err := h.herder.ResetActiveTopics(ctx, c.connector); err != nil {
		return nil, err
	}
	return noBody(http.StatusAccepted), nil
}

// offsetsBody is Kafka Connect's ConnectorOffsets entity.
type offsetsBody struct {
	Offsets []connect.ConnectorOffset `json:"offsets"`
}

// messageBody is Kafka Connect's Message entity.
type messageBody struct {
	Message string `json:"message"`
}

func (h *handler) offsets(ctx context.Context, c *call) (*reply, error) {
	offs, err := h.herder.Offsets(ctx, c.connector)
	if err != nil {
		return nil, err
	}
	if offs == nil {
		offs = []connect.ConnectorOffset{}
	}
	return ok(offsetsBody{offs})
}

func (h *handler) alterOffsets(ctx context.Context, c *call) (*reply, error) {
	offs, err := parseOffsets(c.body)
	if err != nil {
		return nil, err
	}
	msg, err := h.herder.AlterOffsets(ctx, c.connector, offs)
	if err != nil {
		return nil, err
	}
	return ok(messageBody{msg})
}

func (h *handler) resetOffsets(ctx context.Context, c *call) (*reply, error) {
	msg, err := h.herder.ResetOffsets(ctx, c.connector)
	if err != nil {
		return nil, err
	}
	return ok(messageBody{msg})
}
