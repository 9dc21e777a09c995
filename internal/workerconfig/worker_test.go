package workerconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// exported copies the exported fields of w, for comparisons.
func exported(w *Worker) Worker {
	return Worker{
		BootstrapServers: w.BootstrapServers, GroupID: w.GroupID,
		ConfigTopic: w.ConfigTopic, OffsetTopic: w.OffsetTopic, StatusTopic: w.StatusTopic,
		ConfigReplication: w.ConfigReplication, OffsetReplication: w.OffsetReplication, StatusReplication: w.StatusReplication,
		OffsetPartitions: w.OffsetPartitions, StatusPartitions: w.StatusPartitions,
		Listeners: w.Listeners, AdvertisedHost: w.AdvertisedHost, AdvertisedPort: w.AdvertisedPort, AdvertisedProtocol: w.AdvertisedProtocol,
		KeyConverter: w.KeyConverter, ValueConverter: w.ValueConverter, KeySchemas: w.KeySchemas, ValueSchemas: w.ValueSchemas,
		OffsetFlushInterval: w.OffsetFlushInterval, OffsetFlushTimeout: w.OffsetFlushTimeout,
		SessionTimeout: w.SessionTimeout, HeartbeatInterval: w.HeartbeatInterval, RebalanceTimeout: w.RebalanceTimeout,
		TopicTracking: w.TopicTracking, TopicTrackingReset: w.TopicTrackingReset,
		Producer: w.Producer, Consumer: w.Consumer, ConfigProviders: w.ConfigProviders,
		PluginPath: w.PluginPath, Unknown: w.Unknown,
	}
}

func parse(t *testing.T, text string) *Worker {
	t.Helper()
	w, err := Parse(strings.NewReader(text), "worker.properties")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestLoadDemoFile loads the original demo's connect-distributed.properties
// as it is.
func TestLoadDemoFile(t *testing.T) {
	path := filepath.Join("testdata", "connect-distributed.properties")
	w, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := exported(Default())
	want.BootstrapServers = []string{"kafka:9092"}
	want.ConfigReplication, want.OffsetReplication, want.StatusReplication = 1, 1, 1
	want.OffsetFlushInterval = 10 * time.Second
	want.PluginPath = "/usr/share/java,/usr/share/confluent-hub-components"
	if got := exported(w); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if len(w.Warnings) != 1 || !strings.Contains(w.Warnings[0], path+":14: plugin.path is ignored") {
		t.Errorf("warnings = %q, want one about plugin.path on line 14", w.Warnings)
	}
	if got := w.Source(PropOffsetFlushInterval); got != path+":13" {
		t.Errorf("Source(offset.flush.interval.ms) = %q", got)
	}
	if got := w.Source(PropOffsetFlushTimeout); got != "" {
		t.Errorf("Source(offset.flush.timeout.ms) = %q, want default", got)
	}
	if err := w.Validate(); err != nil {
		t.Error(err)
	}
}

func TestDefault(t *testing.T) {
	w := Default()
	if w.OffsetFlushInterval != time.Minute || w.OffsetFlushTimeout != 5*time.Second ||
		w.SessionTimeout != 10*time.Second || w.HeartbeatInterval != 3*time.Second || w.RebalanceTimeout != time.Minute {
		t.Errorf("durations: %+v", exported(w))
	}
	if w.OffsetPartitions != 25 || w.StatusPartitions != 5 || w.ConfigReplication != 3 {
		t.Errorf("topics: %+v", exported(w))
	}
	if !w.TopicTracking || !w.TopicTrackingReset {
		t.Errorf("topic tracking is on by default in Kafka Connect: %+v", exported(w))
	}
	if !reflect.DeepEqual(w.Listeners, []string{":8083"}) || !reflect.DeepEqual(w.BootstrapServers, []string{"localhost:9092"}) {
		t.Errorf("addresses: %+v", exported(w))
	}
	// Parsing nothing gives the defaults.
	if got := exported(parse(t, "")); !reflect.DeepEqual(got, exported(w)) {
		t.Errorf("Parse(\"\") = %+v", got)
	}
}

func TestParseFields(t *testing.T) {
	w := parse(t, `
bootstrap.servers = PLAINTEXT://k1:9092, k2:9093 ,,[::1]:9094
listeners: http://0.0.0.0:8083,HTTP://[::1]:18083,http://:0
rest.advertised.host.name=connect-1
rest.advertised.port=18083
rest.advertised.listener=HTTPS
key.converter.schemas.enable = FALSE
value.converter.schemas.enable=False
offset.storage.partitions=-1
status.storage.replication.factor=-1
session.timeout.ms 45000
heartbeat.interval.ms=15000
rebalance.timeout.ms=+300000
offset.flush.timeout.ms= 7000
group.id =  my-group  
topic.tracking.enable=FALSE
topic.tracking.allow.reset = false
producer.compression.type=lz4
producer.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required;
consumer.max.poll.records=10
security.protocol=SASL_SSL
header.converter=org.apache.kafka.connect.storage.SimpleHeaderConverter
`)
	checks := []struct {
		name      string
		got, want any
	}{
		{"bootstrap", w.BootstrapServers, []string{"k1:9092", "k2:9093", "[::1]:9094"}},
		{"listeners", w.Listeners, []string{"0.0.0.0:8083", "[::1]:18083", ":0"}},
		{"advertised", []any{w.AdvertisedHost, w.AdvertisedPort, w.AdvertisedProtocol}, []any{"connect-1", 18083, "https"}},
		{"schemas", []bool{w.KeySchemas, w.ValueSchemas}, []bool{false, false}},
		{"offset partitions", w.OffsetPartitions, int32(-1)},
		{"status replication", w.StatusReplication, int16(-1)},
		{"session", w.SessionTimeout, 45 * time.Second},
		{"heartbeat", w.HeartbeatInterval, 15 * time.Second},
		{"rebalance", w.RebalanceTimeout, 5 * time.Minute},
		{"flush timeout", w.OffsetFlushTimeout, 7 * time.Second},
		{"group", w.GroupID, "my-group"},
		{"topic tracking", []bool{w.TopicTracking, w.TopicTrackingReset}, []bool{false, false}},
		{"producer", w.Producer, map[string]string{"compression.type": "lz4", "sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule required;"}},
		{"consumer", w.Consumer, map[string]string{"max.poll.records": "10"}},
		{"unknown", w.Unknown, map[string]string{"security.protocol": "SASL_SSL", "header.converter": "org.apache.kafka.connect.storage.SimpleHeaderConverter"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if len(w.Warnings) != 0 {
		t.Errorf("warnings: %q", w.Warnings)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"offset.flush.interval.ms=abc", `worker.properties:1: offset.flush.interval.ms: "abc" is not a number of milliseconds`},
		{"offset.flush.interval.ms=0", `offset.flush.interval.ms: "0" is not allowed: use a positive number of milliseconds`},
		{"offset.flush.interval.ms=-5", `"-5" is not allowed: use a positive number of milliseconds`},
		{"offset.flush.interval.ms=99999999999999999999", `is too large: use at most 9223372036854 milliseconds`},
		{"session.timeout.ms=3000000000", `session.timeout.ms: "3000000000" is too large: use at most 2147483647 milliseconds`},
		{"heartbeat.interval.ms=1.5", `heartbeat.interval.ms: "1.5" is not a number of milliseconds`},
		{"config.storage.replication.factor=0", `config.storage.replication.factor: "0" is not allowed: use a positive replication factor up to 32767, or -1 for the broker's default`},
		{"config.storage.replication.factor=40000", `"40000" is not allowed: use a positive replication factor`},
		{"offset.storage.replication.factor=three", `offset.storage.replication.factor: "three" is not a number`},
		{"status.storage.partitions=-2", `status.storage.partitions: "-2" is not allowed: use a positive number of partitions, or -1 for the broker's default`},
		{"key.converter.schemas.enable=yes", `key.converter.schemas.enable: "yes" is not a boolean: use true or false`},
		{"topic.tracking.enable=on", `topic.tracking.enable: "on" is not a boolean: use true or false`},
		{"group.id=  ", `group.id: "" is empty: a value is required`},
		{"group.id=\\ \\ ", `group.id: "  " is empty: a value is required`},
		{"key.converter=", `key.converter: "" is empty: a value is required`},
		{"offset.storage.topic=my topic", `offset.storage.topic: "my topic" is not a valid topic name: use at most 249 ASCII letters, digits, '.', '_' and '-'`},
		{"status.storage.topic=..", `status.storage.topic: ".." is not a valid topic name: "." and ".." are not allowed`},
		{"config.storage.topic=", `config.storage.topic: "" is empty: a topic name is required`},
		{"bootstrap.servers=kafka", `bootstrap.servers: "kafka" has "kafka", which is not host:port (e.g. localhost:9092)`},
		{"bootstrap.servers=kafka:99999", `has "kafka:99999", whose port is not a port number (0-65535)`},
		{"bootstrap.servers= , ", `bootstrap.servers: ", " has no broker address: give host:port pairs separated by commas`},
		{"listeners=http://:8083,https://:8443", `listeners: "http://:8083,https://:8443" has "https://:8443": pgmotion serves one protocol`},
		{"listeners=ftp://:8443", `listeners: "ftp://:8443" has "ftp://:8443": the protocol must be http or https`},
		{"listeners=ftp://:21", `has "ftp://:21": the protocol must be http`},
		{"listeners=localhost:8083", `has "localhost:8083", which is not protocol://host:port (e.g. http://:8083)`},
		{"listeners=", `listeners: "" has no URL: at least one is required, e.g. http://:8083`},
		{"listeners=http://:8083,,http://:8084", `has an empty URL in the list`},
		{"listeners=http://:70000", `whose port is not a port number (0-65535)`},
		{"rest.advertised.port=0", `rest.advertised.port: "0" is not a port number (1-65535)`},
		{"rest.advertised.listener=ftp", `rest.advertised.listener: "ftp" is not a protocol: use http or https`},
		{"a=1\nb=\\u00zz", `worker.properties:2: b: malformed \uxxxx encoding`},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.in), "worker.properties")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v\nwant it to contain %q", tt.in, err, tt.want)
		}
	}
}

func TestParseReportsEveryError(t *testing.T) {
	_, err := Parse(strings.NewReader("offset.flush.interval.ms=x\ngroup.id=ok\nsession.timeout.ms=y\n"), "w.properties")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"w.properties:1: offset.flush.interval.ms", "w.properties:3: session.timeout.ms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\ndoes not contain %q", err, want)
		}
	}
}

func TestWarnings(t *testing.T) {
	w := parse(t, `plugin.path=/opt/plugins
plugin.discovery=service_load
metric.reporters=com.example.Reporter
metrics.num.samples=3
internal.key.converter=org.apache.kafka.connect.json.JsonConverter
internal.key.converter.schemas.enable=false
rest.port=8083
group.id=a
group.id=b
`)
	want := []string{
		"worker.properties:9: group.id is set again (first on line 8); the last value wins",
		"worker.properties:1: plugin.path is ignored: pgmotion has its connectors, converters and transforms built in",
		"worker.properties:2: plugin.discovery is ignored: pgmotion has its connectors, converters and transforms built in",
		"worker.properties:3: metric.reporters is ignored: pgmotion exports Prometheus metrics instead of running Kafka metrics reporters",
		"worker.properties:4: metrics.num.samples is ignored: pgmotion exports Prometheus metrics instead of running Kafka metrics reporters",
		"worker.properties:5: internal.key.converter is ignored: " + reasonInternalConverter,
		"worker.properties:6: internal.key.converter.schemas.enable is ignored: " + reasonInternalConverter,
		"worker.properties:7: rest.port is ignored: Kafka Connect removed it in 3.0; use listeners",
	}
	if !reflect.DeepEqual(w.Warnings, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(w.Warnings, "\n"), strings.Join(want, "\n"))
	}
	if w.GroupID != "b" {
		t.Errorf("group.id = %q, want the last value", w.GroupID)
	}
	// Ignored properties are kept; one warning each, even when set again.
	if w.Unknown["metric.reporters"] != "com.example.Reporter" || w.Unknown["rest.port"] != "8083" {
		t.Errorf("unknown = %v", w.Unknown)
	}
	if err := w.Set("plugin.path", "/other"); err != nil {
		t.Fatal(err)
	}
	if len(w.Warnings) != len(want) || w.PluginPath != "/other" {
		t.Errorf("after Set: plugin.path = %q, warnings = %q", w.PluginPath, w.Warnings)
	}
}

// TestRoundTrip formats a parsed worker back to properties and parses it
// again.
func TestRoundTrip(t *testing.T) {
	for _, text := range []string{
		"",
		mustRead(t, filepath.Join("testdata", "connect-distributed.properties")),
		"bootstrap.servers=[::1]:9092\nlisteners=http://[::1]:8083\nrest.advertised.port=1\nrest.advertised.host.name=h\n" +
			"producer.acks=all\nconsumer.a=b\nfoo.bar= spaced \nconfig.providers=file,vault\n" +
			"config.providers.file.class=" + FileProviderClass + "\nconfig.providers.file.param.allowed.paths=/\n",
	} {
		w1 := parse(t, text)
		props := w1.Properties()
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var list []Property
		for _, k := range keys {
			list = append(list, Property{Key: k, Value: props[k]})
		}
		var buf bytes.Buffer
		if err := WriteProperties(&buf, list); err != nil {
			t.Fatal(err)
		}
		w2 := parse(t, buf.String())
		if !reflect.DeepEqual(exported(w1), exported(w2)) {
			t.Errorf("round trip of %q:\n%s\n got %+v\nwant %+v", text, buf.String(), exported(w2), exported(w1))
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestValidate(t *testing.T) {
	w := Default()
	if err := w.Set(PropHeartbeatInterval, "10000"); err != nil {
		t.Fatal(err)
	}
	err := w.Validate()
	if err == nil || err.Error() != "heartbeat.interval.ms (10000) must be lower than session.timeout.ms (10000); Kafka suggests at most a third of it" {
		t.Errorf("Validate = %v", err)
	}
	if err := w.Set(PropSessionTimeout, "30000"); err != nil {
		t.Fatal(err)
	}
	if err := w.Validate(); err != nil {
		t.Error(err)
	}
}

func TestSet(t *testing.T) {
	w := Default()
	for _, kv := range [][2]string{
		{"bootstrap.servers", "a:1,b:2"},
		{"producer.linger.ms", "5"},
		{"consumer.", "kept as unknown"},
		{" offset.flush.interval.ms ", "1000"},
	} {
		if err := w.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(w.BootstrapServers, []string{"a:1", "b:2"}) || w.Producer["linger.ms"] != "5" ||
		w.Unknown["consumer."] != "kept as unknown" || w.OffsetFlushInterval != time.Second {
		t.Errorf("after Set: %+v", exported(w))
	}
	if w.Source("producer.linger.ms") != "flag" {
		t.Errorf("Source = %q", w.Source("producer.linger.ms"))
	}
	err := w.Set("offset.flush.interval.ms", "abc")
	if err == nil || err.Error() != `flag: offset.flush.interval.ms: "abc" is not a number of milliseconds` {
		t.Errorf("Set error = %v", err)
	}
	if w.OffsetFlushInterval != time.Second {
		t.Errorf("a failed Set changed the value to %v", w.OffsetFlushInterval)
	}
	if err := w.Set("", "x"); err == nil {
		t.Error("Set with an empty key succeeded")
	}
}

// TestWorkerPlaceholders: worker properties are resolved with the
// providers the file configures, as Kafka's AbstractConfig does.
func TestWorkerPlaceholders(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets.properties")
	if err := os.WriteFile(secrets, []byte("jaas=PlainLoginModule required password=\"s3cr3t\";\nflush=2500\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGMOTION_TEST_GROUP", "from-env")
	w := parse(t, envFileProviders+"producer.sasl.jaas.config=${file:"+secrets+":jaas}\n"+
		"offset.flush.interval.ms=${file:"+secrets+":flush}\n"+
		"group.id=${env:PGMOTION_TEST_GROUP}\n"+
		"plugin.path=${file:/nonexistent:x}\n")
	if w.Producer["sasl.jaas.config"] != `PlainLoginModule required password="s3cr3t";` {
		t.Errorf("producer.sasl.jaas.config = %q", w.Producer["sasl.jaas.config"])
	}
	if w.OffsetFlushInterval != 2500*time.Millisecond || w.GroupID != "from-env" {
		t.Errorf("resolved fields: %+v", exported(w))
	}
	if w.PluginPath != "${file:/nonexistent:x}" {
		t.Errorf("plugin.path was resolved: %q", w.PluginPath)
	}

	// With config.providers set, only the listed providers exist.
	_, err := Parse(strings.NewReader("config.providers=file\nconfig.providers.file.class="+FileProviderClass+
		"\ngroup.id=${env:PGMOTION_TEST_GROUP}\n"), "w.properties")
	if err == nil || !strings.Contains(err.Error(), `w.properties:3: group.id: cannot resolve ${env:PGMOTION_TEST_GROUP}: unknown config provider "env" (enabled: file)`) {
		t.Errorf("env with only file configured: %v", err)
	}
}

func TestWorkerErrorsHideResolvedValues(t *testing.T) {
	t.Setenv("PGMOTION_TEST_SECRET", "hunter2")
	_, err := Parse(strings.NewReader("offset.flush.interval.ms=${env:PGMOTION_TEST_SECRET}\n"+envFileProviders), "w.properties")
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the secret: %v", err)
	}
	want := `w.properties:1: offset.flush.interval.ms: the value of ${env:PGMOTION_TEST_SECRET} is not a number of milliseconds`
	if err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
	for _, tt := range []struct{ in, want string }{
		{"bootstrap.servers=a:1,${env:PGMOTION_TEST_SECRET}", `bootstrap.servers: the value of a:1,${env:PGMOTION_TEST_SECRET} has an item, which is not host:port`},
		{"listeners=${env:PGMOTION_TEST_SECRET}", `listeners: the value of ${env:PGMOTION_TEST_SECRET} has an item, which is not protocol://host:port`},
		{"rest.advertised.listener=${env:PGMOTION_TEST_SECRET}", `rest.advertised.listener: the value of ${env:PGMOTION_TEST_SECRET} is not a protocol`},
	} {
		_, err := Parse(strings.NewReader(tt.in+"\n"+envFileProviders), "w.properties")
		if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v\nwant %q and no secret", tt.in, err, tt.want)
		}
	}
}

func TestProviderSettings(t *testing.T) {
	w := parse(t, `config.providers = file, vault ,dir
config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
config.providers.dir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider
config.providers.dir.param.allowed.paths=/
config.providers.unused.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
`)
	want := map[string]string{"file": FileProviderClass, "vault": "", "dir": DirectoryProviderClass}
	if !reflect.DeepEqual(w.ConfigProviders, want) {
		t.Errorf("ConfigProviders = %v", w.ConfigProviders)
	}
	if len(w.Unknown) != 0 {
		t.Errorf("provider settings leaked into Unknown: %v", w.Unknown)
	}
	wantWarnings := []string{
		`worker.properties:1: config.providers lists "vault" but config.providers.vault.class is not set; the provider is not enabled`,
		`worker.properties:5: config.providers.unused.class is set but config.providers does not list "unused"; the provider is not enabled`,
	}
	if !reflect.DeepEqual(w.Warnings, wantWarnings) {
		t.Errorf("warnings:\n%s", strings.Join(w.Warnings, "\n"))
	}

	for _, tt := range []struct{ in, want string }{
		{"config.providers=vault\nconfig.providers.vault.class=io.example.VaultConfigProvider",
			`w.properties:2: config.providers.vault.class: "io.example.VaultConfigProvider" is not a config provider pgmotion implements; use ` + FileProviderClass},
		{"config.providers.file.param.allowed.paths=relative/dir\n" + envFileProviders,
			`w.properties:1: config.providers.file.param.allowed.paths: path relative/dir is not absolute`},
		{"config.providers.file.param.allowed.paths=/does/not/exist/pgmotion\n" + envFileProviders,
			`config.providers.file.param.allowed.paths: path /does/not/exist/pgmotion does not exist`},
		{"config.providers.env.param.allowlist.pattern=(\n" + envFileProviders,
			`w.properties:1: config.providers.env.param.allowlist.pattern: is not a regular expression`},
	} {
		_, err := Parse(strings.NewReader(tt.in), "w.properties")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v\nwant %q", tt.in, err, tt.want)
		}
	}
}
