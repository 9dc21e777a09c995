package connect

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/kafkaclient"
)

const testJAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required username="worker" password="pw";`

func TestSecurityForConnector(t *testing.T) {
	worker := map[string]string{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.jaas.config": testJAAS}
	var logs strings.Builder
	s, err := parseSecurity(kafkaclient.Clients{Worker: worker}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// Without producer.* settings the tasks use the worker's, and say so.
	if s.producer.Protocol != "SASL_PLAINTEXT" || s.producer.User != "worker" || !strings.Contains(logs.String(), "producer.* does not set") {
		t.Fatalf("producer = %v; log:\n%s", s.producer, logs.String())
	}
	override := map[string]string{"producer.override.sasl.jaas.config": strings.Replace(testJAAS, `"worker"`, `"app"`, 1)}
	cc, err := s.forConnector(override)
	if err != nil || !cc.own || cc.producer.User != "app" || cc.producer.Protocol != "SASL_PLAINTEXT" {
		t.Fatalf("All: %v, %+v", err, cc)
	}
	cc, err = s.forConnector(map[string]string{"topic.prefix": "x"})
	if err != nil || cc.own || cc.producer != s.producer {
		t.Fatalf("no overrides: %v, %+v", err, cc)
	}
	for policy, cfg := range map[string]map[string]string{
		"None":      override,
		"Principal": {"producer.override.ssl.truststore.location": "/x"},
	} {
		s, err := parseSecurity(kafkaclient.Clients{Worker: worker, OverridePolicy: policy}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.forConnector(cfg); err == nil || !strings.Contains(err.Error(), "The '"+policy+"' policy does not allow") {
			t.Errorf("%s: %v", policy, err)
		}
	}
	if _, err := parseSecurity(kafkaclient.Clients{Worker: worker, Producer: map[string]string{"sasl.mechanism": "GSSAPI"}}, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), "producer.sasl.mechanism=GSSAPI is not supported") {
		t.Errorf("producer GSSAPI: %v", err)
	}
}
