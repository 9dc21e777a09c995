package pipeline

import (
	"encoding/json"
	"testing"

	"github.com/pgmotion/pgmotion/internal/snapshot"
)

func TestOffsetProgressJSON(t *testing.T) {
	o := Offset{LSN: 5, Snapshot: "INITIAL", SnapshotProgress: `{"tables":[{"table":"public.a\u0001","ranges":2,"done":"0"}]}`}
	b, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"lsn":5,"snapshot":"INITIAL","last_snapshot_record":false,"pgmotion_snapshot_progress":"{\"tables\":[{\"table\":\"public.a\\u0001\",\"ranges\":2,\"done\":\"0\"}]}"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back Offset
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != o {
		t.Errorf("round trip: %+v, want %+v", back, o)
	}
	if back.SnapshotDone() || back.ConfirmLSN() != 0 {
		t.Error("an offset taken during the snapshot must not confirm anything")
	}
}

// TestOffsetStored checks what a stored offset says of the initial
// snapshot, in both of Debezium's forms of the snapshot key.
func TestOffsetStored(t *testing.T) {
	for _, tc := range []struct {
		name string
		off  *Offset
		want snapshot.Stored
	}{
		{"none", nil, snapshot.NoOffset},
		{"streaming", &Offset{LSN: 100, LSNCommit: 100}, snapshot.Finished},
		{"snapshot running", &Offset{LSN: 100, Snapshot: "INITIAL"}, snapshot.Unfinished},
		{"last snapshot record", &Offset{LSN: 100, Snapshot: "INITIAL", LastSnapshotRecord: true}, snapshot.Finished},
		{"snapshot completed", &Offset{LSN: 100, Snapshot: "INITIAL", SnapshotCompleted: true}, snapshot.Finished},
	} {
		if got := tc.off.stored(); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
