package pipeline

import (
	"encoding/json"
	"testing"
)

func TestDecideSnapshot(t *testing.T) {
	done := &Offset{LSN: 100, LSNCommit: 100}
	unfinished := &Offset{LSN: 100, Snapshot: "INITIAL"}
	cb := func(data, stream, onErr bool) SnapshotConfig {
		return SnapshotConfig{Mode: SnapshotConfigurationBased, ConfigData: data, ConfigStream: stream, ConfigOnDataError: onErr}
	}
	for _, tc := range []struct {
		name             string
		cfg              SnapshotConfig
		off              *Offset
		slotCreated      bool
		snapshot, stream bool
	}{
		{"initial, first start", SnapshotConfig{Mode: SnapshotInitial}, nil, true, true, true},
		{"initial, done", SnapshotConfig{Mode: SnapshotInitial}, done, false, false, true},
		{"initial, unfinished", SnapshotConfig{Mode: SnapshotInitial}, unfinished, false, true, true},
		{"initial, slot lost", SnapshotConfig{Mode: SnapshotInitial}, done, true, false, true},
		{"initial_only, first start", SnapshotConfig{Mode: SnapshotInitialOnly}, nil, true, true, false},
		{"initial_only, done", SnapshotConfig{Mode: SnapshotInitialOnly}, done, false, false, false},
		{"always, done", SnapshotConfig{Mode: SnapshotAlways}, done, false, true, true},
		{"no_data, first start", SnapshotConfig{Mode: SnapshotNoData}, nil, true, false, true},
		{"when_needed, first start", SnapshotConfig{Mode: SnapshotWhenNeeded}, nil, true, true, true},
		{"when_needed, done", SnapshotConfig{Mode: SnapshotWhenNeeded}, done, false, false, true},
		{"when_needed, unfinished", SnapshotConfig{Mode: SnapshotWhenNeeded}, unfinished, false, true, true},
		{"when_needed, slot lost", SnapshotConfig{Mode: SnapshotWhenNeeded}, done, true, true, true},
		{"configuration_based, all false", cb(false, false, false), nil, true, false, false},
		{"configuration_based, data", cb(true, false, false), done, false, true, false},
		{"configuration_based, data and stream", cb(true, true, false), done, false, true, true},
		{"configuration_based, stream only", cb(false, true, false), nil, true, false, true},
		{"configuration_based, data error", cb(false, true, true), done, true, true, true},
		{"configuration_based, data error off", cb(false, true, false), done, true, false, true},
		{"custom falls back to initial", SnapshotConfig{Mode: "custom"}, nil, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decideSnapshot(tc.cfg, tc.off, tc.slotCreated)
			if d.snapshot != tc.snapshot || d.stream != tc.stream {
				t.Errorf("snapshot %v stream %v (%s), want %v %v", d.snapshot, d.stream, d.why, tc.snapshot, tc.stream)
			}
			if d.why == "" {
				t.Error("no reason given")
			}
		})
	}
}

func TestRangeSet(t *testing.T) {
	for _, tc := range []struct {
		done []bool
		want string
	}{
		{[]bool{}, ""},
		{[]bool{false, false}, ""},
		{[]bool{true}, "0"},
		{[]bool{true, true, true, true, false, true}, "0-3,5"},
		{[]bool{false, true, false, true, true}, "1,3-4"},
	} {
		got := formatSet(tc.done)
		if got != tc.want {
			t.Errorf("formatSet(%v) = %q, want %q", tc.done, got, tc.want)
		}
		back, err := parseSet(got, len(tc.done))
		if err != nil {
			t.Fatal(err)
		}
		for i := range tc.done {
			if back[i] != tc.done[i] {
				t.Errorf("parseSet(%q) = %v, want %v", got, back, tc.done)
				break
			}
		}
	}
	for _, bad := range []struct {
		s string
		n int
	}{{"x", 3}, {"0-", 3}, {"3", 3}, {"2-1", 3}, {"-1", 3}, {"0-9", 3}} {
		if _, err := parseSet(bad.s, bad.n); err == nil {
			t.Errorf("parseSet(%q, %d) accepted", bad.s, bad.n)
		}
	}
}

func FuzzParseSet(f *testing.F) {
	f.Add("0-3,5", 8)
	f.Add("", 1)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		done, err := parseSet(s, n)
		if err != nil {
			return
		}
		if again, err := parseSet(formatSet(done), n); err != nil || len(again) != n {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}

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
