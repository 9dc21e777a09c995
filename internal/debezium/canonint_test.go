package debezium

import (
	"strconv"
	"testing"
)

// TestCanonicalInt checks the integers whose text appendStruct copies as
// it is: exactly those that decInt and appendJSON would write unchanged.
func TestCanonicalInt(t *testing.T) {
	for _, tc := range []struct {
		s    string
		bits uint
		want bool
	}{
		{"0", 64, true}, {"7", 16, true}, {"-7", 16, true}, {"1234", 16, true}, {"12345", 16, false},
		{"-32768", 16, false}, {"123456789", 32, true}, {"-2147483648", 32, false},
		{"123456789012345678", 64, true}, {"9223372036854775807", 64, false},
		{"", 64, false}, {"-", 64, false}, {"-0", 64, false}, {"00", 64, false}, {"01", 64, false},
		{"+1", 64, false}, {"1a", 64, false}, {" 1", 64, false},
	} {
		got := canonicalInt([]byte(tc.s), tc.bits)
		if got != tc.want {
			t.Errorf("canonicalInt(%q, %d) = %v, want %v", tc.s, tc.bits, got, tc.want)
		}
		if got {
			n, err := parseInt([]byte(tc.s), tc.bits)
			v := val{k: kInt, i: n}
			if err != nil || string(v.appendJSON(nil)) != tc.s {
				t.Errorf("%q is copied as it is, but decInt and appendJSON write %q (%v)", tc.s, v.appendJSON(nil), err)
			}
		}
	}
	// Every canonical text is its own JSON.
	for _, n := range []int64{-999999999999999999, -1, 0, 1, 42, 999999999999999999} {
		s := strconv.FormatInt(n, 10)
		if !canonicalInt([]byte(s), 64) {
			t.Errorf("%s: not copied", s)
		}
	}
}
