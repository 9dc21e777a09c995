package transform

import (
	"strings"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// ByLogicalTableRouter (io.debezium.transforms.ByLogicalTableRouter) routes
// the records of several physical tables to one logical topic: the topic
// is topic.regex/topic.replacement applied to the whole topic name, the
// key and envelope schemas are renamed after it, and, with
// key.enforce.uniqueness, the key gains key.field.name holding the
// physical table (key.field.regex/key.field.replacement of the old topic,
// else the old topic). Tombstones and non-envelope records keep their
// value.

const (
	propTopicRegex           = "topic.regex"
	propTopicReplacement     = "topic.replacement"
	propKeyEnforceUniqueness = "key.enforce.uniqueness"
	propKeyFieldRegex        = "key.field.regex"
	propKeyFieldName         = "key.field.name"
	propKeyFieldReplacement  = "key.field.replacement"
	propSchemaNameAdjustment = options.PropSchemaNameAdjustment
	propLogicalTableCache    = "logical.table.cache.size"
)

var logicalTableSpec = &options.Spec{
	Class: dbzTransforms + "ByLogicalTableRouter", Aliases: []string{"ByLogicalTableRouter"}, Type: typeTransformation, Version: options.DebeziumVersion,
	Title:   "ByLogicalTableRouter",
	Summary: "Routes the change events of several physical tables (shards, partitions) to one logical table topic, adding the physical table to the key so that keys stay unique.",
	Fields: []*options.Field{
		dbz(&options.Field{Name: propTopicRegex, Type: options.TypeString, Required: true, Importance: options.Low, Width: options.WidthLong,
			DisplayName: "Topic regex", Check: checkDebeziumRegex,
			Doc: "The regex used for extracting the name of the logical table from the original topic name."}),
		dbz(&options.Field{Name: propTopicReplacement, Type: options.TypeString, Required: true, Importance: options.Low, Width: options.WidthLong,
			DisplayName: "Topic replacement", Check: checkDbzReplacement(propTopicReplacement, propTopicRegex),
			Doc: "The replacement string used in conjunction with " + propTopicRegex + ". This will be used to create the new topic name."}),
		dbz(&options.Field{Name: propKeyEnforceUniqueness, Type: options.TypeBoolean, Default: "true", Importance: options.Low, Width: options.WidthShort,
			DisplayName: "Add source topic name into key",
			Doc: "Augment each record's key with a field denoting the source topic. This field distinguishes records coming from different physical tables which may otherwise have primary/unique key conflicts. " +
				"If the source tables are guaranteed to have globally unique keys then this may be set to false to disable key rewriting."}),
		dbz(&options.Field{Name: propKeyFieldRegex, Type: options.TypeString, Importance: options.Low, Width: options.WidthLong,
			DisplayName: "Key field regex", Check: checkDebeziumRegex,
			Doc: "The regex used for extracting the physical table identifier from the original topic name. Now that multiple physical tables can share a topic, the event's key may need to be augmented to include fields other than just those for the record's primary/unique key, " +
				"since these are not guaranteed to be unique across tables. We need some identifier added to the key that distinguishes the different physical tables."}),
		dbz(&options.Field{Name: propKeyFieldName, Type: options.TypeString, Default: "__dbz__physicalTableIdentifier", Importance: options.Low, Width: options.WidthLong,
			DisplayName: "Key field name",
			Doc: "Each record's key schema will be augmented with this field name. The purpose of this field is to distinguish the different physical tables that can now share a single topic. " +
				"Make sure not to configure a field name that is at risk of conflict with existing key schema field names."}),
		dbz(&options.Field{Name: propKeyFieldReplacement, Type: options.TypeString, Importance: options.Low, Width: options.WidthLong,
			DisplayName: "Key field replacement", Check: checkKeyFieldReplacement, CheckNull: true,
			Doc: "The replacement string used in conjunction with " + propKeyFieldRegex + ". This will be used to create the physical table identifier in the record's key."}),
		dbz(&options.Field{Name: propSchemaNameAdjustment, Type: options.TypeString, Default: "none", Importance: options.Low, Width: options.WidthMedium,
			DisplayName: "Schema Name Adjustment",
			Enum:        []options.Enum{{Value: "none"}, {Value: "avro", Status: options.Accepted, Fallback: "none"}, {Value: "avro_unicode", Status: options.Accepted, Fallback: "none"}},
			Doc:         "Specify how the message key schema names derived from the resulting topic name should be adjusted for compatibility with the message converter used by the connector, including: 'avro' replaces the characters that cannot be used in the Avro type name with underscore, 'none' does not apply any adjustment."}),
		dbz(&options.Field{Name: propLogicalTableCache, Type: options.TypeInt, Default: "16", Importance: options.Low, Width: options.WidthLong,
			DisplayName: "Logical table cache size", Status: options.Accepted,
			Doc: "The size used for holding the max entries in LRUCache. The cache will keep the old/new schema for logical table key and value, also cache the derived key and topic regex result for improving the source record transformation."}),
	},
}

func init() {
	register(&plugin{spec: logicalTableSpec, newTransform: newLogicalTable})
}

// checkDbzReplacement checks a Debezium replacement string against its
// regex.
func checkDbzReplacement(self, regexProp string) func(*options.Check) {
	return func(c *options.Check) {
		if c.IsNull() {
			return
		}
		expr, ok := sibling(c, self, regexProp)
		if !ok {
			return
		}
		re, err := compileJavaRegex(expr)
		if err != nil {
			return
		}
		if _, err := parseJavaReplacement(c.Value(), re.find); err != nil {
			c.Errorf("%v", err)
		}
	}
}

// checkKeyFieldReplacement is validateKeyFieldReplacement: required when
// key.field.regex is set.
func checkKeyFieldReplacement(c *options.Check) {
	re, _ := siblingSet(c, propKeyFieldReplacement, propKeyFieldRegex)
	if strings.TrimSpace(re) == "" {
		return
	}
	if c.IsNull() || strings.TrimSpace(c.Value()) == "" {
		c.Errorf("%s must be non-empty if %s is set.", propKeyFieldReplacement, propKeyFieldRegex)
		return
	}
	checkDbzReplacement(propKeyFieldReplacement, propKeyFieldRegex)(c)
}

type logicalTable struct {
	topic         *regexRouter
	keyRegex      *javaRegex
	keyRepl       javaReplacement
	uniqueness    bool
	keyField      string
	keyCache      schemaCache
	envCache      schemaCache
	physicalCache map[string]string
}

func newLogicalTable(c *options.Config, _ *env) (transformation, error) {
	topic, err := compileRegexRouter(c.Str(propTopicRegex), c.Str(propTopicReplacement))
	if err != nil {
		return nil, err
	}
	t := &logicalTable{
		topic:         topic,
		uniqueness:    c.Bool(propKeyEnforceUniqueness),
		keyField:      c.Str(propKeyFieldName),
		physicalCache: map[string]string{},
	}
	if kr := strings.TrimSpace(c.Str(propKeyFieldRegex)); kr != "" {
		if t.keyRegex, err = compileJavaRegex(c.Str(propKeyFieldRegex)); err != nil {
			return nil, err
		}
		if t.keyRepl, err = parseJavaReplacement(c.Str(propKeyFieldReplacement), t.keyRegex.find); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *logicalTable) uses() uses { return useKey | useValue }

func (t *logicalTable) apply(r *cd.Record) (bool, error) {
	old := r.Topic
	if !t.topic.re.matches(old) {
		return true, nil
	}
	newTopic := t.topic.route(old)
	if newTopic == "" {
		return true, nil // "Routing regex returned an empty topic name, propagating original record"
	}
	var newKeySchema *cd.Schema
	var newKey *cd.Struct
	if r.Key != nil {
		oldKey, err := requireStruct(r.Key, "Updating schema")
		if err != nil {
			return false, err
		}
		if newKeySchema, err = t.keySchema(oldKey.Schema(), newTopic); err != nil {
			return false, err
		}
		newKey = cd.NewStruct(newKeySchema)
		n := oldKey.Len()
		for i := 0; i < n; i++ {
			newKey.Set(i, oldKey.Get(i))
		}
		if t.uniqueness {
			newKey.Set(n, t.physical(old))
		}
	}
	r.Topic = newTopic
	if newKey != nil {
		r.KeySchema, r.Key = newKeySchema, newKey
	} else {
		r.KeySchema, r.Key = nil, nil
	}
	if r.Value == nil || !isEnvelope(r.ValueSchema) {
		return true, nil
	}
	env, err := requireStruct(r.Value, "Updating schema")
	if err != nil {
		return false, err
	}
	es, err := t.envelopeSchema(env.Schema(), newTopic)
	if err != nil {
		return false, err
	}
	out := cd.NewStruct(es)
	vs, _ := es.Field(envBefore)
	for i, f := range env.Schema().Fields {
		v := env.GetOrDefault(i)
		if (f.Name == envBefore || f.Name == envAfter) && v != nil {
			row, err := requireStruct(v, "Updating schema")
			if err != nil {
				return false, err
			}
			nr := cd.NewStruct(vs.Schema)
			n := row.Len()
			for j := 0; j < n; j++ {
				nr.Set(j, row.Get(j))
			}
			v = nr
		}
		out.Set(i, v)
	}
	r.ValueSchema, r.Value = es, out
	return true, nil
}

// physical returns the physical table identifier of a topic.
func (t *logicalTable) physical(topic string) string {
	if t.keyRegex == nil {
		return topic
	}
	if id, ok := t.physicalCache[topic]; ok {
		return id
	}
	id := topic
	if t.keyRegex.matches(topic) {
		id = t.keyRegex.replaceFirst(topic, t.keyRepl)
	}
	if len(t.physicalCache) >= topicCacheSize {
		clear(t.physicalCache)
	}
	t.physicalCache[topic] = id
	return id
}

// copyExcludingName copies a schema's version, doc, parameters and
// optionality (and fields), not its name.
func copyExcludingName(s *cd.Schema, fields bool) cd.Schema {
	b := cd.Schema{Type: cd.TypeStruct, Version: s.Version, HasVersion: s.HasVersion, Doc: s.Doc, HasDoc: s.HasDoc, Params: s.Params, Optional: s.Optional}
	if fields {
		b.Fields = append([]cd.Field(nil), s.Fields...)
	}
	return b
}

func (t *logicalTable) keySchema(old *cd.Schema, topic string) (*cd.Schema, error) {
	if s, ok := t.keyCache.get(old); ok {
		return s, nil
	}
	b := copyExcludingName(old, true)
	b.Name = topic + ".Key"
	if t.uniqueness {
		b.Fields = append(b.Fields, cd.Field{Name: t.keyField, Schema: cd.StringSchema})
	}
	s, err := cd.Build(b)
	if err != nil {
		return nil, err
	}
	t.keyCache.put(old, s)
	return s, nil
}

func (t *logicalTable) envelopeSchema(old *cd.Schema, topic string) (*cd.Schema, error) {
	if s, ok := t.envCache.get(old); ok {
		return s, nil
	}
	bf, ok := old.Field(envBefore)
	if !ok {
		return nil, dataErrorf("%s is not a valid field name", envBefore)
	}
	vb := copyExcludingName(bf.Schema, true)
	vb.Name = topic + ".Value"
	vs, err := cd.Build(vb)
	if err != nil {
		return nil, err
	}
	eb := copyExcludingName(old, false)
	for _, f := range old.Fields {
		if f.Name == envBefore || f.Name == envAfter {
			f.Schema = vs
		}
		eb.Fields = append(eb.Fields, cd.Field{Name: f.Name, Schema: f.Schema})
	}
	eb.Name = topic + envelopeSuffix
	s, err := cd.Build(eb)
	if err != nil {
		return nil, err
	}
	t.envCache.put(old, s)
	return s, nil
}
