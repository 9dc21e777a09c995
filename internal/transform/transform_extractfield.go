package transform

import (
	"strings"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// ExtractField$Key and ExtractField$Value
// (org.apache.kafka.connect.transforms.ExtractField) replace the key or
// value with one of its fields; field.syntax.version=V2 (Kafka 3.8+) reads
// nested fields with dotted paths.

const (
	propField              = "field"
	propFieldSyntaxVersion = "field.syntax.version"
)

func fieldSyntaxField() *options.Field {
	return kafka(&options.Field{Name: propFieldSyntaxVersion, Type: options.TypeString, Default: "V1", Importance: options.High, Since: "Kafka 3.8",
		Enum: []options.Enum{{Value: "V1"}, {Value: "V2"}}, CaseInsensitive: true,
		Doc: "Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. " +
			"If set to `V2`, the syntax will support accessing nested elements. To access nested elements, dotted notation is used. " +
			"If dots are already included in the field name, then backtick pairs can be used to wrap field names containing dots. " +
			"E.g. to access the subfield `baz` from a field named \"foo.bar\" in a struct/map the following format can be used to access its elements: \"`foo.bar`.baz\"."})
}

func extractFieldSpec(s side) *options.Spec {
	return &options.Spec{
		Class: kafkaTransforms + "ExtractField" + s.suffix(), Type: typeTransformation, Version: KafkaVersion,
		Title: "ExtractField" + s.suffix(),
		Summary: "Extract the specified field from a Struct when schema present, or a Map in the case of schemaless data. " +
			"Any null values are passed through unmodified.",
		Fields: []*options.Field{
			kafka(&options.Field{Name: propField, Type: options.TypeString, Required: true, Importance: options.Medium,
				Doc: "Field name to extract.", Check: checkFieldPath}),
			replaceNullField(),
			fieldSyntaxField(),
		},
	}
}

func init() {
	for _, s := range []side{keySide, valueSide} {
		register(&plugin{spec: extractFieldSpec(s), newTransform: func(c *options.Config, _ *env) (transformation, error) {
			p, err := newFieldPath(c.Str(propField), c.Str(propFieldSyntaxVersion))
			if err != nil {
				return nil, err
			}
			return &extractField{side: s, path: p, orig: c.Str(propField), replaceNull: c.Bool(propReplaceNull)}, nil
		}})
	}
}

// checkFieldPath reports an incomplete backtick pair of a V2 path.
func checkFieldPath(c *options.Check) {
	if c.IsNull() {
		return
	}
	v, _ := sibling(c, propField, propFieldSyntaxVersion)
	if _, err := newFieldPath(c.Value(), v); err != nil {
		c.Fail(err.Error())
	}
}

// fieldPath is Kafka's SingleFieldPath.
type fieldPath []string

func newFieldPath(path, version string) (fieldPath, error) {
	if !strings.EqualFold(version, "V2") {
		return fieldPath{path}, nil
	}
	var steps fieldPath
	idx := 0
	for idx < len(path) && idx >= 0 {
		if path[idx] != '`' {
			start := idx
			if dot := strings.IndexByte(path[idx:], '.'); dot >= 0 {
				steps = append(steps, path[start:idx+dot])
				idx += dot + 1
			} else {
				steps = append(steps, path[start:])
				idx = -1
			}
			continue
		}
		backtickAt := idx
		idx++
		var field strings.Builder
		start := idx
		for {
			next := strings.IndexByte(path[idx:], '`')
			if next < 0 {
				return nil, incompleteBacktick(path, backtickAt)
			}
			idx += next
			escaped := path[idx-1] == '\\'
			if idx >= len(path)-1 {
				if escaped {
					return nil, incompleteBacktick(path, backtickAt)
				}
				field.WriteString(path[start:idx])
				steps = append(steps, field.String())
				idx++
				break
			}
			if path[idx+1] != '.' {
				idx++
				continue
			}
			if escaped {
				field.WriteString(path[start : idx-1])
				field.WriteByte('`')
				idx++
				start = idx
				continue
			}
			field.WriteString(path[start:idx])
			steps = append(steps, field.String())
			idx += 2
			break
		}
	}
	if path != "" && path[len(path)-1] == '.' {
		steps = append(steps, "")
	}
	if len(steps) == 0 {
		steps = fieldPath{""}
	}
	return steps, nil
}

func incompleteBacktick(path string, at int) error {
	return javaErrorf("Incomplete backtick pair in path: [%s], consider adding a backslash before backtick at position %d to escape it", path, at)
}

// fieldFrom returns the field the path names in s.
func (p fieldPath) fieldFrom(s *cd.Schema) (cd.Field, bool) {
	cur := s
	for _, step := range p[:len(p)-1] {
		f, ok := cur.Field(step)
		if !ok {
			return cd.Field{}, false
		}
		cur = f.Schema
	}
	return cur.Field(p[len(p)-1])
}

// valueFromStruct is SingleFieldPath.valueFrom(Struct, withDefault).
func (p fieldPath) valueFromStruct(st *cd.Struct, withDefault bool) (any, error) {
	cur := st
	for _, step := range p[:len(p)-1] {
		f, ok := cur.Schema().Field(step)
		if !ok {
			return nil, nil
		}
		sub := cur.GetOrDefault(f.Index)
		if sub == nil {
			return nil, nil
		}
		next, err := requireStruct(sub, "nested field access")
		if err != nil {
			return nil, err
		}
		cur = next
	}
	f, ok := cur.Schema().Field(p[len(p)-1])
	if !ok {
		return nil, nil
	}
	return fieldValue(cur, f.Index, withDefault), nil
}

// valueFromMap is SingleFieldPath.valueFrom(Map).
func (p fieldPath) valueFromMap(m cd.Map) (any, error) {
	cur := m
	for _, step := range p[:len(p)-1] {
		sub, _ := cur.Get(step)
		if sub == nil {
			return nil, nil
		}
		next, err := requireMap(sub, "nested field access")
		if err != nil {
			return nil, err
		}
		cur = next
	}
	v, _ := cur.Get(p[len(p)-1])
	return v, nil
}

type extractField struct {
	side        side
	path        fieldPath
	orig        string
	replaceNull bool
}

func (t *extractField) uses() uses { return t.side.uses() }

const purposeExtract = "field extraction"

func (t *extractField) apply(r *cd.Record) (bool, error) {
	s, v := t.side.get(r)
	if s == nil {
		if v == nil {
			t.side.set(r, nil, nil)
			return true, nil
		}
		m, err := requireMap(v, purposeExtract)
		if err != nil {
			return false, err
		}
		nv, err := t.path.valueFromMap(m)
		if err != nil {
			return false, err
		}
		t.side.set(r, nil, nv)
		return true, nil
	}
	var st *cd.Struct
	if v != nil {
		var err error
		if st, err = requireStruct(v, purposeExtract); err != nil {
			return false, err
		}
	}
	f, ok := t.path.fieldFrom(s)
	if !ok {
		return false, javaErrorf("Unknown field: %s", t.orig)
	}
	var nv any
	if st != nil {
		var err error
		if nv, err = t.path.valueFromStruct(st, t.replaceNull); err != nil {
			return false, err
		}
	}
	t.side.set(r, f.Schema, nv)
	return true, nil
}
