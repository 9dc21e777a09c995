// Package metrics counts what a connector does and serves it as
// Prometheus metrics named the way Debezium's JMX metrics reach
// Prometheus, so that Debezium dashboards and alerts keep working. It
// holds the snapshot and streaming metrics and nothing else; showing a
// snapshot's progress to a person is package progress's job.
//
// # Naming
//
// Debezium publishes its snapshot metrics as the attributes of the MBean
// debezium.postgres:type=connector-metrics,context=snapshot,server=<topic.prefix>
// (custom.metric.tags add ",k=v" keys). The usual way to get them into
// Prometheus is the Prometheus JMX exporter with the rules of Debezium's
// own example, debezium/debezium-examples monitoring/debezium-jmx-exporter/config.yml
// (as of commit 8191ac5; later versions add task and database labels for
// connectors that have them), copied by most blog posts and Helm charts:
//
//	rules:
//	- pattern: "debezium.([^:]+)<type=connector-metrics, context=([^,]+), server=([^,]+), key=([^>]+)><>RowsScanned"
//	  name: "debezium_metrics_RowsScanned"
//	  labels: {plugin: "$1", name: "$3", context: "$2", table: "$4"}
//	- pattern: "debezium.([^:]+)<type=connector-metrics, context=([^,]+), server=([^>]+)>([^:]+)"
//	  name: "debezium_metrics_$4"
//	  labels: {plugin: "$1", name: "$3", context: "$2"}
//
// with lowercaseOutputName and lowercaseOutputLabelNames false. So an
// attribute A becomes debezium_metrics_A (case kept) with the labels
// plugin="postgres", context="snapshot" and name=<topic.prefix>, and a
// per-table map attribute gets one series per table with a table label.
// Booleans are 1 or 0. Each custom.metric.tags entry becomes one more
// label (its key cleaned into a label name); under the exporter's rules it
// would end up inside the name label instead. Every metric is a gauge, so
// that no exposition format adds a _total suffix to a Debezium name.
//
// # Snapshot metrics
//
// SnapshotMetrics serves, per connector:
//
//	debezium_metrics_TotalTableCount                    tables in the snapshot
//	debezium_metrics_RemainingTableCount                tables not read completely yet
//	debezium_metrics_SnapshotRunning                    1 while running (0 while paused)
//	debezium_metrics_SnapshotPaused                     1 while paused
//	debezium_metrics_SnapshotAborted                    1 after an abort
//	debezium_metrics_SnapshotCompleted                  1 after completion
//	debezium_metrics_SnapshotSkipped                    1 when no snapshot is taken
//	debezium_metrics_SnapshotDurationInSeconds          whole seconds since start, pauses included, frozen at the end
//	debezium_metrics_SnapshotPausedDurationInSeconds    whole seconds paused
//	debezium_metrics_TotalNumberOfEventsSeen            rows read by this run
//	debezium_metrics_MilliSecondsSinceLastEvent         since rows were last counted; -1 before the first
//	debezium_metrics_RowsScanned{table}                 rows read, earlier runs of a resumed snapshot included
//	debezium_metrics_TableChunkCounts{table}            chunks (key ranges read in parallel); 0 if not known
//	debezium_metrics_TableChunksCompletedCounts{table}  chunks read
//	debezium_metrics_CapturedTables{table}              1 per table in the snapshot
//	pgmotion_snapshot_rows_estimated{table}             row estimate given to Start; -1 unknown
//	pgmotion_snapshot_eta_seconds                       time left at this run's rate; 0 once done, -1 unknown
//	pgmotion_snapshot_progress_ratio                    0..1 of the estimated rows; 1 once done, -1 unknown
//
// Differences from Debezium: RowsScanned grows with every AddRows rather
// than every 10,000 rows; SnapshotPausedDurationInSeconds includes a pause
// in progress (Debezium adds a pause only when it ends); CapturedTables is
// a String[] that the exporter drops, so its per-table form here is
// pgmotion's own. The queue attributes (QueueTotalCapacity,
// QueueRemainingCapacity, MaxQueueSizeInBytes, CurrentQueueSizeInBytes),
// NumberOfEventsFiltered, NumberOfErroneousEvents, LastEvent and the
// incremental snapshot's ChunkId, ChunkFrom, ChunkTo, TableFrom and TableTo
// (strings, which the exporter drops) are not served. TableChunkCounts and
// TableChunksCompletedCounts take their names from the compatibility
// reference (§10); the SnapshotMetricsMXBean versions checked do not have
// them, so no dashboard depends on their exact form.
//
// A Prometheus registry wants one set of label names per metric name for
// the life of the process, so all connectors registered on one registry
// must use the same custom.metric.tags keys; NewSnapshotMetrics fails
// otherwise.
//
// The metrics are computed when scraped: the snapshot readers only add to
// atomic counters.
//
// # Progress
//
// SnapshotMetrics.Progress turns the counters into a percentage, a rate
// and an ETA, which the collector serves as the pgmotion_snapshot_ metrics
// above; package progress writes them to the log and, on a terminal, as a
// progress bar.
package metrics
