package debezium

import (
	"encoding/json"
	"testing"
)

// TestJSONBText checks appendJSONBText against what PostgreSQL 15 prints
// for SELECT $1::jsonb::text.
func TestJSONBText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"lines":[{"sku":"a","qty":2}],"id":1,"total":1.50e1,"note":"tab\t\"q\" é/","id":7,"neg":-0.0}`,
			`{"id": 7, "neg": 0.0, "note": "tab\t\"q\" é/", "lines": [{"qty": 2, "sku": "a"}], "total": 15.0}`},
		{`[1e2, 1.5E-3, -0, 0.000, 12345678901234567890123, 1E+2, 0.1e1, 123.456e-1, 1e-7, -1.0e-1]`,
			`[100, 0.0015, 0, 0.000, 12345678901234567890123, 100, 1, 12.3456, 0.0000001, -0.10]`},
		{`{"b":{"zz":null,"a":[]},"aa":{},"a":"\u0001\u001f\u007f\/x\\"}`,
			"{\"a\": \"\\u0001\\u001f\x7f/x\\\\\", \"b\": {\"a\": [], \"zz\": null}, \"aa\": {}}"},
		{`{"c":"é😀","ab":true,"b":false}`, `{"b": false, "c": "é😀", "ab": true}`},
		{` "s" `, `"s"`},
	} {
		got, err := appendJSONBText(nil, []byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("appendJSONBText(%s)\n got %s (%v)\nwant %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`{"a":}`, `[1,]`, `{} {}`, ``} {
		if got, err := appendJSONBText(nil, []byte(bad)); err == nil {
			t.Errorf("appendJSONBText(%q) = %s, want an error", bad, got)
		}
	}
}

// FuzzJSONBText checks that the jsonb text of any JSON document is valid
// JSON and its own jsonb text.
func FuzzJSONBText(f *testing.F) {
	f.Add([]byte(`{"b":[1e2,-0.0,{"a":null}],"a":"\u0001","b":true}`))
	f.Add([]byte(`[1.5E-3, 12345678901234567890123]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := appendJSONBText(nil, b)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON %q from %q", out, b)
		}
		again, err := appendJSONBText(nil, out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not stable: %q -> %q -> %q (%v)", b, out, again, err)
		}
	})
}
