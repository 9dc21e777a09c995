package transform

import (
	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// ValueToKey (org.apache.kafka.connect.transforms.ValueToKey) replaces the
// key with a struct (or map) of the listed value fields. Like Kafka's, it
// fails on tombstones (no value to copy from).

var valueToKeySpec = &options.Spec{
	Class: kafkaTransforms + "ValueToKey", Aliases: []string{"ValueToKey"}, Type: typeTransformation, Version: KafkaVersion,
	Title:   "ValueToKey",
	Summary: "Replace the record key with a new key formed from a subset of fields in the record value.",
	Fields: []*options.Field{
		kafka(&options.Field{Name: propFields, Type: options.TypeList, Required: true, Importance: options.High,
			Doc: "Field names on the record value to extract as the record key.", Check: checkNonEmptyList}),
		replaceNullField(),
	},
}

func init() {
	register(&plugin{spec: valueToKeySpec, newTransform: func(c *options.Config, _ *env) (transformation, error) {
		return &valueToKey{fields: c.List(propFields), replaceNull: c.Bool(propReplaceNull)}, nil
	}})
}

type valueToKey struct {
	fields      []string
	replaceNull bool
	cache       schemaCache
}

func (t *valueToKey) uses() uses { return useKey | useValue }

const purposeValueToKey = "copying fields from value to key"

func (t *valueToKey) apply(r *cd.Record) (bool, error) {
	if r.ValueSchema == nil {
		m, err := requireMap(r.Value, purposeValueToKey)
		if err != nil {
			return false, err
		}
		key := make(cd.Map, 0, len(t.fields))
		for _, f := range t.fields {
			v, _ := m.Get(f)
			key = key.Set(f, v)
		}
		r.KeySchema, r.Key = nil, key
		return true, nil
	}
	st, err := requireStruct(r.Value, purposeValueToKey)
	if err != nil {
		return false, err
	}
	ks, ok := t.cache.get(st.Schema())
	if !ok {
		b := cd.Schema{Type: cd.TypeStruct}
		for _, name := range t.fields {
			f, ok := st.Schema().Field(name)
			if !ok {
				return false, dataErrorf("Field does not exist: %s", name)
			}
			b.Fields = append(b.Fields, cd.Field{Name: name, Schema: f.Schema})
		}
		if ks, err = cd.Build(b); err != nil {
			return false, err
		}
		t.cache.put(st.Schema(), ks)
	}
	key := cd.NewStruct(ks)
	for i, name := range t.fields {
		f, _ := st.Schema().Field(name)
		key.Set(i, fieldValue(st, f.Index, t.replaceNull))
	}
	r.KeySchema, r.Key = ks, key
	r.ValueSchema = st.Schema()
	return true, nil
}
