package snapshot

import (
	"strings"
	"testing"
)

func TestIncStateOffsetRoundTrip(t *testing.T) {
	s := incState{
		colls: []incCollection{
			{ID: "public.colors", Condition: "(color='blue')", CorrelationID: "sig-1"},
			{ID: "public.t", SurrogateKey: "code"},
		},
		lastKey:       []string{"1024", `a"b`},
		maxKey:        []string{"50000", "z"},
		correlationID: "sig-1",
	}
	colls, corr, pk, max := s.offsetFields()
	// Debezium's layout: every key of each entry, null when unset.
	wantColls := `[{"incremental_snapshot_collections_id":"public.colors","incremental_snapshot_collections_additional_condition":"(color='blue')","incremental_snapshot_collections_surrogate_key":null,"incremental_snapshot_collections_correlation_id":"sig-1"},` +
		`{"incremental_snapshot_collections_id":"public.t","incremental_snapshot_collections_additional_condition":null,"incremental_snapshot_collections_surrogate_key":"code","incremental_snapshot_collections_correlation_id":null}]`
	if colls != wantColls || corr != "sig-1" || pk != `["1024","a\"b"]` || max != `["50000","z"]` {
		t.Fatalf("fields:\n%s\n%s %s %s", colls, corr, pk, max)
	}
	back, warn, err := loadIncState(&OffsetKeys{Collections: colls, CorrelationID: corr, PrimaryKey: pk, MaximumKey: max})
	if err != nil || warn != "" {
		t.Fatal(err, warn)
	}
	if len(back.colls) != 2 || back.colls[0] != s.colls[0] || back.colls[1] != s.colls[1] ||
		strings.Join(back.lastKey, "|") != strings.Join(s.lastKey, "|") || strings.Join(back.maxKey, "|") != strings.Join(s.maxKey, "|") || back.correlationID != "sig-1" {
		t.Errorf("round trip: %+v", back)
	}

	// Nothing running: no keys at all.
	if c, corr, pk, max := (&incState{lastKey: []string{"1"}}).offsetFields(); c+corr+pk+max != "" {
		t.Errorf("idle state wrote %q %q %q %q", c, corr, pk, max)
	}
	// A table just started: no key reached, no maximum yet.
	_, _, pk, max = (&incState{colls: []incCollection{{ID: "public.t"}}}).offsetFields()
	if pk != "" || max != "" {
		t.Errorf("fresh table: %q %q", pk, max)
	}
}

func TestLoadIncStateFromDebezium(t *testing.T) {
	// An offset Debezium wrote mid-snapshot: its keys are Java-serialized.
	off := OffsetKeys{
		Collections:        `[{"incremental_snapshot_collections_id":"public.orders","incremental_snapshot_collections_additional_condition":null,"incremental_snapshot_collections_surrogate_key":null}]`,
		DebeziumPrimaryKey: "aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c020000787000000001737200116a6176612e6c616e672e496e746567657212e2a0a4f781873802000149000576616c7565787200106a6176612e6c616e672e4e756d62657286ac951d0b94e08b0200007870000003e8",
	}
	s, warn, err := loadIncState(&off)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.colls) != 1 || s.colls[0].ID != "public.orders" || s.lastKey != nil || s.maxKey != nil {
		t.Errorf("state %+v", s)
	}
	if !strings.Contains(warn, "public.orders starts again from its first row") {
		t.Errorf("warning %q", warn)
	}

	for _, bad := range []OffsetKeys{
		{Collections: "not json"},
		{Collections: `[{"incremental_snapshot_collections_additional_condition":"x"}]`},
		{Collections: `[{"incremental_snapshot_collections_id":"a.b"}]`, PrimaryKey: "[1"},
		{Collections: `[{"incremental_snapshot_collections_id":"a.b"}]`, MaximumKey: `{"a":1}`},
	} {
		if _, _, err := loadIncState(&bad); err == nil {
			t.Errorf("%+v was accepted", bad)
		}
	}
}
