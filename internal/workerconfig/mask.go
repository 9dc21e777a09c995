package workerconfig

import (
	"log/slog"
	"sort"
	"strings"

	"github.com/pgmotion/pgmotion/internal/options"
)

// Hidden stands for a secret value, as Kafka shows a PASSWORD.
const Hidden = options.Hidden

// IsSensitive reports whether a property looks like it holds a secret:
// options.SensitiveKey, the one rule for the worker's properties and the
// connectors' (ssl.keystore.key, *.token, *.api.key, *secret*,
// *password, sasl.jaas.config, ...). Callers with a declared spec should
// also ask the options.
func IsSensitive(key string) bool { return options.SensitiveKey(key) }

// Mask returns a copy of config with the value of every key for which
// isSecret is true replaced by Hidden, and the passwords of URLs in the
// other values hidden (options.MaskValue); a nil isSecret means IsSensitive.
func Mask(config map[string]string, isSecret func(string) bool) map[string]string {
	out := make(map[string]string, len(config))
	for k, v := range config {
		out[k] = options.MaskValue(k, v, isSecret)
	}
	return out
}

// MaskedMap logs a configuration with its secrets hidden:
//
//	logger.Info("starting connector", "config", workerconfig.MaskedMap{Config: cfg})
//
// It is a slog.LogValuer (a group, keys sorted) and a fmt.Stringer
// ({a=1, b=[hidden]}, like java.util.Map.toString), so neither slog nor
// %v prints a secret.
type MaskedMap struct {
	Config map[string]string
	// IsSecret picks the keys to hide; nil means IsSensitive.
	IsSecret func(key string) bool
}

// LogValue implements slog.LogValuer.
func (m MaskedMap) LogValue() slog.Value {
	masked := Mask(m.Config, m.IsSecret)
	keys := sortedKeys(masked)
	attrs := make([]slog.Attr, len(keys))
	for i, k := range keys {
		attrs[i] = slog.String(k, masked[k])
	}
	return slog.GroupValue(attrs...)
}

// String renders the map as {key=value, ...} with secrets hidden.
func (m MaskedMap) String() string {
	masked := Mask(m.Config, m.IsSecret)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range sortedKeys(masked) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(masked[k])
	}
	b.WriteByte('}')
	return b.String()
}

// GoString is String, so %#v hides secrets too.
func (m MaskedMap) GoString() string { return m.String() }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
