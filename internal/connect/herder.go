package connect

import (
	"context"
	"fmt"
	"net/http"

	"github.com/pgmotion/pgmotion/internal/logging"
	"github.com/pgmotion/pgmotion/internal/options"
)

// Herder is what the Kafka Connect REST API drives: the cluster's view of
// connectors, their configs, states, tasks and offsets. Every method is
// safe for concurrent use. Errors that map to an HTTP status are *Error.
type Herder interface {
	// ClusterInfo is GET /: the worker's version and Kafka cluster id.
	ClusterInfo(ctx context.Context) (ServerInfo, error)
	// Ready reports whether the worker has finished starting (GET /health).
	Ready() error

	Connectors(ctx context.Context) ([]string, error)
	ConnectorInfo(ctx context.Context, name string) (*ConnectorInfo, error)
	ConnectorConfig(ctx context.Context, name string) (map[string]string, error)
	// PutConnectorConfig creates or (with allowReplace) replaces a
	// connector's config. initial is the target state of a new connector.
	PutConnectorConfig(ctx context.Context, name string, config map[string]string, allowReplace bool, initial TargetState) (created bool, info *ConnectorInfo, err error)
	// PatchConnectorConfig merges patch into the config; a nil value
	// removes the key.
	PatchConnectorConfig(ctx context.Context, name string, patch map[string]*string) (*ConnectorInfo, error)
	DeleteConnector(ctx context.Context, name string) error

	ConnectorStatus(ctx context.Context, name string) (*ConnectorStateInfo, error)
	TaskStatus(ctx context.Context, name string, task int) (*TaskState, error)
	Tasks(ctx context.Context, name string) ([]TaskInfo, error)

	Pause(ctx context.Context, name string) error
	Resume(ctx context.Context, name string) error
	Stop(ctx context.Context, name string) error
	// RestartConnector restarts the connector and, with includeTasks, its
	// tasks (only the failed ones with onlyFailed). It returns the status
	// right after the restart was requested.
	RestartConnector(ctx context.Context, name string, includeTasks, onlyFailed bool) (*ConnectorStateInfo, error)
	RestartTask(ctx context.Context, name string, task int) error

	Offsets(ctx context.Context, name string) ([]ConnectorOffset, error)
	// AlterOffsets and ResetOffsets need the connector STOPPED.
	AlterOffsets(ctx context.Context, name string, offsets []ConnectorOffset) (message string, err error)
	ResetOffsets(ctx context.Context, name string) (message string, err error)

	// ActiveTopics is GET /connectors/{name}/topics (KIP-558): the topics
	// the connector's tasks have written to, sorted; none for a connector
	// that does not exist. ResetActiveTopics forgets them. Both fail with
	// a 403 *Error while topic tracking is disabled.
	ActiveTopics(ctx context.Context, name string) ([]string, error)
	ResetActiveTopics(ctx context.Context, name string) error

	// LoggerLevels, LoggerLevel, SetWorkerLoggerLevel and
	// SetClusterLoggerLevel serve /admin/loggers (KIP-495, KIP-976).
	// LoggerLevel fails with a 404 *Error for a logger that does not
	// exist; the setters take a level that logging.ParseLevel accepts and
	// SetWorkerLoggerLevel returns the loggers whose level changed.
	LoggerLevels(ctx context.Context) (map[string]LoggerLevel, error)
	LoggerLevel(ctx context.Context, name string) (*LoggerLevel, error)
	SetWorkerLoggerLevel(ctx context.Context, namespace, level string) ([]string, error)
	SetClusterLoggerLevel(ctx context.Context, namespace, level string) error

	// Plugins lists the connector plugins (and with all, transforms,
	// converters and predicates).
	Plugins(all bool) []PluginInfo
	// Validate is PUT /connector-plugins/{class}/config/validate.
	Validate(ctx context.Context, class string, config map[string]string) (*options.ConfigInfos, error)
	PluginConfig(class string) ([]options.ConfigKeyInfo, error)
}

// TargetState is what a connector should be doing.
type TargetState string

// The target states of Kafka Connect.
const (
	TargetStarted TargetState = "STARTED"
	TargetPaused  TargetState = "PAUSED"
	TargetStopped TargetState = "STOPPED"
)

// State is a connector's or task's reported state.
type State string

// The states Kafka Connect reports.
const (
	StateUnassigned State = "UNASSIGNED"
	StateRunning    State = "RUNNING"
	StatePaused     State = "PAUSED"
	StateFailed     State = "FAILED"
	StateRestarting State = "RESTARTING"
	StateStopped    State = "STOPPED"
	StateDestroyed  State = "DESTROYED"
)

// ServerInfo is the body of GET /.
type ServerInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	KafkaClusterID string `json:"kafka_cluster_id"`
}

// TaskID names a task.
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// ConnectorInfo is Kafka Connect's ConnectorInfo entity.
type ConnectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []TaskID          `json:"tasks"`
	Type   string            `json:"type"`
}

// TaskInfo is one entry of GET /connectors/{name}/tasks.
type TaskInfo struct {
	ID     TaskID            `json:"id"`
	Config map[string]string `json:"config"`
}

// ConnectorState is the connector part of a status.
type ConnectorState struct {
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// TaskState is one task's status.
type TaskState struct {
	ID       int    `json:"id"`
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// ConnectorStateInfo is the body of GET /connectors/{name}/status.
type ConnectorStateInfo struct {
	Name      string         `json:"name"`
	Connector ConnectorState `json:"connector"`
	Tasks     []TaskState    `json:"tasks"`
	Type      string         `json:"type"`
}

// ConnectorOffset is one source partition and its offset, as
// GET /connectors/{name}/offsets lists them. A nil Offset resets it.
type ConnectorOffset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// LoggerLevel is Kafka Connect's LoggerLevel entity.
type LoggerLevel = logging.LoggerLevel

// PluginInfo is one entry of GET /connector-plugins.
type PluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version,omitempty"`
}

// Error is a failure with the HTTP status Kafka Connect answers it with.
// Its message is Kafka Connect's text and never holds a secret.
type Error struct {
	Code int
	Msg  string
	Err  error // the cause, if any
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// NotFoundf makes a 404 error.
func NotFoundf(format string, args ...any) *Error {
	return &Error{Code: http.StatusNotFound, Msg: fmt.Sprintf(format, args...)}
}

// Conflictf makes a 409 error.
func Conflictf(format string, args ...any) *Error {
	return &Error{Code: http.StatusConflict, Msg: fmt.Sprintf(format, args...)}
}

// BadRequestf makes a 400 error.
func BadRequestf(format string, args ...any) *Error {
	return &Error{Code: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}
