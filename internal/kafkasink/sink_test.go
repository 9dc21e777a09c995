package kafkasink

import (
	"testing"

	"github.com/pgmotion/pgmotion/internal/record"
)

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
