package connectdata

import (
	"testing"

	"github.com/pgmotion/pgmotion/internal/record"
)

// TestRecordHeaders checks that AddHeader never writes into an array the
// record shares with another (the encoder's tombstone shares its event's),
// and the lookups.
func TestRecordHeaders(t *testing.T) {
	shared := make([]record.Header, 1, 4)
	shared[0] = record.Header{Key: "a", Value: []byte("1")}
	r1 := Record{Headers: shared}
	r2 := Record{Headers: shared}
	if err := r1.AddHeader("b", StringSchema, "x"); err != nil {
		t.Fatal(err)
	}
	if err := r2.AddHeader("b", StringSchema, "y"); err != nil {
		t.Fatal(err)
	}
	if err := r1.AddHeader("a", Int32Schema, int32(2)); err != nil {
		t.Fatal(err)
	}
	if got := string(r1.Headers[1].Value); got != "x" {
		t.Errorf("r1 header b = %q, want x (overwritten by r2)", got)
	}
	if got := string(r2.Headers[1].Value); got != "y" {
		t.Errorf("r2 header b = %q, want y", got)
	}
	if len(shared[:cap(shared)][1].Key) != 0 {
		t.Errorf("shared array written: %+v", shared[:cap(shared)])
	}
	if h, ok := r1.LastHeader("a"); !ok || string(h.Value) != "2" {
		t.Errorf("LastHeader(a) = %q, %v; want 2", h.Value, ok)
	}
	if !r1.HasHeader("b") || r1.HasHeader("c") {
		t.Errorf("HasHeader(b), HasHeader(c) = %v, %v", r1.HasHeader("b"), r1.HasHeader("c"))
	}
	if _, ok := r2.LastHeader("c"); ok {
		t.Error("LastHeader(c) found a header")
	}
	if err := r1.AddHeader("bad", StringSchema, func() {}); err == nil {
		t.Error("AddHeader of a func: no error")
	}
}
