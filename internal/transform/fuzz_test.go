package transform

import (
	"testing"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
)

// FuzzExpandPayload feeds arbitrary payloads to EventRouter's
// table.expand.json.payload: it may refuse them (Debezium logs a warning
// and keeps the string), but what it expands must convert to JSON with
// and without schemas.
func FuzzExpandPayload(f *testing.F) {
	for _, s := range []string{
		`{"id": 1, "lines": [{"qty": 2, "sku": "a"}, {"qty": 1, "sku": "b", "note": null}], "meta": {"x": null}, "tags": [], "total": 12.5, "big": 12345678901}`,
		`[{"n": 1}, {"n": 2, "m": "x"}]`, `{"a": [1, 2147483648]}`, `{"a": [[1], [2.5]]}`, `{"a": {"b": {"c": [null, true]}}}`,
		`{"a": 1, "a": "x"}`, `{"": 1, " ": {"": []}}`, `{"a": [{"b": 1}, {"b": "x"}]}`, `{"n": 1e400, "m": -0.0}`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, payload string, keepNulls bool) {
		r := &eventRouter{fieldPayload: "payload", expander: jsonExpander{nullAsBytes: keepNulls, emptyArrayString: keepNulls}}
		x, err := r.doExpand(payload)
		if err != nil {
			return
		}
		if err := cd.Validate(x.schema, x.value); err != nil {
			t.Fatalf("%q: expanded value does not fit its schema: %v", payload, err)
		}
		for _, schemas := range []bool{true, false} {
			if _, err := cd.NewJSONConverter(schemas).FromConnect(x.schema, x.value); err != nil {
				t.Fatalf("%q: cannot write the expanded payload: %v", payload, err)
			}
		}
	})
}
