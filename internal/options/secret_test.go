package options

import "testing"

func TestSensitiveKey(t *testing.T) {
	sensitive := []string{
		"database.password", "ssl.key.password", "ssl.keystore.password", "ssl.truststore.password",
		"ssl.keystore.key", "producer.ssl.keystore.key", "ssl.keystore.certificate.chain", "ssl.truststore.certificates",
		"sasl.jaas.config", "producer.sasl.jaas.config", "consumer.override.sasl.jaas.config",
		"database.sslpassword", "database.sslPassword", "DATABASE.PASSWORD",
		"api.key", "confluent.api.key", "datadog.api.key", "api.secret", "client.secret", "oauth.client-secret",
		"access.token", "sasl.oauthbearer.token", "vault.token", "aws.secret.access.key", "aws.access.key",
		"schema.registry.basic.auth.user.info", "value.converter.basic.auth.user.info",
		"value.converter.schema.registry.auth.client-secret.x", "gcp.credentials.json",
		"azure.connectionstring", "azure.connection.string", "gcs.credentials", "ssh.passphrase",
		"tls.private.key", "encryption.secret.key", "pg.passwd",
		// *secret* anywhere in the name.
		"client.secret.id", "my.secret.value", "secretary",
	}
	plain := []string{
		"database.user", "database.hostname", "key.converter", "value.converter.schemas.enable",
		"message.key.columns", "sasl.oauthbearer.token.endpoint.url", "table.field.event.key",
		"topic.prefix", "ssl.keystore.location", "ssl.keystore.type", "password.file.path",
		"transforms.unwrap.type", "keys", "sasl.mechanism", "database.url", "",
	}
	for _, k := range sensitive {
		if !SensitiveKey(k) {
			t.Errorf("SensitiveKey(%q) = false", k)
		}
	}
	for _, k := range plain {
		if SensitiveKey(k) {
			t.Errorf("SensitiveKey(%q) = true", k)
		}
	}
}

func TestHideURLPasswords(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"postgres://app:pw@db:5432/app", "postgres://app:[hidden]@db:5432/app"},
		{"postgresql://app:p%40ss:w@db/app?sslmode=require", "postgresql://app:[hidden]@db/app?sslmode=require"},
		{"postgres://app@db/app", "postgres://app@db/app"},
		{"postgres://db/app", "postgres://db/app"},
		{"jdbc:postgresql://db:5432/app?user=app&password=pw&ssl=true", "jdbc:postgresql://db:5432/app?user=app&password=[hidden]&ssl=true"},
		{"http://a:1@h1:80,https://b:2@h2/x", "http://a:[hidden]@h1:80,https://b:[hidden]@h2/x"},
		{"see http://u:p@h/ and more", "see http://u:[hidden]@h/ and more"},
		{"http://h/path@x:y", "http://h/path@x:y"}, // '@' after the path is not userinfo
		{"plain text: no URL", "plain text: no URL"},
		{"://", "://"},
		{"x://:@", "x://:[hidden]@"},
	} {
		if got := HideURLPasswords(tt.in); got != tt.want {
			t.Errorf("HideURLPasswords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := MaskValue("database.url", "postgres://u:pw@h/d", nil); got != "postgres://u:[hidden]@h/d" {
		t.Errorf("MaskValue = %q", got)
	}
	if got := MaskValue("vault.token", "t", nil); got != Hidden {
		t.Errorf("MaskValue = %q", got)
	}
}
