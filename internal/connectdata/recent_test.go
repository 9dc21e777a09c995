package connectdata

import (
	"fmt"
	"testing"
)

// A converter that reads records of several schemas in turn must give each
// record its own schema. A most-recent list of schemas (since removed)
// once returned the schema it had just moved in place of the hit: a record
// of table a, read after records of a and then b, came back with b's
// schema.
func TestRecentSchemasAlternate(t *testing.T) {
	rec := func(name, typ, val string) []byte {
		return fmt.Appendf(nil, `{"schema":{"type":"struct","fields":[{"type":%q,"optional":false,"field":"x"}],"optional":false,"name":%q},"payload":{"x":%s}}`, typ, name, val)
	}
	a := rec("a", "int32", "1")
	b := rec("b", "string", `"s"`)
	c := rec("c", "boolean", "true")
	d := rec("d", "int64", "7")
	e := rec("e", "double", "1.5")
	conv := NewJSONConverter(true)
	for i, r := range [][]byte{a, b, a, c, b, a, d, e, a, e, b, c, d, a} {
		s, _, err := conv.ToConnect(r)
		if err != nil {
			t.Fatalf("record %d (%s): %v", i, r, err)
		}
		want, _, _ := NewJSONConverter(true).ToConnect(r)
		if s.Name != want.Name {
			t.Fatalf("record %d: schema %q, want %q", i, s.Name, want.Name)
		}
	}
}
