package connectdata

import (
	"bytes"
	"testing"
)

// FuzzJSONConverter feeds arbitrary bytes to ToConnect, with schemas
// enabled and disabled. Whatever parses must write back, and what is
// written must be a fixed point: parsing and writing it again gives the
// same bytes.
func FuzzJSONConverter(f *testing.F) {
	for _, payloads := range goldenPayloads(f) {
		for _, b := range payloads {
			f.Add(b, bytes.HasPrefix(b, []byte(`{"schema":`)))
		}
	}
	for _, s := range []string{
		`{"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"double","optional":true}},"payload":[[1,"NaN"],[2,null]]}`,
		`{"payload":{"a":[1,2]},"schema":{"type":"struct","fields":[{"type":"array","items":{"type":"int16"},"field":"a"}]}}`,
		`{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"},"default":"AA=="},"payload":null}`,
		`{"schema":null,"payload":{"a":{"b":[1e3,-0.0,"\u0000"]}}}`,
	} {
		f.Add([]byte(s), true)
	}
	f.Add([]byte(`{"a":1,"a":[true,false,null]}`), false)
	f.Add([]byte(`  "\ud800x" `), false)
	f.Fuzz(func(t *testing.T, data []byte, schemas bool) {
		c := NewJSONConverter(schemas)
		s, v, err := c.ToConnect(data)
		if err != nil {
			return
		}
		b1, err := c.FromConnect(s, v)
		if err != nil {
			t.Fatalf("parsed %q but cannot write it back: %v", data, err)
		}
		if b1 == nil {
			if s != nil || v != nil {
				t.Fatalf("%q: null bytes for a non-null value", data)
			}
			return
		}
		s2, v2, err := c.ToConnect(b1)
		if err != nil {
			t.Fatalf("cannot parse our own output %q (from %q): %v", b1, data, err)
		}
		b2, err := c.FromConnect(s2, v2)
		if err != nil {
			t.Fatalf("cannot write %q again: %v", b1, err)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("not a fixed point:\n 1st: %s\n 2nd: %s\n from %q", b1, b2, data)
		}
	})
}
