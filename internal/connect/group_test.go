package connect

import (
	"reflect"
	"testing"
)

func TestAssignConnectors(t *testing.T) {
	type m struct {
		cur []string
		got []string
	}
	tests := []struct {
		name  string
		names []string
		cur   [][]string
		want  [][]string
	}{
		{"spread", []string{"a", "b", "c", "d"}, [][]string{nil, nil}, [][]string{{"a", "c"}, {"b", "d"}}},
		{"sticky", []string{"a", "b"}, [][]string{{"b"}, {"a"}}, [][]string{{"b"}, {"a"}}},
		{"dead owner's connector moves", []string{"a", "b", "c"}, [][]string{{"a"}, {"b"}}, [][]string{{"a", "c"}, {"b"}}},
		{"over share is trimmed", []string{"a", "b", "c", "d"}, [][]string{{"a", "b", "c", "d"}, nil}, [][]string{{"a", "b"}, {"c", "d"}}},
		{"deleted connector dropped", []string{"a"}, [][]string{{"a", "gone"}, nil}, [][]string{{"a"}, nil}},
		{"one member", []string{"x", "y"}, [][]string{nil}, [][]string{{"x", "y"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := make([]*m, len(tt.cur))
			for i, c := range tt.cur {
				ms[i] = &m{cur: c}
			}
			assignConnectors(tt.names, ms, func(x *m) []string { return x.cur },
				func(x *m, n string) { x.got = append(x.got, n) }, func(x *m) int { return len(x.got) })
			for i := range ms {
				if !reflect.DeepEqual(ms[i].got, tt.want[i]) {
					t.Errorf("member %d got %v, want %v", i, ms[i].got, tt.want[i])
				}
			}
		})
	}
	// No members: nothing to do, no panic.
	assignConnectors([]string{"a"}, []*m{}, nil, nil, nil)
}

func TestPredecessors(t *testing.T) {
	tests := []struct {
		name  string
		metas []memberMeta
		want  []bool
	}{
		{"distinct workers", []memberMeta{{WorkerID: "a:1", Incarnation: 5}, {WorkerID: "b:1", Incarnation: 1}}, []bool{false, false}},
		{"restarted on the same address", []memberMeta{{WorkerID: "a:1", Incarnation: 5}, {WorkerID: "a:1", Incarnation: 9}, {WorkerID: "b:1", Incarnation: 1}}, []bool{true, false, false}},
		{"two dead predecessors", []memberMeta{{WorkerID: "a:1", Incarnation: 3}, {WorkerID: "a:1", Incarnation: 2}, {WorkerID: "a:1", Incarnation: 7}}, []bool{true, true, false}},
		{"a worker without an incarnation is older", []memberMeta{{WorkerID: "a:1"}, {WorkerID: "a:1", Incarnation: 7}}, []bool{true, false}},
		{"a tie keeps both", []memberMeta{{WorkerID: "a:1", Incarnation: 7}, {WorkerID: "a:1", Incarnation: 7}}, []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := predecessors(tt.metas); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
