package transform

import (
	"strings"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// InsertField$Key and InsertField$Value
// (org.apache.kafka.connect.transforms.InsertField) add fields from the
// record's metadata (topic, partition, timestamp) or a static value. A
// field name ending in "!" is required, "?" (the default) optional.
// offset.field is for sink connectors: set on a source record it fails, as
// in Kafka.

const (
	propTopicField     = "topic.field"
	propPartitionField = "partition.field"
	propOffsetField    = "offset.field"
	propTimestampField = "timestamp.field"
	propStaticField    = "static.field"
	propStaticValue    = "static.value"
	propReplaceNull    = options.PropReplaceNullWithDefault
)

const optionalityDoc = "Suffix with `!` to make this a required field, or `?` to keep it optional (the default)."

func insertFieldSpec(s side) *options.Spec {
	return &options.Spec{
		Class: kafkaTransforms + "InsertField" + s.suffix(), Type: typeTransformation, Version: KafkaVersion,
		Title:   "InsertField" + s.suffix(),
		Summary: "Insert field(s) using attributes from the record metadata or a configured static value.",
		Fields: []*options.Field{
			kafka(&options.Field{Name: propTopicField, Type: options.TypeString, Importance: options.Medium, Doc: "Field name for Kafka topic. " + optionalityDoc, Check: checkInsertion}),
			kafka(&options.Field{Name: propPartitionField, Type: options.TypeString, Importance: options.Medium, Doc: "Field name for Kafka partition. " + optionalityDoc}),
			kafka(&options.Field{Name: propOffsetField, Type: options.TypeString, Importance: options.Medium, Doc: "Field name for Kafka offset - only applicable to sink connectors. " + optionalityDoc}),
			kafka(&options.Field{Name: propTimestampField, Type: options.TypeString, Importance: options.Medium, Doc: "Field name for record timestamp. " + optionalityDoc}),
			kafka(&options.Field{Name: propStaticField, Type: options.TypeString, Importance: options.Medium, Doc: "Field name for static data field. " + optionalityDoc}),
			kafka(&options.Field{Name: propStaticValue, Type: options.TypeString, Importance: options.Medium, Doc: "Static field value, if field name configured.", Check: checkStaticValue}),
			replaceNullField(),
		},
	}
}

func init() {
	for _, s := range []side{keySide, valueSide} {
		register(&plugin{spec: insertFieldSpec(s), newTransform: func(c *options.Config, _ *env) (transformation, error) {
			return newInsertField(c, s)
		}})
	}
}

// checkInsertion is configure's "No field insertion configured", reported on
// topic.field.
func checkInsertion(c *options.Check) {
	for _, p := range []string{propTopicField, propPartitionField, propOffsetField, propTimestampField, propStaticField} {
		if _, ok := siblingSet(c, propTopicField, p); ok {
			return
		}
	}
	c.Fail("No field insertion configured")
}

func checkStaticValue(c *options.Check) {
	if f, ok := siblingSet(c, propStaticValue, propStaticField); ok && c.IsNull() {
		c.Errorf("No value specified for static field: %s", f)
	}
}

// insertion is Kafka's InsertionSpec.
type insertion struct {
	name     string
	optional bool
}

func parseInsertion(c *options.Config, prop string) *insertion {
	if !c.IsSet(prop) {
		return nil
	}
	v := c.Str(prop)
	switch {
	case strings.HasSuffix(v, "?"):
		return &insertion{name: v[:len(v)-1], optional: true}
	case strings.HasSuffix(v, "!"):
		return &insertion{name: v[:len(v)-1]}
	}
	return &insertion{name: v, optional: true}
}

type insertField struct {
	side                                        side
	topic, partition, offset, timestamp, static *insertion
	staticValue                                 string
	hasStatic                                   bool
	replaceNull                                 bool
	cache                                       schemaCache
}

func newInsertField(c *options.Config, s side) (*insertField, error) {
	t := &insertField{
		side:        s,
		topic:       parseInsertion(c, propTopicField),
		partition:   parseInsertion(c, propPartitionField),
		offset:      parseInsertion(c, propOffsetField),
		timestamp:   parseInsertion(c, propTimestampField),
		static:      parseInsertion(c, propStaticField),
		replaceNull: c.Bool(propReplaceNull),
	}
	t.staticValue, t.hasStatic = c.Str(propStaticValue), c.IsSet(propStaticValue)
	if t.topic == nil && t.partition == nil && t.offset == nil && t.timestamp == nil && t.static == nil {
		return nil, errorString("No field insertion configured")
	}
	if t.static != nil && !t.hasStatic {
		return nil, errorString("No value specified for static field: " + t.static.name)
	}
	return t, nil
}

func (t *insertField) uses() uses { return t.side.uses() }

const purposeInsert = "field insertion"

func (t *insertField) apply(r *cd.Record) (bool, error) {
	s, v := t.side.get(r)
	if v == nil {
		return true, nil
	}
	if t.offset != nil {
		return false, dataErrorf("Only SinkRecord supported for [%s], found: org.apache.kafka.connect.source.SourceRecord", purposeInsert)
	}
	if s == nil {
		m, err := requireMap(v, purposeInsert)
		if err != nil {
			return false, err
		}
		m = m.Clone()
		if t.topic != nil {
			m = m.Set(t.topic.name, r.Topic)
		}
		if t.partition != nil && r.Partition >= 0 {
			m = m.Set(t.partition.name, r.Partition)
		}
		if t.timestamp != nil && r.HasTimestamp {
			m = m.Set(t.timestamp.name, r.Timestamp)
		}
		if t.static != nil && t.hasStatic {
			m = m.Set(t.static.name, t.staticValue)
		}
		t.side.set(r, nil, m)
		return true, nil
	}
	st, err := requireStruct(v, purposeInsert)
	if err != nil {
		return false, err
	}
	us, ok := t.cache.get(st.Schema())
	if !ok {
		if us, err = t.updatedSchema(st.Schema()); err != nil {
			return false, err
		}
		t.cache.put(st.Schema(), us)
	}
	out := cd.NewStruct(us)
	n := st.Len()
	for i := 0; i < n; i++ {
		out.Set(i, fieldValue(st, i, t.replaceNull))
	}
	if t.topic != nil {
		_ = out.SetName(t.topic.name, r.Topic)
	}
	if t.partition != nil && r.Partition >= 0 {
		_ = out.SetName(t.partition.name, r.Partition)
	}
	if t.timestamp != nil && r.HasTimestamp {
		_ = out.SetName(t.timestamp.name, r.Timestamp)
	}
	if t.static != nil && t.hasStatic {
		_ = out.SetName(t.static.name, t.staticValue)
	}
	t.side.set(r, us, out)
	return true, nil
}

func (t *insertField) updatedSchema(s *cd.Schema) (*cd.Schema, error) {
	b := copySchemaBasics(s, cd.TypeStruct)
	b.Fields = append([]cd.Field(nil), s.Fields...)
	add := func(in *insertion, sch *cd.Schema) {
		if in != nil {
			b.Fields = append(b.Fields, cd.Field{Name: in.name, Schema: sch})
		}
	}
	add(t.topic, pickSchema(t.topic, cd.OptionalStringSchema, cd.StringSchema))
	add(t.partition, pickSchema(t.partition, cd.OptionalInt32Schema, cd.Int32Schema))
	add(t.offset, pickSchema(t.offset, cd.OptionalInt64Schema, cd.Int64Schema))
	add(t.timestamp, pickSchema(t.timestamp, cd.OptionalTimestampSchema, cd.TimestampSchema))
	add(t.static, pickSchema(t.static, cd.OptionalStringSchema, cd.StringSchema))
	return cd.Build(b)
}

func pickSchema(in *insertion, optional, required *cd.Schema) *cd.Schema {
	if in != nil && in.optional {
		return optional
	}
	return required
}

// errorString is an error with a fixed text.
type errorString string

func (e errorString) Error() string { return string(e) }
