package connectdata

import (
	"testing"
)

// BenchmarkJSONConverter reads and writes back the value of the reference
// create event (schemas enabled), reading every field.
func BenchmarkJSONConverter(b *testing.B) {
	var value []byte
	for _, p := range goldenPayloads(b)["create.json"] {
		if len(p) > len(value) {
			value = p
		}
	}
	c := NewJSONConverter(true)
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	for b.Loop() {
		s, v, err := c.ToConnect(value)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.FromConnect(s, v); err != nil {
			b.Fatal(err)
		}
	}
}
