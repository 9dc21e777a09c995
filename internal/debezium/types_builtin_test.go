package debezium

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
)

// extColumn compiles one column the way the encoder does.
func extColumn(t testing.TB, e *Encoder, col change.Column) *colPlan {
	t.Helper()
	tm, oid, typmod, ok := resolveType(&col)
	if !ok {
		t.Fatalf("column %+v: type not supported", col)
	}
	cp := &colPlan{name: col.Name, typmod: typmod, oid: oid, col: &col}
	if err := tm.setup(cp, &e.s); err != nil {
		t.Fatal(err)
	}
	return cp
}

var moodLabels = []string{"sad", "ok", "happy"}

func extTypes() *change.Relation {
	return &change.Relation{
		ID: 20010, Namespace: "public", Name: "ext_types",
		Columns: []change.Column{
			{Name: "id", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true},
			{Name: "mood", TypeOID: 16500, TypeMod: -1, TypeName: "mood", TypeType: 'e', EnumValues: moodLabels},
			{Name: "price", TypeOID: 16510, TypeMod: -1, TypeName: "price", TypeType: 'd', BaseTypeOID: oidNumeric, BaseTypeMod: numericMod(8, 2), BaseTypeName: "numeric"},
			{Name: "email", TypeOID: 16520, TypeMod: -1, TypeName: "email", TypeType: 'd', BaseTypeOID: 16600, BaseTypeMod: -1, BaseTypeName: "citext"},
			{Name: "ints", TypeOID: 1007, TypeMod: -1, TypeName: "_int4", ElemTypeOID: oidInt4, ElemTypeName: "int4"},
			{Name: "texts", TypeOID: 1009, TypeMod: -1, TypeName: "_text", ElemTypeOID: oidText, ElemTypeName: "text"},
			{Name: "nums", TypeOID: 1231, TypeMod: numericMod(6, 2), TypeName: "_numeric", ElemTypeOID: oidNumeric, ElemTypeName: "numeric"},
			{Name: "moods", TypeOID: 16501, TypeMod: -1, TypeName: "_mood", ElemTypeOID: 16500, ElemTypeName: "mood", EnumValues: moodLabels},
			{Name: "stamps", TypeOID: 1185, TypeMod: -1, TypeName: "_timestamptz", ElemTypeOID: oidTimestamptz, ElemTypeName: "timestamptz"},
			{Name: "blobs", TypeOID: 1001, TypeMod: -1, TypeName: "_bytea", ElemTypeOID: oidBytea, ElemTypeName: "bytea"},
			{Name: "tsv", TypeOID: oidTsvector, TypeMod: -1, TypeName: "tsvector"},
			{Name: "path", TypeOID: 16700, TypeMod: -1, TypeName: "ltree"},
			{Name: "doc", TypeOID: oidXML, TypeMod: -1, TypeName: "xml"},
			{Name: "ip", TypeOID: oidInet, TypeMod: -1, TypeName: "inet"},
			{Name: "mac", TypeOID: oidMacaddr, TypeMod: -1, TypeName: "macaddr"},
			{Name: "name_ci", TypeOID: 16600, TypeMod: -1, TypeName: "citext"},
			{Name: "span", TypeOID: oidInt4Range, TypeMod: -1, TypeName: "int4range"},
			{Name: "iv", TypeOID: oidInterval, TypeMod: -1, TypeName: "interval"},
			{Name: "cash", TypeOID: oidMoney, TypeMod: -1, TypeName: "money"},
			{Name: "flag", TypeOID: oidBit, TypeMod: 1, TypeName: "bit"},
			{Name: "bits", TypeOID: oidBit, TypeMod: 10, TypeName: "bit"},
			{Name: "vbits", TypeOID: oidVarbit, TypeMod: -1, TypeName: "varbit"},
			{Name: "tz", TypeOID: oidTimetz, TypeMod: -1, TypeName: "timetz"},
			{Name: "pt", TypeOID: oidPoint, TypeMod: -1, TypeName: "point"},
			{Name: "moneys", TypeOID: 791, TypeMod: -1, TypeName: "_money", ElemTypeOID: oidMoney, ElemTypeName: "money"},
		},
		Key: []int{0}, ReplicaIdentity: 'd',
	}
}

func extRow() change.Tuple {
	return change.Tuple{
		txt("1"), txt("happy"), txt("12.50"), txt("Bob@Example.com"),
		txt("{1,2,NULL,-4}"), txt(`{a,"b c","d\"e","f\\g",NULL,"NULL",""}`), txt("{1.50,NULL,-0.01}"),
		txt("{sad,happy}"), txt(`{"2025-02-22 09:57:48.51736+00","1970-01-01 00:00:00+00"}`), txt(`{"\\x0102ff",NULL}`),
		txt("'a':1 'fat':2"), txt("Top.Science.Astronomy"), txt("<a>x</a>"), txt("192.168.0.1/24"), txt("08:00:2b:01:02:03"),
		txt("Mixed Case"), txt("[1,10)"), txt("1 year 2 mons 3 days 04:05:06.78"), txt("-$1,234.56"),
		txt("1"), txt("0000000101"), txt("101"), txt("13:51:30.123456+05:30"), txt("(1.5,-2)"), txt("{$1.00}"),
	}
}

func extNulls() change.Tuple {
	t := make(change.Tuple, len(extTypes().Columns))
	for i := range t {
		t[i] = null
	}
	t[0] = txt("2")
	return t
}

func extGoldenCases() []goldenCase {
	return []goldenCase{
		{name: "types_extended", changes: []*change.Change{
			streamed(change.OpCreate, extTypes(), nil, extRow()),
			streamed(change.OpCreate, extTypes(), nil, extNulls()),
		}},
		{name: "types_extended_string_modes", opts: func(o *Options) {
			o.IntervalHandling = IntervalString
			o.DecimalHandling = DecimalString
			o.KeySchemas, o.ValueSchemas = false, false
		}, changes: []*change.Change{
			streamed(change.OpCreate, extTypes(), nil, extRow()),
		}},
	}
}

func TestEnumAndDomainSchemas(t *testing.T) {
	e := testEncoder(t)
	rel := extTypes()
	p, err := e.compile(rel)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.cols {
		if c.name == "moneys" {
			t.Error("money[] must be left out, as Debezium does")
		}
	}
	s := string(p.envSchema)
	for _, want := range []string{
		`{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"sad,ok,happy"},"field":"mood"}`,
		`{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"8"},"field":"price"}`,
		`{"type":"string","optional":true,"field":"email"}`,
		`{"type":"array","items":{"type":"int32","optional":true},"optional":true,"field":"ints"}`,
		`{"type":"array","items":{"type":"string","optional":false,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"sad,ok,happy"}},"optional":true,"field":"moods"}`,
		`{"type":"array","items":{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"6"}},"optional":true,"field":"nums"}`,
		`{"type":"int64","optional":true,"name":"io.debezium.time.MicroDuration","version":1,"field":"iv"}`,
		`{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"cash"}`,
		`{"type":"boolean","optional":true,"field":"flag"}`,
		`{"type":"bytes","optional":true,"name":"io.debezium.data.Bits","version":1,"parameters":{"length":"10"},"field":"bits"}`,
		`{"type":"bytes","optional":true,"name":"io.debezium.data.Bits","version":1,"parameters":{"length":"2147483647"},"field":"vbits"}`,
		`{"type":"struct","fields":[{"type":"double","optional":false,"field":"x"},{"type":"double","optional":false,"field":"y"},{"type":"bytes","optional":true,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}],"optional":true,"name":"io.debezium.data.geometry.Point","version":1,"doc":"Geometry (POINT)","field":"pt"}`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("schema lacks %s", want)
		}
	}
}

func TestExtendedConverters(t *testing.T) {
	type tc struct {
		col  change.Column
		in   string
		want string // "" = error
	}
	col := func(oid uint32, typmod int32) change.Column {
		return change.Column{Name: "c", TypeOID: oid, TypeMod: typmod}
	}
	arr := func(elem uint32, typmod int32) change.Column {
		return change.Column{Name: "c", TypeOID: 99999, TypeMod: typmod, ElemTypeOID: elem}
	}
	enumArr := change.Column{Name: "c", TypeOID: 99998, TypeMod: -1, ElemTypeOID: 99997, EnumValues: moodLabels}
	for _, tt := range []tc{
		{col(oidInterval, -1), "1 year 2 mons 3 days 04:05:06.78", "37091106780000"},
		{col(oidInterval, -1), "00:00:00", "0"},
		{col(oidInterval, -1), "1 mon", "2629800000000"},
		{col(oidInterval, -1), "-1 days +02:03:00", "-79020000000"},
		{col(oidInterval, -1), "-00:00:00.000001", "-1"},
		{col(oidInterval, -1), "100:00:00", "360000000000"},
		{col(oidInterval, -1), "1 fortnight", ""},
		{col(oidInterval, -1), "", ""},
		{col(oidMoney, -1), "$1,234.56", `"AeJA"`},
		{col(oidMoney, -1), "-$1,234.56", `"/h3A"`},
		{col(oidMoney, -1), "$0.00", `"AA=="`},
		{col(oidMoney, -1), "$92,233,720,368,547,758.07", `"AIAAAAAAAADA"`}, // through a double, as Debezium: 92233720368547760.00,
		{col(oidMoney, -1), "1.00", ""},
		{col(oidBit, 1), "1", "true"},
		{col(oidBit, 1), "0", "false"},
		{col(oidBit, 3), "101", `"BQ=="`},
		{col(oidBit, 10), "1000000001", `"AQI="`},
		{col(oidBit, 10), "0000000000", `""`},
		{col(oidVarbit, 16), "1", `"AQ=="`},
		{col(oidBit, 3), "102", ""},
		{col(oidTimetz, -1), "13:51:30.123456+05:30", `"08:21:30.123456Z"`},
		{col(oidTimetz, -1), "13:51:30+00", `"13:51:30Z"`},
		{col(oidTimetz, -1), "01:00:00.5-03", `"04:00:00.5Z"`},
		{col(oidTimetz, -1), "01:00:00+02", `"23:00:00Z"`},
		{col(oidTimetz, -1), "24:00:00+00", `"24:00:00Z"`},
		{col(oidTimetz, -1), "13:51:30", ""},
		{col(oidPoint, -1), "(1.5,-2)", `{"x":1.5,"y":-2.0,"wkb":"AQEAAAAAAAAAAAD4PwAAAAAAAADA","srid":null}`},
		{col(oidPoint, -1), "(1,2", ""},
		{col(oidInet, -1), "::1/128", `"::1/128"`},
		{col(oidTsvector, -1), "'a':1", `"'a':1"`},
		{arr(oidInt4, -1), "{1,2,NULL,-4}", "[1,2,null,-4]"},
		{arr(oidInt4, -1), "{}", "[]"},
		{arr(oidInt4, -1), "[0:1]={1,2}", "[1,2]"},
		{arr(oidInt4, -1), "{{1,2},{3,4}}", ""},
		{arr(oidInt4, -1), "[1:2][1:1]={{1},{2}}", ""},
		{arr(oidInt4, -1), "{1,x}", ""},
		{arr(oidInt4, -1), "{1,}", ""},
		{arr(oidInt4, -1), "{,1}", ""},
		{arr(oidInt4, -1), "{1", ""},
		{arr(oidText, -1), `{a,"b c","d\"e","f\\g",NULL,"NULL",""}`, `["a","b c","d\"e","f\\g",null,"NULL",""]`},
		{arr(oidText, -1), `{"unterminated}`, ""},
		{arr(oidBool, -1), "{t,f}", "[true,false]"},
		{arr(oidFloat8, -1), "{1.5,NaN,-Infinity}", `[1.5,"NaN","-Infinity"]`},
		{arr(oidNumeric, -1), "{1.50,-100}", `[{"scale":1,"value":"Dw=="},{"scale":0,"value":"nA=="}]`},
		{arr(oidUUID, -1), "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", `["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]`},
		{arr(oidJSONB, -1), `{"{\"a\": 1}"}`, `["{\"a\": 1}"]`},
		{arr(oidDate, -1), "{2020-01-02,NULL}", "[18263,null]"},
		{arr(oidTime, 3), "{13:45:30.123}", "[49530123]"},
		{arr(oidTimestamp, -1), `{"2018-06-20 15:13:16.945104"}`, "[1529507596945104]"},
		{arr(oidBytea, -1), `{"\\x0102ff"}`, `["AQL/"]`},
		{enumArr, "{sad,happy}", `["sad","happy"]`},
		{enumArr, "{sad,NULL}", ""},
	} {
		e := testEncoder(t)
		cp := extColumn(t, e, tt.col)
		got, hdr, err := convertText(t, e, cp, tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("oid %d(%d) %q = %s, want an error", tt.col.TypeOID, tt.col.TypeMod, tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("oid %d(%d) %q = %s, %v; want %s", tt.col.TypeOID, tt.col.TypeMod, tt.in, got, err, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%q: invalid JSON %s", tt.in, got)
		}
		_ = hdr
	}
	var ae *arrayElemError
	e := testEncoder(t)
	cp := extColumn(t, e, arr(oidInt4, -1))
	if _, err := cp.decode(e, cp, []byte("{1,x}")); !errors.As(err, &ae) || ae.index != 1 {
		t.Errorf("element error = %v", err)
	}
}

func TestIntervalAndMoneyModes(t *testing.T) {
	for _, tt := range []struct {
		mutate func(*Options)
		col    change.Column
		in     string
		want   string
	}{
		{func(o *Options) { o.IntervalHandling = IntervalString }, change.Column{TypeOID: oidInterval, TypeMod: -1}, "1 year 2 mons 3 days 04:05:06.78", `"P1Y2M3DT4H5M6.78S"`},
		{func(o *Options) { o.IntervalHandling = IntervalString }, change.Column{TypeOID: oidInterval, TypeMod: -1}, "00:00:00", `"P0Y0M0DT0H0M0S"`},
		{func(o *Options) { o.IntervalHandling = IntervalString }, change.Column{TypeOID: oidInterval, TypeMod: -1}, "-1 days -00:00:00.000001", `"P0Y0M-1DT0H0M-0.000001S"`},
		{func(o *Options) { o.IntervalHandling = IntervalString }, change.Column{TypeOID: oidInterval, TypeMod: -1}, "00:01:40", `"P0Y0M0DT0H1M40S"`},
		{func(o *Options) { o.DecimalHandling = DecimalDouble }, change.Column{TypeOID: oidMoney, TypeMod: -1}, "-$1,234.56", `-1234.56`},
		{func(o *Options) { o.DecimalHandling = DecimalString }, change.Column{TypeOID: oidMoney, TypeMod: -1}, "$1,234.50", `"1234.5"`},
		{func(o *Options) { o.DecimalHandling = DecimalString }, change.Column{TypeOID: oidMoney, TypeMod: -1}, "$12,345,678.00", `"1.2345678E7"`},
		{func(o *Options) { o.MoneyFractionDigits = 0 }, change.Column{TypeOID: oidMoney, TypeMod: -1}, "$2.50", `"Aw=="`},
		{func(o *Options) { o.MoneyFractionDigits = 3 }, change.Column{TypeOID: oidMoney, TypeMod: -1}, "$2.50", `"CcQ="`},
	} {
		e := newTestEncoder(t, tt.mutate)
		cp := extColumn(t, e, tt.col)
		got, _, err := convertText(t, e, cp, tt.in)
		if err != nil || got != tt.want {
			t.Errorf("oid %d %q = %s, %v; want %s", tt.col.TypeOID, tt.in, got, err, tt.want)
		}
	}
	o := testOptions()
	o.IntervalHandling = "iso"
	if _, err := NewEncoder(o, nil); err == nil {
		t.Error("interval.handling.mode=iso: want an error")
	}
}

// arrayOut quotes an element as array_out does.
func arrayOut(s string, null bool) string {
	if null {
		return "NULL"
	}
	need := s == "" || strings.EqualFold(s, "NULL") || strings.ContainsAny(s, "{},\"\\ \t\n\r\v\f")
	if !need {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range []byte(s) {
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

// FuzzArray: the parser never panics, and what it accepts reads back the
// same after array_out quoting.
func FuzzArray(f *testing.F) {
	for _, s := range []string{"{1,2,NULL}", `{a,"b c","d\"e","f\\g",NULL,"NULL",""}`, "{}", "[0:1]={1,2}",
		"{{1,2},{3,4}}", "{1,}", `{"x`, `{a\,b}`, "{null}", "[1:2][1:1]={{1},{2}}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		type el struct {
			s    string
			null bool
		}
		parse := func(b []byte) ([]el, error) {
			it, err := newArrayIter(b, nil)
			if err != nil {
				return nil, err
			}
			var out []el
			for {
				x, null, ok, err := it.next()
				if err != nil {
					return nil, err
				}
				if !ok {
					return out, nil
				}
				out = append(out, el{string(x), null})
			}
		}
		got, err := parse(b)
		if err == nil {
			parts := make([]string, len(got))
			for i, x := range got {
				parts[i] = arrayOut(x.s, x.null)
			}
			back, err := parse([]byte("{" + strings.Join(parts, ",") + "}"))
			if err != nil || len(back) != len(got) {
				t.Fatalf("%q -> %q: %v", b, parts, err)
			}
			for i := range got {
				if back[i] != got[i] {
					t.Fatalf("%q element %d: %+v, read back %+v", b, i, got[i], back[i])
				}
			}
		}
		e := newTestEncoder(t, nil)
		for _, elem := range []uint32{oidInt4, oidText, oidNumeric, oidBytea, oidTimestamptz} {
			cp := extColumn(t, e, change.Column{TypeOID: 99999, TypeMod: -1, ElemTypeOID: elem})
			if v, err := cp.decode(e, cp, b); err == nil && !json.Valid(v.appendJSON(nil)) {
				t.Fatalf("%q: invalid JSON %s", b, v.appendJSON(nil))
			}
		}
	})
}

// FuzzExtended runs the scalar converters added with the array support.
func FuzzExtended(f *testing.F) {
	for _, s := range []string{"1 year 2 mons 3 days 04:05:06.78", "-1 days +02:03:00", "$1,234.56", "-$0.01", "101",
		"13:51:30.123456+05:30", "24:00:00+00", "(1.5,-2)", "(1e308,NaN)"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, mutate := range []func(*Options){nil, func(o *Options) {
			o.IntervalHandling, o.DecimalHandling = IntervalString, DecimalString
		}, func(o *Options) { o.DecimalHandling = DecimalDouble }} {
			e := newTestEncoder(t, mutate)
			for _, c := range []change.Column{{TypeOID: oidInterval, TypeMod: -1}, {TypeOID: oidMoney, TypeMod: -1},
				{TypeOID: oidBit, TypeMod: 1}, {TypeOID: oidVarbit, TypeMod: -1}, {TypeOID: oidTimetz, TypeMod: -1},
				{TypeOID: oidPoint, TypeMod: -1}} {
				cp := extColumn(t, e, c)
				v, err := cp.decode(e, cp, b)
				if err != nil {
					continue
				}
				if js := v.appendJSON(nil); !json.Valid(js) {
					t.Fatalf("oid %d %q: invalid JSON %s", c.TypeOID, b, js)
				}
			}
		}
	})
}
