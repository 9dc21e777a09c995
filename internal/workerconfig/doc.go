// Package workerconfig reads a Kafka Connect worker configuration
// (connect-distributed.properties), resolves config provider placeholders
// (KIP-297) and hides secrets in logs.
//
// # Worker properties
//
// Load and Parse read Java .properties syntax exactly as
// java.util.Properties.load does (see ReadProperties), so an existing
// connect-distributed.properties loads unchanged. The properties pgmotion
// uses become typed fields of Worker, checked as Kafka's DistributedConfig,
// WorkerConfig and RestServerConfig check them; producer.* and consumer.*
// go to their own maps; everything else is kept in Worker.Unknown. The few
// properties pgmotion knows and ignores (plugin.path, plugin.discovery,
// metric reporters, the removed internal converters and rest.port, ...)
// are kept too and get one warning each in Worker.Warnings. An error names
// the file, the line, the property and what is allowed, e.g.
//
//	connect-distributed.properties:13: offset.flush.interval.ms: "abc" is not a number of milliseconds
//
// and every bad property is reported at once.
//
// Precedence is flags > environment > file > defaults: Default or Load,
// then Worker.ApplyEnv, then Worker.Set for each flag, then
// Worker.Validate; Assemble does all of it for the command line, with
// pgmotion's own defaults (PgmotionListener, PgmotionOffsetFlushInterval,
// the broker's replication factor) for what nothing sets. The environment variable for a property is EnvPrefix
// followed by the property in upper case with '.' (and '-') written as
// '_': bootstrap.servers is PGMOTION_BOOTSTRAP_SERVERS; see EnvName for
// keys holding '_' or '-'. Only variables that name worker properties are
// read, so PGMOTION_* variables of other parts of pgmotion do not leak in.
//
// Where pgmotion departs from Kafka Connect:
//
//   - group.id, config.storage.topic, offset.storage.topic,
//     status.storage.topic, key.converter and value.converter are required
//     by Kafka; pgmotion defaults them (connect-cluster, connect-configs,
//     connect-offsets, connect-status, JsonConverter).
//   - listeners may be http:// or https://, not both; for https:// the
//     certificate and key come from pgmotion's --rest-tls-cert and
//     --rest-tls-key (PEM), not from listeners.https.ssl.* keystores.
//   - Kafka reads the worker file as ISO-8859-1; pgmotion reads it as
//     UTF-8 when it is valid UTF-8 (ASCII files read the same either way).
//   - config.providers names are trimmed (Kafka splits on bare commas).
//
// # Config providers
//
// Placeholders ${provider:[path:]key} are resolved in worker properties
// while parsing (Kafka's AbstractConfig does the same for worker configs)
// and in connector configurations by a Resolver built from the worker.
// As in Kafka, only the providers config.providers lists are enabled.
// Unlike Kafka, pgmotion fails on a placeholder it cannot resolve where
// Kafka leaves the text in place; see Resolver.
//
// # Secrets
//
// IsSensitive, Mask and MaskedMap keep secret values out of logs and API
// responses. No error or warning of this package contains a property
// value that came from a provider or that belongs to a sensitive key.
package workerconfig
