package debezium

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
)

// Every converter is fuzzed through decodeValue: it must not panic, and a
// value it accepts must serialize to valid JSON in every mode.

func fuzzColumn(t *testing.T, oid uint32, typmods []int32, in []byte) {
	for _, mode := range []string{DecimalPrecise, DecimalDouble, DecimalString} {
		for _, bin := range []string{BinaryBytes, BinaryBase64, BinaryBase64URLSafe, BinaryHex} {
			e := newTestEncoder(t, func(o *Options) { o.DecimalHandling, o.BinaryHandling = mode, bin })
			for _, tm := range typmods {
				cp := column(t, e, oid, tm)
				v, err := cp.decode(e, cp, in)
				if err != nil {
					continue
				}
				js := v.appendJSON(nil)
				if !json.Valid(js) {
					t.Fatalf("oid %d(%d) %s/%s %q: invalid JSON %s", oid, tm, mode, bin, in, js)
				}
				_ = v.appendHeader(nil)
			}
			if oid != oidNumeric && oid != oidBytea {
				return // the modes only matter for these
			}
		}
	}
}

func FuzzNumeric(f *testing.F) {
	for _, s := range []string{"123.45", "-0.01", "0.00", "1.5", "99999999.99", "NaN", "Infinity", "-Infinity",
		"12345678901234567890.123456789", "-12345678901234567890123", "0.000", "12000", "1.234", "", "-", "1e5"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseNumeric(b)
		if err == nil && n.special == numFinite {
			// An accepted finite numeric must parse as a float too.
			if _, ferr := strconv.ParseFloat(string(b), 64); ferr != nil {
				if ne, ok := ferr.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
					t.Fatalf("parseNumeric accepted %q, strconv did not: %v", b, ferr)
				}
			}
		}
		fuzzColumn(t, oidNumeric, []int32{-1, numericMod(10, 2), numericMod(5, 0), numericMod(2, -3), numericMod(12, 10)}, b)
	})
}

func FuzzDate(f *testing.F) {
	for _, s := range []string{"2020-01-02", "1970-01-01", "0044-03-15 BC", "10000-01-01", "infinity", "-infinity", "2021-02-29", "20-01-01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		days, inf, err := parseDate(b)
		if err == nil && inf == finite {
			y, m, d := civilFromDays(days)
			if daysFromCivil(y, m, d) != days || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
				t.Fatalf("%q: days %d -> %d-%d-%d", b, days, y, m, d)
			}
		}
		fuzzColumn(t, oidDate, []int32{-1}, b)
	})
}

func FuzzTime(f *testing.F) {
	for _, s := range []string{"13:45:30.5", "24:00:00", "00:00:00.000001", "13:45:30.123", "13:45", "13:45:30.1234567890"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if ns, err := parseTime(b); err == nil && ns < 0 {
			t.Fatalf("%q: negative time %d", b, ns)
		}
		fuzzColumn(t, oidTime, []int32{-1, 0, 3, 6}, b)
	})
}

func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{"2018-06-20 15:13:16.945104", "1969-12-31 23:59:59.999", "0044-03-15 12:00:00 BC",
		"infinity", "-infinity", "294276-12-31 23:59:59", "2018-06-20"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzColumn(t, oidTimestamp, []int32{-1, 0, 3, 6}, b)
	})
}

func FuzzTimestamptz(f *testing.F) {
	for _, s := range []string{"2025-02-22 09:57:48.51736+00", "2025-02-22 09:57:48+05:30", "1883-11-18 11:59:59-04:56:02",
		"0044-03-15 10:00:00.5+00 BC", "10000-01-01 00:00:00+00", "infinity", "2025-02-22 09:57:48"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzColumn(t, oidTimestamptz, []int32{-1, 0, 3, 6}, b)
	})
}

func FuzzByteaHex(f *testing.F) {
	for _, s := range []string{`\x0102ff`, `\xFBFF01`, `\x`, `\x0`, `\xzz`, `abc`, `\001`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if raw, err := parseByteaHex(nil, b); err == nil && len(raw)*2+2 != len(b) {
			t.Fatalf("%q decoded to %d bytes", b, len(raw))
		}
		fuzzColumn(t, oidBytea, []int32{-1}, b)
	})
}

func FuzzBool(f *testing.F) {
	for _, s := range []string{"t", "f", "T", "true", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzColumn(t, oidBool, []int32{-1}, b)
	})
}

func FuzzInt(f *testing.F) {
	for _, s := range []string{"0", "-32768", "2147483648", "-9223372036854775808", "+5", "1.0", "4294967295"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, err := parseInt(b, 64); err == nil {
			if want, err2 := strconv.ParseInt(string(b), 10, 64); err2 != nil || want != v {
				t.Fatalf("parseInt(%q) = %d, strconv %d %v", b, v, want, err2)
			}
		}
		for _, oid := range []uint32{oidInt2, oidInt4, oidInt8, oidOID} {
			fuzzColumn(t, oid, []int32{-1}, b)
		}
	})
}

func FuzzFloat(f *testing.F) {
	for _, tt := range javaDoubleTests {
		f.Add([]byte(strconv.FormatFloat(tt.in, 'g', -1, 64)))
	}
	for _, s := range []string{"NaN", "Infinity", "-Infinity", "1e400", "-0", "inf", "0x10"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, bits := range []int{32, 64} {
			x, err := parseFloat(b, bits)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			// Java's text reads back to the same value.
			s := appendJavaFloating(nil, x, bits)
			back, err := strconv.ParseFloat(string(s), bits)
			if err != nil || back != x {
				t.Fatalf("%q (bits %d): Java form %s reads back as %v, %v", b, bits, s, back, err)
			}
		}
		fuzzColumn(t, oidFloat4, []int32{-1}, b)
		fuzzColumn(t, oidFloat8, []int32{-1}, b)
	})
}

func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"plain", "a\"b\\c/d", "\x00\x1f\x7f", "é日本😀", "bad\xffx\xc3"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		js := appendJSONString(nil, b)
		var back string
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatalf("%q -> %s: %v", b, js, err)
		}
		if string(appendJSONStr(nil, string(b))) != string(js) {
			t.Fatalf("appendJSONStr and appendJSONString differ for %q", b)
		}
	})
}

func FuzzDefault(f *testing.F) {
	for _, s := range []string{"0", "nextval('t_id_seq'::regclass)", "'abc'::text", "'it''s'::text", "now()", "9.125",
		"'2020-01-02 03:04:05.6+02'::timestamp with time zone", "'24:00:00'::time without time zone", "NULL::text", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		e := newTestEncoder(t, nil)
		for oid, tm := range typeMappings {
			for _, typmod := range []int32{-1, 3, numericMod(8, 2)} {
				cp := &colPlan{typmod: typmod}
				if tm.setup(cp, &e.s) != nil {
					continue
				}
				if v, ok := e.parseDefault(cp, tm.dflt, expr); ok {
					if js := v.appendJSON(nil); !json.Valid(js) {
						t.Fatalf("oid %d default %q: invalid JSON %s", oid, expr, js)
					}
				}
			}
		}
	})
}

// fuzzRelation has one column of each supported type and an unsupported
// one; the key is the first two columns.
func fuzzRelation() *change.Relation {
	rel := allTypes()
	rel.Key = []int{0, 8}
	rel.Columns[8].NotNull = true
	return rel
}

// FuzzEncode feeds arbitrary tuples (values split at 0x00, kind from the
// first byte of each) through every operation: no panics, and every record
// is valid JSON.
func FuzzEncode(f *testing.F) {
	join := func(vals ...string) []byte {
		var b []byte
		for i, v := range vals {
			if i > 0 {
				b = append(b, 0)
			}
			b = append(b, v...)
		}
		return b
	}
	seed := func(t change.Tuple) []byte {
		var parts []string
		for _, v := range t {
			parts = append(parts, string(rune(v.Kind))+string(v.Data))
		}
		return join(parts...)
	}
	for _, row := range []change.Tuple{allTypesTypical(), allTypesNulls(), allTypesEdge(), allTypesMore()} {
		f.Add(byte('c'), seed(row), []byte(nil), uint8(0))
		f.Add(byte('u'), seed(row), seed(allTypesTypical()), uint8(1))
		f.Add(byte('d'), []byte(nil), seed(row), uint8(2))
	}
	f.Add(byte('t'), []byte(nil), []byte(nil), uint8(3))
	rel := fuzzRelation()
	split := func(b []byte) change.Tuple {
		if b == nil {
			return nil
		}
		t := make(change.Tuple, len(rel.Columns))
		for i := range t {
			t[i] = null
		}
		i := 0
		for len(b) > 0 && i < len(t) {
			end := len(b)
			for j, c := range b {
				if c == 0 {
					end = j
					break
				}
			}
			part := b[:end]
			if len(part) > 0 {
				t[i] = change.Value{Kind: change.ValueKind(part[0]), Data: part[1:]}
			}
			i++
			if end == len(b) {
				break
			}
			b = b[end+1:]
		}
		return t
	}
	f.Fuzz(func(t *testing.T, op byte, after, before []byte, flags uint8) {
		e := newTestEncoder(t, func(o *Options) {
			o.KeySchemas = flags&1 == 0
			o.ValueSchemas = flags&2 == 0
			o.DecimalHandling = []string{DecimalPrecise, DecimalDouble, DecimalString}[int(flags>>2)%3]
			o.Skipped = nil
		})
		c := streamed(change.Op(op), rel, split(before), split(after))
		c.Snapshot = change.SnapshotMarker(flags >> 5)
		recs, err := e.Encode(nil, c)
		if err != nil {
			return
		}
		for _, r := range recs {
			for _, b := range [][]byte{r.Key, r.Value} {
				if b != nil && !json.Valid(b) {
					t.Fatalf("invalid JSON: %s", b)
				}
			}
		}
	})
}
