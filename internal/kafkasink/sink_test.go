package kafkasink

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/record"
)

// TestCompression checks that the producer compresses nothing unless
// asked, as Kafka's producer and Kafka Connect do, and applies each
// compression.type value it accepts.
func TestCompression(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  kgo.CompressionCodec
	}{
		{"", kgo.NoCompression()},
		{"none", kgo.NoCompression()},
		{"gzip", kgo.GzipCompression()},
		{"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()},
		{"zstd", kgo.ZstdCompression()},
	} {
		s, err := New(Config{Brokers: []string{"127.0.0.1:1"}, Compression: tc.value})
		if err != nil {
			t.Fatalf("compression %q: %v", tc.value, err)
		}
		got := s.Client().OptValues(kgo.ProducerBatchCompression)
		s.Client().Close()
		if len(got) != 1 {
			t.Fatalf("compression %q: codecs %v, want one", tc.value, got)
		}
		if codecs, _ := got[0].([]kgo.CompressionCodec); len(codecs) != 1 || codecs[0] != tc.want {
			t.Errorf("compression %q: codecs %v, want %v", tc.value, got[0], tc.want)
		}
	}
	_, err := New(Config{Brokers: []string{"127.0.0.1:1"}, Compression: "brotli"})
	if err == nil || !strings.Contains(err.Error(), `"brotli"`) || !strings.Contains(err.Error(), Compressions) {
		t.Errorf("compression brotli: err %v, want one naming the value and the choices", err)
	}
}

func TestHeaderView(t *testing.T) {
	if !sameHeaderLayout() {
		t.Fatal("record.Header and kgo.RecordHeader no longer share a layout: kgoHeaders must copy")
	}
	hs := []record.Header{{Key: "a", Value: []byte("1")}, {Key: "bb", Value: nil}, {Key: "", Value: []byte{}}}
	got := kgoHeaders(hs)
	if len(got) != len(hs) {
		t.Fatalf("%d headers, want %d", len(got), len(hs))
	}
	for i := range hs {
		if got[i].Key != hs[i].Key || string(got[i].Value) != string(hs[i].Value) || (got[i].Value == nil) != (hs[i].Value == nil) {
			t.Errorf("header %d: %+v, want %+v", i, got[i], hs[i])
		}
	}
	if kgoHeaders(nil) != nil {
		t.Error("no headers must stay nil")
	}
}
