package workerconfig

import "strings"

// EnvName returns the environment variable that overrides worker property
// key: EnvPrefix followed by the key in upper case with each '.' written
// as '_', each '_' as "__" and each '-' as "___". For every property of
// the Worker struct that is simply "dots to underscores":
//
//	bootstrap.servers        PGMOTION_BOOTSTRAP_SERVERS
//	offset.flush.interval.ms PGMOTION_OFFSET_FLUSH_INTERVAL_MS
//	producer.compression.type PGMOTION_PRODUCER_COMPRESSION_TYPE
//
// Keys with upper-case letters cannot be set from the environment.
func EnvName(key string) string {
	var b strings.Builder
	b.WriteString(EnvPrefix)
	for _, r := range key {
		switch r {
		case '.':
			b.WriteByte('_')
		case '_':
			b.WriteString("__")
		case '-':
			b.WriteString("___")
		default:
			if r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// PropertyForEnv maps an environment variable back to the worker property
// it overrides (the inverse of EnvName) and reports whether it names one.
// Only variables for worker properties count: those of the Worker struct,
// the Kafka Connect worker properties pgmotion keeps or ignores, and keys
// under producer., consumer., admin., config.providers., ssl., sasl.,
// key.converter., value.converter., header.converter. and listeners.https.
// Any other PGMOTION_* variable belongs to some other part of pgmotion
// (PGMOTION_TEST_PG, say) and is not a worker property.
func PropertyForEnv(name string) (string, bool) {
	tail, ok := strings.CutPrefix(name, EnvPrefix)
	if !ok || tail == "" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(tail); {
		c := tail[i]
		switch {
		case c == '_':
			n := 1
			for i+n < len(tail) && tail[i+n] == '_' {
				n++
			}
			if i == 0 || i+n == len(tail) || n > 3 {
				return "", false
			}
			b.WriteByte(" ._-"[n]) // 1: dot, 2: underscore, 3: dash
			i += n
			continue
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + ('a' - 'A'))
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		default:
			return "", false
		}
		i++
	}
	key := b.String()
	return key, isWorkerProperty(key)
}

// otherWorkerKeys are Kafka Connect worker properties pgmotion keeps in
// Unknown; listing them lets the environment set them.
var otherWorkerKeys = setOf(
	PropHeaderConverter, "task.shutdown.graceful.timeout.ms", "topic.creation.enable",
	"exactly.once.source.support", "connector.client.config.override.policy",
	"access.control.allow.origin", "access.control.allow.methods", "admin.listeners",
	"response.http.headers.config", "client.id", "client.dns.lookup", "metadata.max.age.ms",
	"metadata.recovery.strategy", "request.timeout.ms", "security.protocol",
	"reconnect.backoff.ms", "reconnect.backoff.max.ms", "retry.backoff.ms",
	"retry.backoff.max.ms", "connections.max.idle.ms", "send.buffer.bytes",
	"receive.buffer.bytes", "socket.connection.setup.timeout.ms",
	"socket.connection.setup.timeout.max.ms", PropTopicTracking,
	PropTopicTrackingReset, "connect.protocol", "scheduled.rebalance.max.delay.ms",
	"worker.sync.timeout.ms", "worker.unsync.backoff.ms", "offset.storage.file.filename",
)

func setOf(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

var workerPrefixes = []string{
	prefixProducer, prefixConsumer, "admin.", prefixConfigProviders, "ssl.", "sasl.",
	PropKeyConverter + ".", PropValueConverter + ".", PropHeaderConverter + ".", "listeners.https.",
	"admin.listeners.https.", "inter.worker.",
}

func isWorkerProperty(key string) bool {
	if _, ok := fields[key]; ok {
		return true
	}
	if key == PropPluginPath || key == PropConfigProviders || otherWorkerKeys[key] || ignoredReason(key) != "" {
		return true
	}
	for _, p := range workerPrefixes {
		if strings.HasPrefix(key, p) && len(key) > len(p) {
			return true
		}
	}
	return false
}
