package pipeline

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestOffsetIncrementalKeys(t *testing.T) {
	off := Offset{
		LSN: 100, LSNProc: 100, LSNCommit: 90, TxID: 7, MessageType: "COMMIT",
		IncrementalCollections:   `[{"incremental_snapshot_collections_id":"public.t","incremental_snapshot_collections_additional_condition":"(a<>'<&>')","incremental_snapshot_collections_surrogate_key":null,"incremental_snapshot_collections_correlation_id":null}]`,
		IncrementalCorrelationID: "sig-1",
		IncrementalPrimaryKey:    `["1024"]`,
		IncrementalMaximumKey:    `["50000"]`,
	}
	b, err := off.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		// Strings holding JSON, as Debezium writes incremental_snapshot_collections.
		`"incremental_snapshot_collections":"[{\"incremental_snapshot_collections_id\":\"public.t\",\"incremental_snapshot_collections_additional_condition\":\"(a<>'<&>')\"`,
		`"incremental_snapshot_correlation_id":"sig-1"`,
		`"pgmotion_incremental_snapshot_primary_key":"[\"1024\"]"`,
		`"pgmotion_incremental_snapshot_maximum_key":"[\"50000\"]"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("offset JSON lacks %s:\n%s", want, s)
		}
	}
	var back Offset
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != off {
		t.Errorf("round trip:\n%+v\n%+v", back, off)
	}
	// Comparable with ==, as the committer needs.
	if back == (Offset{LSN: 100}) {
		t.Error("offsets with different incremental keys compare equal")
	}

	// Unset keys are left out; Debezium's Java-serialized key is read but
	// never written.
	var dbz Offset
	if err := json.Unmarshal([]byte(`{"lsn":5,"incremental_snapshot_primary_key":"aced00","incremental_snapshot_correlation_id":null}`), &dbz); err != nil {
		t.Fatal(err)
	}
	if dbz.DebeziumPrimaryKey != "aced00" || dbz.IncrementalCorrelationID != "" {
		t.Errorf("%+v", dbz)
	}
	b, _ = dbz.MarshalJSON()
	if string(b) != `{"lsn":5}` {
		t.Errorf("written: %s", b)
	}
}
