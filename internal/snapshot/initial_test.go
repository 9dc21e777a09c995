package snapshot

import (
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/pgsource"
)

func TestDecideSnapshot(t *testing.T) {
	done, unfinished, none := Finished, Unfinished, NoOffset
	cb := func(data, stream, onErr bool) InitialConfig {
		return InitialConfig{Mode: ModeConfigurationBased, ConfigData: data, ConfigStream: stream, ConfigOnDataError: onErr}
	}
	for _, tc := range []struct {
		name             string
		cfg              InitialConfig
		stored           Stored
		slotCreated      bool
		snapshot, stream bool
	}{
		{"initial, first start", InitialConfig{Mode: ModeInitial}, none, true, true, true},
		{"initial, done", InitialConfig{Mode: ModeInitial}, done, false, false, true},
		{"initial, unfinished", InitialConfig{Mode: ModeInitial}, unfinished, false, true, true},
		{"initial, slot lost", InitialConfig{Mode: ModeInitial}, done, true, false, true},
		{"initial_only, first start", InitialConfig{Mode: ModeInitialOnly}, none, true, true, false},
		{"initial_only, done", InitialConfig{Mode: ModeInitialOnly}, done, false, false, false},
		{"always, done", InitialConfig{Mode: ModeAlways}, done, false, true, true},
		{"no_data, first start", InitialConfig{Mode: ModeNoData}, none, true, false, true},
		{"when_needed, first start", InitialConfig{Mode: ModeWhenNeeded}, none, true, true, true},
		{"when_needed, done", InitialConfig{Mode: ModeWhenNeeded}, done, false, false, true},
		{"when_needed, unfinished", InitialConfig{Mode: ModeWhenNeeded}, unfinished, false, true, true},
		{"when_needed, slot lost", InitialConfig{Mode: ModeWhenNeeded}, done, true, true, true},
		{"configuration_based, all false", cb(false, false, false), none, true, false, false},
		{"configuration_based, data", cb(true, false, false), done, false, true, false},
		{"configuration_based, data and stream", cb(true, true, false), done, false, true, true},
		{"configuration_based, stream only", cb(false, true, false), none, true, false, true},
		{"configuration_based, data error", cb(false, true, true), done, true, true, true},
		{"configuration_based, data error off", cb(false, true, false), done, true, false, true},
		{"custom falls back to initial", InitialConfig{Mode: "custom"}, none, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.cfg, tc.stored, tc.slotCreated)
			if d.Snapshot != tc.snapshot || d.Stream != tc.stream {
				t.Errorf("snapshot %v stream %v (%s), want %v %v", d.Snapshot, d.Stream, d.Why, tc.snapshot, tc.stream)
			}
			if d.Why == "" {
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

// TestResumePlan checks that a stored progress marks the ranges Kafka
// holds, keeping the stored range sizes, and that what does not match
// today's plan or cannot be read is read again.
func TestResumePlan(t *testing.T) {
	plan := func() []*pgsource.SnapshotTable {
		return []*pgsource.SnapshotTable{
			{Table: pgsource.TableName{Schema: "public", Name: "a"}, Step: 10, Ranges: 4, Done: make([]bool, 4)},
			{Table: pgsource.TableName{Schema: "public", Name: "b"}, Ranges: 1, Done: make([]bool, 1)},
			{Table: pgsource.TableName{Schema: "public", Name: "c"}, Select: "SELECT 1", Ranges: 1, Done: make([]bool, 1)},
		}
	}
	done := func(p []*pgsource.SnapshotTable) string {
		var out []string
		for _, st := range p {
			out = append(out, st.Table.String()+":"+formatSet(st.Done)+"/"+strconv.Itoa(st.Ranges))
		}
		return strings.Join(out, " ")
	}
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name    string
		stored  string
		resumed bool
		want    string
	}{
		{"the same plan, nothing delivered yet", EncodeProgress(plan()), true, "public.a:/4 public.b:/1 public.c:/1"},
		{"ranges of a", `{"tables":[{"table":"public.a","step":8,"ranges":5,"done":"0-2"}]}`, true, "public.a:0-2/5 public.b:/1 public.c:/1"},
		{"one-range table done", `{"tables":[{"table":"public.b","ranges":1,"done":"0"}]}`, true, "public.a:/4 public.b:0/1 public.c:/1"},
		{"override table done", `{"tables":[{"table":"public.c","ranges":1,"done":"0"}]}`, true, "public.a:/4 public.b:/1 public.c:0/1"},
		{"a stored as one range: the stored size holds", `{"tables":[{"table":"public.a","ranges":1,"done":"0"}]}`, true, "public.a:0/1 public.b:/1 public.c:/1"},
		{"several ranges without a step: not readable", `{"tables":[{"table":"public.a","ranges":3,"done":"0"}]}`, false, "public.a:/4 public.b:/1 public.c:/1"},
		{"a step for an override: not readable", `{"tables":[{"table":"public.c","step":4,"ranges":1,"done":"0"}]}`, false, "public.a:/4 public.b:/1 public.c:/1"},
		{"unknown table", `{"tables":[{"table":"public.z","ranges":1,"done":"0"}]}`, false, "public.a:/4 public.b:/1 public.c:/1"},
		{"bad range set", `{"tables":[{"table":"public.a","step":8,"ranges":2,"done":"0-7"}]}`, false, "public.a:/4 public.b:/1 public.c:/1"},
		{"not JSON", `{"tables":`, false, "public.a:/4 public.b:/1 public.c:/1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := plan()
			if got := ResumePlan(p, tc.stored, log); got != tc.resumed {
				t.Errorf("resumed = %v, want %v", got, tc.resumed)
			}
			if got := done(p); got != tc.want {
				t.Errorf("plan %s, want %s", got, tc.want)
			}
		})
	}
}
