package workerconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/kafkasink"
)

func TestAssemble(t *testing.T) {
	file := filepath.Join("testdata", "connect-distributed.properties") // bootstrap kafka:9092, replication 1, flush 10 s
	dir := t.TempDir()
	heartbeat := filepath.Join(dir, "heartbeat.properties")
	if err := os.WriteFile(heartbeat, []byte("heartbeat.interval.ms=20000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flag := func(key, value string) Property { return Property{Key: key, Value: value} }
	type want struct {
		bootstrap   []string
		group       string
		listeners   []string
		flush       time.Duration
		replication [3]int16 // config, offset, status
	}
	pgmotion := want{[]string{"localhost:9092"}, "connect-cluster", []string{PgmotionListener}, PgmotionOffsetFlushInterval, [3]int16{-1, -1, -1}}
	for _, tt := range []struct {
		name    string
		s       Sources
		want    want
		wantErr []string
	}{
		{name: "nothing set: pgmotion's defaults", want: pgmotion},
		{name: "the file", s: Sources{File: file},
			want: want{[]string{"kafka:9092"}, "connect-cluster", []string{PgmotionListener}, 10 * time.Second, [3]int16{1, 1, 1}}},
		{name: "the environment over the file", s: Sources{File: file, Environ: []string{
			"PGMOTION_BOOTSTRAP_SERVERS=env:9092", "PGMOTION_OFFSET_FLUSH_INTERVAL_MS=20000", "PGMOTION_LISTENERS=http://0.0.0.0:8084"}},
			want: want{[]string{"env:9092"}, "connect-cluster", []string{"0.0.0.0:8084"}, 20 * time.Second, [3]int16{1, 1, 1}}},
		{name: "flags over the environment and the file", s: Sources{File: file,
			Environ: []string{"PGMOTION_BOOTSTRAP_SERVERS=env:9092", "PGMOTION_GROUP_ID=env-group"},
			Flags: []Property{flag(PropBootstrapServers, "flag:9092"), flag(PropGroupID, "flag-group"),
				flag(PropListeners, "http://127.0.0.1:0"), flag(PropOffsetFlushInterval, "500")}},
			want: want{[]string{"flag:9092"}, "flag-group", []string{"127.0.0.1:0"}, 500 * time.Millisecond, [3]int16{1, 1, 1}}},
		{name: "replication set in the environment only for one topic", s: Sources{Environ: []string{"PGMOTION_OFFSET_STORAGE_REPLICATION_FACTOR=3"}},
			want: want{[]string{"localhost:9092"}, "connect-cluster", []string{PgmotionListener}, PgmotionOffsetFlushInterval, [3]int16{-1, 3, -1}}},
		{name: "every bad flag at once", s: Sources{Flags: []Property{flag(PropOffsetFlushInterval, "abc"), flag(PropListeners, "http://nope")}},
			wantErr: []string{`offset.flush.interval.ms: "abc" is not a number of milliseconds`, `listeners: "http://nope"`}},
		{name: "a bad environment variable", s: Sources{Environ: []string{"PGMOTION_OFFSET_FLUSH_INTERVAL_MS=abc"}},
			wantErr: []string{`PGMOTION_OFFSET_FLUSH_INTERVAL_MS: offset.flush.interval.ms: "abc"`}},
		{name: "a missing file", s: Sources{File: filepath.Join(dir, "missing.properties")}, wantErr: []string{"missing.properties"}},
		{name: "validated at the end", s: Sources{File: heartbeat}, wantErr: []string{"heartbeat.interval.ms (20000) must be lower than session.timeout.ms (10000)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Assemble(tt.s)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; want one containing %q", tt.wantErr)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := want{w.BootstrapServers, w.GroupID, w.Listeners, w.OffsetFlushInterval,
				[3]int16{w.ConfigReplication, w.OffsetReplication, w.StatusReplication}}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestProducerConfig(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, tt := range []struct {
		name     string
		producer map[string]string
		flag     *string
		want     Producer
		wantErr  string
	}{
		{name: "nothing set", want: Producer{Compression: kafkasink.DefaultCompression}},
		{name: "compression from the worker", producer: map[string]string{"compression.type": "zstd"}, want: Producer{Compression: "zstd"}},
		{name: "the flag wins", producer: map[string]string{"compression.type": "zstd"}, flag: str("lz4"), want: Producer{Compression: "lz4"}},
		{name: "an empty flag wins too", producer: map[string]string{"compression.type": "zstd"}, flag: str(""), want: Producer{Compression: ""}},
		{name: "bad compression", producer: map[string]string{"compression.type": "brotli"}, wantErr: `producer compression "brotli"`},
		{name: "bad compression flag", flag: str("brotli"), wantErr: `producer compression "brotli"`},
		{name: "max.request.size", producer: map[string]string{"max.request.size": " 4194304 "}, want: Producer{Compression: "none", MaxRequestSize: 4194304}},
		{name: "max.request.size at its least", producer: map[string]string{"max.request.size": "1024"}, want: Producer{Compression: "none", MaxRequestSize: 1024}},
		{name: "max.request.size too small", producer: map[string]string{"max.request.size": "1023"},
			wantErr: `producer.max.request.size="1023": want a number of bytes of at least 1024`},
		{name: "max.request.size not a number", producer: map[string]string{"max.request.size": "4MB"},
			wantErr: `producer.max.request.size="4MB": want a number of bytes of at least 1024`},
		{name: "max.request.size past int32", producer: map[string]string{"max.request.size": "2147483648"},
			wantErr: `producer.max.request.size="2147483648"`},
		{name: "unused overrides, sorted; security ones are used", producer: map[string]string{
			"linger.ms": "5", "acks": "all", "security.protocol": "SSL", "sasl.mechanism": "PLAIN", "compression.type": "gzip"},
			want: Producer{Compression: "gzip", Unused: []string{"producer.acks", "producer.linger.ms"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := Default()
			for k, v := range tt.producer {
				w.Producer[k] = v
			}
			got, err := w.ProducerConfig(tt.flag)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestConverters(t *testing.T) {
	w := parse(t, "value.converter=org.apache.kafka.connect.storage.StringConverter\nkey.converter.schemas.enable=false\n"+
		"value.converter.encoding=UTF-8\nheader.converter.x=y\nkey.converterx=z\n")
	want := map[string]string{
		PropKeyConverter:           JSONConverter,
		PropValueConverter:         "org.apache.kafka.connect.storage.StringConverter",
		PropKeySchemas:             "false",
		PropValueSchemas:           "true",
		"value.converter.encoding": "UTF-8",
	}
	if got := w.Converters(); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

func TestAdvertised(t *testing.T) {
	for _, tt := range []struct {
		listen, hostname string
		host             string
		port             int
		want             string
	}{
		{listen: "127.0.0.1:8083", hostname: "box", want: "127.0.0.1:8083"},
		{listen: "0.0.0.0:8083", hostname: "box", want: "box:8083"},
		{listen: "[::]:8083", hostname: "box", want: "box:8083"},
		{listen: ":8083", hostname: "box", want: "box:8083"},
		{listen: "0.0.0.0:8083", hostname: "", want: "0.0.0.0:8083"},
		{listen: "[::1]:8083", hostname: "box", want: "[::1]:8083"},
		{listen: "0.0.0.0:8083", hostname: "box", host: "worker-1.internal", want: "worker-1.internal:8083"},
		{listen: "127.0.0.1:8083", hostname: "box", port: 443, want: "127.0.0.1:443"},
		{listen: "127.0.0.1:8083", hostname: "box", host: "fe80::1", port: 9000, want: "[fe80::1]:9000"},
		{listen: "no-port", hostname: "box", host: "h", want: "no-port"},
	} {
		w := Default()
		w.AdvertisedHost, w.AdvertisedPort = tt.host, tt.port
		if got := w.Advertised(tt.listen, tt.hostname); got != tt.want {
			t.Errorf("Advertised(%q, %q) with host %q port %d = %q, want %q", tt.listen, tt.hostname, tt.host, tt.port, got, tt.want)
		}
	}
}
