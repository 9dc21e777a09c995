package connect

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/pgmotion/pgmotion/internal/logging"
)

// Logger levels (KIP-495, KIP-976): the worker changes the levels of its
// process's loggers (logging.Levels); a cluster-wide change goes through
// the config topic, as in Kafka Connect, so that every worker applies it.

// loggerClusterPrefix starts the config-topic key of a cluster-wide level:
// logger-cluster-<namespace>, value {"level":"<LEVEL>"}.
const loggerClusterPrefix = "logger-cluster-"

// levels is the table the worker changes.
func (w *Worker) levels() *logging.Levels { return w.cfg.Loggers }

// LoggerLevels implements Herder.
func (w *Worker) LoggerLevels(context.Context) (map[string]LoggerLevel, error) {
	return w.levels().All(), nil
}

// LoggerLevel implements Herder.
func (w *Worker) LoggerLevel(_ context.Context, name string) (*LoggerLevel, error) {
	ll, ok := w.levels().Get(name)
	if !ok {
		w.log.Warn("Unable to find level for logger", "logger", name)
		return nil, NotFoundf("Logger %s not found.", name)
	}
	return &ll, nil
}

func parseLevel(level string) (logging.Level, error) {
	lv, ok := logging.ParseLevel(level)
	if !ok {
		return 0, NotFoundf("invalid log level '%s'.", level)
	}
	return lv, nil
}

// SetWorkerLoggerLevel implements Herder.
func (w *Worker) SetWorkerLoggerLevel(_ context.Context, namespace, level string) ([]string, error) {
	lv, err := parseLevel(level)
	if err != nil {
		return nil, err
	}
	return w.setLevel(namespace, lv), nil
}

func (w *Worker) setLevel(namespace string, lv logging.Level) []string {
	w.log.Info("Setting level of namespace and children", "namespace", namespace, "level", lv.String())
	return w.levels().Set(namespace, lv)
}

// SetClusterLoggerLevel implements Herder: it writes the level to the
// config topic and returns once this worker has applied it.
func (w *Worker) SetClusterLoggerLevel(ctx context.Context, namespace, level string) error {
	if _, err := parseLevel(level); err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"level": level})
	return w.configs.put(ctx, loggerClusterPrefix+namespace, body)
}

// applyClusterLevel applies a logger-cluster-* record read from the config
// topic. Records read while the worker starts are history: as in Kafka
// Connect, levels set for the cluster do not outlive the workers.
func (w *Worker) applyClusterLevel(key string, val []byte) bool {
	namespace, ok := strings.CutPrefix(key, loggerClusterPrefix)
	if !ok {
		return false
	}
	if val == nil || !w.ready.Load() {
		return true
	}
	var body struct {
		Level string `json:"level"`
	}
	lv, valid := logging.Level(0), false
	if json.Unmarshal(val, &body) == nil {
		lv, valid = logging.ParseLevel(body.Level)
	}
	if !valid {
		w.log.Error("ignoring an unreadable cluster-wide logger level in the config topic", "key", key)
		return true
	}
	w.setLevel(namespace, lv)
	return true
}
