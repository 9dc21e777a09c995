package transform

import (
	"fmt"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// HeaderFrom$Key and HeaderFrom$Value
// (org.apache.kafka.connect.transforms.HeaderFrom) copy or move fields
// into headers, written as SimpleHeaderConverter writes them.

const (
	propHeaders   = "headers"
	propOperation = "operation"
)

func headerFromSpec(s side) *options.Spec {
	return &options.Spec{
		Class: kafkaTransforms + "HeaderFrom" + s.suffix(), Type: typeTransformation, Version: KafkaVersion,
		Title: "HeaderFrom" + s.suffix(),
		Summary: "Moves or copies fields in the key/value of a record into that record's headers. " +
			"Corresponding elements of `fields` and `headers` together identify a field and the header it should be moved or copied to.",
		Fields: []*options.Field{
			kafka(&options.Field{Name: propFields, Type: options.TypeList, Required: true, Importance: options.High,
				Doc: "Field names in the record whose values are to be copied or moved to headers.", Check: checkNonEmptyList}),
			kafka(&options.Field{Name: propHeaders, Type: options.TypeList, Required: true, Importance: options.High,
				Doc: "Header names, in the same order as the field names listed in the fields configuration property.", Check: both(checkNonEmptyList, checkHeaderCount)}),
			kafka(&options.Field{Name: propOperation, Type: options.TypeString, Required: true, Importance: options.High,
				Enum: []options.Enum{{Value: "move"}, {Value: "copy"}},
				Doc:  "Either `move` if the fields are to be moved to the headers (removed from the key/value), or `copy` if the fields are to be copied to the headers (retained in the key/value)."}),
			replaceNullField(),
		},
	}
}

func init() {
	for _, s := range []side{keySide, valueSide} {
		register(&plugin{spec: headerFromSpec(s), newTransform: func(c *options.Config, _ *env) (transformation, error) {
			t := &headerFrom{side: s, fields: c.List(propFields), headers: c.List(propHeaders),
				move: c.Str(propOperation) == "move", replaceNull: c.Bool(propReplaceNull)}
			if len(t.fields) != len(t.headers) {
				return nil, javaErrorf("'%s' config must have the same number of elements as '%s' config.", propFields, propHeaders)
			}
			return t, nil
		}})
	}
}

// checkHeaderCount is configure's check that fields and headers pair up.
func checkHeaderCount(c *options.Check) {
	if c.IsNull() {
		return
	}
	fields, ok := sibling(c, propHeaders, propFields)
	if !ok {
		return
	}
	if len(options.SplitList(fields)) != len(options.SplitList(c.Value())) {
		c.Fail(fmt.Sprintf("'%s' config must have the same number of elements as '%s' config.", propFields, propHeaders))
	}
}

type headerFrom struct {
	side            side
	fields, headers []string
	move            bool
	replaceNull     bool
	cache           schemaCache
}

func (t *headerFrom) uses() uses { return t.side.uses() }

func (t *headerFrom) apply(r *cd.Record) (bool, error) {
	s, v := t.side.get(r)
	purpose := "header copy"
	if t.move {
		purpose = "header move"
	}
	if s == nil {
		m, err := requireMap(v, purpose)
		if err != nil {
			return false, err
		}
		out := m
		if t.move {
			out = m.Clone()
		}
		for i, f := range t.fields {
			fv, _ := m.Get(f)
			if t.move {
				out = out.Delete(f)
			}
			if err := r.AddHeader(t.headers[i], nil, fv); err != nil {
				return false, err
			}
		}
		t.side.set(r, nil, out)
		return true, nil
	}
	st, err := requireStruct(v, purpose)
	if err != nil {
		return false, err
	}
	us, out := s, st
	if t.move {
		var ok bool
		if us, ok = t.cache.get(s); !ok {
			b := copySchemaBasics(s, cd.TypeStruct)
			for _, f := range s.Fields {
				if !contains(t.fields, f.Name) {
					b.Fields = append(b.Fields, f)
				}
			}
			if us, err = cd.Build(b); err != nil {
				return false, err
			}
			t.cache.put(s, us)
		}
		out = cd.NewStruct(us)
		for i, f := range us.Fields {
			src, _ := st.Schema().Field(f.Name)
			out.Set(i, fieldValue(st, src.Index, t.replaceNull))
		}
	}
	for i, name := range t.fields {
		f, ok := s.Field(name)
		if !ok {
			// operatingSchema.field(fieldName).schema() on a missing field.
			return false, dataErrorf("%s is not a valid field name", name)
		}
		if err := r.AddHeader(t.headers[i], f.Schema, fieldValue(st, f.Index, t.replaceNull)); err != nil {
			return false, err
		}
	}
	t.side.set(r, us, out)
	return true, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
