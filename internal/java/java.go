// Package java holds the few pieces of Java's semantics that pgmotion must
// reproduce to write what Debezium and Kafka Connect write byte for byte:
// the narrowing casts of a double, Math.round, String.hashCode, the
// iteration order of java.util.HashMap and HashSet, String.split with a
// literal separator and List.toString. Each is written here once; the
// encoder, the transformations and the option checks use them.
//
// Everything here is a pure function, safe for concurrent use.
package java

import (
	"math"
	"strings"
	"unicode/utf8"
)

// DoubleToInt is Java's (int) cast of a double: toward zero, NaN to 0,
// saturating at the ends of int.
func DoubleToInt(f float64) int32 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int32(f)
}

// DoubleToLong is Java's (long) cast of a double: toward zero, NaN to 0,
// saturating at the ends of long.
func DoubleToLong(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// Round is Math.round(double): the closest long, ties toward positive
// infinity, NaN to 0, saturating. It is floor(f + 1/2) computed without
// the rounding of the addition (Math.round(0.49999999999999994) is 0).
func Round(f float64) int64 {
	if math.IsNaN(f) {
		return 0
	}
	r := math.Floor(f)
	if f-r >= 0.5 { // exact: f and its floor are within one unit
		r++
	}
	return DoubleToLong(r)
}

// StringHashCode is String.hashCode of the UTF-16 form of s: invalid
// UTF-8 counts as U+FFFD, as Java's decoder reads it.
func StringHashCode(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// BytesHashCode is StringHashCode of the text in b.
func BytesHashCode(b []byte) int32 {
	var h int32
	for len(b) > 0 {
		c := b[0]
		if c < utf8.RuneSelf {
			h = 31*h + int32(c)
			b = b[1:]
			continue
		}
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// HashMapOrder returns the iteration order of a java.util.HashMap that
// had distinct keys with these hashCode()s put in this order, as indexes
// into hashes. initialCap is the map's initial capacity: 16 for new
// HashMap(), n for new HashMap(n) (rounded up to a power of two, as
// tableSizeFor does). Keys iterate by bucket ((h ^ h>>>16) & (cap-1)) at
// the final capacity, then in insertion order, which resizes keep.
// Treeified buckets (8 or more collisions in one bucket of a table of 64
// or more) are not modelled.
func HashMapOrder(hashes []int32, initialCap int) []int {
	capacity := 1
	for capacity < initialCap {
		capacity <<= 1
	}
	for len(hashes) > capacity*3/4 {
		capacity <<= 1
	}
	buckets := make([][]int, capacity)
	for i, h := range hashes {
		u := uint32(h)
		b := int((u ^ u>>16) & uint32(capacity-1))
		buckets[b] = append(buckets[b], i)
	}
	order := make([]int, 0, len(hashes))
	for _, b := range buckets {
		order = append(order, b...)
	}
	return order
}

// HashSetOrder returns vals in the iteration order of a new
// java.util.HashSet filled in the given order; a repeated value keeps its
// first place and counts once.
func HashSetOrder(vals []string) []string {
	seen := make(map[string]bool, len(vals))
	uniq := make([]string, 0, len(vals))
	for _, v := range vals {
		if !seen[v] {
			seen[v] = true
			uniq = append(uniq, v)
		}
	}
	hashes := make([]int32, len(uniq))
	for i, v := range uniq {
		hashes[i] = StringHashCode(v)
	}
	out := make([]string, 0, len(uniq))
	for _, i := range HashMapOrder(hashes, 16) {
		out = append(out, uniq[i])
	}
	return out
}

// Split is String.split with a regular expression that matches the
// non-empty text sep literally (",", or "\\." for sep "."): without a
// match the whole string (so "" gives [""]), else the parts with the
// trailing empty strings dropped (so "," gives none).
func Split(s, sep string) []string {
	if !strings.Contains(s, sep) {
		return []string{s}
	}
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// ListString is AbstractCollection.toString of strings, as a List or the
// message of a ConfigException prints it: "[a, b]".
func ListString(items []string) string {
	return "[" + strings.Join(items, ", ") + "]"
}
