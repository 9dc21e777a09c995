package java

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestDoubleToInt(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want int32
	}{
		{0, 0}, {2.9, 2}, {-2.9, -2}, {math.NaN(), 0},
		{1e10, math.MaxInt32}, {-1e10, math.MinInt32},
		{math.Inf(1), math.MaxInt32}, {math.Inf(-1), math.MinInt32},
		{2147483647.5, math.MaxInt32}, {-2147483648.9, math.MinInt32},
	} {
		if got := DoubleToInt(tt.in); got != tt.want {
			t.Errorf("(int) %v = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestDoubleToLong(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want int64
	}{
		{0, 0}, {2.9, 2}, {-2.9, -2}, {math.NaN(), 0},
		{1e19, math.MaxInt64}, {-1e19, math.MinInt64},
		{math.Inf(1), math.MaxInt64}, {math.Inf(-1), math.MinInt64},
		{9.2e18, 9200000000000000000}, {1e10, 10000000000},
	} {
		if got := DoubleToLong(tt.in); got != tt.want {
			t.Errorf("(long) %v = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestRound(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want int64
	}{
		{0.5, 1}, {-0.5, 0}, {2.5, 3}, {-2.5, -2}, {-1.5, -1}, {1.4999, 1},
		{0.49999999999999994, 0}, // floor(x+0.5) would give 1
		{math.NaN(), 0}, {1e19, math.MaxInt64}, {-1e19, math.MinInt64},
		{4503599627370497, 4503599627370497}, // 2^52+1: already an integer
	} {
		if got := Round(tt.in); got != tt.want {
			t.Errorf("Math.round(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestStringHashCode(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int32
	}{
		{"", 0},
		{"hello", 99162322},
		{"Aa", 2112}, {"BB", 2112}, // Java's classic collision
		{"é", 233},
		{"😀", 31*0xD83D + 0xDE00}, // a surrogate pair
		{"\xff", 0xFFFD},          // invalid UTF-8 reads as U+FFFD
		{"a somewhat longer string that overflows int", javaLoop("a somewhat longer string that overflows int")},
	} {
		if got := StringHashCode(tt.in); got != tt.want {
			t.Errorf("%q.hashCode() = %d, want %d", tt.in, got, tt.want)
		}
		if got := BytesHashCode([]byte(tt.in)); got != tt.want {
			t.Errorf("BytesHashCode(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// javaLoop is the hash of an ASCII string by the definition
// s[0]*31^(n-1) + ... + s[n-1], in wrapping int arithmetic.
func javaLoop(s string) int32 {
	var h int32
	for i := 0; i < len(s); i++ {
		h = h*31 + int32(s[i])
	}
	return h
}

func TestHashMapOrder(t *testing.T) {
	for _, tt := range []struct {
		name    string
		keys    []string
		initial int
		want    []string
	}{
		// new HashMap<String,String>() with "b","a","bb": hashes 98, 97,
		// 3136; buckets (16) 2, 1, 0.
		{"buckets", []string{"b", "a", "bb"}, 16, []string{"bb", "a", "b"}},
		// "Aa" and "BB" collide: insertion order within the bucket.
		{"collision", []string{"BB", "Aa", "a"}, 16, []string{"BB", "Aa", "a"}},
		{"collision reversed", []string{"Aa", "BB", "a"}, 16, []string{"Aa", "BB", "a"}},
		// new HashMap(3) has 4 buckets: "a" (97) lands in 1, "d" (100) in
		// 0, "f" (102) in 2.
		{"initial capacity", []string{"a", "d", "f"}, 3, []string{"d", "a", "f"}},
		{"empty", nil, 16, []string{}},
	} {
		hashes := make([]int32, len(tt.keys))
		for i, k := range tt.keys {
			hashes[i] = StringHashCode(k)
		}
		got := []string{}
		for _, i := range HashMapOrder(hashes, tt.initial) {
			got = append(got, tt.keys[i])
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: order %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestHashSetOrder(t *testing.T) {
	// A Debezium 2.6-3.2 message seen in the wild, from the enum order
	// always, initial, never, no_data, initial_only, when_needed,
	// configuration_based, custom.
	got := HashSetOrder([]string{"always", "initial", "never", "no_data", "initial_only", "when_needed", "configuration_based", "custom"})
	want := []string{"always", "never", "initial_only", "configuration_based", "when_needed", "initial", "custom", "no_data"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := HashSetOrder([]string{"b", "a", "b", "bb"}); !slices.Equal(got, []string{"bb", "a", "b"}) {
		t.Errorf("duplicates: %v", got)
	}
	// More than 12 values make the table grow; every value stays, once.
	var many []string
	for i := range 40 {
		many = append(many, fmt.Sprintf("v%d", i))
	}
	out := HashSetOrder(many)
	slices.Sort(out)
	sorted := slices.Clone(many)
	slices.Sort(sorted)
	if !slices.Equal(out, sorted) {
		t.Errorf("lost or repeated values: %v", out)
	}
}

func TestSplit(t *testing.T) {
	for _, tt := range []struct {
		s, sep string
		want   []string
	}{
		{"a,b", ",", []string{"a", "b"}},
		{"a,b,,", ",", []string{"a", "b"}},
		{"", ",", []string{""}},
		{",", ",", []string{}},
		{",,", ",", []string{}},
		{",a", ",", []string{"", "a"}},
		{"a", ",", []string{"a"}},
		{"a::b", ":", []string{"a", "", "b"}},
		{"a;b;", ";", []string{"a", "b"}},
	} {
		if got := Split(tt.s, tt.sep); !slices.Equal(got, tt.want) {
			t.Errorf("%q.split(%q) = %q, want %q", tt.s, tt.sep, got, tt.want)
		}
	}
}

func TestListString(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{nil, "[]"}, {[]string{"a"}, "[a]"}, {[]string{"a", "b:c", ""}, "[a, b:c, ]"},
	} {
		if got := ListString(tt.in); got != tt.want {
			t.Errorf("ListString(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
