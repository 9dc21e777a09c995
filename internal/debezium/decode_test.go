package debezium

import (
	"encoding/json"
	"math"
	"testing"
)

// The expected strings in this file were checked against Java 25
// (Double.toString, Float.toString, BigDecimal, java.time) and Debezium
// 3.4's converters.

func testEncoder(t testing.TB) *Encoder { return newTestEncoder(t, nil) }

var javaDoubleTests = []struct {
	in   float64
	want string
}{
	{1.0, "1.0"},
	{100.0, "100.0"},
	{1e7, "1.0E7"},
	{1e-3, "0.001"},
	{1e-4, "1.0E-4"},
	{2e23, "2.0E23"},
	{1e23, "1.0E23"},
	{5e-324, "4.9E-324"},
	{math.MaxFloat64, "1.7976931348623157E308"},
	{0.30000000000000004, "0.30000000000000004"},
	{1234567.0, "1234567.0"},
	{12345678.0, "1.2345678E7"},
	{math.Copysign(0, -1), "-0.0"},
	{0, "0.0"},
	{3.3, "3.3"},
	{4.44, "4.44"},
	{1.0e-5, "1.0E-5"},
	{123.456, "123.456"},
	{0.0009999, "9.999E-4"},
	{2.2250738585072014e-308, "2.2250738585072014E-308"},
	{9999999.999, "9999999.999"},
	{-1.5, "-1.5"},
	{math.NaN(), "NaN"},
	{math.Inf(1), "Infinity"},
	{math.Inf(-1), "-Infinity"},
}

func TestJavaDouble(t *testing.T) {
	for _, tt := range javaDoubleTests {
		if got := string(appendJavaDouble(nil, tt.in)); got != tt.want {
			t.Errorf("appendJavaDouble(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestJavaFloat(t *testing.T) {
	for _, tt := range []struct {
		in   float32
		want string
	}{
		{1, "1.0"}, {3.3, "3.3"}, {0.1, "0.1"}, {1e10, "1.0E10"}, {1e-10, "1.0E-10"}, {16777216, "1.6777216E7"},
		{1.4e-45, "1.4E-45"}, {math.MaxFloat32, "3.4028235E38"}, {0.3, "0.3"}, {1234567.9, "1234567.9"},
		{1e7, "1.0E7"}, {100, "100.0"}, {2.5e-3, "0.0025"},
	} {
		if got := string(appendJavaFloat(nil, tt.in)); got != tt.want {
			t.Errorf("appendJavaFloat(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestJSONDoubleQuotesNonFinite(t *testing.T) {
	for in, want := range map[float64]string{math.Inf(1): `"Infinity"`, math.Inf(-1): `"-Infinity"`, 2.5: `2.5`} {
		if got := string(appendJSONDouble(nil, in, 64)); got != want {
			t.Errorf("appendJSONDouble(%v) = %s, want %s", in, got, want)
		}
	}
	if got := string(appendJSONDouble(nil, math.NaN(), 64)); got != `"NaN"` {
		t.Errorf("NaN = %s", got)
	}
}

func TestBigDecimalString(t *testing.T) {
	for _, tt := range []struct {
		neg    bool
		digits string
		scale  int
		want   string
	}{
		{false, "0", 0, "0"},
		{false, "0", 2, "0.00"},
		{false, "150", 2, "1.50"},
		{true, "150", 2, "-1.50"},
		{false, "1234500", 4, "123.4500"},
		{false, "1", 7, "1E-7"},
		{false, "1", 6, "0.000001"},
		{false, "1", -3, "1E+3"},
		{false, "12", -3, "1.2E+4"},
		{true, "12", 8, "-1.2E-7"},
		{false, "100", 0, "100"},
		{false, "0", 10, "0E-10"},
		{false, "00100", 10, "1.00E-8"},
	} {
		if got := string(appendBigDecimalString(nil, tt.neg, []byte(tt.digits), tt.scale)); got != tt.want {
			t.Errorf("BigDecimal(%v %s scale %d) = %s, want %s", tt.neg, tt.digits, tt.scale, got, tt.want)
		}
	}
}

func TestJSONString(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{`a"b\c/d`, `"a\"b\\c/d"`},
		{"\b\t\n\f\r", `"\b\t\n\f\r"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001F` + "\x7f" + `"`},
		{"é日本😀", `"é日本😀"`},
		{"\u2028", "\"\u2028\""},
		{"bad\xffx\xc3", "\"bad\uFFFDx\uFFFD\""},
	} {
		got := appendJSONString(nil, []byte(tt.in))
		if string(got) != tt.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if got2 := appendJSONStr(nil, tt.in); string(got2) != tt.want {
			t.Errorf("appendJSONStr(%q) = %s, want %s", tt.in, got2, tt.want)
		}
		if !json.Valid(got) {
			t.Errorf("appendJSONString(%q) is not valid JSON", tt.in)
		}
	}
	if got := string(appendValuesString(nil, []byte("a\"b\\c\n"))); got != "\"a\\\"b\\\\c\n\"" {
		t.Errorf("appendValuesString = %q", got)
	}
}

func TestUnscaledBytes(t *testing.T) {
	e := testEncoder(t)
	for _, tt := range []struct {
		neg    bool
		digits string
		want   []byte
	}{
		{false, "0", []byte{0}},
		{false, "150", []byte{0, 0x96}},
		{true, "150", []byte{0xff, 0x6a}},
		{false, "127", []byte{0x7f}},
		{false, "128", []byte{0, 0x80}},
		{true, "128", []byte{0x80}},
		{true, "129", []byte{0xff, 0x7f}},
		{false, "1234500", []byte{18, 0xd6, 68}},
		{false, "9223372036854775807", []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{true, "9223372036854775808", []byte{0x80, 0, 0, 0, 0, 0, 0, 0}},
		{false, "9223372036854775808", []byte{0, 0x80, 0, 0, 0, 0, 0, 0, 0}},
		{true, "32768", []byte{0x80, 0}},
		{true, "8388608", []byte{0x80, 0, 0}},
		{true, "340282366920938463463374607431768211456", append([]byte{0xff}, make([]byte, 16)...)},
	} {
		got := appendUnscaled(nil, tt.neg, []byte(tt.digits), &e.big)
		if string(got) != string(tt.want) {
			t.Errorf("appendUnscaled(%v, %s) = %x, want %x", tt.neg, tt.digits, got, tt.want)
		}
	}
}

func TestParseInt(t *testing.T) {
	for _, tt := range []struct {
		in   string
		bits uint
		want int64
		ok   bool
	}{
		{"0", 16, 0, true}, {"-32768", 16, -32768, true}, {"32767", 16, 32767, true}, {"32768", 16, 0, false},
		{"-2147483648", 32, math.MinInt32, true}, {"2147483648", 32, 0, false},
		{"-9223372036854775808", 64, math.MinInt64, true}, {"9223372036854775807", 64, math.MaxInt64, true},
		{"9223372036854775808", 64, 0, false}, {"99999999999999999999999", 64, 0, false},
		{"+5", 32, 5, true}, {"", 32, 0, false}, {"-", 32, 0, false}, {"1.0", 32, 0, false}, {" 1", 32, 0, false},
	} {
		got, err := parseInt([]byte(tt.in), tt.bits)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("parseInt(%q, %d) = %d, %v", tt.in, tt.bits, got, err)
		}
	}
	if v, err := parseUint32([]byte("4294967295")); err != nil || v != 4294967295 {
		t.Errorf("parseUint32 max = %d, %v", v, err)
	}
	for _, in := range []string{"4294967296", "-1", "", "x"} {
		if _, err := parseUint32([]byte(in)); err == nil {
			t.Errorf("parseUint32(%q): want error", in)
		}
	}
}

func TestParseFloatText(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1.5", 1.5, true}, {"-0", math.Copysign(0, -1), true}, {"1e+30", 1e30, true}, {"Infinity", math.Inf(1), true},
		{"-Infinity", math.Inf(-1), true}, {"1e400", math.Inf(1), true}, {"inf", 0, false}, {"0x10", 0, false},
		{"1_0", 0, false}, {"", 0, false},
	} {
		got, err := parseFloat([]byte(tt.in), 64)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("parseFloat(%q) = %v, %v", tt.in, got, err)
		}
	}
	if f, err := parseFloat([]byte("NaN"), 64); err != nil || !math.IsNaN(f) {
		t.Errorf("parseFloat(NaN) = %v, %v", f, err)
	}
}

// convertText runs a column's converter and returns its JSON and header
// forms.
func convertText(t *testing.T, e *Encoder, cp *colPlan, in string) (string, string, error) {
	t.Helper()
	v, err := cp.decode(e, cp, []byte(in))
	if err != nil {
		return "", "", err
	}
	return string(v.appendJSON(nil)), string(v.appendHeader(nil)), nil
}

func column(t testing.TB, e *Encoder, oid uint32, typmod int32) *colPlan {
	t.Helper()
	cp := &colPlan{typmod: typmod}
	if err := typeMappings[oid].setup(cp, &e.s); err != nil {
		t.Fatal(err)
	}
	return cp
}

func TestNumericConverters(t *testing.T) {
	type row struct{ in, precise, double, str string }
	fixed := []row{ // numeric(10,2)
		{"123.45", `"MDk="`, `123.45`, `"123.45"`},
		{"-0.01", `"/w=="`, `-0.01`, `"-0.01"`},
		{"0.00", `"AA=="`, `0.0`, `"0.00"`},
		{"1.5", `"AJY="`, `1.5`, `"1.50"`}, // fewer digits than the scale: padded
		{"99999999.99", `"AlQL4/8="`, `9.999999999E7`, `"99999999.99"`},
		{"NaN", "", `"NaN"`, `"NAN"`},
		{"Infinity", "", `"Infinity"`, `"POSITIVE_INFINITY"`},
		{"-Infinity", "", `"-Infinity"`, `"NEGATIVE_INFINITY"`},
	}
	variable := []row{ // numeric
		{"1.50", `{"scale":1,"value":"Dw=="}`, `1.5`, `"1.50"`},
		{"-100", `{"scale":0,"value":"nA=="}`, `-100.0`, `"-100"`},
		{"0.000", `{"scale":0,"value":"AA=="}`, `0.0`, `"0.000"`},
		{"12345678901234567890.123456789", `{"scale":9,"value":"J+QbMka+ybFuOYEV"}`, `1.2345678901234567E19`, `"12345678901234567890.123456789"`},
		{"NaN", "", `"NaN"`, `"NAN"`},
	}
	for _, mode := range []string{DecimalPrecise, DecimalDouble, DecimalString} {
		e := newTestEncoder(t, func(o *Options) { o.DecimalHandling = mode })
		for _, set := range []struct {
			typmod int32
			rows   []row
		}{{numericMod(10, 2), fixed}, {-1, variable}} {
			cp := column(t, e, oidNumeric, set.typmod)
			for _, r := range set.rows {
				want := map[string]string{DecimalPrecise: r.precise, DecimalDouble: r.double, DecimalString: r.str}[mode]
				got, _, err := convertText(t, e, cp, r.in)
				if want == "" {
					if err == nil {
						t.Errorf("%s numeric(%d) %q: got %s, want an error", mode, set.typmod, r.in, got)
					}
					continue
				}
				if err != nil || got != want {
					t.Errorf("%s numeric(%d) %q = %s, %v; want %s", mode, set.typmod, r.in, got, err, want)
				}
			}
		}
		// More fraction digits than the scale cannot be represented.
		cp := column(t, e, oidNumeric, numericMod(10, 2))
		if _, _, err := convertText(t, e, cp, "1.234"); err == nil {
			t.Errorf("%s: 1.234 in numeric(10,2): want an error", mode)
		}
		for _, bad := range []string{"", "-", ".", "1.2.3", "1e5", "abc", " 1"} {
			if _, _, err := convertText(t, e, cp, bad); err == nil {
				t.Errorf("%s: %q: want an error", mode, bad)
			}
		}
	}
	// Negative scales (PostgreSQL 15+): numeric(2,-3).
	e := testEncoder(t)
	cp := column(t, e, oidNumeric, numericMod(2, -3))
	if got, hdr, err := convertText(t, e, cp, "12000"); err != nil || got != `"DA=="` || hdr != "1.2E+4" {
		t.Errorf("numeric(2,-3) 12000 = %s %s %v", got, hdr, err)
	}
}

func TestTemporalConverters(t *testing.T) {
	e := testEncoder(t)
	for _, tt := range []struct {
		oid    uint32
		typmod int32
		in     string
		want   string // "" = error
	}{
		{oidDate, -1, "2020-01-02", "18263"},
		{oidDate, -1, "1970-01-01", "0"},
		{oidDate, -1, "1969-12-31", "-1"},
		{oidDate, -1, "0044-03-15 BC", "-735160"},
		{oidDate, -1, "0001-01-01 BC", "-719528"},
		{oidDate, -1, "10000-01-01", "2932897"},
		{oidDate, -1, "infinity", "-2147472692"},
		{oidDate, -1, "-infinity", "-2147472691"},
		{oidDate, -1, "2021-02-29", ""},
		{oidDate, -1, "2020-13-01", ""},
		{oidDate, -1, "20-01-01", ""},
		{oidDate, -1, "2020-01-01 XX", ""},
		{oidTime, -1, "13:45:30.5", "49530500000"},
		{oidTime, -1, "24:00:00", "86400000000"},
		{oidTime, -1, "00:00:00.000001", "1"},
		{oidTime, 3, "13:45:30.123", "49530123"},
		{oidTime, 3, "24:00:00", "86400000"},
		{oidTime, 0, "13:45:30", "49530000"},
		{oidTime, 6, "13:45", ""},
		{oidTime, 6, "13:45:30.", ""},
		{oidTime, 6, "13:45:30.1234567890", ""},
		{oidTimestamp, -1, "2018-06-20 15:13:16.945104", "1529507596945104"},
		{oidTimestamp, 6, "1969-12-31 23:59:59.999999", "-1"},
		{oidTimestamp, 3, "2018-06-20 15:13:16.945", "1529507596945"},
		{oidTimestamp, 3, "1969-12-31 23:59:59.999", "-1"},
		{oidTimestamp, 0, "0044-03-15 12:00:00 BC", "-63517780800000"},
		{oidTimestamp, -1, "infinity", "9223372036825200000"},
		{oidTimestamp, -1, "-infinity", "-9223372036832400000"},
		{oidTimestamp, 3, "infinity", "9223372036825200"},
		{oidTimestamp, 3, "-infinity", "-9223372036832400"},
		{oidTimestamp, 0, "294276-12-31 23:59:59", "9224318015999000"},
		{oidTimestamp, -1, "2018-06-20", ""},
		{oidTimestamp, -1, "2018-06-20 25:61:00", ""},
		{oidTimestamptz, -1, "2025-02-22 09:57:48.51736+00", `"2025-02-22T09:57:48.517360Z"`},
		{oidTimestamptz, 3, "2025-02-22 09:57:48.517+00", `"2025-02-22T09:57:48.517Z"`},
		{oidTimestamptz, 0, "2025-02-22 09:57:48+00", `"2025-02-22T09:57:48Z"`},
		{oidTimestamptz, -1, "2025-02-22 09:57:48+05:30", `"2025-02-22T04:27:48.000000Z"`},
		{oidTimestamptz, -1, "1883-11-18 11:59:59-04:56:02", `"1883-11-18T16:56:01.000000Z"`},
		{oidTimestamptz, -1, "0044-03-15 10:00:00.5+00 BC", `"-0043-03-15T10:00:00.500000Z"`},
		{oidTimestamptz, 0, "10000-01-01 00:00:00+00", `"+10000-01-01T00:00:00Z"`},
		{oidTimestamptz, -1, "infinity", `"infinity"`},
		{oidTimestamptz, -1, "-infinity", `"-infinity"`},
		{oidTimestamptz, -1, "2025-02-22 09:57:48", ""},
		{oidTimestamptz, -1, "2025-02-22 09:57:48+", ""},
	} {
		cp := column(t, e, tt.oid, tt.typmod)
		got, _, err := convertText(t, e, cp, tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("oid %d(%d) %q = %s, want an error", tt.oid, tt.typmod, tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("oid %d(%d) %q = %s, %v; want %s", tt.oid, tt.typmod, tt.in, got, err, tt.want)
		}
	}
}

func TestCivilRoundTrip(t *testing.T) {
	for _, days := range []int64{-2147472692, -719528, -1, 0, 1, 18263, 2932897, 106751991167300} {
		y, m, d := civilFromDays(days)
		if back := daysFromCivil(y, m, d); back != days {
			t.Errorf("days %d -> %d-%d-%d -> %d", days, y, m, d, back)
		}
	}
}

func TestOtherConverters(t *testing.T) {
	for _, tt := range []struct {
		bin    string
		oid    uint32
		in     string
		want   string
		header string
	}{
		{BinaryBytes, oidBool, "t", "true", "true"},
		{BinaryBytes, oidBool, "f", "false", "false"},
		{BinaryBytes, oidInt2, "-5", "-5", "-5"},
		{BinaryBytes, oidOID, "4000000000", "4000000000", "4000000000"},
		{BinaryBytes, oidFloat4, "3.3", "3.3", "3.3"},
		{BinaryBytes, oidFloat4, "NaN", `"NaN"`, "NaN"},
		{BinaryBytes, oidFloat8, "1e+20", "1.0E20", "1.0E20"},
		{BinaryBytes, oidFloat8, "-Infinity", `"-Infinity"`, "-Infinity"},
		{BinaryBytes, oidText, "a\"b\\\n", `"a\"b\\\n"`, "\"a\\\"b\\\\\n\""},
		{BinaryBytes, oidBPChar, "ab   ", `"ab   "`, `"ab   "`},
		{BinaryBytes, oidUUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`, `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`},
		{BinaryBytes, oidJSONB, `{"a": 1}`, `"{\"a\": 1}"`, `"{\"a\": 1}"`},
		{BinaryBytes, oidBytea, `\x0102ff`, `"AQL/"`, `"AQL/"`},
		{BinaryBytes, oidBytea, `\xFBFF01`, `"+/8B"`, `"+/8B"`},
		{BinaryBytes, oidBytea, `\x`, `""`, `""`},
		{BinaryBase64, oidBytea, `\xfbff01`, `"+/8B"`, `"+/8B"`},
		{BinaryBase64URLSafe, oidBytea, `\xfbff01`, `"-_8B"`, `"-_8B"`},
		{BinaryBase64URLSafe, oidBytea, `\xfb`, `"-w=="`, `"-w=="`},
		{BinaryHex, oidBytea, `\xFBFF01`, `"fbff01"`, `"fbff01"`},
	} {
		e := newTestEncoder(t, func(o *Options) { o.BinaryHandling = tt.bin })
		cp := column(t, e, tt.oid, -1)
		got, hdr, err := convertText(t, e, cp, tt.in)
		if err != nil || got != tt.want || hdr != tt.header {
			t.Errorf("%s oid %d %q = %s / %s, %v; want %s / %s", tt.bin, tt.oid, tt.in, got, hdr, err, tt.want, tt.header)
		}
	}
	e := testEncoder(t)
	for _, tt := range []struct {
		oid uint32
		in  string
	}{
		{oidInt4, "x"}, {oidInt2, "40000"}, {oidOID, "-1"}, {oidFloat8, "one"},
		{oidBytea, `\x0`}, {oidBytea, `\xzz`}, {oidBytea, `abc`}, {oidBytea, `\001`},
	} {
		cp := column(t, e, tt.oid, -1)
		if got, _, err := convertText(t, e, cp, tt.in); err == nil {
			t.Errorf("oid %d %q = %s, want an error", tt.oid, tt.in, got)
		}
	}
	// Debezium's pgoutput decoder reads booleans as "t".equalsIgnoreCase.
	if !parseBool([]byte("T")) || parseBool([]byte("true")) || parseBool(nil) {
		t.Error("parseBool does not follow Debezium")
	}
}

func TestSanitizeTopic(t *testing.T) {
	for in, want := range map[string]string{
		"srv.public.customers": "srv.public.customers",
		"srv.My Schema.t$1":    "srv.My_Schema.t_1",
		"srv.s.tablé":          "srv.s.tabl_",
		"srv.s.😀":              "srv.s.__",
		".":                    "_",
		"..":                   "__",
	} {
		if got := sanitizeTopic(in); got != want {
			t.Errorf("sanitizeTopic(%q) = %q, want %q", in, got, want)
		}
	}
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	if got := sanitizeTopic(string(long)); len(got) != 249 {
		t.Errorf("long topic has %d chars, want 249", len(got))
	}
}
