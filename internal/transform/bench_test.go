package transform

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/pgmotion/pgmotion/internal/record"
)

// benchChain runs the chain over one input record per iteration, as the
// task does (ApplyAll on the encoder's output).
func benchChain(b *testing.B, input string, index int, kv ...string) {
	c, _ := newTestChain(b, props(kv...), slog.New(slog.DiscardHandler))
	in := readRecords(b, filepath.Join("testdata", "input", input+".json"))[index]
	recs := make([]record.Record, 1)
	b.SetBytes(int64(len(in.Key) + len(in.Value)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		recs = recs[:1]
		recs[0] = in
		out, err := c.ApplyAll(recs, nil)
		if err != nil || len(out) != 1 {
			b.Fatal(len(out), err)
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
