package transform

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// MaskField$Key and MaskField$Value
// (org.apache.kafka.connect.transforms.MaskField) replace the listed
// fields with the null value of their type (0, false, "", empty array or
// map), or with replacement converted to the field's type.

const propFields = "fields"

func maskFieldSpec(s side) *options.Spec {
	return &options.Spec{
		Class: kafkaTransforms + "MaskField" + s.suffix(), Type: typeTransformation, Version: KafkaVersion,
		Title: "MaskField" + s.suffix(),
		Summary: "Mask specified fields with a valid null value for the field type (i.e. 0, false, empty string, and so on). " +
			"For numeric and string fields, an optional replacement value can be specified that is converted to the correct type.",
		Fields: []*options.Field{
			kafka(&options.Field{Name: propFields, Type: options.TypeList, Required: true, Importance: options.High,
				Doc: "Names of fields to mask.", Check: checkNonEmptyList}),
			kafka(&options.Field{Name: propReplacement, Type: options.TypeString, Importance: options.Low,
				Doc: "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only).", Check: checkNonEmptyString}),
			replaceNullField(),
		},
	}
}

func init() {
	for _, s := range []side{keySide, valueSide} {
		register(&plugin{spec: maskFieldSpec(s), newTransform: func(c *options.Config, _ *env) (transformation, error) {
			t := &maskField{side: s, fields: map[string]bool{}, replaceNull: c.Bool(propReplaceNull)}
			t.order = c.List(propFields)
			for _, f := range t.order {
				t.fields[f] = true
			}
			if c.IsSet(propReplacement) {
				t.replacement, t.hasReplacement = c.Str(propReplacement), true
			}
			return t, nil
		}})
	}
}

// checkNonEmptyList is Kafka's NonEmptyListValidator.
func checkNonEmptyList(c *options.Check) {
	if c.IsNull() {
		c.ErrorValuef("null", "Empty list")
		return
	}
	if len(options.SplitList(c.Value())) == 0 {
		c.ErrorValuef("[]", "Empty list")
	}
}

type maskField struct {
	side           side
	fields         map[string]bool
	order          []string
	replacement    string
	hasReplacement bool
	replaceNull    bool
}

func (t *maskField) uses() uses { return t.side.uses() }

const purposeMask = "mask fields"

func (t *maskField) apply(r *cd.Record) (bool, error) {
	s, v := t.side.get(r)
	if s == nil {
		m, err := requireMap(v, purposeMask)
		if err != nil {
			return false, err
		}
		out := m.Clone()
		for _, f := range t.order {
			old, _ := m.Get(f)
			nv, err := t.masked(nil, old)
			if err != nil {
				return false, err
			}
			out = out.Set(f, nv)
		}
		t.side.set(r, nil, out)
		return true, nil
	}
	st, err := requireStruct(v, purposeMask)
	if err != nil {
		return false, err
	}
	out := cd.NewStruct(st.Schema())
	for i, f := range st.Schema().Fields {
		fv := fieldValue(st, i, t.replaceNull)
		if t.fields[f.Name] {
			if fv, err = t.masked(f.Schema, fv); err != nil {
				return false, err
			}
		}
		out.Set(i, fv)
	}
	t.side.set(r, s, out)
	return true, nil
}

func (t *maskField) masked(s *cd.Schema, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if !t.hasReplacement {
		return maskWithNull(s, v)
	}
	return maskWithReplacement(s, v, t.replacement)
}

func maskWithNull(s *cd.Schema, v any) (any, error) {
	if scale, ok := cd.DecimalScaleOf(s); ok {
		// BigDecimal.ZERO has scale 0: JsonConverter refuses it for any
		// other scale.
		if scale != 0 {
			return nil, dataErrorf("BigDecimal has mismatching scale value for given Decimal schema")
		}
		return []byte{0}, nil
	}
	switch v.(type) {
	case bool:
		return false, nil
	case int8:
		return int8(0), nil
	case int16:
		return int16(0), nil
	case int32:
		return int32(0), nil // also new Date(0) for Date and Time
	case int64:
		return int64(0), nil
	case float32:
		return float32(0), nil
	case float64:
		return float64(0), nil
	case string:
		return "", nil
	case []any:
		return []any{}, nil
	case cd.Map:
		return cd.Map{}, nil
	}
	return nil, dataErrorf("Cannot mask value of type: class %s", cd.JavaClassName(v))
}

func maskWithReplacement(s *cd.Schema, v any, repl string) (any, error) {
	class := cd.JavaClassName(v)
	if _, ok := cd.LogicalMillis(s, v); ok {
		class = "java.util.Date"
	}
	bad := func() (any, error) {
		return nil, dataErrorf("Unable to convert %s (class java.lang.String) to number", repl)
	}
	if scale, ok := cd.DecimalScaleOf(s); ok {
		// new BigDecimal(replacement); Decimal.fromLogical then demands
		// the schema's scale.
		d, ok := parseJavaBigDecimal(repl)
		if !ok {
			return bad()
		}
		if d.scale != scale {
			return nil, dataErrorf("BigDecimal has mismatching scale value for given Decimal schema")
		}
		return d.unscaled, nil
	}
	if class == "java.util.Date" {
		return nil, dataErrorf("Cannot mask value of type class %s with custom replacement.", class)
	}
	num := func(bits int) (int64, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(repl), 10, bits)
		if err != nil {
			return 0, fmt.Errorf("out of range")
		}
		return n, nil
	}
	switch v.(type) {
	case int8:
		n, err := num(8)
		if err != nil {
			return bad()
		}
		return int8(n), nil
	case int16:
		n, err := num(16)
		if err != nil {
			return bad()
		}
		return int16(n), nil
	case int32:
		n, err := num(32)
		if err != nil {
			return bad()
		}
		return int32(n), nil
	case int64:
		n, err := num(64)
		if err != nil {
			return bad()
		}
		return n, nil
	case float32:
		f, ok := parseJavaDouble(repl)
		if !ok || (!math.IsInf(f, 0) && math.Abs(f) > math.MaxFloat32) {
			return bad()
		}
		return float32(f), nil
	case float64:
		f, ok := parseJavaDouble(repl)
		if !ok {
			return bad()
		}
		return f, nil
	case string:
		return repl, nil
	}
	return nil, dataErrorf("Cannot mask value of type class %s with custom replacement.", class)
}

// parseJavaDouble approximates Double.parseDouble: surrounding blanks,
// NaN, Infinity and a trailing d/D/f/F are allowed.
func parseJavaDouble(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	switch s {
	case "NaN", "+NaN", "-NaN":
		return math.NaN(), true
	case "Infinity", "+Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	if n := len(s); n > 0 && strings.ContainsRune("dDfF", rune(s[n-1])) {
		s = s[:n-1]
	}
	if strings.ContainsAny(s, "xXpP_") || strings.EqualFold(s, "inf") || strings.EqualFold(s, "+inf") || strings.EqualFold(s, "-inf") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return 0, false
	}
	return f, true
}

type javaBigDecimal struct {
	unscaled []byte
	scale    int32
}

// parseJavaBigDecimal is new BigDecimal(String): the scale is the number of
// fraction digits less the exponent.
func parseJavaBigDecimal(s string) (javaBigDecimal, bool) {
	mant := s
	exp := int64(0)
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil {
			return javaBigDecimal{}, false
		}
		mant, exp = s[:i], e
	}
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimLeft(mant, "+-")
	if strings.Count(mant, ".") > 1 || mant == "" || mant == "." {
		return javaBigDecimal{}, false
	}
	frac := 0
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		frac = len(mant) - i - 1
		mant = mant[:i] + mant[i+1:]
	}
	for _, c := range mant {
		if c < '0' || c > '9' {
			return javaBigDecimal{}, false
		}
	}
	n, ok := newBigInt(mant)
	if !ok {
		return javaBigDecimal{}, false
	}
	if neg {
		n.Neg(n)
	}
	scale := int64(frac) - exp
	if scale > math.MaxInt32 || scale < math.MinInt32 {
		return javaBigDecimal{}, false
	}
	return javaBigDecimal{unscaled: cd.UnscaledBytes(n), scale: int32(scale)}, true
}
