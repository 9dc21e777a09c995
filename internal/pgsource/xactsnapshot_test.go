package pgsource

import (
	"slices"
	"testing"
)

func TestParseXactSnapshot(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want XactSnapshot
		err  bool
	}{
		{in: "10:10:", want: XactSnapshot{Xmin: 10, Xmax: 10}},
		{in: "10:20:12,15", want: XactSnapshot{Xmin: 10, Xmax: 20, Xip: []uint64{12, 15}}},
		{in: "4294967296:4294967300:4294967297", want: XactSnapshot{Xmin: 1 << 32, Xmax: 1<<32 + 4, Xip: []uint64{1<<32 + 1}}},
		{in: "", err: true},
		{in: "10:20", err: true},
		{in: "10:20:12:13", err: true},
		{in: "x:20:", err: true},
		{in: "10:y:", err: true},
		{in: "10:20:12,", err: true},
		{in: "20:10:", err: true},
		{in: "-1:10:", err: true},
	} {
		got, err := ParseXactSnapshot(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("ParseXactSnapshot(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got.Xmin != tc.want.Xmin || got.Xmax != tc.want.Xmax || !slices.Equal(got.Xip, tc.want.Xip) {
			t.Errorf("ParseXactSnapshot(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if s := got.String(); s != tc.in {
			t.Errorf("%+v.String() = %q, want %q", got, s, tc.in)
		}
	}
}
