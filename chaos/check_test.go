package main

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// ev builds the event of change seq of key id: op c, u or r carries val
// v<seq>; d carries none.
func ev(id int64, op byte, seq int64) event {
	e := event{id: id, op: op, seq: seq, transactional: true}
	if op != 'd' {
		e.val = fmt.Sprintf("v%d", seq)
	}
	return e
}

func present(last int64) row {
	return row{last: last, present: true, seq: last, val: fmt.Sprintf("v%d", last)}
}
func deleted(last int64) row { return row{last: last} }

func TestAnalyze(t *testing.T) {
	tombstone := event{id: 1}
	tests := []struct {
		name   string
		events []event
		table  map[int64]row
		want   verdict // examples are not compared
		fails  []string
	}{
		{
			name:   "every change once, in order",
			events: []event{ev(1, 'c', 1), ev(2, 'c', 1), ev(1, 'u', 2), ev(1, 'd', 3), tombstone, ev(1, 'c', 4)},
			table:  map[int64]row{1: present(4), 2: present(1), 3: {}},
			want:   verdict{keys: 2, changes: 5, events: 5},
		},
		{
			name:   "a lost change in the middle",
			events: []event{ev(1, 'c', 1), ev(1, 'u', 3)},
			table:  map[int64]row{1: present(3)},
			want:   verdict{keys: 1, changes: 3, events: 2, lost: 1},
			fails:  []string{"1 lost"},
		},
		{
			name:   "lost at the end: the last event is not the row",
			events: []event{ev(1, 'c', 1), ev(1, 'u', 2)},
			table:  map[int64]row{1: present(4)},
			want:   verdict{keys: 1, changes: 4, events: 2, lost: 2, mismatched: 1},
			fails:  []string{"2 lost", "1 keys whose last event"},
		},
		{
			name:   "a key with no event at all",
			events: nil,
			table:  map[int64]row{7: deleted(2)},
			want:   verdict{keys: 1, changes: 2, lost: 2, mismatched: 1},
			fails:  []string{"2 lost", "1 keys whose last event"},
		},
		{
			name:   "an at-least-once replay after a crash duplicates, in order",
			events: []event{ev(1, 'c', 1), ev(1, 'u', 2), ev(1, 'u', 3), ev(1, 'u', 2), ev(1, 'u', 3), ev(1, 'u', 4)},
			table:  map[int64]row{1: present(4)},
			want:   verdict{keys: 1, changes: 4, events: 6, duplicated: 2},
			fails:  nil, // allowed under at-least-once; failed under exactly-once below
		},
		{
			name:   "a change first seen after a later one is out of order",
			events: []event{ev(1, 'c', 1), ev(1, 'u', 3), ev(1, 'u', 2), ev(1, 'u', 4)},
			table:  map[int64]row{1: present(4)},
			want:   verdict{keys: 1, changes: 4, events: 4, outOfOrder: 1},
			fails:  []string{"1 out of order"},
		},
		{
			name:   "a retried batch landing after later ones: duplicated and the last event stale",
			events: []event{ev(1, 'c', 1), ev(1, 'u', 2), ev(1, 'u', 3), ev(1, 'u', 2)},
			table:  map[int64]row{1: present(3)},
			want:   verdict{keys: 1, changes: 3, events: 4, duplicated: 1, mismatched: 1},
			fails:  []string{"1 keys whose last event"},
		},
		{
			name:   "the last event is an update but the row was deleted",
			events: []event{ev(1, 'c', 1), ev(1, 'u', 2)},
			table:  map[int64]row{1: {last: 2, present: false}},
			want:   verdict{keys: 1, changes: 2, events: 2, mismatched: 1},
			fails:  []string{"1 keys whose last event"},
		},
		{
			name:   "the right number but another value",
			events: []event{{id: 1, op: 'c', seq: 1, val: "other", transactional: true}},
			table:  map[int64]row{1: present(1)},
			want:   verdict{keys: 1, changes: 1, events: 1, mismatched: 1},
			fails:  []string{"1 keys whose last event"},
		},
		{
			name:   "an event beyond the counter, and one of an unknown key",
			events: []event{ev(1, 'c', 1), ev(1, 'u', 2), ev(9, 'c', 1)},
			table:  map[int64]row{1: present(1)},
			want:   verdict{keys: 1, changes: 1, events: 3, unexpected: 3, mismatched: 1},
			fails:  []string{"1 keys whose last event", "3 events of changes the table does not hold"},
		},
		{
			name: "a repeated snapshot read ahead of the replayed changes is outside the sequence",
			// The task died before it stored an offset; the new one
			// snapshotted the table (row at change 2) and streamed the
			// slot from its start.
			events: []event{ev(1, 'r', 2), ev(1, 'c', 1), ev(1, 'u', 2), ev(1, 'u', 3)},
			table:  map[int64]row{1: present(3)},
			want:   verdict{keys: 1, changes: 3, events: 4, snapshotReads: 1},
		},
		{
			name:   "a change only a snapshot read shows is lost",
			events: []event{ev(1, 'r', 2), ev(1, 'u', 3)},
			table:  map[int64]row{1: present(3)},
			want:   verdict{keys: 1, changes: 3, events: 2, snapshotReads: 1, lost: 2},
			fails:  []string{"2 lost"},
		},
		{
			name:   "events outside a transaction",
			events: []event{{id: 1, op: 'c', seq: 1, val: "v1"}},
			table:  map[int64]row{1: present(1)},
			want:   verdict{keys: 1, changes: 1, events: 1, nonTransactional: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := analyze(tt.events, tt.table, nil)
			got.examples = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("analyze =\n%+v\nwant\n%+v", got, tt.want)
			}
			checkFails(t, "at-least-once", got.failures(false), tt.fails)
		})
	}
}

// checkFails checks that each failure contains the matching substring of
// want, in order.
func checkFails(t *testing.T, mode string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s failures = %q, want %d matching %q", mode, got, len(want), want)
		return
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("%s failure %d = %q, want it to contain %q", mode, i, got[i], want[i])
		}
	}
}

func TestFailuresExactlyOnce(t *testing.T) {
	v := verdict{duplicated: 2, nonTransactional: 3}
	if fs := v.failures(false); len(fs) != 0 {
		t.Errorf("at-least-once allows duplicates and plain producers, got failures %q", fs)
	}
	checkFails(t, "exactly-once", v.failures(true), []string{"2 duplicated", "3 events written outside a transaction"})
}

func TestParseEvent(t *testing.T) {
	key := `{"schema":{"type":"struct"},"payload":{"id":5}}`
	tests := []struct {
		name       string
		key, value string
		want       event
		err        string
	}{
		{"create with schemas", key, `{"schema":{"type":"struct"},"payload":{"before":null,"after":{"id":5,"seq":1,"val":"a"},"source":{"ts_ms":1700000000123},"op":"c"}}`,
			event{id: 5, op: 'c', seq: 1, val: "a", tsMs: 1700000000123}, ""},
		{"update without schemas", `{"id":5}`, `{"before":{"id":5,"seq":1,"val":"a"},"after":{"id":5,"seq":2,"val":"b"},"source":{"ts_ms":2},"op":"u"}`,
			event{id: 5, op: 'u', seq: 2, val: "b", tsMs: 2}, ""},
		{"delete takes the next number", key, `{"payload":{"before":{"id":5,"seq":6,"val":"x"},"after":null,"source":{"ts_ms":3},"op":"d"},"schema":{}}`,
			event{id: 5, op: 'd', seq: 7, tsMs: 3}, ""},
		{"snapshot read", `{"id":5}`, `{"after":{"id":5,"seq":3,"val":"c"},"source":{"ts_ms":4},"op":"r"}`,
			event{id: 5, op: 'r', seq: 3, val: "c", tsMs: 4}, ""},
		{"tombstone", key, "", event{id: 5}, ""},
		{"delete without the full before image", key, `{"before":{"id":5},"op":"d","source":{}}`, event{}, "REPLICA IDENTITY FULL"},
		{"key without id", `{"x":1}`, `{}`, event{}, "holds no id"},
		{"unknown op", `{"id":5}`, `{"op":"t","source":{}}`, event{}, "unknown op"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var value []byte
			if tt.value != "" {
				value = []byte(tt.value)
			}
			got, err := parseEvent([]byte(tt.key), value)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseEvent = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestPlanIsDeterministic(t *testing.T) {
	kinds := allKinds()
	a, b := plan(42, 100, kinds), plan(42, 100, kinds)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave two different plans")
	}
	if reflect.DeepEqual(a, plan(43, 100, kinds)) {
		t.Error("seeds 42 and 43 gave the same plan")
	}
	// A longer plan starts with the shorter one: -faults does not change
	// the faults already drawn.
	if !reflect.DeepEqual(plan(42, 10, kinds), a[:10]) {
		t.Error("the first 10 faults of a 100-fault plan differ from a 10-fault plan's")
	}
	counts := map[kind]int{}
	owners, same := 0, 0
	for _, f := range a {
		counts[f.kind]++
		if f.owner {
			owners++
		}
		if f.sameAddress {
			same++
		}
		if f.down <= 0 || f.settle <= 0 {
			t.Errorf("fault %s: down %s, settle %s", f, f.down, f.settle)
		}
	}
	for _, k := range kinds {
		if counts[k] == 0 {
			t.Errorf("100 faults drew no %s: %v", k, counts)
		}
	}
	if owners < 50 || owners == 100 || same == 0 || same == 100 {
		t.Errorf("of 100 faults, %d target the task's worker and %d restart on the same address", owners, same)
	}
}

func TestPlanKinds(t *testing.T) {
	ks, err := parseKinds("worker-kill, broker-pause,worker-kill")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ks, []kind{workerKill, brokerPause}) {
		t.Fatalf("parseKinds = %v", ks)
	}
	for _, f := range plan(1, 50, ks) {
		if f.kind != workerKill && f.kind != brokerPause {
			t.Fatalf("plan drew %s, not among %v", f.kind, ks)
		}
	}
	if _, err := parseKinds("worker-kil"); err == nil || !strings.Contains(err.Error(), "worker-kill") {
		t.Errorf("a misspelt kind: err = %v, want the list of kinds", err)
	}
	if ks, _ := parseKinds("all"); len(ks) != int(numKinds) {
		t.Errorf("all = %v", ks)
	}
}
