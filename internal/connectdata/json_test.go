package connectdata

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goldenDir holds the encoder's golden events: real JsonConverter bytes
// (seeded from Debezium output), one record per line.
var goldenDir = filepath.Join("..", "debezium", "testdata", "events")

type goldenRecord struct {
	Topic   string          `json:"topic"`
	Headers [][2]string     `json:"headers"`
	Key     json.RawMessage `json:"key"`
	Value   json.RawMessage `json:"value"`
}

// goldenPayloads returns every key and value of the golden files.
func goldenPayloads(t testing.TB) map[string][][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files under %s: %v", goldenDir, err)
	}
	out := map[string][][]byte{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var r goldenRecord
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, b := range [][]byte{r.Key, r.Value} {
				if string(b) != "null" {
					out[filepath.Base(f)] = append(out[filepath.Base(f)], []byte(b))
				}
			}
		}
		fh.Close()
	}
	return out
}

// TestGoldenRoundTrip parses every key and value of the encoder's golden
// files and writes them back: the bytes must be identical, with schemas
// enabled and, for the schemaless files, disabled.
func TestGoldenRoundTrip(t *testing.T) {
	n := 0
	for file, payloads := range goldenPayloads(t) {
		for _, b := range payloads {
			enabled := bytes.HasPrefix(b, []byte(`{"schema":`))
			c := NewJSONConverter(enabled)
			s, v, err := c.ToConnect(b)
			if err != nil {
				t.Fatalf("%s: parse %s: %v", file, b, err)
			}
			got, err := c.FromConnect(s, v)
			if err != nil {
				t.Fatalf("%s: write %s: %v", file, b, err)
			}
			if !bytes.Equal(got, b) {
				t.Fatalf("%s: round trip differs\n got: %s\nwant: %s", file, got, b)
			}
			n++
			if enabled {
				// The payload alone is the schemas.enable=false form.
				plain := NewJSONConverter(false)
				pb, err := plain.FromConnect(s, v)
				if err != nil {
					t.Fatal(err)
				}
				var env struct {
					Payload json.RawMessage `json:"payload"`
				}
				if err := json.Unmarshal(b, &env); err != nil {
					t.Fatal(err)
				}
				if s != nil || v != nil {
					if !bytes.Equal(pb, env.Payload) {
						t.Fatalf("%s: schemaless form differs\n got: %s\nwant: %s", file, pb, env.Payload)
					}
				}
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d payloads checked", n)
	}
}

func TestSchemaJSON(t *testing.T) {
	inner := MustBuild(Schema{Type: TypeStruct, Name: "srv.public.t.Value", Optional: true, Fields: []Field{
		{Name: "id", Schema: Int32Schema},
		{Name: "d", Schema: MustBuild(Schema{Type: TypeBytes, Optional: true, Name: DecimalName, Version: 1, HasVersion: true,
			Params: []Param{{"scale", "2"}, {"connect.decimal.precision", "10"}}})},
		{Name: "tags", Schema: MustBuild(Schema{Type: TypeArray, Optional: true, Elem: OptionalStringSchema})},
		{Name: "h", Schema: MustBuild(Schema{Type: TypeMap, Optional: true, Key: StringSchema, Elem: OptionalStringSchema})},
		{Name: "e", Schema: MustBuild(Schema{Type: TypeString, Optional: true, Name: "io.debezium.data.Enum", Version: 1, HasVersion: true,
			Params: []Param{{"allowed", "a,b"}}, Default: "a"})},
		{Name: "doc", Schema: MustBuild(Schema{Type: TypeInt64, Doc: "a \"doc\"", HasDoc: true})},
	}})
	want := `{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},` +
		`{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"d"},` +
		`{"type":"array","items":{"type":"string","optional":true},"optional":true,"field":"tags"},` +
		`{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":true,"field":"h"},` +
		`{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"a,b"},"default":"a","field":"e"},` +
		`{"type":"int64","optional":false,"doc":"a \"doc\"","field":"doc"}],"optional":true,"name":"srv.public.t.Value"}`
	if got := string(inner.JSON()); got != want {
		t.Fatalf("schema JSON\n got: %s\nwant: %s", got, want)
	}
	back, err := ParseSchema(inner.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(back, inner) {
		t.Fatalf("parsed schema differs: %s", back)
	}
}

func TestToConnectValues(t *testing.T) {
	c := NewJSONConverter(true)
	cases := []struct {
		in   string
		want any
	}{
		{`{"schema":{"type":"int8","optional":false},"payload":300}`, int8(44)},
		{`{"schema":{"type":"int32","optional":false},"payload":1.9}`, int32(1)},
		{`{"schema":{"type":"int64","optional":false},"payload":18446744073709551617}`, int64(1)},
		{`{"payload":"x","schema":{"type":"string","optional":false}}`, "x"},
		{`{"schema":{"type":"double","optional":false},"payload":"NaN"}`, math.NaN()},
		{`{"schema":{"type":"float","optional":false},"payload":0.1}`, float32(0.1)},
		{`{"schema":{"type":"string","optional":false,"default":"d"},"payload":null}`, "d"},
		{`{"schema":{"type":"string","optional":true},"payload":null}`, nil},
		{`{"schema":null,"payload":{"b":1,"a":[true,1.5,"s",null]}}`, Map{{"b", int64(1)}, {"a", []any{true, 1.5, "s", nil}}}},
		{`{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":"//8="}`, []byte{0xFF}},
		{`{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":-0.01}`, []byte{0xFF}},
		{`{"schema":{"type":"string","optional":false},"payload":"\u00e9\ud83d\ude00\/"}`, "é😀/"},
	}
	for _, tc := range cases {
		_, v, err := c.ToConnect([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if f, ok := tc.want.(float64); ok && math.IsNaN(f) {
			if g, ok := v.(float64); !ok || !math.IsNaN(g) {
				t.Errorf("%s: got %#v", tc.in, v)
			}
			continue
		}
		if String(nil, v) != String(nil, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.in, v, tc.want)
		}
	}
}

func TestToConnectErrors(t *testing.T) {
	cases := []struct {
		schemas bool
		in, err string
	}{
		{true, `{"payload":1}`, `requires "schema" and "payload" fields`},
		{true, `{"schema":null,"payload":1,"x":2}`, `may not contain additional fields`},
		{true, `[1]`, `requires "schema" and "payload"`},
		{true, `{"schema":{"optional":true},"payload":1}`, `Schema must contain 'type' field`},
		{true, `{"schema":{"type":"nope"},"payload":1}`, `Unknown schema type: nope`},
		{true, `{"schema":{"type":"array"},"payload":[]}`, `Array schema did not specify the element type`},
		{true, `{"schema":{"type":"map","keys":{"type":"string"}},"payload":{}}`, `Map schema did not specify the value type`},
		{true, `{"schema":{"type":"struct"},"payload":{}}`, `"fields" argument is not an array`},
		{true, `{"schema":{"type":"struct","fields":[{"type":"int32"}]},"payload":{}}`, `field name not specified properly`},
		{true, `{"schema":{"type":"struct","fields":[{"type":"int32","field":"a"},{"type":"int32","field":"a"}]},"payload":{}}`, `field name duplication a`},
		{true, `{"schema":{"type":"string","parameters":{"a":1}},"payload":"x"}`, `Schema parameters must have string values.`},
		{true, `{"schema":{"type":"int32","optional":false},"payload":null}`, `Invalid null value for required INT32 field`},
		{true, `{"schema":{"type":"struct","fields":[{"type":"int32","field":"a"}]},"payload":[]}`, `Structs should be encoded as JSON objects, but found ARRAY`},
		{true, `{"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}},"payload":{}}`, `encoded as JSON array of tuples, but found OBJECT`},
		{true, `{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date"},"payload":1.5}`, `Invalid type for Date, underlying representation should be integer but was NUMBER`},
		{false, `{"a":1} x`, `unexpected content after the JSON value`},
		{false, `{"a":01}`, `leading zeroes`},
		{false, "\"a\x01\"", `control character`},
		{false, "\"\xff\"", `invalid UTF-8`},
		{false, `{"a":1`, `at end of input`},
	}
	for _, tc := range cases {
		_, _, err := NewJSONConverter(tc.schemas).ToConnect([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: got %v, want an error containing %q", tc.in, err, tc.err)
			continue
		}
		if !errors.Is(err, ErrData) {
			t.Errorf("%s: %v does not wrap ErrData", tc.in, err)
		}
	}
}

func TestFromConnect(t *testing.T) {
	s := MustBuild(Schema{Type: TypeStruct, Name: "k", Fields: []Field{
		{Name: "f", Schema: OptionalFloat64Schema},
		{Name: "g", Schema: Float32Schema},
		{Name: "m", Schema: MustBuild(Schema{Type: TypeMap, Key: Int32Schema, Elem: OptionalStringSchema})},
		{Name: "s", Schema: MustBuild(Schema{Type: TypeString, Default: "dflt"})},
	}})
	st := NewStruct(s)
	st.Set(0, 1e7)
	st.Set(1, float32(math.Inf(-1)))
	st.Set(2, Map{{int32(1), "a"}, {int32(2), nil}})
	for _, tc := range []struct {
		schemas bool
		want    string
	}{
		{false, `{"f":1.0E7,"g":"-Infinity","m":[[1,"a"],[2,null]],"s":"dflt"}`},
		{true, `{"schema":` + string(s.JSON()) + `,"payload":{"f":1.0E7,"g":"-Infinity","m":[[1,"a"],[2,null]],"s":"dflt"}}`},
	} {
		got, err := NewJSONConverter(tc.schemas).FromConnect(s, st)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("schemas=%v\n got: %s\nwant: %s", tc.schemas, got, tc.want)
		}
	}
	if b, err := NewJSONConverter(true).FromConnect(nil, nil); b != nil || err != nil {
		t.Errorf("null: got %q, %v", b, err)
	}
	if b, _ := NewJSONConverter(false).FromConnect(OptionalStringSchema, nil); string(b) != "null" {
		t.Errorf("null with schema, schemas disabled: got %q", b)
	}
	if _, err := NewJSONConverter(true).FromConnect(Int32Schema, int64(1)); err == nil || !strings.Contains(err.Error(), "Invalid type for INT32: class java.lang.Long") {
		t.Errorf("wrong type: %v", err)
	}
	if _, err := NewJSONConverter(true).FromConnect(Int32Schema, nil); err == nil || !strings.Contains(err.Error(), "null value for field that is required") {
		t.Errorf("required null: %v", err)
	}
}

func TestHeaderValue(t *testing.T) {
	key := MustBuild(Schema{Type: TypeStruct, Fields: []Field{
		{Name: "id", Schema: Int32Schema}, {Name: "s", Schema: StringSchema}, {Name: "b", Schema: BytesSchema},
	}})
	st := NewStruct(key)
	st.Set(0, int32(1))
	st.Set(1, `a"b\c`)
	st.Set(2, []byte{1, 2})
	dec := MustBuild(Schema{Type: TypeBytes, Name: DecimalName, Params: []Param{{"scale", "3"}}})
	date := MustBuild(Schema{Type: TypeInt32, Name: DateName, Version: 1, HasVersion: true})
	ts := MustBuild(Schema{Type: TypeInt64, Name: TimestampName, Version: 1, HasVersion: true})
	for _, tc := range []struct {
		s    *Schema
		v    any
		want string
	}{
		{StringSchema, "0195c4a5-0000-7000-8000-000000000000", "0195c4a5-0000-7000-8000-000000000000"},
		{key, st, `{"id":1,"s":"a\"b\\c","b":"AQI="}`},
		{Float64Schema, 1.0, "1.0"},
		{Float32Schema, float32(0.1), "0.1"},
		{dec, []byte{0xFF, 0x85}, "-0.123"},
		{date, int32(19000), "2022-01-08"},
		{ts, int64(1742741274875), "2025-03-23T14:47:54.875Z"},
		{nil, []any{"a", int64(1)}, `["a",1]`},
		{nil, Map{{"k", "v"}}, `{"k":"v"}`},
	} {
		got, err := HeaderValue(tc.s, tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%v: got %s, want %s", tc.v, got, tc.want)
		}
	}
	if b, _ := HeaderValue(StringSchema, nil); b != nil {
		t.Errorf("null header: %q", b)
	}
}

func TestUnscaledBytes(t *testing.T) {
	for _, b := range [][]byte{{0}, {1}, {0x7F}, {0, 0x80}, {0xFF}, {0x80}, {0xFF, 0x7F}, {0x01, 0x00, 0x00}} {
		if got := UnscaledBytes(UnscaledInt(b)); !bytes.Equal(got, b) {
			t.Errorf("%x: got %x", b, got)
		}
	}
	if got := canonicalUnscaled([]byte{0, 0, 1}); !bytes.Equal(got, []byte{1}) {
		t.Errorf("canonical: %x", got)
	}
	if got := canonicalUnscaled([]byte{0xFF, 0xFF, 0x80}); !bytes.Equal(got, []byte{0x80}) {
		t.Errorf("canonical: %x", got)
	}
}

func TestTruncInt(t *testing.T) {
	for in, want := range map[string]int64{
		"1.9": 1, "-1.9": -1, "1e2": 100, "1.5e1": 15, "1e70": 0, "123e-2": 1, "-123E-2": -1,
		"18446744073709551617.5": 1, "1e-99999999999999999999": 0, "0.5e99999999999999999999": 0,
	} {
		if got := truncInt([]byte(in)); got != want {
			t.Errorf("truncInt(%s) = %d, want %d", in, got, want)
		}
	}
	if b, err := unscaledFromText("1.5e1", 1); err != nil || !bytes.Equal(b, []byte{0, 150}) {
		t.Errorf("unscaledFromText: %x %v", b, err)
	}
	if _, err := unscaledFromText("1e999999999", 0); err == nil {
		t.Error("huge exponent accepted")
	}
}

func TestNestingDepth(t *testing.T) {
	deep := strings.Repeat("[", 2000) + strings.Repeat("]", 2000)
	if _, _, err := NewJSONConverter(false).ToConnect([]byte(deep)); err == nil || !strings.Contains(err.Error(), "exceeds the maximum allowed (1000)") {
		t.Errorf("schemaless: %v", err)
	}
	if _, err := ParseJSON([]byte(deep)); err == nil {
		t.Error("ParseJSON accepted 2000 levels")
	}
	if _, _, err := NewJSONConverter(true).ToConnect([]byte(`{"schema":null,"payload":` + deep + `}`)); err == nil {
		t.Error("envelope accepted 2000 levels")
	}
	ok := strings.Repeat("[", 900) + strings.Repeat("]", 900)
	if _, _, err := NewJSONConverter(false).ToConnect([]byte(ok)); err != nil {
		t.Errorf("900 levels: %v", err)
	}
}

// TestStructArena checks that Structs from a StructArena start null and
// never share their values, across blocks, for wide schemas and after a
// Reset.
func TestStructArena(t *testing.T) {
	narrow := MustBuild(Schema{Type: TypeStruct, Fields: []Field{
		{Name: "a", Schema: PrimitiveSchema(TypeInt32, true)}, {Name: "b", Schema: PrimitiveSchema(TypeString, true)}}})
	var wideFields []Field
	for i := range arenaValues/4 + 1 {
		wideFields = append(wideFields, Field{Name: fmt.Sprintf("f%d", i), Schema: PrimitiveSchema(TypeInt64, true)})
	}
	wide := MustBuild(Schema{Type: TypeStruct, Fields: wideFields})
	var a StructArena
	for round := range 3 {
		var all []*Struct
		for i := range 3*arenaStructs + 7 {
			s := narrow
			if i%50 == 0 {
				s = wide
			}
			st := a.New(s)
			if st.Schema() != s || st.Len() != len(s.Fields) {
				t.Fatalf("round %d struct %d: schema or length wrong", round, i)
			}
			for f := range st.Len() {
				if st.Get(f) != nil {
					t.Fatalf("round %d struct %d field %d not null", round, i, f)
				}
			}
			st.Set(0, int32(i))
			st.Set(st.Len()-1, int64(i))
			all = append(all, st)
		}
		for i, st := range all {
			if st.Get(0) != int32(i) || st.Get(st.Len()-1) != int64(i) {
				t.Fatalf("round %d struct %d: overwritten by another struct", round, i)
			}
		}
		a.Reset()
	}
}
