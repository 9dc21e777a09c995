package connect

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/debezium"
	"github.com/pgmotion/pgmotion/internal/kafkasink"
	"github.com/pgmotion/pgmotion/internal/pgsource"
	"github.com/pgmotion/pgmotion/internal/spec"
)

// ValidateConfig parses a connector config as RunConnector would and
// returns its warnings; the error lists every bad field.
func ValidateConfig(name string, raw map[string]string) ([]string, error) {
	_, warnings, err := TaskConfigFrom(name, raw)
	return warnings, err
}

// TaskConfigFrom turns a connector's config map into a TaskConfig. The
// option declarations in internal/spec do the parsing; this maps the
// typed result onto the parts of the pipeline.
func TaskConfigFrom(name string, raw map[string]string) (TaskConfig, []string, error) {
	cfg := make(map[string]string, len(raw)+1)
	for k, v := range raw {
		cfg[k] = v
	}
	if n, ok := cfg["name"]; ok && n != name {
		//lint:ignore ST1005 Kafka Connect's exact text
		return TaskConfig{}, nil, fmt.Errorf("Connector name configuration (%s) doesn't match connector name in the URL (%s)", n, name)
	}
	cfg["name"] = name
	if class := cfg["connector.class"]; class != "" {
		if _, ok := spec.Lookup(class); !ok {
			return TaskConfig{}, nil, fmt.Errorf("unknown connector.class %q: pgmotion runs io.debezium.connector.postgresql.PostgresConnector (aliases PostgresConnector and Postgres)", class)
		}
	}
	pc, err := spec.ParsePostgres(cfg)
	if err != nil {
		return TaskConfig{}, nil, err
	}
	conn, err := pgconn.ParseConfig(pc.ConnString(false).Reveal())
	if err != nil {
		// The message of a parse error may quote the connection string:
		// build our own, without the password.
		return TaskConfig{}, nil, fmt.Errorf("database connection settings (%s) are not valid", pc.RedactedConnString(false))
	}
	skipped := map[change.Op]bool{}
	for op := range pc.SkippedOps {
		if len(op) == 1 {
			skipped[change.Op(op[0])] = true
		}
	}
	mode := string(pc.SnapshotMode)
	enc := debezium.DefaultOptions()
	enc.ConnectorName = name
	enc.TopicPrefix = pc.TopicPrefix
	enc.Database = pc.DBName
	enc.DecimalHandling = string(pc.DecimalHandling)
	enc.BinaryHandling = string(pc.BinaryHandling)
	enc.TimePrecision = string(pc.TimePrecision)
	enc.KeySchemas, enc.ValueSchemas = pc.KeySchemas, pc.ValueSchemas
	enc.TombstonesOnDelete = pc.TombstonesOnDelete
	enc.Skipped = skipped
	enc.ExtendedHeaders = pc.ExtendedHeaders
	enc.TopicDelimiter = pc.TopicDelimiter
	enc.IntervalHandling = pc.Config.Str("interval.handling.mode")
	enc.MoneyFractionDigits = pc.Config.Int("money.fraction.digits")

	partitions, replication := int32(-1), int16(-1)
	if pc.TopicCreation {
		partitions, replication = pc.TopicPartitions, pc.TopicReplication
	}
	tc := TaskConfig{
		Name:         name,
		TopicPrefix:  pc.TopicPrefix,
		SnapshotMode: mode,
		Source: pgsource.Config{
			Conn:            conn,
			Slot:            pc.SlotName,
			Publication:     pc.PublicationName,
			PublicationMode: string(pc.PublicationAutocreate),
			Include:         pc.TableIncluded,
			TableInclude:    pc.TableInclude,
			KeyColumns:      pc.KeyColumnsFor,
			StatusInterval:  pc.StatusUpdateInterval,
			DropSlotOnStop:  pc.SlotDropOnStop,
		},
		Encoder:         enc,
		Topics:          kafkasink.TopicSpec{Partitions: partitions, Replication: replication},
		Heartbeat:       time.Duration(pc.Config.Int("heartbeat.interval.ms")) * time.Millisecond,
		HeartbeatQuery:  pc.Config.Str("heartbeat.action.query"),
		HeartbeatPrefix: pc.Config.Str("topic.heartbeat.prefix"),
		HeartbeatName:   pc.Config.Str("topic.heartbeat.name"),
		SlotRetries:     pc.Config.Int("slot.max.retries"),
		SlotRetryDelay:  time.Duration(pc.Config.Long("slot.retry.delay.ms")) * time.Millisecond,
	}
	return tc, pc.Warnings, nil
}
