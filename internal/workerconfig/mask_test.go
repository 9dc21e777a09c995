package workerconfig

import (
	"bytes"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestIsSensitive(t *testing.T) {
	sensitive := []string{
		"database.password", "ssl.key.password", "ssl.keystore.password", "ssl.truststore.password",
		"ssl.keystore.key", "ssl.keystore.certificate.chain", "ssl.truststore.certificates",
		"sasl.jaas.config", "producer.sasl.jaas.config", "consumer.override.sasl.jaas.config",
		"database.sslpassword", "database.sslPassword", "DATABASE.PASSWORD",
		"api.key", "confluent.api.key", "api.secret", "client.secret", "oauth.client-secret",
		"access.token", "sasl.oauthbearer.token", "aws.secret.access.key", "aws.access.key",
		"schema.registry.basic.auth.user.info", "value.converter.basic.auth.user.info",
		"value.converter.schema.registry.auth.client-secret.x", "gcp.credentials.json",
		"azure.connectionstring", "azure.connection.string", "gcs.credentials", "ssh.passphrase",
		"tls.private.key", "encryption.secret.key", "pg.passwd", "vault.token",
	}
	plain := []string{
		"database.user", "database.hostname", "key.converter", "value.converter.schemas.enable",
		"message.key.columns", "sasl.oauthbearer.token.endpoint.url", "table.field.event.key",
		"topic.prefix", "ssl.keystore.location", "ssl.keystore.type", "password.file.path",
		"transforms.unwrap.type", "keys", "secretary", "sasl.mechanism", "",
	}
	for _, k := range sensitive {
		if !IsSensitive(k) {
			t.Errorf("IsSensitive(%q) = false", k)
		}
	}
	for _, k := range plain {
		if IsSensitive(k) {
			t.Errorf("IsSensitive(%q) = true", k)
		}
	}
}

func TestMask(t *testing.T) {
	in := map[string]string{"database.password": "pw", "database.user": "u", "topic.prefix": "t"}
	got := Mask(in, nil)
	want := map[string]string{"database.password": Hidden, "database.user": "u", "topic.prefix": "t"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Mask = %v", got)
	}
	if in["database.password"] != "pw" {
		t.Error("Mask changed its input")
	}
	got = Mask(in, func(k string) bool { return k == "topic.prefix" })
	if got["topic.prefix"] != Hidden || got["database.password"] != "pw" {
		t.Errorf("Mask with a custom rule = %v", got)
	}
	if got := Mask(nil, nil); len(got) != 0 {
		t.Errorf("Mask(nil) = %v", got)
	}
}

func TestMaskedMap(t *testing.T) {
	cfg := map[string]string{"database.password": "hunter2", "b": "2", "a": "1"}
	m := MaskedMap{Config: cfg}
	if got, want := m.String(), "{a=1, b=2, database.password=[hidden]}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for _, s := range []string{fmt.Sprint(m), fmt.Sprintf("%v %+v %#v %s", m, m, m, m)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("formatting shows the secret: %s", s)
		}
	}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("config", "config", m)
	if strings.Contains(buf.String(), "hunter2") || !strings.Contains(buf.String(), `"config":{"a":"1","b":"2","database.password":"[hidden]"}`) {
		t.Errorf("logged %s", buf.String())
	}
	buf.Reset()
	logger.Info("config", "config", MaskedMap{Config: cfg, IsSecret: func(k string) bool { return k == "a" }})
	if !strings.Contains(buf.String(), `"a":"[hidden]"`) {
		t.Errorf("custom IsSecret ignored: %s", buf.String())
	}
}
