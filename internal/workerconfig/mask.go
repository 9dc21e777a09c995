package workerconfig

import (
	"log/slog"
	"sort"
	"strings"
)

// Hidden stands for a secret value, as Kafka shows a PASSWORD.
const Hidden = "[hidden]"

// sensitiveSuffixes end the names of properties that hold secrets. They
// cover Debezium's Configuration.PASSWORD_PATTERN (…secret, …password,
// …sasl.jaas.config, …credentials.json, …connectionstring,
// …connection.string) and Kafka's PASSWORD properties (ssl.key.password,
// ssl.keystore.key, …), plus tokens and API keys.
var sensitiveSuffixes = []string{
	"password", "passwd", "passphrase", "secret", "token", "credentials",
	"apikey", "api.key", "api_key", "api-key",
	"private.key", "privatekey", "secret.key", "access.key", "keystore.key",
	"keystore.certificate.chain", "truststore.certificates",
	"sasl.jaas.config", "credentials.json", "connectionstring", "connection.string",
}

// sensitiveParts make a name sensitive wherever they appear in it, as in
// Debezium's pattern (schema registry credentials carry suffixes).
var sensitiveParts = []string{"basic.auth.user.info", "registry.auth.client-secret"}

// IsSensitive reports whether a property looks like it holds a secret.
// The rule, on the name in lower case: it ends with one of
//
//	password passwd passphrase secret token credentials
//	apikey api.key api_key api-key private.key privatekey secret.key
//	access.key keystore.key keystore.certificate.chain
//	truststore.certificates sasl.jaas.config credentials.json
//	connectionstring connection.string
//
// or contains basic.auth.user.info or registry.auth.client-secret. So
// database.password, ssl.key.password, producer.sasl.jaas.config,
// aws.secret.access.key and schema.registry.basic.auth.user.info are
// sensitive; token.endpoint.url, message.key.columns and key.converter are
// not. Callers with a declared spec should also ask the spec.
func IsSensitive(key string) bool {
	k := strings.ToLower(key)
	for _, s := range sensitiveSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	for _, s := range sensitiveParts {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// Mask returns a copy of config with the value of every key for which
// isSecret is true replaced by Hidden; a nil isSecret means IsSensitive.
func Mask(config map[string]string, isSecret func(string) bool) map[string]string {
	if isSecret == nil {
		isSecret = IsSensitive
	}
	out := make(map[string]string, len(config))
	for k, v := range config {
		if isSecret(k) {
			v = Hidden
		}
		out[k] = v
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
