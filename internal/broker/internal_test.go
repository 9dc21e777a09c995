package broker

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestAdvertised(t *testing.T) {
	for _, tc := range []struct {
		bound, listen, adv string
		want               string
	}{
		{"127.0.0.1:9092", "127.0.0.1:9092", "", "127.0.0.1:9092"},
		{"127.0.0.1:9092", "localhost:9092", "", "127.0.0.1:9092"},
		{"0.0.0.0:9092", "0.0.0.0:9092", "", "127.0.0.1:9092"},
		{"[::]:9092", ":9092", "", "127.0.0.1:9092"},
		{"[::]:9092", "[::]:9092", "", "127.0.0.1:9092"},
		{"[::1]:9092", "[::1]:9092", "", "[::1]:9092"},
		{"10.1.2.3:9092", "10.1.2.3:9092", "", "10.1.2.3:9092"},
		{"0.0.0.0:9092", "0.0.0.0:9092", "kafka.internal", "kafka.internal:9092"},
		{"0.0.0.0:9092", "0.0.0.0:9092", "kafka.internal:19092", "kafka.internal:19092"},
		{"0.0.0.0:9092", "0.0.0.0:9092", "[fd00::1]", "[fd00::1]:9092"},
		{"0.0.0.0:9092", "0.0.0.0:9092", "fd00::1", "[fd00::1]:9092"},
		{"0.0.0.0:9092", "0.0.0.0:9092", "[fd00::1]:19092", "[fd00::1]:19092"},
	} {
		bound, err := net.ResolveTCPAddr("tcp", tc.bound)
		if err != nil {
			t.Fatal(err)
		}
		got, err := advertised(bound, tc.listen, tc.adv)
		if err != nil || got != tc.want {
			t.Errorf("advertised(%s, %q, %q) = %q, %v; want %q", tc.bound, tc.listen, tc.adv, got, err, tc.want)
		}
	}
}

func TestValidTopicName(t *testing.T) {
	for name, want := range map[string]bool{
		"dbserver1.public.orders": true,
		"a-b_c.D9":                true,
		strings.Repeat("x", 249):  true,
		strings.Repeat("x", 250):  false,
		"":                        false,
		".":                       false,
		"..":                      false,
		"a/b":                     false,
		"a b":                     false,
		"zürich":                  false,
	} {
		if got := validTopicName(name); got != want {
			t.Errorf("validTopicName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestKfakeLogger(t *testing.T) {
	var buf bytes.Buffer
	l := kfakeLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	l.Logf(kfake.LogLevelError, "persist to disk: %v", "disk full")
	l.Logf(kfake.LogLevelWarn, "compact %s-%d", "t", 0)
	l.Logf(kfake.LogLevelInfo, "request %d", 1) // below debug: dropped
	l.Logf(kfake.LogLevelDebug, "detail")       // below debug: dropped
	got := buf.String()
	for _, want := range []string{
		`level=ERROR msg="persist to disk: disk full" logger=kfake`,
		`level=WARN msg="compact t-0" logger=kfake`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "request") || strings.Contains(got, "detail") {
		t.Errorf("kfake info and debug lines logged at slog debug level:\n%s", got)
	}
}
