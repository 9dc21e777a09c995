package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/pgmotion/pgmotion/internal/connect"
	"github.com/pgmotion/pgmotion/internal/logging"
	"github.com/pgmotion/pgmotion/internal/options"
)

// fakeHerder is an in-memory connect.Herder for HTTP-layer tests: a map of
// connectors with Kafka Connect's (DistributedHerder's) error texts. It
// stores configs as given, unmasked, so that the tests see the REST layer
// mask them. It is safe for concurrent use.
type fakeHerder struct {
	mu    sync.Mutex
	conns map[string]*fakeConn
	ready error
	// readyBlock, when set, makes Ready wait for it to close.
	readyBlock chan struct{}
	// slow connectors make every call naming them wait for the end of
	// its context; broken ones fail with the error. Both are set before
	// the herder is used and only read afterwards.
	slow   map[string]bool
	broken map[string]error
	// trackingOff and resetOff are topic.tracking.enable=false and
	// topic.tracking.allow.reset=false.
	trackingOff, resetOff bool
	// levels is a real level table with a fixed clock; cluster records
	// the cluster-wide levels asked for.
	levels  *logging.Levels
	cluster map[string]string
}

type fakeConn struct {
	config  map[string]string
	target  connect.TargetState
	state   connect.State // "" means no status reported yet
	trace   string
	tasks   []connect.State
	offsets []connect.ConnectorOffset
	topics  []string // active topics
}

var _ connect.Herder = (*fakeHerder)(nil)

// fakeNow is the fake herder's clock, for last_modified.
var fakeNow = time.UnixMilli(1718000000000)

func newFakeHerder() *fakeHerder {
	return &fakeHerder{conns: map[string]*fakeConn{}, slow: map[string]bool{}, broken: map[string]error{},
		levels: logging.NewLevels(logging.Info).WithClock(func() time.Time { return fakeNow }), cluster: map[string]string{}}
}

// enter applies the slow and broken settings for a call naming name.
func (f *fakeHerder) enter(ctx context.Context, name string) error {
	slow, broken := f.slow[name], f.broken[name]
	if slow {
		<-ctx.Done()
		return ctx.Err()
	}
	return broken
}

func (f *fakeHerder) lookup(ctx context.Context, name, format string) (*fakeConn, error) {
	if err := f.enter(ctx, name); err != nil {
		return nil, err
	}
	c, ok := f.conns[name]
	if !ok {
		return nil, connect.NotFoundf(format, name)
	}
	return c, nil
}

const (
	notFound       = "Connector %s not found"
	unknown        = "Unknown connector %s"
	unknownRestart = "Unknown connector: %s"
	noStatus       = "No status found for connector %s"
)

func (f *fakeHerder) ClusterInfo(context.Context) (connect.ServerInfo, error) {
	return connect.ServerInfo{Version: "4.0.0", Commit: "a60e31147e6b01ee", KafkaClusterID: "pgmotion-test-cluster"}, nil
}

func (f *fakeHerder) Ready() error {
	if f.readyBlock != nil {
		<-f.readyBlock
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready
}

func (f *fakeHerder) Connectors(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.conns {
		out = append(out, n) // unsorted: the REST layer sorts
	}
	return out, nil
}

func (f *fakeHerder) info(name string, c *fakeConn) *connect.ConnectorInfo {
	ci := &connect.ConnectorInfo{Name: name, Config: maps.Clone(c.config), Type: "source"}
	for i := range c.tasks {
		ci.Tasks = append(ci.Tasks, connect.TaskID{Connector: name, Task: i})
	}
	return ci
}

func (f *fakeHerder) ConnectorInfo(ctx context.Context, name string) (*connect.ConnectorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.lookup(ctx, name, notFound)
	if err != nil {
		return nil, err
	}
	return f.info(name, c), nil
}

func (f *fakeHerder) ConnectorConfig(ctx context.Context, name string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.lookup(ctx, name, notFound)
	if err != nil {
		return nil, err
	}
	return maps.Clone(c.config), nil
}

func (f *fakeHerder) PutConnectorConfig(ctx context.Context, name string, config map[string]string, allowReplace bool, initial connect.TargetState) (bool, *connect.ConnectorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter(ctx, name); err != nil {
		return false, nil, err
	}
	return f.put(name, config, allowReplace, initial)
}

func (f *fakeHerder) put(name string, config map[string]string, allowReplace bool, initial connect.TargetState) (bool, *connect.ConnectorInfo, error) {
	class := config[options.PropConnectorClass]
	s, ok := options.Lookup(class)
	if !ok {
		ve := &options.ValidationError{Problems: []options.Problem{{Field: options.PropConnectorClass,
			Message: fmt.Sprintf("Invalid value %s for configuration connector.class: Class %s could not be found.", class, class)}}}
		return false, nil, &connect.Error{Code: http.StatusBadRequest, Msg: ve.Error(), Err: ve}
	}
	if _, err := s.Parse(config); err != nil {
		return false, nil, &connect.Error{Code: http.StatusBadRequest, Msg: err.Error(), Err: err}
	}
	c, exists := f.conns[name]
	if exists && !allowReplace {
		return false, nil, connect.Conflictf("Connector %s already exists", name)
	}
	if !exists {
		c = &fakeConn{target: initial}
		switch initial {
		case connect.TargetPaused:
			// Kafka Connect makes no task for a connector created paused.
			c.state = connect.StatePaused
		case connect.TargetStopped:
			c.state = connect.StateStopped
		default:
			c.target = connect.TargetStarted
			c.state, c.tasks = connect.StateRunning, []connect.State{connect.StateRunning}
		}
		f.conns[name] = c
	}
	c.config = maps.Clone(config)
	return !exists, f.info(name, c), nil
}

func (f *fakeHerder) PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (*connect.ConnectorInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.lookup(ctx, name, notFound)
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
	_, info, err := f.put(name, cfg, true, "")
	return info, err
}

func (f *fakeHerder) DeleteConnector(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.lookup(ctx, name, notFound); err != nil {
		return err
	}
	delete(f.conns, name)
	return nil
}

func (f *fakeHerder) status(name string, c *fakeConn) *connect.ConnectorStateInfo {
	st := &connect.ConnectorStateInfo{Name: name, Type: "source",
		Connector: connect.ConnectorState{State: c.state, WorkerID: "127.0.0.1:8083", Trace: c.trace}}
	for i, s := range c.tasks {
		ts := connect.TaskState{ID: i, State: s, WorkerID: "127.0.0.1:8083"}
		if s == connect.StateFailed {
			ts.Trace = "org.apache.kafka.connect.errors.ConnectException: replication slot \"debezium\" is active for PID 4242"
		}
		st.Tasks = append(st.Tasks, ts)
	}
	return st
}

func (f *fakeHerder) ConnectorStatus(ctx context.Context, name string) (*connect.ConnectorStateInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.lookup(ctx, name, noStatus)
	if err != nil {
		return nil, err
	}
	if c.state == "" {
		return nil, connect.NotFoundf(noStatus, name)
	}
	return f.status(name, c), nil
}

func (f *fakeHerder) TaskStatus(ctx context.Context, name string, task int) (*connect.TaskState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.lookup(ctx, name, noStatus)
	if err != nil || task < 0 || task >= len(c.tasks) {
		return nil, connect.NotFoundf("No status found for task %s-%d", name, task)
	}
	ts := f.status(name, c).Tasks[task]
	return &ts, nil
}

func (f *fakeHerder) Tasks(ctx context.Context, name string) ([]connect.TaskInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.lookup(ctx, name, notFound)
	if err != nil {
		return nil, err
	}
	var out []connect.TaskInfo
	for i := range c.tasks {
		cfg := maps.Clone(c.config)
		cfg["task.class"] = "io.debezium.connector.postgresql.PostgresConnectorTask"
		out = append(out, connect.TaskInfo{ID: connect.TaskID{Connector: name, Task: i}, Config: cfg})
	}
	return out, nil
}

func (f *fakeHerder) setTarget(ctx context.Context, name string, t connect.TargetState, s connect.State) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.lookup(ctx, name, unknown)
	if err != nil {
		return err
	}
	c.target, c.state = t, s
	if t == connect.TargetStopped {
		c.tasks = nil
	} else {
		c.tasks = []connect.State{s}
	}
	return nil
}

func (f *fakeHerder) Pause(ctx context.Context, name string) error {
	return f.setTarget(ctx, name, connect.TargetPaused, connect.StatePaused)
}

func (f *fakeHerder) Resume(ctx context.Context, name string) error {
	return f.setTarget(ctx, name, connect.TargetStarted, connect.StateRunning)
}

func (f *fakeHerder) Stop(ctx context.Context, name string) error {
	return f.setTarget(ctx, name, connect.TargetStopped, connect.StateStopped)
}

// RestartConnector follows Kafka Connect's restart plan: the connector
// restarts unless onlyFailed and it has not failed; with includeTasks so
// do its tasks (only the failed ones with onlyFailed).
func (f *fakeHerder) RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (*connect.ConnectorStateInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.lookup(ctx, name, unknownRestart)
	if err != nil {
		return nil, err
	}
	st := f.status(name, c)
	if !onlyFailed || st.Connector.State == connect.StateFailed {
		st.Connector.State = connect.StateRestarting
	}
	if includeTasks {
		for i := range st.Tasks {
			if !onlyFailed || st.Tasks[i].State == connect.StateFailed {
				st.Tasks[i].State = connect.StateRestarting
			}
		}
	}
	return st, nil
}

func (f *fakeHerder) RestartTask(ctx context.Context, name string, task int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.lookup(ctx, name, unknownRestart)
	if err != nil {
		return err
	}
	if task < 0 || task >= len(c.tasks) {
		return connect.NotFoundf("Unknown task: %s-%d", name, task)
	}
	return nil
}

func (f *fakeHerder) Offsets(ctx context.Context, name string) ([]connect.ConnectorOffset, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.lookup(ctx, name, notFound)
	if err != nil {
		return nil, err
	}
	return slices.Clone(c.offsets), nil
}

func (f *fakeHerder) stopped(ctx context.Context, name string) (*fakeConn, error) {
	c, err := f.lookup(ctx, name, notFound)
	if err != nil {
		return nil, err
	}
	if c.target != connect.TargetStopped {
		return nil, connect.BadRequestf("Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	}
	return c, nil
}

func (f *fakeHerder) AlterOffsets(ctx context.Context, name string, offsets []connect.ConnectorOffset) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.stopped(ctx, name)
	if err != nil {
		return "", err
	}
	for _, o := range offsets {
		if o.Partition == nil {
			return "", connect.BadRequestf("The partition for a connector offset cannot be null or missing")
		}
	}
	c.offsets = offsets
	return "The Connect framework-managed offsets for this connector have been altered successfully. However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses.", nil
}

func (f *fakeHerder) ResetOffsets(ctx context.Context, name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.stopped(ctx, name)
	if err != nil {
		return "", err
	}
	c.offsets = nil
	return "The Connect framework-managed offsets for this connector have been reset successfully. However, if this connector manages offsets externally, they will need to be manually reset in the system that the connector uses.", nil
}

// ActiveTopics and ResetActiveTopics follow Kafka Connect's
// ConnectorsResource and AbstractHerder, with pgmotion's rule that a
// reset needs the connector stopped.
func (f *fakeHerder) ActiveTopics(ctx context.Context, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.trackingOff {
		return nil, &connect.Error{Code: http.StatusForbidden, Msg: "Topic tracking is disabled."}
	}
	if err := f.enter(ctx, name); err != nil {
		return nil, err
	}
	if c, ok := f.conns[name]; ok {
		return slices.Sorted(slices.Values(c.topics)), nil
	}
	return nil, nil
}

func (f *fakeHerder) ResetActiveTopics(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.trackingOff:
		return &connect.Error{Code: http.StatusForbidden, Msg: "Topic tracking is disabled."}
	case f.resetOff:
		return &connect.Error{Code: http.StatusForbidden, Msg: "Topic tracking reset is disabled."}
	}
	if err := f.enter(ctx, name); err != nil {
		return err
	}
	if c, ok := f.conns[name]; ok {
		if c.target != connect.TargetStopped {
			return connect.BadRequestf("Connectors must be in the STOPPED state before their active topics can be reset. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
		}
		c.topics = nil
	}
	return nil
}

func (f *fakeHerder) LoggerLevels(context.Context) (map[string]connect.LoggerLevel, error) {
	return f.levels.All(), nil
}

func (f *fakeHerder) LoggerLevel(_ context.Context, name string) (*connect.LoggerLevel, error) {
	ll, ok := f.levels.Get(name)
	if !ok {
		return nil, connect.NotFoundf("Logger %s not found.", name)
	}
	return &ll, nil
}

func (f *fakeHerder) SetWorkerLoggerLevel(_ context.Context, namespace, level string) ([]string, error) {
	lv, ok := logging.ParseLevel(level)
	if !ok {
		return nil, connect.NotFoundf("invalid log level '%s'.", level)
	}
	return f.levels.Set(namespace, lv), nil
}

func (f *fakeHerder) SetClusterLoggerLevel(_ context.Context, namespace, level string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cluster[namespace] = level
	return nil
}

func (f *fakeHerder) Plugins(all bool) []connect.PluginInfo {
	var out []connect.PluginInfo
	for _, s := range options.All() {
		if all || s.Type == "source" || s.Type == "sink" {
			out = append(out, connect.PluginInfo{Class: s.Class, Type: s.Type, Version: s.Version})
		}
	}
	return out
}

func (f *fakeHerder) Validate(ctx context.Context, class string, config map[string]string) (*options.ConfigInfos, error) {
	s, ok := options.Lookup(class)
	if !ok || (s.Type != "source" && s.Type != "sink") {
		return nil, errors.New("Failed to find any class that implements Connector and which name matches " + class)
	}
	ci := s.Validate(config)
	return &ci, nil
}

func (f *fakeHerder) PluginConfig(class string) ([]options.ConfigKeyInfo, error) {
	s, ok := options.Lookup(class)
	if !ok {
		return nil, connect.NotFoundf("Unknown plugin %s.", class)
	}
	return s.ConfigKeyInfos(), nil
}

// Test plugins, small enough for readable golden files.
const (
	exampleClass   = "org.example.ExampleSourceConnector"
	transformClass = "org.example.ExampleTransform"
)

func init() {
	options.Register(&options.Spec{
		Class: exampleClass, Aliases: []string{"ExampleSourceConnector", "ExampleSource"},
		Type: "source", Version: "1.0.0", Title: "Example source",
		Fields: []*options.Field{
			{Name: "hostname", Type: options.TypeString, Required: true, Importance: options.High, Group: "Example", Width: options.WidthMedium,
				DisplayName: "Hostname", Doc: "Host to read from."},
			{Name: "port", Type: options.TypeInt, Default: "5432", Importance: options.Medium, Group: "Example", Width: options.WidthShort,
				DisplayName: "Port", Doc: "Port of the host."},
			{Name: "password", Type: options.TypePassword, Importance: options.High, Group: "Example", Width: options.WidthShort,
				DisplayName: "Password", Doc: "Password of the user."},
			{Name: "access.token", Type: options.TypeString, Secret: true, Importance: options.Medium, Group: "Example", Width: options.WidthLong,
				DisplayName: "Access token", Doc: "Declared secret though neither a PASSWORD nor named like one."},
			{Name: "api.secret", Type: options.TypeString, Importance: options.Low, Group: "Example", Width: options.WidthLong,
				DisplayName: "API secret", Doc: "A secret by its name only."},
		},
	})
	options.Register(&options.Spec{
		Class: transformClass, Type: "transformation", Version: "1.0.0", Title: "Example transform",
		Fields: []*options.Field{
			{Name: "credential", Type: options.TypeString, Secret: true, Importance: options.High, DisplayName: "Credential", Doc: "Declared secret."},
		},
	})
}

// The secret values of the fixture; no response may contain one.
var fixtureSecrets = []string{"pg-s3cret", "api-s3cret", "tr-s3cret", "tok-s3cret", "ssl-s3cret",
	"key-s3cret", "vault-s3cret", "dd-s3cret", "my-s3cret", "url-s3cret"}

// newFixture returns a herder holding:
//
//	inventory  a running PostgreSQL connector with secrets, and an offset
//	archive    a stopped PostgreSQL connector
//	example    a paused example connector whose task failed
//	ghost      a connector with no status yet
//
// inventory and archive have active topics, and the capture's logger
// (io.debezium.connector.postgresql and its children) is at DEBUG.
func newFixture() *fakeHerder {
	f := newFakeHerder()
	f.conns["inventory"] = &fakeConn{
		config: map[string]string{
			"name":                       "inventory",
			"connector.class":            options.PostgresClass,
			"tasks.max":                  "1",
			"database.hostname":          "db.example.com",
			"database.port":              "5432",
			"database.user":              "replicator",
			"database.password":          "pg-s3cret",
			"database.sslpassword":       "ssl-s3cret",
			"database.dbname":            "inventory",
			"topic.prefix":               "inv",
			"plugin.name":                "pgoutput",
			"custom.api.secret":          "api-s3cret",
			"transforms":                 "mask",
			"transforms.mask.type":       transformClass,
			"transforms.mask.credential": "tr-s3cret",
		},
		target: connect.TargetStarted, state: connect.StateRunning, tasks: []connect.State{connect.StateRunning},
		topics: []string{"inv.public.orders", "inv.public.customers", "__debezium-heartbeat.inv"},
		offsets: []connect.ConnectorOffset{{
			Partition: map[string]any{"server": "inv"},
			// An LSN beyond 2^53: numbers must round-trip exactly.
			Offset: map[string]any{"lsn": jsonNumber("9007199254740993"), "txId": jsonNumber("771"), "ts_usec": jsonNumber("1718000000000000")},
		}},
	}
	f.conns["archive"] = &fakeConn{
		config: map[string]string{
			"name": "archive", "connector.class": "Postgres", "database.hostname": "db.example.com", "database.user": "replicator",
			"database.password": "pg-s3cret", "database.dbname": "archive", "topic.prefix": "arc",
		},
		target: connect.TargetStopped, state: connect.StateStopped,
		topics: []string{"arc.public.invoices"},
		offsets: []connect.ConnectorOffset{{
			Partition: map[string]any{"server": "arc"},
			Offset:    map[string]any{"lsn": jsonNumber("24023128"), "txId": jsonNumber("555")},
		}},
	}
	f.conns["example"] = &fakeConn{
		config: map[string]string{
			"name": "example", "connector.class": exampleClass, "hostname": "h.example.com",
			"password": "pg-s3cret", "access.token": "tok-s3cret",
		},
		target: connect.TargetPaused, state: connect.StatePaused, tasks: []connect.State{connect.StateFailed},
	}
	// The capture's logger was set to DEBUG through the API earlier.
	f.levels.Set("io.debezium.connector.postgresql", logging.Debug)
	f.conns["ghost"] = &fakeConn{
		config: map[string]string{"name": "ghost", "connector.class": "Postgres", "database.password": "pg-s3cret"},
		target: connect.TargetStarted,
	}
	return f
}

// jsonNumber is a number as the REST layer decodes one: exact.
func jsonNumber(s string) json.Number { return json.Number(s) }
