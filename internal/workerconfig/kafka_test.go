package workerconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The README's SASL_SSL example loads, with the password read through the
// file provider, and each client gets its properties without prefix.
func TestKafkaClients(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "kafka.properties")
	if err := os.WriteFile(secrets, []byte("password=from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	props := `bootstrap.servers=kafka-1:9093
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
    username="connect" password="${file:` + secrets + `:password}";
ssl.truststore.type=PEM
producer.ssl.truststore.type=PKCS12
admin.security.protocol=SSL
connector.client.config.override.policy=Principal
config.providers=file
config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
`
	w, err := Parse(strings.NewReader(props), "connect-distributed.properties")
	if err != nil {
		t.Fatal(err)
	}
	c := w.KafkaClients()
	if got := c.Worker["sasl.jaas.config"]; !strings.Contains(got, `password="from-file"`) {
		t.Errorf("sasl.jaas.config = %q", got)
	}
	if c.Worker["security.protocol"] != "SASL_SSL" || len(c.Worker) != 4 {
		t.Errorf("worker = %v", Mask(c.Worker, nil))
	}
	if c.Producer["ssl.truststore.type"] != "PKCS12" || c.Admin["security.protocol"] != "SSL" || c.OverridePolicy != "Principal" {
		t.Errorf("producer = %v, admin = %v, policy = %q", c.Producer, c.Admin, c.OverridePolicy)
	}
}
