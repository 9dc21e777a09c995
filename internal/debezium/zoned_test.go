package debezium

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestZonedUTCMatchesTheLongWay checks that rearranging PostgreSQL's UTC
// text gives byte for byte what parsing and formatting it gives, for
// random instants and every fraction width, and that other texts are left
// to the long way.
func TestZonedUTCMatchesTheLongWay(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 17))
	lo, hi := time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	texts := []string{"2026-11-13 02:31:52+00", "2026-11-13 02:31:52.1+00", "1999-12-31 23:59:59.999999+00", "1000-01-01 00:00:00.000001+00"}
	for range 20000 {
		ts := time.Unix(lo+r.Int64N(hi-lo), int64(r.IntN(1_000_000))*1000).UTC()
		if r.IntN(4) == 0 {
			ts = ts.Truncate(time.Second)
		}
		// PostgreSQL's timestamptz_out in UTC: the fraction's trailing
		// zeros trimmed, none when it is zero.
		texts = append(texts, ts.Format("2006-01-02 15:04:05.999999")+"+00")
	}
	for _, s := range texts {
		tm, err := parseTimestamp([]byte(s), true)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		for _, frac := range []int{0, 1, 3, 6} {
			want := appendZonedTimestamp(nil, tm.secs, tm.nanos, frac)
			got, ok := appendZonedUTC(nil, []byte(s), frac)
			if !ok {
				if frac >= 1 && len(s) > 22 && len(s)-23 > frac {
					continue // more digits than the width: the long way
				}
				t.Fatalf("%q, frac %d: not taken", s, frac)
			}
			if string(got) != string(want) {
				t.Fatalf("%q, frac %d: %q, the long way %q", s, frac, got, want)
			}
		}
	}
	for _, s := range []string{"2026-11-13 02:31:52+01", "2026-11-13 02:31:52+00 BC", "12026-11-13 02:31:52+00", "infinity",
		"2026-11-13 02:31:52.10+00", "2026-11-13T02:31:52+00", "2026-11-13 02:31:52.1234567+00", "2026-11-13 02:31:5x+00", ""} {
		if _, ok := appendZonedUTC(nil, []byte(s), 6); ok {
			t.Errorf("%q was rearranged; it must take the long way", s)
		}
	}
}
