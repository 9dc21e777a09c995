package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/pgsource"
	"github.com/pgmotion/pgmotion/internal/pipeline"
)

// The Herder methods of Worker. Configs are stored and returned as given,
// with provider placeholders unresolved; the REST layer masks secrets.

var _ Herder = (*Worker)(nil)

func (w *Worker) lookup(name string) (connectorState, error) {
	c, ok := w.connectorsFromTopic()[name]
	if !ok {
		return connectorState{}, NotFoundf("Connector %s not found", name)
	}
	return c, nil
}

func (w *Worker) info(name string, c connectorState) *ConnectorInfo {
	ci := &ConnectorInfo{Name: name, Config: c.config, Tasks: []TaskID{}, Type: "source"}
	if w.hasTasks(name, c) {
		ci.Tasks = append(ci.Tasks, TaskID{Connector: name, Task: 0})
	}
	return ci
}

// ConnectorInfo implements Herder.
func (w *Worker) ConnectorInfo(_ context.Context, name string) (*ConnectorInfo, error) {
	c, err := w.lookup(name)
	if err != nil {
		return nil, err
	}
	return w.info(name, c), nil
}

// ConnectorConfig implements Herder.
func (w *Worker) ConnectorConfig(_ context.Context, name string) (map[string]string, error) {
	c, err := w.lookup(name)
	if err != nil {
		return nil, err
	}
	return c.config, nil
}

// validate checks a config as the task would parse it, resolving
// providers first; the error is a 400 with Kafka Connect's text.
func (w *Worker) validate(name string, config map[string]string) error {
	resolved, err := w.effective(config)
	if err != nil {
		return &Error{Code: 400, Msg: err.Error(), Err: err}
	}
	if _, _, err := pipeline.ConfigFrom(name, resolved); err != nil {
		err = scrubErr(err, w.scrubber(config))
		return &Error{Code: 400, Msg: err.Error(), Err: err}
	}
	if msg := pipeline.EOSCheck(resolved, w.cfg.ExactlyOnceSource); msg != "" {
		// Kafka Connect's text for a config with one error.
		return BadRequestf("Connector configuration is invalid and contains the following 1 error(s):\n%s\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`", msg)
	}
	return nil
}

// PutConnectorConfig implements Herder.
func (w *Worker) PutConnectorConfig(ctx context.Context, name string, config map[string]string, allowReplace bool, initial TargetState) (bool, *ConnectorInfo, error) {
	config = maps.Clone(config)
	if n, ok := config["name"]; ok && n != name {
		return false, nil, BadRequestf("Connector name configuration (%s) doesn't match connector name in the URL (%s)", n, name)
	}
	config["name"] = name
	existing, exists := w.connectorsFromTopic()[name]
	if exists {
		keepStoredSecrets(config, existing.config)
	}
	if err := w.validate(name, config); err != nil {
		return false, nil, err
	}
	if exists && !allowReplace {
		return false, nil, Conflictf("Connector %s already exists", name)
	}
	if !exists {
		if initial == "" {
			initial = TargetStarted
		}
		if err := w.putTarget(ctx, name, initial); err != nil {
			return false, nil, err
		}
	}
	target := initial
	if exists {
		target = existing.target
	}
	// As in Kafka Connect, only a started connector has its task configs
	// written: one created PAUSED or STOPPED has no tasks until resumed.
	if err := w.putConfig(ctx, name, config, target == TargetStarted); err != nil {
		return false, nil, err
	}
	return !exists, w.info(name, connectorState{config: config, target: target}), nil
}

// putConfig writes a connector's config the way Kafka Connect does: with
// withTasks its one task's config and the commit record, then the
// connector record.
func (w *Worker) putConfig(ctx context.Context, name string, config map[string]string, withTasks bool) error {
	if withTasks {
		if err := w.putTasks(ctx, name, config); err != nil {
			return err
		}
	}
	body, _ := json.Marshal(map[string]any{"properties": config})
	return w.configs.put(ctx, "connector-"+name, body)
}

// putTasks writes the config of the connector's one task and the commit
// record that makes it current.
func (w *Worker) putTasks(ctx context.Context, name string, config map[string]string) error {
	if err := w.configs.put(ctx, "task-"+name+"-0", taskRecord(config)); err != nil {
		return err
	}
	return w.configs.put(ctx, "commit-"+name, []byte(`{"tasks":1}`))
}

// taskRecord is the config-topic value of the task of a connector with
// config.
func taskRecord(config map[string]string) []byte {
	b, _ := json.Marshal(map[string]any{"properties": taskConfig(config)})
	return b
}

// taskConfig is the config of the task of a connector with config: the
// connector's, with Debezium's task class.
func taskConfig(config map[string]string) map[string]string {
	task := maps.Clone(config)
	task["task.class"] = "io.debezium.connector.postgresql.PostgresConnectorTask"
	return task
}

// taskCount is the number of tasks the connector's last commit record
// holds: 0 before it first started, and after a stop.
func (w *Worker) taskCount(name string) int {
	var c struct {
		Tasks int `json:"tasks"`
	}
	if v := w.configs.get("commit-" + name); v == nil || json.Unmarshal(v, &c) != nil {
		return 0
	}
	return c.Tasks
}

// hasTasks reports whether the connector has its task: it has started
// since it was created or last stopped, and is not stopped.
func (w *Worker) hasTasks(name string, c connectorState) bool {
	return c.target != TargetStopped && w.taskCount(name) > 0
}

// ensureTasks writes the task config of a connector that starts, as
// Kafka Connect does when a connector starts: when it has none (its first
// start, or the first after a stop) or an outdated one (its config
// changed while it was paused).
func (w *Worker) ensureTasks(ctx context.Context, name string, config map[string]string) error {
	if w.taskCount(name) > 0 && bytes.Equal(w.configs.get("task-"+name+"-0"), taskRecord(config)) {
		return nil
	}
	return w.putTasks(ctx, name, config)
}

// pausedWhich is which status putStatus gives a paused connector: the
// connector's and its task's, or only the connector's when it has no task.
func (w *Worker) pausedWhich(name string) string {
	if w.taskCount(name) > 0 {
		return ""
	}
	return "connector"
}

// putTarget writes a target state in both of Kafka Connect's fields: old
// workers read "state", which has no STOPPED, so a stop reads as a pause.
func (w *Worker) putTarget(ctx context.Context, name string, t TargetState) error {
	v1 := t
	if t == TargetStopped {
		v1 = TargetPaused
	}
	body, _ := json.Marshal(map[string]string{"state": string(v1), "state.v2": string(t)})
	return w.configs.put(ctx, "target-state-"+name, body)
}

// PatchConnectorConfig implements Herder.
// keepStoredSecrets puts back, in a config sent to replace stored, the
// values that come back as the REST API showed them (options.MaskConfig:
// "[hidden]", or a URL with its password hidden): a config read with GET,
// edited and sent back with PUT or PATCH keeps its secrets rather than
// setting them to the mask. A value that differs from its masked form is
// the user's new value.
func keepStoredSecrets(config, stored map[string]string) {
	shown := options.MaskConfig(stored)
	for k, v := range config {
		if s, ok := stored[k]; ok && v != s && v == shown[k] {
			config[k] = s
		}
	}
}

func (w *Worker) PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (*ConnectorInfo, error) {
	c, err := w.lookup(name)
	if err != nil {
		return nil, err
	}
	cfg := maps.Clone(c.config)
	for k, v := range patch {
		if v == nil {
			delete(cfg, k)
		} else {
			cfg[k] = *v
		}
	}
	_, info, err := w.PutConnectorConfig(ctx, name, cfg, true, "")
	return info, err
}

// deleteWait bounds how long DeleteConnector waits for the connector's
// task on this worker to stop: longer than the task's own bound on closing
// its source and dropping its slot.
const deleteWait = 30 * time.Second

// DeleteConnector implements Herder. When this worker runs the connector,
// it answers once the task has stopped (and, with slot.drop.on.stop, its
// slot is dropped, or the failure logged), so that a client that deletes
// and then creates a connector on the same slot, or checks the slot, sees
// the end of the old one. Kafka Connect answers before the tasks stop.
func (w *Worker) DeleteConnector(ctx context.Context, name string) error {
	if _, err := w.lookup(name); err != nil {
		return err
	}
	w.mu.Lock()
	r := w.runners[name]
	w.mu.Unlock()
	for _, k := range []string{"connector-" + name, "target-state-" + name, "task-" + name + "-0", "commit-" + name} {
		if err := w.configs.put(ctx, k, nil); err != nil {
			return err
		}
	}
	if r != nil {
		wait := time.NewTimer(deleteWait)
		defer wait.Stop()
		select {
		case <-r.done:
		case <-wait.C:
			w.log.Warn("connector deleted, but its task has not stopped yet; it stops in the background", "connector", name, "waited", deleteWait)
		case <-ctx.Done():
		}
	}
	// Kafka Connect resets a deleted connector's active topics.
	return w.forgetTopics(ctx, name)
}

// ConnectorStatus implements Herder.
func (w *Worker) ConnectorStatus(_ context.Context, name string) (*ConnectorStateInfo, error) {
	if _, err := w.lookup(name); err != nil {
		return nil, NotFoundf("No status found for connector %s", name)
	}
	cs := w.readStatus(connectorStatusKey(name))
	if cs == nil {
		return nil, NotFoundf("No status found for connector %s", name)
	}
	out := &ConnectorStateInfo{Name: name, Type: "source", Tasks: []TaskState{},
		Connector: ConnectorState{State: cs.State, WorkerID: cs.WorkerID, Trace: deref(cs.Trace)}}
	if ts := w.readStatus(taskStatusKey(name)); ts != nil {
		out.Tasks = append(out.Tasks, TaskState{ID: 0, State: ts.State, WorkerID: ts.WorkerID, Trace: deref(ts.Trace)})
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TaskStatus implements Herder.
func (w *Worker) TaskStatus(_ context.Context, name string, task int) (*TaskState, error) {
	if _, err := w.lookup(name); err != nil {
		return nil, NotFoundf("No status found for task %s-%d", name, task)
	}
	if task != 0 {
		return nil, NotFoundf("No status found for task %s-%d", name, task)
	}
	ts := w.readStatus(taskStatusKey(name))
	if ts == nil {
		return nil, NotFoundf("No status found for task %s-%d", name, task)
	}
	return &TaskState{ID: 0, State: ts.State, WorkerID: ts.WorkerID, Trace: deref(ts.Trace)}, nil
}

// Tasks implements Herder.
func (w *Worker) Tasks(_ context.Context, name string) ([]TaskInfo, error) {
	c, err := w.lookup(name)
	if err != nil {
		return nil, err
	}
	if !w.hasTasks(name, c) {
		return []TaskInfo{}, nil
	}
	return []TaskInfo{{ID: TaskID{Connector: name, Task: 0}, Config: taskConfig(c.config)}}, nil
}

func (w *Worker) setTarget(ctx context.Context, name string, t TargetState) error {
	if _, err := w.lookup(name); err != nil {
		return NotFoundf("Unknown connector %s", name)
	}
	return w.putTarget(ctx, name, t)
}

// Pause implements Herder.
func (w *Worker) Pause(ctx context.Context, name string) error {
	return w.setTarget(ctx, name, TargetPaused)
}

// Resume implements Herder; it also starts a stopped connector.
func (w *Worker) Resume(ctx context.Context, name string) error {
	return w.setTarget(ctx, name, TargetStarted)
}

// Stop implements Herder. As in Kafka Connect, a stopped connector's task
// configs are emptied; it gets them again when it next starts.
func (w *Worker) Stop(ctx context.Context, name string) error {
	if err := w.setTarget(ctx, name, TargetStopped); err != nil {
		return err
	}
	return w.configs.put(ctx, "commit-"+name, []byte(`{"tasks":0}`))
}

// restart stops the connector's task if it runs and starts it again.
func (w *Worker) restart(name string) {
	w.mu.Lock()
	if r, ok := w.runners[name]; ok {
		r.cancel()
		<-r.done
		delete(w.runners, name)
	}
	w.mu.Unlock()
	w.poke()
}

// RestartConnector implements Herder.
func (w *Worker) RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (*ConnectorStateInfo, error) {
	c, err := w.lookup(name)
	if err != nil {
		return nil, NotFoundf("Unknown connector: %s", name)
	}
	st, err := w.ConnectorStatus(ctx, name)
	if err != nil {
		// No status yet: nothing has run, so there is nothing failed.
		st = &ConnectorStateInfo{Name: name, Type: "source", Tasks: []TaskState{}, Connector: ConnectorState{State: StateUnassigned, WorkerID: w.cfg.WorkerID}}
	}
	failed := st.Connector.State == StateFailed || (len(st.Tasks) > 0 && st.Tasks[0].State == StateFailed)
	if c.target == TargetStarted && (!onlyFailed || failed) {
		if includeTasks {
			st.Connector.State = StateRestarting
			for i := range st.Tasks {
				if !onlyFailed || st.Tasks[i].State == StateFailed {
					st.Tasks[i].State = StateRestarting
				}
			}
		}
		if err := w.requestRestart(ctx, name, includeTasks, onlyFailed); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// RestartTask implements Herder.
func (w *Worker) RestartTask(ctx context.Context, name string, task int) error {
	c, err := w.lookup(name)
	if err != nil {
		return NotFoundf("Unknown connector: %s", name)
	}
	if task != 0 || !w.hasTasks(name, c) {
		return NotFoundf("Unknown task: %s-%d", name, task)
	}
	if c.target == TargetStarted {
		return w.requestRestart(ctx, name, true, false)
	}
	return nil
}

// requestRestart writes a restart request to the config topic; the worker
// running the connector restarts it when it reads the request.
func (w *Worker) requestRestart(ctx context.Context, name string, includeTasks, onlyFailed bool) error {
	body, _ := json.Marshal(map[string]bool{"include-tasks": includeTasks, "only-failed": onlyFailed})
	return w.configs.put(ctx, "restart-connector-"+name, body)
}

func (w *Worker) prefixOf(c connectorState) string {
	if p := c.config[options.PropTopicPrefix]; p != "" {
		return p
	}
	return c.config[options.LegacyTopicPrefix]
}

// Offsets implements Herder.
func (w *Worker) Offsets(_ context.Context, name string) ([]ConnectorOffset, error) {
	c, err := w.lookup(name)
	if err != nil {
		return nil, err
	}
	server := w.prefixOf(c)
	raw := w.store.Raw(name, server)
	if raw == nil {
		return []ConnectorOffset{}, nil
	}
	var off map[string]any
	if err := json.Unmarshal(raw, &off); err != nil {
		return nil, fmt.Errorf("stored offset of %s is not valid JSON: %w", name, err)
	}
	return []ConnectorOffset{{Partition: map[string]any{"server": server}, Offset: off}}, nil
}

func (w *Worker) requireStopped(name string) (connectorState, error) {
	c, err := w.lookup(name)
	if err != nil {
		return c, err
	}
	w.mu.Lock()
	_, running := w.runners[name]
	w.mu.Unlock()
	if c.target != TargetStopped || running {
		return c, BadRequestf("Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	}
	return c, nil
}

// AlterOffsets implements Herder. It refuses a position older than what
// the slot has confirmed: the server cannot replay from there.
func (w *Worker) AlterOffsets(ctx context.Context, name string, offsets []ConnectorOffset) (string, error) {
	c, err := w.requireStopped(name)
	if err != nil {
		return "", err
	}
	if len(offsets) == 0 {
		return "", BadRequestf("The offsets to be modified must not be null or empty")
	}
	server := w.prefixOf(c)
	for _, o := range offsets {
		if len(o.Partition) != 1 || o.Partition["server"] != server {
			return "", BadRequestf("The partition %v is not a partition of connector %s: its only source partition is {\"server\":%q}", o.Partition, name, server)
		}
	}
	for _, o := range offsets {
		if o.Offset == nil {
			if err := w.store.Put(ctx, name, server, nil); err != nil {
				return "", err
			}
			continue
		}
		b, _ := json.Marshal(o.Offset)
		var off pipeline.Offset
		if err := json.Unmarshal(b, &off); err != nil || off.ResumeLSN() == 0 && off.LSN == 0 {
			return "", BadRequestf("The offset %s of connector %s is not a PostgreSQL connector offset: it needs a numeric lsn, lsn_proc or lsn_commit", b, name)
		}
		if err := w.checkSlotCanServe(ctx, c, max(off.ResumeLSN(), off.LSN)); err != nil {
			return "", err
		}
		if err := w.store.kv.put(ctx, string(pipeline.OffsetKey(name, server)), b); err != nil {
			return "", err
		}
	}
	return "The Connect framework-managed offsets for this connector have been altered successfully. However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses.", nil
}

// checkSlotCanServe refuses a position behind the slot's confirmed one.
func (w *Worker) checkSlotCanServe(ctx context.Context, c connectorState, lsn change.LSN) error {
	resolved, err := w.effective(c.config)
	if err != nil {
		return &Error{Code: 400, Msg: err.Error()}
	}
	scrub := w.scrubber(c.config)
	pc, err := options.ParsePostgres(resolved)
	if err != nil {
		return &Error{Code: 400, Msg: scrub(err.Error())}
	}
	cfg, err := pgconn.ParseConfig(pc.ConnString(false).Reveal())
	if err != nil {
		return &Error{Code: 400, Msg: scrub(err.Error())}
	}
	confirmed, ok, err := pgsource.ConfirmedFlushLSN(ctx, cfg, pc.SlotName)
	if err != nil {
		return &Error{Code: 500, Msg: scrub(fmt.Sprintf("cannot check replication slot %q: %v", pc.SlotName, err))}
	}
	if !ok {
		return nil // no slot yet: it will start from wherever it is created
	}
	if lsn < confirmed {
		return BadRequestf("Cannot set the offset of connector %s to LSN %s: replication slot %q has already confirmed %s and PostgreSQL cannot replay changes from before that position. Choose an LSN at or after %s, or drop the slot and snapshot again.", c.config["name"], lsn, pc.SlotName, confirmed, confirmed)
	}
	return nil
}

// ResetOffsets implements Herder.
func (w *Worker) ResetOffsets(ctx context.Context, name string) (string, error) {
	c, err := w.requireStopped(name)
	if err != nil {
		return "", err
	}
	if err := w.store.Put(ctx, name, w.prefixOf(c), nil); err != nil {
		return "", err
	}
	return "The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector manages offsets externally, they will need to be manually reset in the system that the connector uses.", nil
}

// Plugins implements Herder.
func (w *Worker) Plugins(bool) []PluginInfo {
	var out []PluginInfo
	for _, s := range options.All() {
		if s.Type == "source" || s.Type == "sink" {
			out = append(out, PluginInfo{Class: s.Class, Type: s.Type, Version: s.Version})
		}
	}
	return out
}

// Validate implements Herder.
func (w *Worker) Validate(_ context.Context, class string, config map[string]string) (*options.ConfigInfos, error) {
	s, ok := options.Lookup(class)
	if !ok {
		return nil, NotFoundf("Failed to find any class that implements Connector and which name matches %s", class)
	}
	ci := s.Validate(config)
	if msg := pipeline.EOSCheck(config, w.cfg.ExactlyOnceSource); msg != "" {
		for i := range ci.Configs {
			if v := ci.Configs[i].Value; v != nil && v.Name == options.PropExactlyOnceSupport {
				v.Errors = append(v.Errors, msg)
				ci.ErrorCount++
			}
		}
	}
	return &ci, nil
}

// PluginConfig implements Herder.
func (w *Worker) PluginConfig(class string) ([]options.ConfigKeyInfo, error) {
	s, ok := options.Lookup(class)
	if !ok {
		return nil, NotFoundf("Unknown plugin %s.", class)
	}
	return s.ConfigKeyInfos(), nil
}
