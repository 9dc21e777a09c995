package options

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/pgmotion/pgmotion/internal/java"
)

// PostgresClass is the class name of Debezium's PostgreSQL connector.
const PostgresClass = "io.debezium.connector.postgresql.PostgresConnector"

// DebeziumVersion is the Debezium release whose PostgreSQL connector options
// (names, defaults, messages) this spec follows.
const DebeziumVersion = "3.6.1.Final"

// PostgreSQL connector property names. Each is written once, here (or as
// the Name of its declaration when nothing else uses it); parsing,
// validation, the docs and the code use the constant.
const (
	PropTopicPrefix           = "topic.prefix"
	PropHostname              = "database.hostname"
	PropPort                  = "database.port"
	PropUser                  = "database.user"
	PropPassword              = "database.password"
	PropDBName                = "database.dbname"
	PropSSLMode               = "database.sslmode"
	PropSSLCert               = "database.sslcert"
	PropSSLKey                = "database.sslkey"
	PropSSLPassword           = "database.sslpassword"
	PropSSLRootCert           = "database.sslrootcert"
	PropPluginName            = "plugin.name"
	PropSlotName              = "slot.name"
	PropSlotDropOnStop        = "slot.drop.on.stop"
	PropPublicationName       = "publication.name"
	PropPublicationAutocreate = "publication.autocreate.mode"
	PropSchemaInclude         = "schema.include.list"
	PropSchemaExclude         = "schema.exclude.list"
	PropTableInclude          = "table.include.list"
	PropTableExclude          = "table.exclude.list"
	PropColumnInclude         = "column.include.list"
	PropColumnExclude         = "column.exclude.list"
	PropTableIgnoreBuiltin    = "table.ignore.builtin"
	PropMessageKeyColumns     = "message.key.columns"
	PropSnapshotMode          = "snapshot.mode"
	PropDecimalHandling       = "decimal.handling.mode"
	PropBinaryHandling        = "binary.handling.mode"
	PropTimePrecision         = "time.precision.mode"
	PropTombstonesOnDelete    = "tombstones.on.delete"
	PropSkippedOperations     = "skipped.operations"
	PropStatusUpdateInterval  = "status.update.interval.ms"
	PropExtendedHeaders       = "extended.headers.enabled"
	PropTopicDelimiter        = "topic.delimiter"
	PropSnapshotFetchSize     = "snapshot.fetch.size"
	PropMaxBatchSize          = "max.batch.size"
	PropPollInterval          = "poll.interval.ms"
	PropSnapshotLockingMode   = "snapshot.locking.mode"
	PropSnapshotQueryMode     = "snapshot.query.mode"
	PropNotificationChannels  = "notification.enabled.channels"
	PropBufferMemory          = "pgmotion.buffer.memory.bytes"

	PropSlotMaxRetries              = "slot.max.retries"
	PropSlotRetryDelay              = "slot.retry.delay.ms"
	PropUnavailablePlaceholder      = "unavailable.value.placeholder"
	PropIntervalHandling            = "interval.handling.mode"
	PropHstoreHandling              = "hstore.handling.mode"
	PropMoneyFractionDigits         = "money.fraction.digits"
	PropSchemaNameAdjustment        = "schema.name.adjustment.mode"
	PropIncludeUnknownDatatypes     = "include.unknown.datatypes"
	PropProvideTransactionMetadata  = "provide.transaction.metadata"
	PropTopicTransaction            = "topic.transaction"
	PropHeartbeatInterval           = "heartbeat.interval.ms"
	PropHeartbeatActionQuery        = "heartbeat.action.query"
	PropTopicHeartbeatPrefix        = "topic.heartbeat.prefix"
	PropTopicHeartbeatName          = "topic.heartbeat.name"
	PropCustomMetricTags            = "custom.metric.tags"
	PropColumnPropagateSourceType   = "column.propagate.source.type"
	PropDatatypePropagateSourceType = "datatype.propagate.source.type"
	PropToastFill                   = "pgmotion.toast.fill"
	PropToastCacheMaxBytes          = "pgmotion.toast.cache.max.bytes"

	// Prefixes of the column.* families.
	PrefixColumnMaskWith   = "column.mask.with."
	PrefixColumnTruncateTo = "column.truncate.to."
	PrefixColumnMaskHash   = "column.mask.hash."
	PrefixSignalConsumer   = "signal.consumer."

	// LegacyTopicPrefix is topic.prefix's name before Debezium 2.0.
	LegacyTopicPrefix = "database.server.name"
)

// Snapshots.
const (
	PropSnapshotMaxThreads         = "snapshot.max.threads"
	PropSnapshotDelay              = "snapshot.delay.ms"
	PropStreamingDelay             = "streaming.delay.ms"
	PropSnapshotIncludeCollections = "snapshot.include.collection.list"
	PropSnapshotSelectOverrides    = "snapshot.select.statement.overrides"
	// The snapshot.mode.configuration.based.* options.
	PropSnapshotConfigData          = "snapshot.mode.configuration.based.snapshot.data"
	PropSnapshotConfigSchema        = "snapshot.mode.configuration.based.snapshot.schema"
	PropSnapshotConfigStream        = "snapshot.mode.configuration.based.start.stream"
	PropSnapshotConfigOnSchemaError = "snapshot.mode.configuration.based.snapshot.on.schema.error"
	PropSnapshotConfigOnDataError   = "snapshot.mode.configuration.based.snapshot.on.data.error"
)

// Signals and incremental snapshots.
const (
	PropSignalDataCollection    = "signal.data.collection"
	PropSignalPollInterval      = "signal.poll.interval.ms"
	PropSignalEnabledChannels   = "signal.enabled.channels"
	PropSignalKafkaTopic        = "signal.kafka.topic"
	PropSignalKafkaBootstrap    = "signal.kafka.bootstrap.servers"
	PropSignalKafkaGroupID      = "signal.kafka.groupId"
	PropSignalKafkaPollTimeout  = "signal.kafka.poll.timeout.ms"
	PropIncrementalChunkSize    = "incremental.snapshot.chunk.size"
	PropIncrementalWatermarking = "incremental.snapshot.watermarking.strategy"
	PropReadOnly                = "read.only"

	// The values of signal.enabled.channels.
	SignalChannelSource = "source"
	SignalChannelKafka  = "kafka"
	// The values of incremental.snapshot.watermarking.strategy.
	WatermarkInsertInsert = "INSERT_INSERT"
	WatermarkInsertDelete = "INSERT_DELETE"
	// The values of pgmotion.toast.fill.
	ToastFillNone    = "none"
	ToastFillCache   = "cache"
	ToastFillRefetch = "refetch"
)

// Retries after a failure (Debezium's names).
const (
	// PropErrorsMaxRetries is errors.max.retries: -1 retries retriable
	// errors without limit, 0 never.
	PropErrorsMaxRetries = "errors.max.retries"
	// PropRetriableRestartWait is retriable.restart.connector.wait.ms, the
	// longest wait before a retry.
	PropRetriableRestartWait = "retriable.restart.connector.wait.ms"
)

// Logical decoding messages and the outbox.
const (
	// PropMsgPrefixInclude and PropMsgPrefixExclude filter logical
	// decoding messages by prefix.
	PropMsgPrefixInclude = "message.prefix.include.list"
	PropMsgPrefixExclude = "message.prefix.exclude.list"
	// PropOutboxSource and PropOutboxMessagePrefix are pgmotion's outbox
	// options: with pgmotion.outbox.source=message, logical decoding
	// messages of the prefix are outbox events.
	PropOutboxSource        = "pgmotion.outbox.source"
	PropOutboxMessagePrefix = "pgmotion.outbox.message.prefix"
	// PropDDLCapture is pgmotion.ddl.capture: DDL statements, written
	// into the WAL by an event trigger, as events on <topic.prefix>.ddl.
	PropDDLCapture = "pgmotion.ddl.capture"
	// PropSkipLSN names the positions of records too large for Kafka
	// that the connector may drop, each one logged.
	PropSkipLSN = "pgmotion.skip.lsn"
	// PropMaxQueueSize and PropMaxQueueSizeBytes are max.queue.size and
	// max.queue.size.in.bytes, which the streaming metrics report.
	PropMaxQueueSize      = "max.queue.size"
	PropMaxQueueSizeBytes = "max.queue.size.in.bytes"
	// The values of pgmotion.outbox.source.
	OutboxSourceTable   = "table"
	OutboxSourceMessage = "message"
)

// Debezium's groups for the PostgreSQL connector (ConfigDefinition).
const (
	groupPostgres  = "Postgres"
	groupConnector = "Connector"
	groupEvents    = "Events"
)

// Postgres is the spec of the PostgreSQL connector. It is registered in
// init() under its class and the aliases PostgresConnector and Postgres.
var Postgres = &Spec{
	Class:   PostgresClass,
	Aliases: []string{"PostgresConnector", "Postgres"},
	Type:    "source",
	Version: DebeziumVersion,
	Title:   "PostgreSQL connector configuration",
	DocName: "postgres-connector",
	Summary: "pgmotion accepts the configuration of Debezium's PostgreSQL connector (" + DebeziumVersion +
		") on Kafka Connect, as posted to `POST /connectors`. Options marked *accepted* are known Debezium options " +
		"that pgmotion does not implement yet: setting one to anything but its default gives one warning naming it, " +
		"and the setting has no effect. Options pgmotion does not declare are kept and passed through, as Kafka Connect does.\n\n" +
		"Differences from Debezium:\n\n" +
		"- `plugin.name`: only `pgoutput` is supported. Debezium's default is `decoderbufs`; pgmotion treats a missing " +
		"`plugin.name` as `pgoutput` with a warning, and refuses `decoderbufs`.\n" +
		"- `tasks.max` above 1 is refused (Debezium silently runs one task).\n" +
		"- Filter lists (`*.include.list`, `*.exclude.list`, `message.key.columns`) are regular expressions in Go's RE2 syntax, " +
		"not Java's: look-around, back-references and possessive quantifiers are not available. As in Debezium they must match " +
		"the whole name and ignore case.\n" +
		"- Legacy names (`database.server.name`, `table.whitelist`, ...) and the legacy `snapshot.mode` values `never` and " +
		"`exported` are accepted with a warning.\n" +
		"- `database.port` must lie in 1–65535.",
	Prefixes: append(connectPrefixes(),
		&Prefix{Prefix: "driver.", Doc: "JDBC driver options passed through by Debezium; pgmotion uses pgx, which ignores them.", Status: Accepted, Since: "2.0"},
		&Prefix{Prefix: PrefixColumnMaskWith, Display: "column.mask.with.<n>.chars", Match: regexp.MustCompile(`^column\.mask\.with\.\d+\.chars$`).MatchString,
			Doc: "Replace the values of the listed character columns (text, varchar, char, name; regexes on schema.table.column) with n asterisks, nulls included, as Debezium's MaskStrings does. Every listed column's schema gets the parameter masked=true; values of other types are left as they are."},
		&Prefix{Prefix: PrefixColumnTruncateTo, Display: "column.truncate.to.<n>.chars", Match: regexp.MustCompile(`^column\.truncate\.to\.\d+\.chars$`).MatchString,
			Doc: "Truncate the string values of the listed columns (regexes on schema.table.column) to n characters (UTF-16 units, as Java counts them). A listed column whose length is unknown or above n gets the schema parameter truncateLength=n."},
		&Prefix{Prefix: PrefixColumnMaskHash, Display: "column.mask.hash[.v2].<algorithm>.with.salt.<salt>",
			Doc: "Replace the values of the listed string columns with the hex digest of the salt and the value (v1: of the Java-serialized string, as Debezium's default; v2: of its UTF-8 bytes), cut to the column length. Algorithms: MD5, SHA-1, SHA-224, SHA-256, SHA-384, SHA-512, SHA-512/224, SHA-512/256, SHA3-224, SHA3-256, SHA3-384, SHA3-512."},
		&Prefix{Prefix: PropSnapshotSelectOverrides + ".", Display: "snapshot.select.statement.overrides.<schema>.<table>",
			Doc: "The SELECT statement used to snapshot one table listed in snapshot.select.statement.overrides. Its columns are matched to the table's by name; columns it leaves out are null. Such a table is read as one range."},
		&Prefix{Prefix: PrefixSignalConsumer, Doc: "Kafka consumer options of the Kafka signal channel.", Status: Accepted},
		&Prefix{Prefix: "notification.sink.", Display: "notification.*", Doc: "Options of notification channels.", Status: Accepted},
		&Prefix{Prefix: "openlineage.integration.", Doc: "OpenLineage integration options.", Status: Accepted},
		&Prefix{Prefix: "pgmotion.", Doc: "pgmotion's own options."},
	),
	Enrich: enrichConnect,
}

func init() {
	Postgres.Fields = append(connectFields(Postgres.Class, Postgres.Aliases, 1), postgresFields()...)
	Postgres.Fields = append(Postgres.Fields, converterFields(PropKeyConverter+".", "key")...)
	Postgres.Fields = append(Postgres.Fields, converterFields(PropValueConverter+".", "value")...)
	Register(Postgres)
}

// postgresFields declares the Debezium options, in the order of Debezium's
// ConfigDefinition (groups Postgres, Connector, Events); options Debezium
// does not put in its ConfigDef come last in the group they belong to.
func postgresFields() []*Field {
	return []*Field{
		// --- Postgres ---
		{Name: PropTopicPrefix, Type: TypeString, Required: true, Importance: High, Group: groupPostgres, Width: WidthMedium,
			DisplayName: "Topic prefix", Check: checkTopicName, Aliases: []string{LegacyTopicPrefix}, Since: "2.0",
			Doc: "Namespace of the database server: the prefix of every topic the connector writes (<topic.prefix>.<schema>.<table>) and the source offset partition. Only letters, digits, '.', '_' and '-'."},
		{Name: PropHostname, Type: TypeString, Required: true, Importance: High, Group: groupPostgres, Width: WidthMedium,
			DisplayName: "Hostname", Check: checkHostname,
			Doc: "Host name or IP address of the PostgreSQL server."},
		{Name: PropPort, Type: TypeInt, Default: "5432", Importance: High, Group: groupPostgres, Width: WidthShort,
			DisplayName: "Port", Check: checkBetween(1, 65535),
			Doc: "Port of the PostgreSQL server (1-65535)."},
		{Name: PropUser, Type: TypeString, Required: true, Importance: High, Group: groupPostgres, Width: WidthShort,
			DisplayName: "User",
			Doc:         "PostgreSQL user; it needs the REPLICATION and LOGIN attributes."},
		{Name: PropPassword, Type: TypePassword, Importance: High, Group: groupPostgres, Width: WidthShort,
			DisplayName: "Password",
			Doc:         "Password of the PostgreSQL user."},
		{Name: PropDBName, Type: TypeString, Required: true, Importance: High, Group: groupPostgres, Width: WidthMedium,
			DisplayName: "Database",
			Doc:         "Name of the database to capture changes from."},
		{Name: "database.query.timeout.ms", Type: TypeInt, Default: "600000", Importance: Low, Group: groupPostgres,
			DisplayName: "Query timeout", Status: Accepted,
			Doc: "Time to wait for a query to execute, in milliseconds; 0 means no limit."},
		{Name: PropPluginName, Type: TypeString, Default: "pgoutput", DebeziumDefault: "decoderbufs", Importance: Medium, Group: groupPostgres, Width: WidthMedium,
			DisplayName: "Plugin",
			Enum: []Enum{
				{Value: "decoderbufs", Status: Rejected, Note: "pgmotion supports only the pgoutput logical decoding plugin, built into PostgreSQL 10+; set plugin.name=pgoutput"},
				{Value: "pgoutput"},
			},
			Note: "pgmotion supports only pgoutput (built into PostgreSQL 10+); set plugin.name=pgoutput to make this explicit",
			Doc:  "Logical decoding plugin. Debezium's default is decoderbufs; pgmotion uses pgoutput when the option is missing, with a warning, and refuses decoderbufs."},
		{Name: PropSlotName, Type: TypeString, Default: "debezium", Importance: Medium, Group: groupPostgres, Width: WidthMedium,
			DisplayName: "Slot", Check: checkSlotName,
			Doc: "Name of the logical replication slot: lower-case letters, digits and underscores, at most 63 characters."},
		{Name: PropPublicationName, Type: TypeString, Default: "dbz_publication", Importance: Medium, Group: groupPostgres, Width: WidthMedium,
			DisplayName: "Publication",
			Doc:         "Name of the PostgreSQL publication that pgoutput streams."},
		{Name: PropPublicationAutocreate, Type: TypeString, Default: string(AutocreateAllTables), Importance: Medium, Group: groupPostgres, Width: WidthMedium,
			DisplayName: "Publication Auto Create Mode", Enum: enums(string(AutocreateDisabled), string(AutocreateAllTables), string(AutocreateFiltered), string(AutocreateNoTables)),
			Doc: "How the publication is created when missing: all_tables (CREATE PUBLICATION ... FOR ALL TABLES), filtered (FOR TABLE with the tables the filters capture, kept in sync on restart), no_tables (an empty publication), or disabled (it must exist)."},
		{Name: "replica.identity.autoset.values", Type: TypeString, Importance: Medium, Group: groupPostgres, Width: WidthLong,
			DisplayName: "Replica Identity Auto Set Values", Status: Accepted, Check: checkReplicaAutoset,
			Doc: "Comma-separated <table regex>:<replica identity> entries (DEFAULT, FULL, NOTHING or INDEX <name>); the connector runs ALTER TABLE ... REPLICA IDENTITY on the captured tables that match."},
		{Name: PropSlotDropOnStop, Type: TypeBoolean, Default: "false", Importance: Medium, Group: groupPostgres,
			DisplayName: "Drop slot on stop",
			Doc:         "Drop the replication slot when the connector stops cleanly. Off by default, so that a restart resumes where it stopped."},
		{Name: "slot.failover", Type: TypeBoolean, Default: "false", Importance: Medium, Group: groupPostgres,
			DisplayName: "Create failover slot", Status: Accepted,
			Doc: "Create the slot as a failover slot (PostgreSQL 17+), synchronized to standbys."},
		{Name: "slot.stream.params", Type: TypeString, Importance: Low, Group: groupPostgres, Width: WidthLong,
			DisplayName: "Optional parameters to pass to the logical decoder when the stream is started.", Status: Accepted,
			Doc: "Semicolon-separated key=value parameters for the logical decoding plugin."},
		{Name: "database.initial.statements", Type: TypeString, Importance: Low, Group: groupPostgres, Width: WidthLong,
			DisplayName: "Initial statements", Status: Accepted,
			Doc: "Semicolon-separated SQL statements run on each new JDBC connection (';;' is a literal semicolon)."},
		{Name: PropSSLMode, Type: TypeString, Default: "prefer", Importance: Medium, Group: groupPostgres, Width: WidthMedium,
			DisplayName: "SSL mode", Enum: enums("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
			Doc: "TLS use: disable, allow, prefer (default), require, verify-ca (verify the server certificate against database.sslrootcert) or verify-full (also verify the host name)."},
		{Name: PropSSLCert, Type: TypeString, Importance: Medium, Group: groupPostgres, Width: WidthLong,
			DisplayName: "SSL Client Certificate",
			Doc:         "File of the client's TLS certificate."},
		{Name: PropSSLPassword, Type: TypePassword, Importance: Medium, Group: groupPostgres, Width: WidthMedium,
			DisplayName: "SSL Client Key Password",
			Doc:         "Password of the client's TLS key file."},
		{Name: PropSSLRootCert, Type: TypeString, Importance: Medium, Group: groupPostgres, Width: WidthLong,
			DisplayName: "SSL Root Certificate",
			Doc:         "File of the root certificates the server certificate is verified against."},
		{Name: PropSSLKey, Type: TypeString, Importance: Medium, Group: groupPostgres, Width: WidthLong,
			DisplayName: "SSL Client Key",
			Doc:         "File of the client's TLS key."},
		{Name: PropSlotMaxRetries, Type: TypeInt, Default: "6", Importance: Low, Group: groupPostgres,
			DisplayName: "Retry count",
			Doc:         "How many times to retry connecting to a replication slot that is in use."},
		{Name: PropSlotRetryDelay, Type: TypeLong, Default: "10000", Importance: Low, Group: groupPostgres,
			DisplayName: "Retry delay", Check: checkIsInteger,
			Doc: "Milliseconds between retries to connect to a replication slot."},
		{Name: "database.sslfactory", Type: TypeString, Importance: Medium, Group: groupPostgres, Width: WidthLong,
			DisplayName: "SSL Root Certificate", Status: Accepted, Note: "a Java SSLSocketFactory class; pgmotion uses database.sslmode and the certificate files",
			Doc: "Java class creating the TLS sockets of the JDBC driver."},
		{Name: PropStatusUpdateInterval, Type: TypeInt, Default: "10000", Importance: Medium, Group: groupPostgres, Width: WidthShort,
			DisplayName: "Status update interval (ms)", Check: checkPositiveInt,
			Doc: "How often, in milliseconds, replication status (the flushed LSN) is sent to the server."},
		{Name: "lsn.flush.timeout.ms", Type: TypeLong, Default: "30000", Importance: Medium, Group: groupPostgres, Width: WidthShort,
			DisplayName: "LSN flush timeout (ms)", Status: Accepted, Check: checkPositiveInt,
			Doc: "Maximum time, in milliseconds, to wait for an LSN flush to the slot."},
		{Name: "lsn.flush.timeout.action", Type: TypeString, Default: "fail", Importance: Medium, Group: groupPostgres, Width: WidthMedium,
			DisplayName: "LSN flush timeout action", Status: Accepted, Enum: enums("fail", "warn", "ignore"),
			Doc: "What to do when an LSN flush times out: fail, warn or ignore."},
		{Name: "database.tcpKeepAlive", Type: TypeBoolean, Default: "true", Importance: Medium, Group: groupPostgres, Width: WidthShort,
			DisplayName: "TCP keep-alive probe", Status: Accepted, Note: "pgmotion always enables TCP keep-alive",
			Doc: "Enable TCP keep-alive probes on the database connections."},
		{Name: "xmin.fetch.interval.ms", Type: TypeLong, Default: "0", Importance: Medium, Group: groupPostgres, Width: WidthShort,
			DisplayName: "Xmin fetch interval (ms)", Status: Accepted, Check: checkNonNegativeLong,
			Doc: "How often, in milliseconds, the slot's xmin is read into source.xmin; 0 disables it."},
		{Name: PropSkippedOperations, Type: TypeList, Default: "t", Importance: Low, Group: groupPostgres, Width: WidthShort,
			DisplayName: "Skipped Operations", Check: checkSkippedOperations,
			Doc: "Comma-separated operations not emitted while streaming: c (inserts), u (updates), d (deletes), t (truncates), or none. By default truncates are skipped."},
		{Name: "lsn.flush.mode", Type: TypeString, Default: "connector", Importance: Low, Group: groupPostgres, Width: WidthShort,
			DisplayName: "LSN flush mode", Status: Accepted, Since: "3.4", Enum: enums("connector", "manual", "connector_and_driver"),
			Doc: "Who confirms LSNs to the slot: connector (default), manual (an external process), or connector_and_driver."},
		{Name: "flush.lsn.source", Type: TypeBoolean, Default: "true", Importance: Low, Group: groupPostgres, Width: WidthShort,
			DisplayName: "Boolean to determine if Debezium should flush LSN in the source database", Status: Accepted, Note: "deprecated since Debezium 3.4; use lsn.flush.mode",
			Doc: "Deprecated: false means lsn.flush.mode=manual."},

		// --- Connector ---
		{Name: "event.processing.failure.handling.mode", Type: TypeString, Default: "fail", Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Event deserialization failure handling", Status: Accepted, Enum: enums("skip", "warn", "fail", "ignore"),
			Doc: "What to do with an event that cannot be processed: fail, warn (log and skip) or skip."},
		{Name: PropMaxBatchSize, Type: TypeInt, Default: "2048", Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Change event batch size", Status: Accepted, Check: checkPositiveInt,
			Doc: "Maximum number of events in each batch handed to Kafka Connect."},
		{Name: PropMaxQueueSize, Type: TypeInt, Default: "8192", Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Change event buffer size", Status: Accepted, Check: checkMaxQueueSize,
			Doc: "Maximum number of events buffered between the reader and Kafka Connect; larger than max.batch.size."},
		{Name: PropPollInterval, Type: TypeLong, Default: "500", Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Poll interval (ms)", Status: Accepted, Check: checkPositiveInt,
			Doc: "Milliseconds to wait for new events when the buffer is empty."},
		{Name: PropMaxQueueSizeBytes, Type: TypeLong, Default: "0", Importance: Medium, Group: groupConnector, Width: WidthLong,
			DisplayName: "Change event buffer size in bytes", Status: Accepted, Check: checkNonNegativeLong,
			Doc: "Maximum size of the buffer in bytes; 0 means no limit."},
		{Name: PropProvideTransactionMetadata, Type: TypeBoolean, Default: "false", Importance: Low, Group: groupConnector, Width: WidthShort,
			DisplayName: "Store transaction metadata information in a dedicated topic.",
			Doc:         "Write a BEGIN and an END event for each transaction to <topic.prefix>.<topic.transaction>, and a transaction block (id, total_order, data_collection_order) into each streamed event. Ids are <xid>:<LSN of the event>, as Debezium writes them."},
		{Name: PropSnapshotDelay, Type: TypeLong, Default: "0", Importance: Low, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Snapshot Delay (milliseconds)", Check: checkNonNegativeLong,
			Doc: "Milliseconds to wait before starting a snapshot."},
		{Name: PropStreamingDelay, Type: TypeLong, Default: "0", Importance: Low, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Streaming Delay (milliseconds)", Check: checkNonNegativeLong,
			Doc: "Milliseconds to wait before streaming starts after a snapshot."},
		{Name: PropSnapshotIncludeCollections, Type: TypeList, Importance: Medium, Group: groupConnector, Width: WidthLong,
			DisplayName: "Snapshot mode include data collection", Check: checkRegexList,
			Doc: "Regexes of the tables (schema.table) to snapshot, among those captured; by default all of them."},
		{Name: PropSnapshotFetchSize, Type: TypeInt, Default: "10240", Importance: Medium, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Snapshot fetch size", Check: checkNonNegativeInt,
			Note: "pgmotion streams snapshot rows from the server as they come, so memory stays bounded whatever this says",
			Doc:  "Maximum number of rows read into memory at a time while snapshotting a table."},
		{Name: PropSnapshotMaxThreads, Type: TypeInt, Default: "1", Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Snapshot maximum threads", Check: checkPositiveInt,
			Doc: "Number of connections reading the snapshot in parallel, all in one exported snapshot. Unlike Debezium, which reads one table per thread, pgmotion also splits tables of 16 MiB and more into page ranges (TID range scans, PostgreSQL 14 and later), so that one large table is read by every thread; the snapshot resumes after a crash from the ranges not yet delivered."},
		{Name: "snapshot.max.threads.multiplier", Type: TypeInt, Default: "1", Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Snapshot maximum thread multiplier", Status: Accepted, Check: checkPositiveInt, Note: "pgmotion sizes the ranges of a table itself: at least four per thread and at most 128 MiB each",
			Doc: "Multiplier of snapshot.max.threads for splitting large tables."},
		{Name: "snapshot.mode.custom.name", Type: TypeString, Importance: Medium, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Snapshot Mode Custom Name", Status: Accepted, CheckNull: true, Check: checkCustomName(PropSnapshotMode), Since: "2.6",
			Doc: "Name of the custom snapshotter when snapshot.mode is custom."},
		boolOpt(PropSnapshotConfigData, "Snapshot mode property based snapshot data", "With snapshot.mode=configuration_based: snapshot the data at every start."),
		boolOpt(PropSnapshotConfigSchema, "Snapshot mode property based snapshot schema", "With snapshot.mode=configuration_based: snapshot the schema. The PostgreSQL connector keeps no schema history, so, as in Debezium, this changes nothing."),
		boolOpt(PropSnapshotConfigStream, "Snapshot mode property based start stream", "With snapshot.mode=configuration_based: stream after the snapshot."),
		boolOpt(PropSnapshotConfigOnSchemaError, "Snapshot mode property based snapshot on schema error", "With snapshot.mode=configuration_based: snapshot the schema again when it is not valid. No effect for PostgreSQL, as in Debezium."),
		boolOpt(PropSnapshotConfigOnDataError, "Snapshot mode property based snapshot on data error", "With snapshot.mode=configuration_based: snapshot the data when the stored position can no longer be served (the slot was lost or recreated)."),
		{Name: PropRetriableRestartWait, Type: TypeLong, Default: "10000", Importance: Low, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Retriable restart wait (ms)", Check: checkPositiveLong,
			Note: "Debezium waits this long before every restart; pgmotion waits 0.5 s before the first and doubles the wait up to this cap, so a short PostgreSQL restart costs seconds, not tens of seconds",
			Doc:  "Milliseconds to wait before restarting after a retriable error (connection loss, a PostgreSQL restart or failover, a replication slot still held by a dying walsender, an unreachable Kafka)."},
		{Name: "query.fetch.size", Type: TypeInt, Default: "0", Importance: Medium, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Query fetch size", Status: Accepted, Check: checkNonNegativeInt,
			Doc: "Number of rows fetched per round trip by queries other than the snapshot; 0 uses the driver's default."},
		{Name: PropErrorsMaxRetries, Type: TypeInt, Default: "-1", Importance: Low, Group: groupConnector, Width: WidthMedium,
			DisplayName: "The maximum number of retries", Check: checkIsInteger,
			Doc: "Maximum number of retries on retriable errors before failing; -1 means no limit, 0 no retries. The count starts again once a restarted task has delivered to Kafka. The task stays RUNNING while it retries."},
		{Name: PropIncrementalWatermarking, Type: TypeString, Default: WatermarkInsertInsert, Importance: Low, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Incremental snapshot watermarking strategy", Enum: enums(WatermarkInsertInsert, WatermarkInsertDelete),
			Doc: "How incremental snapshot windows are marked in the signal table: insert_insert (an open and a close row per chunk) or insert_delete (an open row per chunk, deleted to close the window, so that the table does not grow)."},
		{Name: "connection.validation.timeout.ms", Type: TypeLong, Default: "60000", Importance: Low, Group: groupConnector, Width: WidthShort,
			DisplayName: "Connection validation timeout (ms)", Status: Accepted, Check: checkPositiveLong,
			Doc: "Time allowed to the database connection test of configuration validation."},
		{Name: PropExtendedHeaders, Type: TypeBoolean, Default: "true", Importance: Low, Group: groupConnector, Width: WidthShort,
			DisplayName: "Enable/Disable extended headers", Since: "3.3",
			Doc: "Add the headers __debezium.context.connectorLogicalName, __debezium.context.taskId and __debezium.context.connectorName to every record."},
		{Name: "guardrail.collections.max", Type: TypeInt, Default: "0", Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Maximum number of collections or tables", Status: Accepted, Check: checkNonNegativeInt,
			Doc: "Maximum number of captured tables; 0 means no limit."},
		{Name: "guardrail.collections.limit.action", Type: TypeString, Default: "warn", Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Guardrail collections limit action", Status: Accepted, Enum: enums("warn", "fail"),
			Doc: "What to do when guardrail.collections.max is exceeded."},
		{Name: PropDecimalHandling, Type: TypeString, Default: string(DecimalPrecise), Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Decimal Handling", Enum: enums(string(DecimalPrecise), string(DecimalString), string(DecimalDouble)),
			Doc: "How numeric/decimal/money values are written: precise (Connect Decimal, base64 of the unscaled value in JSON), string, or double."},
		{Name: PropTimePrecision, Type: TypeString, Default: string(TimeAdaptive), Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Time Precision",
			Enum: []Enum{
				{Value: string(TimeAdaptive)},
				{Value: string(TimeAdaptiveTimeMicroseconds)},
				{Value: string(TimeIsoString)},
				{Value: string(TimeConnect)},
				{Value: string(TimeMicroseconds)},
				{Value: string(TimeNanoseconds)},
			},
			Doc: "How date, time and timestamp values are written: adaptive (the default: Date, Time/MicroTime and Timestamp/MicroTimestamp by column precision), adaptive_time_microseconds (time always MicroTime), connect (Kafka Connect's Date, Time and Timestamp, in milliseconds), isostring (IsoDate, IsoTime, IsoTimestamp strings in UTC), microseconds (MicroTime, MicroTimestamp) or nanoseconds (NanoTime, NanoTimestamp). timetz, timestamptz and interval are the same in every mode."},
		{Name: "snapshot.lock.timeout.ms", Type: TypeLong, Default: "10000", Importance: Medium, Group: groupConnector, Width: WidthLong,
			DisplayName: "Snapshot lock timeout (ms)", Status: Accepted,
			Doc: "Milliseconds to wait for table locks when snapshot.locking.mode takes them."},
		{Name: PropSnapshotMode, Type: TypeString, Default: string(SnapshotInitial), Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Snapshot mode",
			Enum: []Enum{
				{Value: string(SnapshotAlways)},
				{Value: string(SnapshotInitial)},
				{Value: "never", Status: Removed, Alias: string(SnapshotNoData), Note: "removed in Debezium 3.3"},
				{Value: string(SnapshotNoData)},
				{Value: string(SnapshotInitialOnly)},
				{Value: string(SnapshotWhenNeeded)},
				{Value: string(SnapshotConfigurationBased)},
				{Value: "custom", Status: Accepted, Fallback: string(SnapshotInitial)},
				{Value: "exported", Status: Removed, Alias: string(SnapshotInitial), Note: "a Debezium 1.x value"},
			},
			Doc: "When to snapshot: initial (when there is no offset yet, or the snapshot did not finish), always (at every start), initial_only (as initial, then no streaming), no_data (never; stream only), when_needed (as initial, and also when the stored position can no longer be served because the slot was lost or recreated), configuration_based (as the snapshot.mode.configuration.based.* options say). custom is accepted and behaves as initial. The legacy never means no_data."},
		{Name: "snapshot.isolation.mode", Type: TypeString, Default: "serializable", Importance: Low, Group: groupConnector, Width: WidthShort,
			DisplayName: "Snapshot isolation mode", Status: Accepted, Enum: enums("serializable", "repeatable_read", "read_committed", "read_uncommitted"),
			Doc: "Transaction isolation level of the snapshot."},
		{Name: PropSnapshotQueryMode, Type: TypeString, Default: "select_all", Importance: Low, Group: groupConnector, Width: WidthShort,
			DisplayName: "Snapshot query mode", Status: Accepted, Enum: enums("select_all", "custom"),
			Doc: "How snapshot queries are built: select_all or custom (snapshot.query.mode.custom.name)."},
		{Name: "snapshot.query.mode.custom.name", Type: TypeString, Importance: Medium, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Snapshot Query Mode Custom Name", Status: Accepted, CheckNull: true, Check: checkCustomName(PropSnapshotQueryMode),
			Doc: "Name of the custom snapshot query implementation."},
		{Name: "snapshot.locking.mode.custom.name", Type: TypeString, Importance: Medium, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Snapshot Locking Mode Custom Name", Status: Accepted, CheckNull: true, Check: checkCustomName(PropSnapshotLockingMode),
			Doc: "Name of the custom snapshot locking implementation."},
		{Name: PropSnapshotLockingMode, Type: TypeString, Default: "none", Importance: Low, Group: groupConnector, Width: WidthShort,
			DisplayName: "Snapshot locking mode", Status: Accepted, Enum: enums("shared", "none", "custom"),
			Doc: "Table locks taken while snapshotting: none or shared."},
		{Name: PropHstoreHandling, Type: TypeString, Default: string(HstoreJSON), Importance: Low, Group: groupConnector, Width: WidthMedium,
			DisplayName: "HStore Handling", Enum: enums(string(HstoreJSON), string(HstoreMap)),
			Doc: "How hstore values are written: json (a JSON string) or map."},
		{Name: PropBinaryHandling, Type: TypeString, Default: string(BinaryBytes), Importance: Low, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Binary Handling", Enum: enums(string(BinaryBytes), string(BinaryBase64), string(BinaryBase64URLSafe), string(BinaryHex)),
			Doc: "How bytea values are written: bytes (base64 in JSON), or a base64, base64-url-safe or hex string."},
		{Name: PropSchemaNameAdjustment, Type: TypeString, Default: "none", Importance: Low, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Schema Name Adjustment", Status: Accepted, Enum: enums("none", "avro", "avro_unicode"),
			Doc: "How schema names are made Avro-compatible: none, avro (invalid characters become _) or avro_unicode (_uxxxx)."},
		{Name: PropIntervalHandling, Type: TypeString, Default: string(IntervalNumeric), Importance: Low, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Interval Handling", Enum: enums(string(IntervalNumeric), string(IntervalString)),
			Doc: "How interval values are written: numeric (microseconds) or string (ISO 8601)."},
		{Name: "schema.refresh.mode", Type: TypeString, Default: "columns_diff", Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Schema refresh mode", Status: Accepted, Enum: enums("columns_diff", "columns_diff_exclude_unchanged_toast"),
			Doc: "When a table's schema is refreshed from the catalog."},
		{Name: PropIncrementalChunkSize, Type: TypeInt, Default: "1024", Importance: Medium, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Incremental snapshot chunk size", Check: checkNonNegativeInt,
			Doc: "Number of rows read per incremental snapshot chunk (0 means the default, 1024)."},
		{Name: PropUnavailablePlaceholder, Type: TypeString, Default: "__debezium_unavailable_value", Importance: Medium, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Unavailable value placeholder", Status: Accepted,
			Doc: "Value written for unchanged TOASTed columns the server did not send; a hex: prefix gives bytes."},
		{Name: PropMsgPrefixInclude, Type: TypeList, Importance: Medium, Group: groupConnector, Width: WidthLong,
			DisplayName: "Include Logical Decoding Message Prefixes", Check: checkRegexList,
			Doc: "Regexes of the prefixes of logical decoding messages to emit (pg_logical_emit_message; PostgreSQL 14+), as op \"m\" events on <topic.prefix>.message."},
		{Name: PropMsgPrefixExclude, Type: TypeList, Importance: Medium, Group: groupConnector, Width: WidthLong,
			DisplayName: "Exclude Logical Decoding Message Prefixes", Check: both(checkRegexList, checkMessagePrefixExclude),
			Doc: "Regexes of the prefixes of logical decoding messages not to emit; not with message.prefix.include.list."},
		{Name: PropOutboxSource, Type: TypeString, Default: OutboxSourceTable, Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Outbox event source", Enum: enums(OutboxSourceTable, OutboxSourceMessage), Origin: OriginPgmotion,
			Doc: "Where outbox events come from. table: inserts into an outbox table, as in Debezium. message: also logical decoding messages " +
				"of prefix pgmotion.outbox.message.prefix, written with pg_logical_emit_message(true, 'outbox', '{\"id\":...,\"aggregatetype\":...,\"aggregateid\":...,\"type\":...,\"payload\":{...}}') " +
				"(PostgreSQL 14+): each becomes a create event whose row holds the JSON object's members (strings as NOT NULL strings, objects, arrays and null as jsonb, " +
				"numbers and booleans as such), so that the outbox EventRouter routes it as it routes an outbox table row, with no table."},
		{Name: PropOutboxMessagePrefix, Type: TypeString, Default: "outbox", Importance: Medium, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Outbox message prefix", Origin: OriginPgmotion,
			Doc: "The prefix of the logical decoding messages that are outbox events when pgmotion.outbox.source=message. " +
				"These messages are not subject to message.prefix.include.list and message.prefix.exclude.list."},
		{Name: "publish.via.partition.root", Type: TypeBoolean, Default: "false", Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Publish via partition root", Status: Accepted,
			Doc: "Create the publication with publish_via_partition_root, so that partitions are captured as their root table."},
		{Name: PropMoneyFractionDigits, Type: TypeShort, Default: "2", Importance: Low, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Money fraction digits",
			Doc:         "Scale of money values in precise decimal mode."},
		{Name: "field.name.adjustment.mode", Type: TypeString, Default: "none", Importance: Low, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Field Name Adjustment", Status: Accepted, Enum: enums("none", "avro", "avro_unicode"),
			Doc: "How field names are made Avro-compatible."},
		{Name: "skip.messages.without.change", Type: TypeBoolean, Default: "false", Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Enable skipping messages without change", Status: Accepted,
			Doc: "Skip updates that change no captured column (needs REPLICA IDENTITY FULL)."},
		{Name: "incremental.snapshot.allow.schema.changes", Type: TypeBoolean, Default: "false", Importance: Low, Group: groupConnector, Width: WidthShort,
			DisplayName: "Allow schema changes during incremental snapshot if supported.", Status: Accepted,
			Doc: "Detect schema changes during an incremental snapshot."},
		{Name: "offset.mismatch.strategy", Type: TypeString, Default: "no_validation", Importance: Low, Group: groupConnector, Width: WidthShort,
			DisplayName: "Offset Slot Mismatch Strategy", Status: Accepted, Since: "3.4", Enum: enums("no_validation", "trust_offset", "trust_slot", "trust_greater_lsn"),
			Doc: "What to do when the stored offset and the slot's position disagree."},
		{Name: "event.converting.failure.handling.mode", Type: TypeString, Default: "warn", Importance: Medium, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Event converting failure handling mode", Status: Accepted, Enum: enums("skip", "warn", "fail"),
			Doc: "What to do with a column value that cannot be converted: warn (write null), skip or fail."},
		{Name: PropReadOnly, Type: TypeBoolean, Default: "false", Importance: Low, Group: groupConnector, Width: WidthShort,
			DisplayName: "Read only connection",
			Doc:         "Incremental snapshots without writing to the signal table (PostgreSQL 13+): the chunk's window is bounded by pg_current_snapshot() before and after each chunk and by the WAL position after it, compared with the transactions and positions of the stream. Signals then come from the kafka channel (or from rows written to the signal table by others)."},

		// --- Events ---
		{Name: "converters", Type: TypeString, Importance: Low, Group: groupEvents, Width: WidthMedium,
			DisplayName: "List of prefixes defining custom values converters.", Status: Accepted,
			Doc: "Comma-separated names of custom value converters, each configured by <name>.type and <name>.*."},
		{Name: "post.processors", Type: TypeString, Importance: Low, Group: groupEvents, Width: WidthMedium,
			DisplayName: "List of change event post processors.", Status: Accepted,
			Doc: "Comma-separated names of post processors, each configured by <name>.type and <name>.*."},
		{Name: PropTombstonesOnDelete, Type: TypeBoolean, Default: "true", Importance: Medium, Group: groupEvents, Width: WidthShort,
			DisplayName: "Change the behaviour of Debezium with regards to delete operations",
			Doc:         "Follow each delete event with a tombstone (same key, null value), so that log compaction can remove the key."},
		{Name: PropHeartbeatInterval, Type: TypeInt, Default: "0", Importance: Medium, Group: groupEvents, Width: WidthMedium,
			DisplayName: "Connector heartbeat interval (milli-seconds)", Check: checkNonNegativeInt,
			Doc: "Milliseconds between heartbeat messages to __debezium-heartbeat.<topic.prefix>; 0 disables them."},
		{Name: PropSignalDataCollection, Type: TypeList, Importance: Medium, Group: groupEvents, Width: WidthMedium,
			DisplayName: "Signaling data collection", Check: checkSignalCollection,
			Doc: "The signal table, as schema.table, with the columns id, type and data in that order, e.g. CREATE TABLE public.debezium_signal (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048) NULL). Its INSERTs are acted on when the stream delivers them; incremental snapshots write their watermarks to it. The stream reads it even when the filters exclude it (with publication.autocreate.mode=filtered it is added to the publication); its rows become events only when the filters include it."},
		{Name: PropSignalPollInterval, Type: TypeLong, Default: "5000", Importance: Medium, Group: groupEvents, Width: WidthShort,
			DisplayName: "Signal processor poll interval", Check: checkPositiveInt,
			Doc: "Milliseconds between pickups of the kafka channel's signals. Signal table rows are acted on as the stream delivers them."},
		{Name: PropSignalEnabledChannels, Type: TypeList, Default: SignalChannelSource, Importance: Medium, Group: groupEvents, Width: WidthLong,
			DisplayName: "Enabled channels names", Check: checkSignalChannels,
			Doc: "Signal channels: source (the signal table) and kafka (the signal.kafka.topic topic). Debezium's file and jmx channels are not available in pgmotion."},
		{Name: "topic.naming.strategy", Type: TypeClass, Default: "io.debezium.schema.SchemaTopicNamingStrategy", Importance: Medium, Group: groupEvents, Width: WidthMedium,
			DisplayName: "Topic naming strategy class", Status: Accepted,
			Doc: "Class naming the topics; the default gives <topic.prefix>.<schema>.<table>."},
		{Name: PropNotificationChannels, Type: TypeList, Importance: Medium, Group: groupEvents, Width: WidthLong,
			DisplayName: "Enabled notification channels names", Status: Accepted,
			Doc: "Notification channels: sink, log, jmx."},
		{Name: "notification.sink.topic.name", Type: TypeString, Importance: High, Group: groupEvents, Width: WidthLong,
			DisplayName: "Notification topic name", Status: Accepted, CheckNull: true, Check: checkNotificationTopic,
			Doc: "Topic of the sink notification channel."},
		{Name: PropCustomMetricTags, Type: TypeList, Importance: Low, Group: groupEvents, Width: WidthMedium,
			DisplayName: "Customize metric tags", Check: checkMapList,
			Doc: "k1=v1,k2=v2 tags added to the connector's metrics as labels (JMX name properties in Debezium). Connectors of one worker must use the same keys, as one Prometheus registry holds one label set per metric."},
		{Name: PropColumnInclude, Type: TypeList, Importance: Medium, Group: groupEvents, Width: WidthLong,
			DisplayName: "Include Columns", Check: checkRegexList, Aliases: []string{"column.whitelist"},
			Doc: "Regexes of the columns (schema.table.column) to include in events."},
		{Name: PropColumnExclude, Type: TypeList, Importance: Medium, Group: groupEvents, Width: WidthLong,
			DisplayName: "Exclude Columns", Check: both(checkRegexList, checkExcludes(PropColumnInclude)), Aliases: []string{"column.blacklist"},
			Doc: "Regexes of the columns (schema.table.column) to leave out of events; not with column.include.list."},
		{Name: PropTableInclude, Type: TypeList, Importance: High, Group: groupEvents, Width: WidthLong,
			DisplayName: "Include Tables", Check: checkRegexList, Aliases: []string{"table.whitelist"},
			Doc: "Comma-separated regexes of the tables to capture, matched against schema.table (whole name, ignoring case; Go RE2 syntax). A backslash escapes a comma."},
		{Name: PropTableExclude, Type: TypeList, Importance: Medium, Group: groupEvents, Width: WidthLong,
			DisplayName: "Exclude Tables", Check: both(checkRegexList, checkExcludes(PropTableInclude)), Aliases: []string{"table.blacklist"},
			Doc: "Comma-separated regexes of the tables not to capture, matched against schema.table; not with table.include.list."},
		{Name: PropTableIgnoreBuiltin, Type: TypeBoolean, Default: "true", Importance: Low, Group: groupEvents, Width: WidthShort,
			DisplayName: "Ignore system databases",
			Doc:         "Leave out system tables: the pg_catalog and information_schema schemas, pg_temp* schemas and spatial_ref_sys."},
		{Name: PropSchemaInclude, Type: TypeList, Importance: High, Group: groupEvents, Width: WidthLong,
			DisplayName: "Include Schemas", Check: checkRegexList, Aliases: []string{"schema.whitelist"},
			Doc: "Comma-separated regexes of the schemas to capture (whole name, ignoring case; Go RE2 syntax)."},
		{Name: PropSchemaExclude, Type: TypeList, Importance: Medium, Group: groupEvents, Width: WidthLong,
			DisplayName: "Exclude Schemas", Check: both(checkRegexList, checkExcludes(PropSchemaInclude)), Aliases: []string{"schema.blacklist"},
			Doc: "Comma-separated regexes of the schemas not to capture; not with schema.include.list."},
		{Name: PropMessageKeyColumns, Type: TypeString, Importance: Medium, Group: groupEvents, Width: WidthLong,
			DisplayName: "Columns PK mapping", Check: checkMessageKeyColumns,
			Doc: "Key columns for tables without a suitable primary key: semicolon-separated <schema.table regex>:<column>,<column> entries, e.g. public.orders:id;public\\.line.*:order_id,line_no. Tables not listed are keyed by their primary key."},
		{Name: PropSnapshotSelectOverrides, Type: TypeString, Importance: Medium, Group: groupEvents, Width: WidthLong,
			DisplayName: "List of tables where the default select statement used during snapshotting should be overridden.",
			Doc:         "Comma-separated schema.table names whose snapshot SELECT is given by snapshot.select.statement.overrides.<schema>.<table>."},
		{Name: "include.schema.comments", Type: TypeBoolean, Default: "false", Importance: Medium, Group: groupEvents, Width: WidthShort,
			DisplayName: "Include Table and Column Comments",
			Doc:         "Has no effect, as in Debezium: its PostgreSQL connector reads no table or column comments, so schemas never carry them as doc."},
		{Name: PropColumnPropagateSourceType, Type: TypeList, Importance: Low, Group: groupEvents,
			DisplayName: "Propagate Source Types by Columns", Check: checkRegexList,
			Doc: "Regexes of columns whose schemas get __debezium.source.column.* parameters."},
		{Name: PropDatatypePropagateSourceType, Type: TypeList, Importance: Low, Group: groupEvents,
			DisplayName: "Propagate Source Types by Data Type", Check: checkRegexList,
			Doc: "Regexes of type names whose columns' schemas get __debezium.source.column.* parameters."},
		{Name: "snapshot.tables.order.by.row.count", Type: TypeString, Default: "disabled", Importance: Low, Group: groupEvents,
			DisplayName: "Initial snapshot tables order by row count", Status: Accepted, Enum: enums("ascending", "descending", "disabled"),
			Doc: "Snapshot tables in ascending or descending row count order."},
		{Name: PropHeartbeatActionQuery, Type: TypeString, Importance: Low, Group: groupEvents, Width: WidthMedium,
			DisplayName: "An optional query to execute with every heartbeat",
			Doc:         "SQL run against the database at each heartbeat."},
		{Name: PropIncludeUnknownDatatypes, Type: TypeBoolean, Default: "false", Importance: Medium, Group: groupEvents, Width: WidthShort,
			DisplayName: "Include unknown datatypes",
			Doc:         "Write columns of types with no mapping (composite types, multiranges, geometric types other than point, ...) as the bytes of their text form, per binary.handling.mode, instead of leaving them out with a warning that names them."},
		{Name: PropTopicDelimiter, Type: TypeString, Default: ".", Importance: Low, Group: groupEvents, Width: WidthMedium,
			DisplayName: "Topic delimiter", Check: checkTopicName,
			Doc: "Delimiter between the parts of topic names."},
		{Name: "topic.cache.size", Type: TypeInt, Default: "10000", Importance: Low, Group: groupEvents, Width: WidthMedium,
			DisplayName: "Topic cache size", Status: Accepted,
			Doc: "Size of the bounded cache of topic names."},
		{Name: PropTopicHeartbeatPrefix, Type: TypeString, Default: "__debezium-heartbeat", Importance: Low, Group: groupEvents, Width: WidthMedium,
			DisplayName: "Prefix name of heartbeat topic", Check: checkTopicName, Aliases: []string{"heartbeat.topics.prefix"},
			Doc: "Prefix of the heartbeat topic <prefix>.<topic.prefix>."},
		{Name: PropTopicHeartbeatName, Type: TypeString, Importance: Low, Group: groupEvents, Width: WidthMedium,
			DisplayName: "Full name of heartbeat topic", Since: "3.6", Check: checkTopicName,
			Doc: "Full name of the heartbeat topic; overrides topic.heartbeat.prefix."},
		{Name: PropTopicTransaction, Type: TypeString, Default: "transaction", Importance: Low, Group: groupEvents, Width: WidthMedium,
			DisplayName: "Transaction topic name", Check: checkTopicName,
			Doc: "Suffix of the transaction metadata topic <topic.prefix><topic.delimiter><topic.transaction>."},
		{Name: PropSignalKafkaTopic, Type: TypeString, Importance: High, Group: groupEvents, Width: WidthLong,
			DisplayName: "Signal topic name", Check: checkNonEmptyTopic,
			Doc: "Topic of the Kafka signal channel; by default <topic.prefix>-signal. Only partition 0 is read; a record's key must be the connector's topic.prefix and its value {\"type\":\"execute-snapshot\",\"data\":{...}}. pgmotion creates the topic, with one partition, if it is missing."},
		{Name: PropSignalKafkaBootstrap, Type: TypeString, Importance: High, Group: groupEvents, Width: WidthLong,
			DisplayName: "Kafka broker addresses",
			Doc:         "Bootstrap servers of the Kafka signal channel, comma-separated; by default the worker's Kafka (Debezium requires it)."},
		{Name: PropSignalKafkaGroupID, Type: TypeString, Default: "kafka-signal", Importance: Low, Group: groupEvents, Width: WidthMedium,
			DisplayName: "Consumer group id for the signal topic",
			Doc:         "Consumer group whose committed offset on the signal topic says where reading resumes (from the earliest record when it has none); an offset is committed once its signal has been acted on."},
		{Name: PropSignalKafkaPollTimeout, Type: TypeInt, Default: "0", Importance: Low, Group: groupEvents, Width: WidthShort,
			DisplayName: "Poll timeout for kafka signals (ms)", Check: checkNonNegativeInt,
			Doc: "Longest wait of one fetch from the signal topic, in milliseconds; 0 means 500."},
		{Name: "snapshot.custom.class", Type: TypeString, Importance: Low, Group: groupConnector, Status: Removed,
			Note: "removed in Debezium 2.6; use snapshot.mode=custom with snapshot.mode.custom.name",
			Doc:  "Removed in Debezium 2.6."},

		// --- pgmotion's own ---
		{Name: PropToastFill, Type: TypeString, Default: ToastFillNone, Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Fill unchanged TOAST values", Enum: enums(ToastFillNone, ToastFillCache, ToastFillRefetch),
			Doc: "An UPDATE that leaves a large (TOASTed) column alone does not carry its value, and Debezium emits unavailable.value.placeholder for it. " +
				"none keeps that. cache fills it from the values of the rows this worker has seen (pgmotion.toast.cache.max.bytes of them): exactly the value the row had at that point of the WAL, but a row not seen since the worker started keeps the placeholder. " +
				"refetch also reads a value the cache lacks from the table by key: the row's current value, which may be newer than the event (the change that made it newer follows in the stream); a row deleted since keeps the placeholder. " +
				"REPLICA IDENTITY FULL tables need neither: their old row carries the value."},
		{Name: PropToastCacheMaxBytes, Type: TypeLong, Default: "67108864", Importance: Low, Group: groupConnector, Width: WidthMedium,
			DisplayName: "TOAST value cache (bytes)", Check: checkBetween(0, 1<<40),
			Doc: "Memory for the large values pgmotion.toast.fill=cache or refetch keeps, least recently used first out; values under 1 kB are not kept. The worker's soft memory limit (unless GOMEMLIMIT is set) grows with what the cache holds, in steps of 8 MiB, not by the whole budget up front."},
		{Name: PropDDLCapture, Type: TypeBoolean, Default: "false", Importance: Medium, Group: groupConnector, Width: WidthShort,
			DisplayName: "Capture DDL statements", Origin: OriginPgmotion,
			Doc: "Emit each DDL statement run in the database as an event on <topic.prefix>.ddl (PostgreSQL 14+), in its place among the data events. " +
				"At start the connector installs, unless they exist, the function public.pgmotion_ddl_capture() and the event triggers pgmotion_ddl_capture (ddl_command_end) and pgmotion_ddl_capture_drop (sql_drop), " +
				"which write each statement into the WAL in its own transaction with pg_logical_emit_message(true, 'pgmotion.ddl', ...); " +
				"creating them takes a superuser, and a connector whose user is not one can use triggers a superuser installed. " +
				"The triggers serve every connector on the database and stay when the connector is deleted. " +
				"When false, messages of prefix pgmotion.ddl are plain logical decoding messages on <topic.prefix>.message, subject to message.prefix.include.list and message.prefix.exclude.list."},
		{Name: PropSkipLSN, Type: TypeList, Importance: Low, Group: groupConnector, Width: WidthLong,
			DisplayName: "Skip records too large for Kafka at these LSNs", Origin: OriginPgmotion, Check: checkLSNList,
			Doc: "A record larger than Kafka accepts (producer.max.request.size, the broker's message.max.bytes) fails the task with an error naming its LSN, topic and size, and the slot keeps its WAL until that is resolved. " +
				"The fixes are to raise both limits, to exclude a logical decoding message's prefix with message.prefix.exclude.list, or to list the record's LSN here (comma-separated, as 0/16B3748): " +
				"a record at a listed LSN that Kafka refuses as too large is then skipped, and logged at WARN with its LSN, topic and size; nothing else is skipped."},
		{Name: PropBufferMemory, Type: TypeLong, Default: "67108864", Importance: Medium, Group: groupConnector, Width: WidthMedium,
			DisplayName: "Streamed transaction memory (bytes)", Check: checkBetween(65536, 1<<40),
			Doc: "On PostgreSQL 14 and later pgmotion reads with pgoutput protocol 2 and streaming, so that the server sends a large transaction while it runs instead of spilling it to its own disk. " +
				"Its events are emitted at its commit, and until then it is buffered: in memory up to this many bytes (shared by all open transactions, 64 MiB by default), " +
				"and past them in files under the worker's --data-dir (spill/<connector>), which are removed at commit, at abort and at start-up. Memory is taken as transactions stream in and given back at their end: the worker's soft memory limit (unless GOMEMLIMIT is set) grows with what the buffer holds, in steps of 8 MiB, not by the whole budget up front. At least 65536."},
	}
}

func boolOpt(name, display, doc string) *Field {
	return &Field{Name: name, Type: TypeBoolean, Default: "false", Importance: Medium, Group: groupConnector, Width: WidthMedium,
		DisplayName: display, Since: "2.6", Doc: doc}
}

var hostnameRE = regexp.MustCompile(`^[a-zA-Z0-9-_.]+$`)

// checkHostname is Debezium's RelationalDatabaseConnectorConfig::validateHostname.
func checkHostname(c *Check) {
	v := c.Value()
	if strings.TrimSpace(v) != "" && !hostnameRE.MatchString(v) {
		c.Errorf("%s has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)", v)
	}
}

var lsnRE = regexp.MustCompile(`^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$`)

// checkLSNList checks a list of PostgreSQL LSNs (0/16B3748).
func checkLSNList(c *Check) {
	for _, v := range splitList(c.Value()) {
		if !lsnRE.MatchString(v) {
			c.Errorf("%q is not an LSN: write two hexadecimal halves separated by '/', such as 0/16B3748, as the error naming the record shows it", v)
			return
		}
	}
}

var slotNameRE = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

// checkSlotName is Debezium's PostgresConnectorConfig::validateReplicationSlotName
// (PostgreSQL's own rule for slot names).
func checkSlotName(c *Check) {
	if !slotNameRE.MatchString(c.Value()) {
		c.Errorf("Valid replication slot name must contain only digits, lowercase characters and underscores with length <= 63")
	}
}

// checkSkippedOperations is Debezium's CommonConnectorConfig::validateSkippedOperation.
func checkSkippedOperations(c *Check) {
	v := c.Value()
	if v == SkipNone {
		return
	}
	var none, ops bool
	for _, op := range java.Split(v, ",") {
		switch strings.TrimSpace(op) {
		case SkipNone:
			none = true
		case "r", "c", "u", "d", "t":
			ops = true
		default:
			c.Errorf("Invalid operation")
			return
		}
	}
	if none && ops {
		c.Errorf("'none' cannot be specified with other skipped operation types")
	}
}

const msgKeyColumnsPattern = `^\s*([^:]+):([^:,]+(,[^:,]+)*)\s*$`

var msgKeyColumnsRE = regexp.MustCompile(msgKeyColumnsPattern)

// checkMessageKeyColumns is Debezium's validateMessageKeyColumnsField, plus a
// check that the table expressions compile.
func checkMessageKeyColumns(c *Check) {
	v := c.Value()
	if v == "" {
		c.Errorf("Must not be empty")
	}
	bad := false
	for _, entry := range java.Split(v, ";") {
		if !msgKeyColumnsRE.MatchString(entry) {
			c.Errorf("%s has an invalid format (expecting '%s')", entry, msgKeyColumnsPattern)
			bad = true
		}
	}
	if bad || v == "" {
		return
	}
	if _, err := parseKeyColumns(v); err != nil {
		c.Errorf("%v", err)
	}
}

const replicaAutosetPattern = `(?i)^\s*(?<tablepredicate>[^\s:]+):(?<replicaidentity>DEFAULT|(INDEX) (?<indexname>.\w*)|FULL|NOTHING)\s*$`

var replicaAutosetRE = regexp.MustCompile(replicaAutosetPattern)

// checkReplicaAutoset is Debezium's PostgresConnectorConfig::validateReplicaAutoSetField.
func checkReplicaAutoset(c *Check) {
	v := c.Value()
	if v == "" {
		c.Errorf("Must not be empty")
	}
	for _, entry := range java.Split(v, ",") {
		if !replicaAutosetRE.MatchString(entry) {
			c.Errorf("%s has an invalid format (expecting '%s')", entry, replicaAutosetPattern)
		}
	}
}

// checkMessagePrefixExclude keeps Debezium's message, which names the
// include list by its old name.
func checkMessagePrefixExclude(c *Check) {
	if _, ok := c.Get(PropMsgPrefixInclude); ok && c.IsSet() {
		c.Errorf(`"logical_decoding_message.prefix.include.list" is already specified`)
	}
}

func checkIsInteger(c *Check) {
	if typeProblem(&Field{Type: TypeInt}, c.Value()) != "" {
		c.Errorf("An integer is expected")
	}
}

// checkMaxQueueSize is Debezium's CommonConnectorConfig::validateMaxQueueSize.
func checkMaxQueueSize(c *Check) {
	q, err := parseInt32(c.Value())
	if err != nil {
		return
	}
	b, _ := parseInt32(c.ev.byName[PropMaxBatchSize].Default)
	if v, ok := c.Effective(PropMaxBatchSize); ok {
		if n, err := parseInt32(v); err == nil {
			b = n
		}
	}
	if q <= 0 {
		c.Errorf("A positive queue size is required")
	}
	if q <= b {
		c.Errorf("Must be larger than the maximum batch size")
	}
}

func checkSignalCollection(c *Check) {
	list := splitList(c.Value())
	if len(list) > 1 {
		c.Errorf("For single task connector only one signal data collection is permitted.")
		return
	}
	for _, v := range list {
		schema, table, ok := strings.Cut(strings.TrimSpace(v), ".")
		if !ok || schema == "" || table == "" || strings.Contains(table, ".") {
			c.Errorf("%s is not a schema.table name: give the signal table as <schema>.<table>, e.g. public.debezium_signal", strings.TrimSpace(v))
		}
	}
}

// checkSignalChannels accepts the signal channels pgmotion implements.
func checkSignalChannels(c *Check) {
	for _, ch := range splitList(c.Value()) {
		switch strings.ToLower(strings.TrimSpace(ch)) {
		case SignalChannelSource, SignalChannelKafka, "":
		case "file", "jmx":
			c.Errorf("the %s signal channel is not available in pgmotion; the allowed channels are source and kafka", strings.TrimSpace(ch))
		default:
			c.Errorf("unknown signal channel %q; the allowed channels are source and kafka", strings.TrimSpace(ch))
		}
	}
}

// checkNonEmptyTopic refuses a blank topic name that is set.
func checkNonEmptyTopic(c *Check) {
	if c.IsSet() && strings.TrimSpace(c.Value()) == "" {
		c.Errorf("A non-empty topic name is required")
	}
}

func checkNotificationTopic(c *Check) {
	ch, _ := c.Get(PropNotificationChannels)
	for _, name := range splitList(ch) {
		if name == "sink" && c.IsNull() {
			c.Errorf("Notification topic name must be provided when kafka notification channel is enabled")
		}
	}
}

func parseInt32(v string) (int64, error) {
	return strconv.ParseInt(strings.TrimSpace(v), 10, 32)
}
