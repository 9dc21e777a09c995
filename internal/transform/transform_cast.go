package transform

import (
	"fmt"
	"strings"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/java"
	"github.com/pgmotion/pgmotion/internal/options"
)

// Cast$Key and Cast$Value (org.apache.kafka.connect.transforms.Cast) cast
// top-level fields, or the whole key or value, to another primitive type.

const propSpec = "spec"

func castSpec(s side) *options.Spec {
	return &options.Spec{
		Class: kafkaTransforms + "Cast" + s.suffix(), Type: typeTransformation, Version: KafkaVersion,
		Title: "Cast" + s.suffix(),
		Summary: "Cast fields or the entire key or value to a specific type, e.g. to force an integer field to a smaller width. " +
			"Cast from integers, floats, boolean and string to any other type, and cast binary to string (base64 encoded).",
		Fields: []*options.Field{
			kafka(&options.Field{Name: propSpec, Type: options.TypeList, Required: true, Importance: options.High, Check: checkCastSpec,
				Doc: "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. " +
					"A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. " +
					"Note that binary fields can only be cast to string."}),
			replaceNullField(),
		},
	}
}

func init() {
	for _, s := range []side{keySide, valueSide} {
		register(&plugin{spec: castSpec(s), newTransform: func(c *options.Config, _ *env) (transformation, error) {
			casts, whole, err := parseCastSpec(c.List(propSpec))
			if err != nil {
				return nil, err
			}
			t := &cast{side: s, casts: casts, whole: whole, replaceNull: c.Bool(propReplaceNull)}
			for _, it := range c.List(propSpec) {
				if parts := java.Split(it, ":"); len(parts) == 2 && !contains(t.order, strings.TrimSpace(parts[0])) {
					t.order = append(t.order, strings.TrimSpace(parts[0]))
				}
			}
			return t, nil
		}})
	}
}

const (
	castInputTypes  = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]"
	castOutputTypes = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"
)

// castSpecError is a ConfigException thrown by the spec's validator; its
// message is the whole error text.
type castSpecError string

func (e castSpecError) Error() string { return string(e) }

func checkCastSpec(c *options.Check) {
	if c.IsNull() {
		c.Fail("Must specify at least one field to cast.")
		return
	}
	items := options.SplitList(c.Value())
	if len(items) == 0 {
		c.Fail("Must specify at least one field to cast.")
		return
	}
	if _, _, err := parseCastSpec(items); err != nil {
		c.Fail(err.Error())
	}
}

// parseCastSpec is Cast.parseFieldTypes: field:type pairs, or one type for
// the whole value (returned as whole).
func parseCastSpec(items []string) (map[string]cd.Type, cd.Type, error) {
	if len(items) == 0 {
		return nil, 0, castSpecError("Must specify at least one field to cast.")
	}
	m := map[string]cd.Type{}
	var whole cd.Type
	for _, it := range items {
		parts := java.Split(it, ":")
		if len(parts) > 2 {
			return nil, 0, castSpecError(fmt.Sprintf("Invalid value %s for configuration renames: Invalid rename mapping: %s", java.ListString(items), it))
		}
		name := ""
		typ := ""
		if len(parts) <= 1 {
			if len(parts) == 1 {
				typ = strings.TrimSpace(parts[0])
			}
		} else {
			name, typ = strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
		}
		t, ok := cd.ParseType(typ)
		if !ok {
			return nil, 0, castSpecError("Invalid type found in casting spec: " + typ)
		}
		if t == cd.TypeBytes || !t.IsPrimitive() {
			return nil, 0, castSpecError(fmt.Sprintf("Cast transformation does not support casting to %s; supported types are %s", t, castOutputTypes))
		}
		if len(parts) <= 1 {
			whole = t
		} else {
			m[name] = t
		}
	}
	if whole != 0 && len(items) > 1 {
		return nil, 0, castSpecError("Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec")
	}
	return m, whole, nil
}

type cast struct {
	side        side
	casts       map[string]cd.Type
	order       []string // fields of casts, as listed
	whole       cd.Type
	replaceNull bool
	cache       schemaCache
}

func (t *cast) uses() uses { return t.side.uses() }

const purposeCast = "cast types"

func (t *cast) apply(r *cd.Record) (bool, error) {
	s, v := t.side.get(r)
	if v == nil {
		return true, nil
	}
	if s == nil {
		if t.whole != 0 {
			nv, err := castValue(nil, v, t.whole)
			if err != nil {
				return false, err
			}
			t.side.set(r, nil, nv)
			return true, nil
		}
		m, err := requireMap(v, purposeCast)
		if err != nil {
			return false, err
		}
		out := m.Clone()
		for _, name := range t.order {
			typ := t.casts[name]
			old, _ := m.Get(name)
			nv, err := castValue(nil, old, typ)
			if err != nil {
				return false, err
			}
			out = out.Set(name, nv)
		}
		t.side.set(r, nil, out)
		return true, nil
	}
	us, ok := t.cache.get(s)
	if !ok {
		var err error
		if us, err = t.updatedSchema(s); err != nil {
			return false, err
		}
		t.cache.put(s, us)
	}
	if t.whole != 0 {
		nv, err := castValue(s, v, t.whole)
		if err != nil {
			return false, err
		}
		t.side.set(r, us, nv)
		return true, nil
	}
	st, err := requireStruct(v, purposeCast)
	if err != nil {
		return false, err
	}
	out := cd.NewStruct(us)
	for i, f := range st.Schema().Fields {
		fv := fieldValue(st, i, t.replaceNull)
		if typ, ok := t.casts[f.Name]; ok {
			if fv, err = castValue(f.Schema, fv, typ); err != nil {
				return false, err
			}
		}
		out.Set(i, fv)
	}
	t.side.set(r, us, out)
	return true, nil
}

func (t *cast) updatedSchema(s *cd.Schema) (*cd.Schema, error) {
	var b cd.Schema
	if t.whole != 0 {
		b = copySchemaBasics(s, t.whole)
	} else {
		b = copySchemaBasics(s, cd.TypeStruct)
		for _, f := range s.Fields {
			typ, ok := t.casts[f.Name]
			if !ok {
				b.Fields = append(b.Fields, f)
				continue
			}
			fb := cd.Schema{Type: typ, Optional: f.Schema.Optional}
			if f.Schema.Default != nil {
				d, err := castValue(f.Schema, f.Schema.Default, typ)
				if err != nil {
					return nil, err
				}
				fb.Default = d
			}
			fs, err := cd.Build(fb)
			if err != nil {
				return nil, err
			}
			b.Fields = append(b.Fields, cd.Field{Name: f.Name, Schema: fs})
		}
	}
	b.Optional = s.Optional
	if s.Default != nil {
		d, err := castValue(s, s.Default, b.Type)
		if err != nil {
			return nil, err
		}
		b.Default = d
	}
	return cd.Build(b)
}

// castValue is Cast.castValueToType.
func castValue(s *cd.Schema, v any, to cd.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	var from cd.Type
	if s == nil {
		t, ok := cd.TypeOf(v)
		if !ok {
			return nil, dataErrorf("Cast transformation was passed a value of type class %s which is not supported by Connect's data API", cd.JavaClassName(v))
		}
		from = t
	} else {
		from = s.Type
	}
	if !from.IsPrimitive() {
		return nil, dataErrorf("Cast transformation does not support casting from %s; supported types are %s", from, castInputTypes)
	}
	if to == cd.TypeStruct {
		// Whole-value casts go through the struct path only with a
		// primitive target; unreachable.
		return nil, dataErrorf("%s is not supported in the Cast transformation.", to)
	}
	if to == cd.TypeString {
		return javaToString(s, v), nil
	}
	outOfRange := func() (any, error) {
		return nil, dataErrorf("Value (%s) was out of range for requested data type", javaToString(s, v))
	}
	unexpected := func() (any, error) {
		return nil, dataErrorf("Unexpected type in Cast transformation: class %s", cd.JavaClassName(v))
	}
	n, isNum := asJavaNumber(s, v)
	b, isBool := v.(bool)
	str, isStr := v.(string)
	switch to {
	case cd.TypeInt8, cd.TypeInt16, cd.TypeInt32, cd.TypeInt64:
		bits := map[cd.Type]int{cd.TypeInt8: 8, cd.TypeInt16: 16, cd.TypeInt32: 32, cd.TypeInt64: 64}[to]
		var x int64
		switch {
		case isNum && to == cd.TypeInt64:
			x = n.longValue()
		case isNum:
			x = int64(n.intValue())
		case isBool:
			if b {
				x = 1
			}
		case isStr:
			p, ok := parseJavaInt(str, bits)
			if !ok {
				return outOfRange()
			}
			x = p
		default:
			return unexpected()
		}
		switch to {
		case cd.TypeInt8:
			return int8(x), nil
		case cd.TypeInt16:
			return int16(x), nil
		case cd.TypeInt32:
			return int32(x), nil
		}
		return x, nil
	case cd.TypeFloat32, cd.TypeFloat64:
		var f float64
		switch {
		case isNum && to == cd.TypeFloat32:
			return n.floatValue(), nil
		case isNum:
			f = n.doubleValue()
		case isBool:
			if b {
				f = 1
			}
		case isStr:
			p, ok := parseJavaDouble(str)
			if !ok {
				return outOfRange()
			}
			f = p
		default:
			return unexpected()
		}
		if to == cd.TypeFloat32 {
			return float32(f), nil
		}
		return f, nil
	case cd.TypeBoolean:
		switch {
		case isNum:
			return n.longValue() != 0, nil
		case isBool:
			return b, nil
		case isStr:
			return strings.EqualFold(str, "true"), nil
		}
		return unexpected()
	}
	return nil, dataErrorf("%s is not supported in the Cast transformation.", to)
}
