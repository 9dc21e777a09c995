package transform

import (
	"log/slog"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/java"
	"github.com/pgmotion/pgmotion/internal/options"
)

// ReplaceField$Key and ReplaceField$Value
// (org.apache.kafka.connect.transforms.ReplaceField) filter and rename
// fields: exclude wins over include, renames are old:new pairs. The legacy
// names blacklist and whitelist (Kafka before 4.0) are accepted with a
// warning.

const (
	propExclude   = "exclude"
	propInclude   = "include"
	propRenames   = "renames"
	propBlacklist = "blacklist"
	propWhitelist = "whitelist"
)

func replaceFieldSpec(s side) *options.Spec {
	return &options.Spec{
		Class: kafkaTransforms + "ReplaceField" + s.suffix(), Type: typeTransformation, Version: KafkaVersion,
		Title:   "ReplaceField" + s.suffix(),
		Summary: "Filter or rename fields.",
		Fields: []*options.Field{
			kafka(&options.Field{Name: propExclude, Type: options.TypeList, EmptyDefault: true, Importance: options.Medium,
				Doc: "Fields to exclude. This takes precedence over the fields to include."}),
			kafka(&options.Field{Name: propInclude, Type: options.TypeList, EmptyDefault: true, Importance: options.Medium,
				Doc: "Fields to include. If specified, only these fields will be used."}),
			kafka(&options.Field{Name: propRenames, Type: options.TypeList, EmptyDefault: true, Importance: options.Medium,
				Doc: "Field rename mappings.", Check: checkRenames}),
			replaceNullField(),
			kafka(&options.Field{Name: propBlacklist, Type: options.TypeList, Importance: options.Low,
				Doc: "Deprecated. Use " + propExclude + " instead.", Note: "removed in Kafka 4.0; pgmotion maps it to " + propExclude + " with a warning"}),
			kafka(&options.Field{Name: propWhitelist, Type: options.TypeList, Importance: options.Low,
				Doc: "Deprecated. Use " + propInclude + " instead.", Note: "removed in Kafka 4.0; pgmotion maps it to " + propInclude + " with a warning"}),
		},
	}
}

func init() {
	for _, s := range []side{keySide, valueSide} {
		register(&plugin{spec: replaceFieldSpec(s), newTransform: func(c *options.Config, e *env) (transformation, error) {
			return newReplaceField(c, s, e.log)
		}})
	}
}

// checkRenames is the validator of renames (parseRenameMappings).
func checkRenames(c *options.Check) {
	if c.IsNull() {
		return
	}
	items := options.SplitList(c.Value())
	if _, err := parseRenames(items); err != nil {
		c.ErrorValuef(java.ListString(items), "%v", err)
	}
}

func parseRenames(items []string) (map[string]string, error) {
	m := map[string]string{}
	for _, it := range items {
		parts := java.Split(it, ":")
		if len(parts) != 2 {
			return nil, javaErrorf("Invalid rename mapping: %s", it)
		}
		m[parts[0]] = parts[1]
	}
	return m, nil
}

type replaceField struct {
	side             side
	exclude, include map[string]bool
	renames, reverse map[string]string
	replaceNull      bool
	cache            schemaCache
}

func newReplaceField(c *options.Config, s side, log *slog.Logger) (*replaceField, error) {
	set := func(items []string) map[string]bool {
		m := make(map[string]bool, len(items))
		for _, it := range items {
			m[it] = true
		}
		return m
	}
	// ConfigUtils.translateDeprecatedConfigs: the new name wins.
	legacy := func(newName, oldName string) []string {
		if !c.IsSet(oldName) {
			return c.List(newName)
		}
		if c.IsSet(newName) {
			log.Warn("deprecated ReplaceField option ignored in favour of its new name", "option", oldName, "use", newName)
			return c.List(newName)
		}
		log.Warn("deprecated ReplaceField option", "option", oldName, "use", newName)
		return c.List(oldName)
	}
	renames, err := parseRenames(c.List(propRenames))
	if err != nil {
		return nil, err
	}
	t := &replaceField{
		side:        s,
		exclude:     set(legacy(propExclude, propBlacklist)),
		include:     set(legacy(propInclude, propWhitelist)),
		renames:     renames,
		reverse:     make(map[string]string, len(renames)),
		replaceNull: c.Bool(propReplaceNull),
	}
	for k, v := range renames {
		t.reverse[v] = k
	}
	return t, nil
}

func (t *replaceField) uses() uses { return t.side.uses() }

func (t *replaceField) keep(name string) bool {
	return !t.exclude[name] && (len(t.include) == 0 || t.include[name])
}

func (t *replaceField) renamed(name string) string {
	if to, ok := t.renames[name]; ok {
		return to
	}
	return name
}

const purposeReplace = "field replacement"

func (t *replaceField) apply(r *cd.Record) (bool, error) {
	s, v := t.side.get(r)
	if v == nil {
		return true, nil
	}
	if s == nil {
		m, err := requireMap(v, purposeReplace)
		if err != nil {
			return false, err
		}
		out := make(cd.Map, 0, len(m))
		for _, e := range m {
			name, _ := e.Key.(string)
			if t.keep(name) {
				out = out.Set(t.renamed(name), e.Value)
			}
		}
		t.side.set(r, nil, out)
		return true, nil
	}
	st, err := requireStruct(v, purposeReplace)
	if err != nil {
		return false, err
	}
	us, ok := t.cache.get(st.Schema())
	if !ok {
		b := copySchemaBasics(st.Schema(), cd.TypeStruct)
		for _, f := range st.Schema().Fields {
			if t.keep(f.Name) {
				b.Fields = append(b.Fields, cd.Field{Name: t.renamed(f.Name), Schema: f.Schema})
			}
		}
		if us, err = cd.Build(b); err != nil {
			return false, err
		}
		t.cache.put(st.Schema(), us)
	}
	out := cd.NewStruct(us)
	for i, f := range us.Fields {
		from := f.Name
		if orig, ok := t.reverse[from]; ok {
			from = orig
		}
		src, ok := st.Schema().Field(from)
		if !ok {
			return false, dataErrorf("%s is not a valid field name", from)
		}
		out.Set(i, fieldValue(st, src.Index, t.replaceNull))
	}
	t.side.set(r, us, out)
	return true, nil
}
