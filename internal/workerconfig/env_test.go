package workerconfig

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	tests := []struct{ key, env string }{
		{"bootstrap.servers", "PGMOTION_BOOTSTRAP_SERVERS"},
		{"offset.flush.interval.ms", "PGMOTION_OFFSET_FLUSH_INTERVAL_MS"},
		{"key.converter.schemas.enable", "PGMOTION_KEY_CONVERTER_SCHEMAS_ENABLE"},
		{"producer.compression.type", "PGMOTION_PRODUCER_COMPRESSION_TYPE"},
		{"config.providers.my_vault.class", "PGMOTION_CONFIG_PROVIDERS_MY__VAULT_CLASS"},
		{"producer.x-y.z", "PGMOTION_PRODUCER_X___Y_Z"},
	}
	for _, tt := range tests {
		if got := EnvName(tt.key); got != tt.env {
			t.Errorf("EnvName(%q) = %q, want %q", tt.key, got, tt.env)
		}
		if got, ok := PropertyForEnv(tt.env); !ok || got != tt.key {
			t.Errorf("PropertyForEnv(%q) = %q, %v; want %q", tt.env, got, ok, tt.key)
		}
	}
	// Every typed property maps both ways.
	for key := range fields {
		if got, ok := PropertyForEnv(EnvName(key)); !ok || got != key {
			t.Errorf("PropertyForEnv(EnvName(%q)) = %q, %v", key, got, ok)
		}
	}
}

func TestPropertyForEnvRejects(t *testing.T) {
	for _, name := range []string{
		"PGMOTION_TEST_PG", "PGMOTION_SAKILA_DIR", "PGMOTION_BROKER_PROC_LISTEN", "PGMOTION_TEST_MAIN",
		"PGMOTION_", "PGMOTION__GROUP_ID", "PGMOTION_GROUP_ID_", "PGMOTION_GROUP____ID",
		"PGMOTION_group_id", "PGMOTION_PRODUCER", "PGMOTION_PRODUCER_", "KAFKA_GROUP_ID", "GROUP_ID",
		"PGMOTION_GROUP-ID",
	} {
		if key, ok := PropertyForEnv(name); ok {
			t.Errorf("PropertyForEnv(%q) = %q, want no property", name, key)
		}
	}
}

func TestApplyEnvPrecedence(t *testing.T) {
	// file < environment < flags
	w, err := Load(filepath.Join("testdata", "connect-distributed.properties"))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=/usr/bin",
		"PGMOTION_OFFSET_FLUSH_INTERVAL_MS=20000",
		"PGMOTION_BOOTSTRAP_SERVERS=broker1:9092,broker2:9092",
		"PGMOTION_PRODUCER_ACKS=all",
		"PGMOTION_CONSUMER_ISOLATION_LEVEL=read_committed",
		"PGMOTION_SECURITY_PROTOCOL=SASL_SSL",
		"PGMOTION_SASL_MECHANISM=PLAIN",
		"PGMOTION_TEST_PG=postgres://not-a-worker-property",
		"PGMOTION_STATUS_STORAGE_TOPIC=my-status",
		"NOEQUALS",
	}
	if err := w.ApplyEnv(env); err != nil {
		t.Fatal(err)
	}
	if w.OffsetFlushInterval != 20*time.Second || !reflect.DeepEqual(w.BootstrapServers, []string{"broker1:9092", "broker2:9092"}) ||
		w.StatusTopic != "my-status" || w.Producer["acks"] != "all" || w.Consumer["isolation.level"] != "read_committed" {
		t.Errorf("after ApplyEnv: %+v", exported(w))
	}
	wantUnknown := map[string]string{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"}
	if !reflect.DeepEqual(w.Unknown, wantUnknown) {
		t.Errorf("unknown = %v, want %v", w.Unknown, wantUnknown)
	}
	if got := w.Source(PropOffsetFlushInterval); got != "PGMOTION_OFFSET_FLUSH_INTERVAL_MS" {
		t.Errorf("Source = %q", got)
	}
	// Values from the file that the environment does not override stay.
	if w.OffsetReplication != 1 || w.GroupID != "connect-cluster" {
		t.Errorf("file values lost: %+v", exported(w))
	}
	if err := w.Set(PropOffsetFlushInterval, "30000"); err != nil {
		t.Fatal(err)
	}
	if w.OffsetFlushInterval != 30*time.Second || w.Source(PropOffsetFlushInterval) != "flag" {
		t.Errorf("flag did not win: %v from %q", w.OffsetFlushInterval, w.Source(PropOffsetFlushInterval))
	}
}

func TestApplyEnvErrors(t *testing.T) {
	w := Default()
	err := w.ApplyEnv([]string{
		"PGMOTION_OFFSET_FLUSH_INTERVAL_MS=abc",
		"PGMOTION_LISTENERS=ftp://:8443",
		"PGMOTION_GROUP_ID=fine",
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`PGMOTION_OFFSET_FLUSH_INTERVAL_MS: offset.flush.interval.ms: "abc" is not a number of milliseconds`,
		`PGMOTION_LISTENERS: listeners: "ftp://:8443" has "ftp://:8443": the protocol must be http or https`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\ndoes not contain %q", err, want)
		}
	}
	if w.GroupID != "fine" {
		t.Errorf("good variables were not applied: group.id = %q", w.GroupID)
	}
}

func TestApplyEnvProviders(t *testing.T) {
	w := Default()
	err := w.ApplyEnv([]string{
		"PGMOTION_CONFIG_PROVIDERS=env",
		"PGMOTION_CONFIG_PROVIDERS_ENV_CLASS=" + EnvVarProviderClass,
		"PGMOTION_CONFIG_PROVIDERS_ENV_PARAM_ALLOWLIST_PATTERN=KAFKA_.*",
		"PGMOTION_BOOTSTRAP_SERVERS=${env:KAFKA_BROKERS}",
		"PGMOTION_PRODUCER_SASL_JAAS_CONFIG=${env:KAFKA_JAAS}",
		"KAFKA_BROKERS=k:9092",
		"KAFKA_JAAS=secret-jaas",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w.BootstrapServers, []string{"k:9092"}) || w.Producer["sasl.jaas.config"] != "secret-jaas" {
		t.Errorf("after ApplyEnv: %+v", exported(w))
	}
	if !reflect.DeepEqual(w.ConfigProviders, map[string]string{"env": EnvVarProviderClass}) {
		t.Errorf("ConfigProviders = %v", w.ConfigProviders)
	}
	// The environment given to ApplyEnv also serves later flags.
	if err := w.Set(PropGroupID, "${env:KAFKA_GROUP}"); err == nil || !strings.Contains(err.Error(), "environment variable not found") {
		t.Errorf("Set with a missing variable: %v", err)
	}
	if err := w.Set(PropGroupID, "${env:HOME}"); err == nil || !strings.Contains(err.Error(), "not allowed by allowlist.pattern") {
		t.Errorf("Set with a variable outside the allowlist: %v", err)
	}
}
