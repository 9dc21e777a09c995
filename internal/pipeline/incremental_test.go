package pipeline

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/options"
)

func TestIncrementalConfigChannel(t *testing.T) {
	c := IncrementalConfig{Channels: []string{"source", " Kafka "}}
	if !c.channel("kafka") || !c.channel("source") || c.channel("jmx") {
		t.Error(c.Channels)
	}
}

func TestIncrementalConfigFrom(t *testing.T) {
	base := map[string]string{
		"name": "c", "connector.class": "io.debezium.connector.postgresql.PostgresConnector", "plugin.name": "pgoutput",
		"database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "srv",
	}
	pc, err := options.ParsePostgres(base)
	if err != nil {
		t.Fatal(err)
	}
	ic := incrementalConfigFrom(pc)
	if ic.SignalTable != "" || strings.Join(ic.Channels, ",") != "source" || ic.KafkaTopic != "srv-signal" || ic.KafkaGroup != "kafka-signal" ||
		ic.ChunkSize != 1024 || ic.Poll != 5*time.Second || ic.DeleteWatermark || ic.ReadOnly || ic.KafkaBrokers != nil {
		t.Errorf("defaults: %+v", ic)
	}
	cfg := map[string]string{
		"signal.data.collection": "public.debezium_signal", "signal.enabled.channels": "source, KAFKA",
		"signal.kafka.topic": "signals", "signal.kafka.bootstrap.servers": "k1:9092, k2:9092", "signal.kafka.groupId": "g",
		"signal.kafka.poll.timeout.ms": "250", "signal.poll.interval.ms": "100",
		"incremental.snapshot.chunk.size": "10", "incremental.snapshot.watermarking.strategy": "insert_delete", "read.only": "true",
	}
	for k, v := range base {
		cfg[k] = v
	}
	if pc, err = options.ParsePostgres(cfg); err != nil {
		t.Fatal(err)
	}
	ic = incrementalConfigFrom(pc)
	if ic.SignalTable != "public.debezium_signal" || strings.Join(ic.Channels, ",") != "source,kafka" || ic.KafkaTopic != "signals" ||
		strings.Join(ic.KafkaBrokers, ",") != "k1:9092,k2:9092" || ic.KafkaGroup != "g" || ic.KafkaPollTimeout != 250*time.Millisecond ||
		ic.Poll != 100*time.Millisecond || ic.ChunkSize != 10 || !ic.DeleteWatermark || !ic.ReadOnly {
		t.Errorf("set: %+v", ic)
	}
}

func TestIncrementalKeysFromDebeziumOffset(t *testing.T) {
	// An offset Debezium wrote mid-snapshot: its keys are Java-serialized.
	raw := `{"lsn_proc":37051152,"lsn":37051152,"txId":1007,"ts_usec":1767208115470483,` +
		`"incremental_snapshot_collections":"[{\"incremental_snapshot_collections_id\":\"public.orders\",\"incremental_snapshot_collections_additional_condition\":null,\"incremental_snapshot_collections_surrogate_key\":null}]",` +
		`"incremental_snapshot_primary_key":"aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c020000787000000001737200116a6176612e6c616e672e496e746567657212e2a0a4f781873802000149000576616c7565787200106a6176612e6c616e672e4e756d62657286ac951d0b94e08b0200007870000003e8",` +
		`"incremental_snapshot_maximum_key":"aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c0200007870000000017371007e0002000027107371007e00020000271070",` +
		`"incremental_snapshot_correlation_id":null}`
	var off Offset
	if err := json.Unmarshal([]byte(raw), &off); err != nil {
		t.Fatal(err)
	}
	// The snapshot package is told Debezium's key, to warn that the table
	// starts again (snapshot.TestLoadIncStateFromDebezium).
	k := off.incrementalKeys()
	if !strings.Contains(k.Collections, `"public.orders"`) || !strings.HasPrefix(k.DebeziumPrimaryKey, "aced0005") || k.PrimaryKey != "" || k.MaximumKey != "" {
		t.Errorf("keys %+v", k)
	}
	// Written back, Debezium's keys are gone and nothing claims a position.
	b, _ := off.MarshalJSON()
	if strings.Contains(string(b), `"incremental_snapshot_primary_key"`) || strings.Contains(string(b), "maximum_key") {
		t.Errorf("rewritten offset keeps Debezium's keys... %s", b)
	}
	// The task's offsets take the machine's state, and never Debezium's key.
	tk := &Task{}
	if got := tk.incOffset(off); got.IncrementalCollections != "" || got.DebeziumPrimaryKey != "" {
		t.Errorf("incOffset without a snapshot kept %+v", got)
	}
}
