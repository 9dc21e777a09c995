package workerconfig

import (
	"bytes"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

// TestIsSensitive: the worker's rule is the connectors' (spec.SensitiveKey,
// tested there), URL passwords included.
func TestIsSensitive(t *testing.T) {
	for _, k := range []string{"ssl.keystore.key", "vault.token", "datadog.api.key", "client.secret.id", "database.password"} {
		if !IsSensitive(k) {
			t.Errorf("IsSensitive(%q) = false", k)
		}
	}
	got := Mask(map[string]string{"database.url": "postgres://app:pw1@db:5432/app"}, nil)
	if got["database.url"] != "postgres://app:[hidden]@db:5432/app" {
		t.Errorf("Mask = %v", got)
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
