package transform

import (
	"log/slog"
	"path/filepath"
	"testing"
)

// benchChain runs the chain over one input record per iteration, read from
// and written back to JSON (the encoder's own path, from a change, is
// measured by the debezium package's BenchmarkTransform).
func benchChain(b *testing.B, input string, index int, kv ...string) {
	c, pc := newTestChain(b, props(kv...), slog.New(slog.DiscardHandler))
	jc := newJSONChain(c, pc)
	in := readRecords(b, filepath.Join("testdata", "input", input+".json"))[index]
	b.SetBytes(int64(len(in.Key) + len(in.Value)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, keep, err := jc.apply(in); err != nil || !keep {
			b.Fatal(keep, err)
		}
	}
}

// BenchmarkOutbox is the outbox event router on a create of the outbox
// table (jsonb payload of 200 bytes), schemas enabled.
func BenchmarkOutbox(b *testing.B) {
	b.Run("payload=string", func(b *testing.B) {
		benchChain(b, "outbox", 0, "transforms=outbox", outboxSMT)
	})
	b.Run("payload=expanded", func(b *testing.B) {
		benchChain(b, "outbox", 0, "transforms=outbox", outboxSMT, "transforms.outbox.table.expand.json.payload=true")
	})
	b.Run("payload=string,schemas=false", func(b *testing.B) {
		benchChain(b, "outbox", 0, "transforms=outbox", outboxSMT, "key.converter.schemas.enable=false", "value.converter.schemas.enable=false")
	})
}

// BenchmarkUnwrap is ExtractNewRecordState on a create.
func BenchmarkUnwrap(b *testing.B) {
	benchChain(b, "customers", 1, "transforms=unwrap", unwrapSMT)
}

// BenchmarkRegexRouter is a chain that reads neither key nor value.
func BenchmarkRegexRouter(b *testing.B) {
	benchChain(b, "customers", 1, "transforms=r", "transforms.r.type=RegexRouter", `transforms.r.regex=srv\.(.*)`, "transforms.r.replacement=x.$1")
}
