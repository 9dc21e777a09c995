package debezium

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
)

// TestTimePrecisionModes checks every time.precision.mode against
// reference §3 ("Temporal types without a zone"). Values worked out by
// hand:
//   - date 2024-02-29: 19723 days to 2024-01-01, +31+28 = 19782.
//   - date 0044-03-15 BC: proleptic year -43, ISO_OFFSET_DATE "-0043-03-15Z".
//   - time 13:51:30.123456: 49890 s → 49890123 ms, 49890123456 µs.
//   - timestamp 2018-06-20 15:13:16.945104: 1529507596945104 µs (§3 example).
//   - timestamp infinity: 9223372036825200000 µs (§3), ÷1000 in ms.
func TestTimePrecisionModes(t *testing.T) {
	type c struct {
		oid    uint32
		typmod int32
		in     string
		schema string // name and type, "name/type"
		want   string
	}
	modes := map[string][]c{
		TimeAdaptive: {
			{oidDate, -1, "2024-02-29", nameDate + "/int32", "19782"},
			{oidTime, 3, "13:51:30.123", nameTime + "/int32", "49890123"},
			{oidTime, -1, "13:51:30.123456", nameMicroTime + "/int64", "49890123456"},
			{oidTimestamp, 3, "2018-06-20 15:13:16.945", nameTimestamp + "/int64", "1529507596945"},
			{oidTimestamp, -1, "2018-06-20 15:13:16.945104", nameMicroTimestamp + "/int64", "1529507596945104"},
			{oidTimestamp, -1, "infinity", nameMicroTimestamp + "/int64", "9223372036825200000"},
			{oidTimestamp, -1, "-infinity", nameMicroTimestamp + "/int64", "-9223372036832400000"},
		},
		TimeAdaptiveTimeMicroseconds: {
			{oidDate, -1, "2024-02-29", nameDate + "/int32", "19782"},
			{oidTime, 3, "13:51:30.123", nameMicroTime + "/int64", "49890123000"},
			{oidTimestamp, 3, "2018-06-20 15:13:16.945", nameTimestamp + "/int64", "1529507596945"},
			{oidTimestamp, -1, "2018-06-20 15:13:16.945104", nameMicroTimestamp + "/int64", "1529507596945104"},
		},
		TimeConnect: {
			{oidDate, -1, "2024-02-29", nameConnectDate + "/int32", "19782"},
			{oidDate, -1, "1969-12-31", nameConnectDate + "/int32", "-1"},
			{oidTime, -1, "13:51:30.123456", nameConnectTime + "/int32", "49890123"},
			{oidTimestamp, -1, "2018-06-20 15:13:16.945104", nameConnectTimestamp + "/int64", "1529507596945"},
			{oidTimestamp, -1, "infinity", nameConnectTimestamp + "/int64", "9223372036825200"},
			{oidTimestamp, -1, "1969-12-31 23:59:59.9995", nameConnectTimestamp + "/int64", "-1"},
		},
		TimeIsoString: {
			{oidDate, -1, "2024-02-29", nameIsoDate + "/string", `"2024-02-29Z"`},
			{oidDate, -1, "0044-03-15 BC", nameIsoDate + "/string", `"-0043-03-15Z"`},
			{oidDate, -1, "0001-01-01 BC", nameIsoDate + "/string", `"0000-01-01Z"`},
			{oidTime, -1, "13:51:30.123456", nameIsoTime + "/string", `"13:51:30.123456Z"`},
			{oidTime, 0, "13:51:30", nameIsoTime + "/string", `"13:51:30Z"`},
			{oidTimestamp, -1, "2018-06-20 15:13:16.945104", nameIsoTimestamp + "/string", `"2018-06-20T15:13:16.945104Z"`},
			{oidTimestamp, 3, "1960-01-01 00:00:00.5", nameIsoTimestamp + "/string", `"1960-01-01T00:00:00.5Z"`},
		},
		TimeMicroseconds: {
			{oidDate, -1, "2024-02-29", nameDate + "/int32", "19782"},
			{oidTime, 0, "13:51:30", nameMicroTime + "/int64", "49890000000"},
			{oidTimestamp, 3, "2018-06-20 15:13:16.945", nameMicroTimestamp + "/int64", "1529507596945000"},
		},
		TimeNanoseconds: {
			{oidDate, -1, "2024-02-29", nameDate + "/int32", "19782"},
			{oidTime, -1, "13:51:30.123456", nameNanoTime + "/int64", "49890123456000"},
			{oidTimestamp, -1, "2018-06-20 15:13:16.945104", nameNanoTimestamp + "/int64", "1529507596945104000"},
			{oidTimestamp, -1, "1969-12-31 23:59:59.999999", nameNanoTimestamp + "/int64", "-1000"},
		},
	}
	for mode, cases := range modes {
		e := newTestEncoder(t, func(o *Options) { o.TimePrecision = mode })
		for _, tt := range cases {
			cp := column(t, e, tt.oid, tt.typmod)
			if got := cp.schema.name + "/" + cp.schema.typ; got != tt.schema {
				t.Errorf("%s: oid %d(%d) schema %s, want %s", mode, tt.oid, tt.typmod, got, tt.schema)
			}
			got, _, err := convertText(t, e, cp, tt.in)
			if err != nil || got != tt.want {
				t.Errorf("%s: %q = %s, %v; want %s", mode, tt.in, got, err, tt.want)
			}
		}
		// timestamptz and timetz do not depend on the mode.
		if cp := column(t, e, oidTimestamptz, -1); cp.schema.name != nameZonedTimestamp {
			t.Errorf("%s: timestamptz schema %s", mode, cp.schema.name)
		}
		if cp := column(t, e, oidTimetz, -1); cp.schema.name != nameZonedTime {
			t.Errorf("%s: timetz schema %s", mode, cp.schema.name)
		}
	}
}

func TestHstoreVectorUnknown(t *testing.T) {
	for _, tt := range []struct {
		mode   func(*Options)
		col    change.Column
		in     string
		schema string
		want   string
	}{
		// HashMap order: "a"(97)→1, "b"(98)→2, "key"(106079)→ (106079^1)&15 = 14.
		{nil, change.Column{TypeName: "hstore", TypeOID: 16400, TypeMod: -1}, `"a"=>"1", "key"=>NULL, "b"=>"x\"y"`,
			`{"type":"string","optional":true,"name":"io.debezium.data.Json","version":1,"field":"c"}`,
			`"{\"a\":\"1\",\"b\":\"x\\\"y\",\"key\":null}"`},
		{func(o *Options) { o.HstoreHandling = HstoreMap }, change.Column{TypeName: "hstore", TypeOID: 16400, TypeMod: -1},
			`"a"=>"1", "key"=>NULL`,
			`{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":true,"field":"c"}`,
			`{"a":"1","key":null}`},
		{nil, change.Column{TypeName: "vector", TypeOID: 16500, TypeMod: 3}, `[1,2.5,-3]`,
			`{"type":"array","items":{"type":"double","optional":false},"optional":true,"name":"io.debezium.data.DoubleVector","version":1,"field":"c"}`,
			`[1.0,2.5,-3.0]`},
		{nil, change.Column{TypeName: "halfvec", TypeOID: 16501, TypeMod: 2}, `[0.5,1]`,
			`{"type":"array","items":{"type":"float","optional":false},"optional":true,"name":"io.debezium.data.FloatVector","version":1,"field":"c"}`,
			`[0.5,1.0]`},
		// HashMap<Short,Double>(3): capacity tableSizeFor(3) = 4, threshold
		// 3, so no resize at 3 entries; buckets 3&3=3, 5&3=1, 17&3=1 →
		// 5, 17 (insertion order in bucket 1), then 3.
		{nil, change.Column{TypeName: "sparsevec", TypeOID: 16502, TypeMod: -1}, `{3:1.5,5:2,17:-1}/20`,
			`{"type":"struct","fields":[{"type":"int16","optional":false,"field":"dimensions"},{"type":"map","keys":{"type":"int16","optional":false},"values":{"type":"double","optional":false},"optional":false,"field":"vector"}],"optional":true,"name":"io.debezium.data.SparseDoubleVector","version":1,"doc":"Sparse double vector","field":"c"}`,
			`{"dimensions":20,"vector":[[5,2.0],[17,-1.0],[3,1.5]]}`},
		// PostGIS: the whole EWKB as wkb; the SRID (0x10E6 = 4326) read
		// after the type when the type has the 0x20000000 flag.
		{nil, change.Column{TypeName: "geometry", TypeOID: 16504, TypeMod: -1}, `0101000020E6100000000000000000F03F0000000000000040`,
			`{"type":"struct","fields":[{"type":"bytes","optional":false,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}],"optional":true,"name":"io.debezium.data.geometry.Geometry","version":1,"doc":"Geometry","field":"c"}`,
			`{"wkb":"AQEAACDmEAAAAAAAAAAA8D8AAAAAAAAAQA==","srid":4326}`},
		{nil, change.Column{TypeName: "geometry", TypeOID: 16504, TypeMod: -1}, `010100000000000000000000F03F0000000000000040`,
			`{"type":"struct","fields":[{"type":"bytes","optional":false,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}],"optional":true,"name":"io.debezium.data.geometry.Geometry","version":1,"doc":"Geometry","field":"c"}`,
			`{"wkb":"AQEAAAAAAAAAAAAA8D8AAAAAAAAAQA==","srid":null}`},
		{nil, change.Column{TypeName: "geography", TypeOID: 16505, TypeMod: -1}, `0101000020E6100000000000000000F03F0000000000000040`,
			`{"type":"struct","fields":[{"type":"bytes","optional":false,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}],"optional":true,"name":"io.debezium.data.geometry.Geography","version":1,"doc":"Geography","field":"c"}`,
			`{"wkb":"AQEAACDmEAAAAAAAAAAA8D8AAAAAAAAAQA==","srid":4326}`},
		// isn's isbn: a plain string (PostgresValueConverter, TypeRegistry.isbn).
		{nil, change.Column{TypeName: "isbn", TypeOID: 16503, TypeMod: -1}, `978-0-393-04002-9`,
			`{"type":"string","optional":true,"field":"c"}`, `"978-0-393-04002-9"`},
		{func(o *Options) { o.IncludeUnknownDatatypes = true }, change.Column{TypeName: "box", TypeOID: 603, TypeMod: -1}, `(1,1),(0,0)`,
			`{"type":"bytes","optional":true,"field":"c"}`, `"KDEsMSksKDAsMCk="`},
		{func(o *Options) { o.IncludeUnknownDatatypes = true; o.BinaryHandling = BinaryHex }, change.Column{TypeName: "box", TypeOID: 603, TypeMod: -1}, `(1,1),(0,0)`,
			`{"type":"string","optional":true,"field":"c"}`, `"28312c31292c28302c3029"`},
	} {
		e := newTestEncoder(t, tt.mode)
		tt.col.Name = "c"
		rel := &change.Relation{ID: 1, Namespace: "public", Name: "t", Columns: []change.Column{{Name: "id", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true}, tt.col}, Key: []int{0}}
		p, err := e.compile(rel)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.cols) != 2 {
			t.Errorf("%s: column left out", tt.col.TypeName)
			continue
		}
		if got := string(e.appendFieldSchema(nil, &p.cols[1])); got != tt.schema {
			t.Errorf("%s schema\n got %s\nwant %s", tt.col.TypeName, got, tt.schema)
		}
		got, _, err := convertText(t, e, &p.cols[1], tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s: %s = %s, %v; want %s", tt.col.TypeName, tt.in, got, err, tt.want)
		}
	}
}

// TestColumnOptions checks the column mappers. The digests were computed
// by hand (Python hashlib): SHA-256("pepper" + "a@b.c") =
// 0430ccee…1f33 for v2; v1 hashes the Java-serialized string, AC ED 00 05
// 74 00 05 "a@b.c", = 8b74e6ce…67db, cut to varchar(10)'s 10 characters.
func TestColumnOptions(t *testing.T) {
	var logs bytes.Buffer
	o := testOptions()
	o.ColumnIncluded = func(schema, table, column string) bool { return column != "secret" }
	o.ColumnMasks = []ColumnChars{{Chars: 3, Match: func(c string) bool { return c == "public.t.email" || c == "public.t.nulled" || c == "public.t.id" }}}
	o.ColumnTruncates = []ColumnChars{{Chars: 2, Match: func(c string) bool { return c == "public.t.name" }}}
	o.ColumnHashes = []ColumnHash{
		{Algorithm: "SHA-256", Salt: []byte("pepper"), V2: true, Match: func(c string) bool { return c == "public.t.h2" }},
		{Algorithm: "sha-256", Salt: []byte("pepper"), Match: func(c string) bool { return c == "public.t.h1" }},
	}
	o.PropagateSourceType = func(c string) bool { return c == "public.t.name" || c == "public.t.amount" }
	e, err := NewEncoder(o, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rel := &change.Relation{ID: 2, Namespace: "public", Name: "t", Key: []int{0}, Columns: []change.Column{
		{Name: "id", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true},
		{Name: "secret", TypeOID: oidText, TypeMod: -1, TypeName: "text"},
		{Name: "email", TypeOID: oidText, TypeMod: -1, TypeName: "text"},
		{Name: "name", TypeOID: oidVarchar, TypeMod: 255 + 4, TypeName: "varchar"},
		{Name: "amount", TypeOID: oidNumeric, TypeMod: numericMod(7, 2), TypeName: "numeric"},
		{Name: "nulled", TypeOID: oidText, TypeMod: -1, TypeName: "text"},
		{Name: "h2", TypeOID: oidText, TypeMod: -1, TypeName: "text"},
		{Name: "h1", TypeOID: oidVarchar, TypeMod: 10 + 4, TypeName: "varchar"},
	}}
	recs, err := e.Encode(nil, streamed(change.OpCreate, rel, nil, change.Tuple{txt("1"), txt("s"), txt("a@b.c"), txt("😀xyz"), txt("1.50"),
		{Kind: change.KindNull}, txt("a@b.c"), txt("a@b.c")}))
	if err != nil {
		t.Fatal(err)
	}
	v := string(recs[0].Value)
	for _, want := range []string{
		`"after":{"id":1,"email":"***","name":"😀","amount":"AJY=","nulled":"***",` +
			`"h2":"0430ccee28a2ef77a5405f545d9fdcd5f34a6a949517df97fd8722289ffa1f33","h1":"8b74e6ce4f"}`,
		// int4 is not a character type: masked=true, value unchanged.
		`{"type":"int32","optional":false,"parameters":{"masked":"true"},"field":"id"}`,
		`{"type":"string","optional":true,"parameters":{"masked":"true"},"field":"email"}`,
		`{"type":"string","optional":true,"parameters":{"truncateLength":"2","__debezium.source.column.type":"VARCHAR","__debezium.source.column.length":"255","__debezium.source.column.scale":"0"},"field":"name"}`,
		`"parameters":{"scale":"2","connect.decimal.precision":"7","__debezium.source.column.type":"NUMERIC","__debezium.source.column.length":"7","__debezium.source.column.scale":"2"},"field":"amount"}`,
	} {
		if !strings.Contains(v, want) {
			t.Errorf("value lacks %s\n%s", want, v)
		}
	}
	if strings.Contains(v, "secret") {
		t.Errorf("excluded column in %s", v)
	}
	o.ColumnHashes = []ColumnHash{{Algorithm: "MD2", Match: func(string) bool { return true }}}
	if _, err := NewEncoder(o, nil); err == nil || !strings.Contains(err.Error(), "MD2") {
		t.Errorf("NewEncoder with MD2: %v", err)
	}
}

// FuzzTimeModes runs the date, time and timestamp converters of every
// time.precision.mode: whatever they accept must give valid JSON.
func FuzzTimeModes(f *testing.F) {
	for _, s := range []string{"2018-06-20 15:13:16.945104", "0044-03-15 BC", "infinity", "-infinity", "24:00:00", "13:45:30.5",
		"294276-12-31 23:59:59", "2024-02-29"} {
		f.Add([]byte(s))
	}
	modes := []string{TimeAdaptive, TimeAdaptiveTimeMicroseconds, TimeConnect, TimeIsoString, TimeMicroseconds, TimeNanoseconds}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range modes {
			e := newTestEncoder(t, func(o *Options) { o.TimePrecision = m })
			for _, oid := range []uint32{oidDate, oidTime, oidTimestamp} {
				for _, tm := range []int32{-1, 3} {
					cp := column(t, e, oid, tm)
					v, err := cp.decode(e, cp, b)
					if err != nil {
						continue
					}
					if js := v.appendJSON(nil); !json.Valid(js) {
						t.Fatalf("%s oid %d(%d) %q: invalid JSON %s", m, oid, tm, b, js)
					}
				}
			}
		}
	})
}

// FuzzHstoreVector runs the hstore (both modes) and pgvector converters.
func FuzzHstoreVector(f *testing.F) {
	for _, s := range []string{`"a"=>"1", "b"=>NULL`, `"x\"y"=>"\\"`, `[1,2.5,-3]`, `{3:1.5,5:2}/20`, `{}/5`, `[]`, `"k"=>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, hm := range []string{HstoreJSON, HstoreMap} {
			e := newTestEncoder(t, func(o *Options) { o.HstoreHandling = hm })
			for _, oid := range []uint32{pseudoHstore, pseudoVector, pseudoHalfvec, pseudoSparsevec} {
				cp := column(t, e, oid, -1)
				cp.oid = oid
				if oid == pseudoHalfvec {
					_ = setupVector(cp, &e.s)
				}
				v, err := cp.decode(e, cp, b)
				if err != nil {
					continue
				}
				if js := v.appendJSON(nil); !json.Valid(js) {
					t.Fatalf("oid %x %q: invalid JSON %s", oid, b, js)
				}
				if oid == pseudoHstore && hm == HstoreJSON {
					var inner map[string]*string
					if err := json.Unmarshal(v.b, &inner); err != nil {
						t.Fatalf("%q: hstore JSON %s: %v", b, v.b, err)
					}
				}
			}
		}
	})
}
