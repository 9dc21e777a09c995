package transform

import (
	"strings"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// Facts shared by Debezium's transformations.

const dbzTransforms = "io.debezium.transforms."

// Envelope field names (io.debezium.data.Envelope.FieldName).
const (
	envBefore      = "before"
	envAfter       = "after"
	envSource      = "source"
	envOp          = "op"
	envTransaction = "transaction"
	envTsMs        = "ts_ms"
	envelopeSuffix = ".Envelope"
)

// isEnvelope is SmtManager.isValidEnvelope: a value schema named
// "<...>.Envelope".
func isEnvelope(s *cd.Schema) bool {
	return s != nil && s.Name != "" && strings.HasSuffix(s.Name, envelopeSuffix)
}

// structField returns the struct value of a field of st (null, missing or
// not a struct: nil), as Struct.getStruct does for Debezium's envelopes.
func structField(st *cd.Struct, name string) *cd.Struct {
	v, _ := st.Lookup(name)
	s, _ := v.(*cd.Struct)
	return s
}

// stringField is Struct.getString without the default: "" and false when
// the field is missing or not a string.
func stringField(st *cd.Struct, name string) (string, bool) {
	v, _ := st.Lookup(name)
	s, ok := v.(string)
	return s, ok
}

// dbz declares a Debezium option of a transformation.
func dbz(f *options.Field) *options.Field {
	f.Origin = options.OriginDebezium
	return f
}

// checkDebeziumRegex is Debezium's Field::isRegex.
func checkDebeziumRegex(c *options.Check) {
	if c.IsNull() {
		return
	}
	if _, err := compileJavaRegex(c.Value()); err != nil {
		c.Errorf("A valid regular expressions is expected, but %v", err)
	}
}

// dbzEnum lists the values of a Debezium enumerated option.
func dbzEnum(values ...string) []options.Enum {
	out := make([]options.Enum, len(values))
	for i, v := range values {
		out[i] = options.Enum{Value: v}
	}
	return out
}
