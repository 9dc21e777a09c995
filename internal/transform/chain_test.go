package transform

import (
	"log/slog"
	"testing"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
)

// TestRecordIsTombstone checks the predicate on both forms a value reaches
// the chain in: as the converter's bytes when no plugin reads values, as
// Connect data when one does.
func TestRecordIsTombstone(t *testing.T) {
	filter := []string{"transforms.tomb.type=Filter", "transforms.tomb.predicate=t", "predicates=t", "predicates.t.type=RecordIsTombstone"}
	raw := append([]string{"transforms=tomb"}, filter...)
	parsed := append([]string{"transforms=tomb,rep", "transforms.rep.type=" + kafkaTransforms + "ReplaceField$Value", "transforms.rep.exclude=x"}, filter...)
	tests := []struct {
		name  string
		props []string
		rec   cd.Record
		keep  bool
	}{
		{"raw null", raw, cd.Record{Topic: "t", Partition: -1, RawKey: []byte(`1`)}, false},
		{"raw value", raw, cd.Record{Topic: "t", Partition: -1, RawKey: []byte(`1`), RawValue: []byte(`{}`)}, true},
		{"raw empty value", raw, cd.Record{Topic: "t", Partition: -1, RawValue: []byte{}}, true},
		{"parsed null", parsed, cd.Record{Topic: "t", Partition: -1}, false},
		{"parsed value", parsed, cd.Record{Topic: "t", Partition: -1, Value: cd.Map{{Key: "a", Value: "b"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestChain(t, props(tt.props...), slog.New(slog.DiscardHandler))
			if _, v := c.Parses(); v != (tt.props[0] != raw[0]) {
				t.Fatalf("Parses value = %v", v)
			}
			r := tt.rec
			keep, err := c.Transform(&r, nil)
			if err != nil || keep != tt.keep {
				t.Fatalf("Transform = %v, %v; want %v", keep, err, tt.keep)
			}
		})
	}
}
