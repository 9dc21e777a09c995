package transform

import (
	"log/slog"
	"strings"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/java"
	"github.com/pgmotion/pgmotion/internal/options"
)

// ExtractNewRecordState (io.debezium.transforms.ExtractNewRecordState,
// "unwrap") replaces a change event's envelope with its after state, as
// Debezium 3.6 does:
//
//   - delete.tombstone.handling.mode (default tombstone): drop drops deletes
//     and tombstones; tombstone turns a delete into a record whose value is
//     null but whose value schema is the row's (JsonConverter writes
//     {"schema":…,"payload":null}, or null with schemas disabled) and drops
//     the tombstone; rewrite emits the before state with __deleted="true"
//     (and "false" on other records) and drops tombstones;
//     rewrite-with-tombstone keeps them; delete-to-tombstone turns the
//     delete into a real tombstone and drops the original.
//   - The legacy drop.tombstones and delete.handling.mode (removed in 3.2)
//     are honoured when delete.tombstone.handling.mode is not set, as
//     Debezium up to 3.1 did, with a warning.
//   - add.fields / add.headers copy op, ts_ms, ts_us, ts_ns, transaction's
//     id, total_order and data_collection_order, and source fields
//     (struct.field and field:newName forms), prefixed by add.fields.prefix
//     / add.headers.prefix.
//   - route.by.field renames the topic to a field of the row; truncates
//     are dropped, other records (heartbeats, messages) pass through.
//
// A streamed event's source.snapshot reads "false" here (the encoder writes
// the schema default), where Debezium's unset field gives null to
// add.fields and add.headers.

const (
	propDeleteTombstoneHandling = "delete.tombstone.handling.mode"
	propRouteByField            = "route.by.field"
	propAddFieldsPrefix         = "add.fields.prefix"
	propAddFields               = "add.fields"
	propAddHeadersPrefix        = "add.headers.prefix"
	propAddHeaders              = "add.headers"
	propDropFieldsHeader        = "drop.fields.header.name"
	propDropFieldsFromKey       = "drop.fields.from.key"
	propDropFieldsKeepSchema    = "drop.fields.keep.schema.compatible"
	propDropTombstones          = "drop.tombstones"
	propDeleteHandlingMode      = "delete.handling.mode"
	deletedField                = "__deleted"
)

var unwrapSpec = &options.Spec{
	Class: dbzTransforms + "ExtractNewRecordState", Aliases: []string{"ExtractNewRecordState"}, Type: typeTransformation, Version: options.DebeziumVersion,
	Title:   "ExtractNewRecordState",
	Summary: "Extracts the after state of Debezium change events (event flattening), with configurable handling of deletes and tombstones and optional metadata fields and headers.",
	Fields: []*options.Field{
		dbz(&options.Field{Name: propDeleteTombstoneHandling, Type: options.TypeString, Default: "tombstone", Importance: options.Medium, Width: options.WidthMedium,
			DisplayName: "Handle delete and tombstone records", Since: "2.5",
			Enum: dbzEnum("drop", "tombstone", "rewrite", "rewrite-with-tombstone", "delete-to-tombstone"),
			Doc: "How to handle delete records. Options are: drop - Remove the delete event and tombstone from the stream. " +
				"tombstone (default) - For each delete event, leave only a tombstone in the stream. " +
				"rewrite - Remove tombstone from the record, and add a `__deleted` field with the value `true`. " +
				"rewrite-with-tombstone - Retain tombstone in record and add a `__deleted` field with the value `true`. " +
				"delete-to-tombstone - Convert delete events to tombstone events and drop tombstone events.",
			Note: "as in Debezium's code, tombstone turns a delete into a record with a null value but a value schema, which JsonConverter does not write as a Kafka tombstone"}),
		dbz(&options.Field{Name: propRouteByField, Type: options.TypeString, EmptyDefault: true, Importance: options.Low, Width: options.WidthLong,
			DisplayName: "Route by field name",
			Doc:         "The column which determines how the events will be routed, the value will replace the topic name."}),
		dbz(&options.Field{Name: propAddFieldsPrefix, Type: options.TypeString, Default: "__", Importance: options.Low, Width: options.WidthShort,
			DisplayName: "Field prefix to be added to each field.", Doc: "Adds this prefix to each field listed."}),
		dbz(&options.Field{Name: propAddFields, Type: options.TypeList, EmptyDefault: true, Importance: options.Low, Width: options.WidthLong,
			DisplayName: "Adds the specified field(s) to the message if they exist.", Check: checkFieldReferences,
			Doc: "Adds each field listed, prefixed with __ (or __<struct>_ if the struct is specified). " +
				"Example: 'version,connector,source.ts_ms' would add __version, __connector and __source_ts_ms fields. " +
				"Optionally one can also map new field name like version:VERSION,connector:CONNECTOR,source.ts_ms:EVENT_TIMESTAMP. " +
				"Please note that the new field name is case-sensitive."}),
		dbz(&options.Field{Name: propAddHeadersPrefix, Type: options.TypeString, Default: "__", Importance: options.Low, Width: options.WidthShort,
			DisplayName: "Header prefix to be added to each header.", Doc: "Adds this prefix listed to each header."}),
		dbz(&options.Field{Name: propAddHeaders, Type: options.TypeList, EmptyDefault: true, Importance: options.Low, Width: options.WidthLong,
			DisplayName: "Adds the specified fields to the header if they exist.", Check: checkFieldReferences,
			Doc: "Adds each field listed to the header, __ (or __<struct>_ if the struct is specified). " +
				"Example: 'version,connector,source.ts_ms' would add __version, __connector and __source_ts_ms fields. " +
				"Optionally one can also map new field name like version:VERSION,connector:CONNECTOR,source.ts_ms:EVENT_TIMESTAMP. " +
				"Please note that the new field name is case-sensitive."}),
		dbz(&options.Field{Name: propDropFieldsHeader, Type: options.TypeString, Importance: options.Low, Width: options.WidthShort,
			DisplayName: "Specifies a header that contains a list of field names to be removed",
			Doc:         "Specifies the name of a header that contains a list of fields to be removed from the event value."}),
		dbz(&options.Field{Name: propDropFieldsFromKey, Type: options.TypeBoolean, Default: "false", Importance: options.Low, Width: options.WidthShort,
			DisplayName: "Specifies whether the fields to be dropped should also be omitted from the key",
			Doc:         "Specifies whether to apply the drop fields behavior to the event key as well as the value. Default behavior is to only remove fields from the event value, not the key."}),
		dbz(&options.Field{Name: propDropFieldsKeepSchema, Type: options.TypeBoolean, Default: "true", Importance: options.Low, Width: options.WidthShort,
			DisplayName: "Specifies if fields are dropped, will the event's schemas be compatible",
			Doc: "Controls the output event's schema compatibility when using the drop fields feature. " +
				"`true`: dropped fields are removed if the schema indicates its optional leaving the schemas unchanged, " +
				"`false`: dropped fields are removed from the key/value schemas, regardless of optionality."}),
		dbz(&options.Field{Name: propReplaceNull, Type: options.TypeBoolean, Default: "true", Importance: options.Low, Width: options.WidthShort,
			DisplayName: "replace null field value with default",
			Doc:         "When this option is enabled, null field values are replaced by source-defined defaults when rewriting the record."}),
		dbz(&options.Field{Name: propDropTombstones, Type: options.TypeBoolean, Default: "true", Importance: options.Low, Width: options.WidthShort,
			DisplayName: "Drop tombstones",
			Doc:         "Debezium by default generates a tombstone record to enable Kafka compaction after a delete record was generated. This record is usually filtered out to avoid duplicates as a delete record is converted to a tombstone record, too.",
			Note:        "deprecated in Debezium 2.5, removed in 3.2; pgmotion honours it, with delete.handling.mode, when delete.tombstone.handling.mode is not set, as Debezium up to 3.1 did"}),
		dbz(&options.Field{Name: propDeleteHandlingMode, Type: options.TypeString, Default: "drop", Importance: options.Medium, Width: options.WidthMedium,
			DisplayName: "Handle delete records", Enum: dbzEnum("drop", "rewrite", "none"),
			Doc: "How to handle delete records. Options are: none - records are passed, drop - records are removed (the default), " +
				"rewrite - __deleted field is added to records.",
			Note: "deprecated in Debezium 2.5, removed in 3.2; see drop.tombstones"}),
	},
}

func init() {
	register(&plugin{spec: unwrapSpec, newTransform: func(c *options.Config, e *env) (transformation, error) {
		return newUnwrap(c, e)
	}})
}

// checkFieldReferences checks the add.fields and add.headers entries.
func checkFieldReferences(c *options.Check) {
	if c.IsNull() {
		return
	}
	if _, err := parseFieldReferences("", c.Value()); err != nil {
		c.Errorf("%v", err)
	}
}

// deleteMode is the effective delete and tombstone handling.
type deleteMode struct {
	deletes      string // drop, tombstone (a null value with schema), rewrite, delete-to-tombstone
	keepTombs    bool
	rewriteOther bool // __deleted="false" on creates and updates
}

func modeOf(c *options.Config, log *slog.Logger) deleteMode {
	if !c.IsSet(propDeleteTombstoneHandling) && (c.IsSet(propDropTombstones) || c.IsSet(propDeleteHandlingMode)) {
		handling := c.Str(propDeleteHandlingMode)
		log.Warn("ExtractNewRecordState: drop.tombstones and delete.handling.mode were removed in Debezium 3.2, which ignores them; pgmotion honours them as Debezium 3.1 did; set delete.tombstone.handling.mode instead",
			propDeleteHandlingMode, handling, propDropTombstones, c.Bool(propDropTombstones))
		m := deleteMode{keepTombs: !c.Bool(propDropTombstones)}
		switch handling {
		case "rewrite":
			m.deletes, m.rewriteOther = "rewrite", true
		case "none":
			m.deletes = "tombstone"
		default:
			m.deletes = "drop"
		}
		return m
	}
	switch c.Str(propDeleteTombstoneHandling) {
	case "drop":
		return deleteMode{deletes: "drop"}
	case "rewrite":
		return deleteMode{deletes: "rewrite", rewriteOther: true}
	case "rewrite-with-tombstone":
		return deleteMode{deletes: "rewrite", rewriteOther: true, keepTombs: true}
	case "delete-to-tombstone":
		return deleteMode{deletes: "delete-to-tombstone"}
	}
	return deleteMode{deletes: "tombstone"}
}

// fieldReference is AbstractExtractNewRecordState.FieldReference: a field
// of the envelope (struct "") or of one of its structs, and the name it is
// copied under.
type fieldReference struct {
	structName string
	field      string
	newField   string
}

func parseFieldReferences(prefix, list string) ([]fieldReference, error) {
	if list == "" {
		return nil, nil
	}
	var out []fieldReference
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		parts := java.Split(item, ":")
		if len(parts) == 0 {
			parts = []string{""}
		}
		splits := java.Split(parts[0], ".")
		if len(splits) == 0 {
			splits = []string{""}
		}
		var fr fieldReference
		if len(splits) == 1 {
			fr.field = splits[0]
			fr.structName = determineStruct(fr.field)
		} else {
			fr.field, fr.structName = splits[1], splits[0]
		}
		switch len(parts) {
		case 1:
			if len(splits) == 1 {
				fr.newField = prefix + fr.field
			} else {
				fr.newField = prefix + fr.structName + "_" + fr.field
			}
		case 2:
			fr.newField = prefix + parts[1]
		default:
			return nil, javaErrorf("Unexpected field name: %s", item)
		}
		out = append(out, fr)
	}
	return out, nil
}

func determineStruct(field string) string {
	switch field {
	case "id", "total_order", "data_collection_order":
		return envTransaction
	case envOp, envTsMs, "ts_us", "ts_ns":
		return ""
	case "updateDescription":
		return "updateDescription"
	}
	return envSource
}

// schemaOf is FieldReference.getSchema: the referenced field's schema
// made optional (copySchemaBasics: no default, no fields).
func (fr fieldReference) schemaOf(env *cd.Schema) (*cd.Schema, bool) {
	parent := env
	if fr.structName != "" {
		f, ok := env.Field(fr.structName)
		if !ok {
			return nil, false
		}
		parent = f.Schema
	}
	f, ok := parent.Field(fr.field)
	if !ok {
		if f, ok = env.Field(fr.field); !ok {
			return nil, false
		}
	}
	b := copySchemaBasics(f.Schema, f.Schema.Type)
	b.Optional = true
	switch f.Schema.Type {
	case cd.TypeArray:
		b.Elem = f.Schema.Elem
	case cd.TypeMap:
		b.Key, b.Elem = f.Schema.Key, f.Schema.Elem
	case cd.TypeStruct:
		b.Fields = f.Schema.Fields // SchemaBuilder(STRUCT) has none; keep them so the value fits
	}
	s, err := cd.Build(b)
	return s, err == nil
}

// valueOf is FieldReference.getValue.
func (fr fieldReference) valueOf(env *cd.Struct) any {
	parent := env
	if fr.structName != "" {
		parent = structField(env, fr.structName)
		if parent == nil {
			return nil
		}
	}
	if v, ok := parent.Lookup(fr.field); ok {
		return v
	}
	v, _ := env.Lookup(fr.field)
	return v
}

type unwrapCacheKey struct {
	schema *cd.Schema
	op     string
}

type unwrap struct {
	mode            deleteMode
	routeBy         string
	fields, headers []fieldReference
	dropHeader      string
	dropFromKey     bool
	keepCompatible  bool
	replaceNull     bool
	addCache        map[unwrapCacheKey]*cd.Schema
	deletedCache    schemaCache // schema -> schema with __deleted
	dropValue       map[string]*replaceField
	dropKey         map[string]*replaceField
}

func newUnwrap(c *options.Config, e *env) (*unwrap, error) {
	t := &unwrap{
		mode:           modeOf(c, e.log),
		routeBy:        c.Str(propRouteByField),
		dropHeader:     c.Str(propDropFieldsHeader),
		dropFromKey:    c.Bool(propDropFieldsFromKey),
		keepCompatible: c.Bool(propDropFieldsKeepSchema),
		replaceNull:    c.Bool(propReplaceNull),
		addCache:       map[unwrapCacheKey]*cd.Schema{},
	}
	var err error
	if t.fields, err = parseFieldReferences(c.Str(propAddFieldsPrefix), strings.Join(c.List(propAddFields), ",")); err != nil {
		return nil, err
	}
	if t.headers, err = parseFieldReferences(c.Str(propAddHeadersPrefix), strings.Join(c.List(propAddHeaders), ",")); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *unwrap) uses() uses {
	if t.dropHeader != "" && t.dropFromKey {
		return useKey | useValue
	}
	return useValue
}

func (t *unwrap) apply(r *cd.Record) (bool, error) {
	tombstone := r.Value == nil
	valid := isEnvelope(r.ValueSchema)
	var env *cd.Struct
	if valid {
		var err error
		if env, err = requireStruct(r.Value, "source field insertion"); err != nil {
			return false, err
		}
	}
	if (valid || tombstone) && len(t.headers) > 0 {
		for _, fr := range t.headers {
			if tombstone {
				if fr.field == envOp {
					if err := r.AddHeader(fr.newField, cd.StringSchema, "d"); err != nil {
						return false, err
					}
				}
				continue
			}
			if s, ok := fr.schemaOf(r.ValueSchema); ok {
				if err := r.AddHeader(fr.newField, s, fr.valueOf(env)); err != nil {
					return false, err
				}
			}
		}
	}
	if tombstone {
		return t.mode.keepTombs, nil
	}
	if !valid {
		return true, nil
	}
	afterF, hasAfter := r.ValueSchema.Field(envAfter)
	beforeF, hasBefore := r.ValueSchema.Field(envBefore)
	if !hasAfter || !hasBefore {
		return false, javaErrorf("Unknown field: %s", envAfter)
	}
	after, before := fieldValue(env, afterF.Index, true), fieldValue(env, beforeF.Index, true)
	if after == nil && before == nil {
		return false, nil // truncate
	}
	op, _ := stringField(env, envOp)
	origSchema := r.ValueSchema
	if after == nil {
		switch t.mode.deletes {
		case "drop":
			return false, nil
		case "tombstone":
			r.ValueSchema, r.Value = afterF.Schema, nil
		case "delete-to-tombstone":
			r.ValueSchema, r.Value = nil, nil
		case "rewrite":
			if err := t.setRewritten(r, beforeF.Schema, before, "true"); err != nil {
				return false, err
			}
		}
		if t.routeBy != "" {
			if b, ok := before.(*cd.Struct); ok {
				if topic, _ := stringField(b, t.routeBy); strings.TrimSpace(topic) != "" {
					r.Topic = topic
				}
			}
		}
		if t.dropHeader != "" {
			if err := t.dropFields(r); err != nil {
				return false, err
			}
		}
		if r.Value != nil {
			if err := t.addFields(r, origSchema, env, op); err != nil {
				return false, err
			}
		}
		return true, nil
	}
	if t.mode.rewriteOther {
		if err := t.setRewritten(r, afterF.Schema, after, "false"); err != nil {
			return false, err
		}
	} else {
		r.ValueSchema, r.Value = afterF.Schema, after
	}
	if t.routeBy != "" {
		st, err := requireStruct(r.Value, "Read record to set topic routing for CREATE / UPDATE")
		if err != nil {
			return false, err
		}
		if topic, _ := stringField(st, t.routeBy); strings.TrimSpace(topic) != "" {
			r.Topic = topic
		}
	}
	if err := t.addFields(r, origSchema, env, op); err != nil {
		return false, err
	}
	if t.dropHeader != "" {
		if err := t.dropFields(r); err != nil {
			return false, err
		}
	}
	return true, nil
}

// setRewritten is InsertField$Value with static.field=__deleted on the
// row (rewrite modes).
func (t *unwrap) setRewritten(r *cd.Record, s *cd.Schema, row any, deleted string) error {
	st, ok := row.(*cd.Struct)
	if !ok {
		r.ValueSchema, r.Value = s, row
		return nil
	}
	us, ok := t.deletedCache.get(st.Schema())
	if !ok {
		b := copySchemaBasics(st.Schema(), cd.TypeStruct)
		b.Fields = append(append([]cd.Field(nil), st.Schema().Fields...), cd.Field{Name: deletedField, Schema: cd.OptionalStringSchema})
		var err error
		if us, err = cd.Build(b); err != nil {
			return err
		}
		t.deletedCache.put(st.Schema(), us)
	}
	out := cd.NewStruct(us)
	n := st.Len()
	for i := 0; i < n; i++ {
		out.Set(i, fieldValue(st, i, t.replaceNull))
	}
	out.Set(n, deleted)
	r.ValueSchema, r.Value = us, out
	return nil
}

// addFields adds the add.fields to the unwrapped row.
func (t *unwrap) addFields(r *cd.Record, envSchema *cd.Schema, env *cd.Struct, op string) error {
	if len(t.fields) == 0 {
		return nil
	}
	row, err := requireStruct(r.Value, "source field insertion")
	if err != nil {
		return err
	}
	key := unwrapCacheKey{schema: row.Schema(), op: op}
	us, ok := t.addCache[key]
	if !ok {
		b := copySchemaBasics(row.Schema(), cd.TypeStruct)
		b.Fields = append([]cd.Field(nil), row.Schema().Fields...)
		for _, fr := range t.fields {
			if s, ok := fr.schemaOf(envSchema); ok {
				b.Fields = append(b.Fields, cd.Field{Name: fr.newField, Schema: s})
			}
		}
		if us, err = cd.Build(b); err != nil {
			return err
		}
		if len(t.addCache) >= schemaCacheSize {
			clear(t.addCache)
		}
		t.addCache[key] = us
	}
	out := cd.NewStruct(us)
	n := row.Len()
	for i := 0; i < n; i++ {
		out.Set(i, row.Get(i))
	}
	for _, fr := range t.fields {
		if _, ok := fr.schemaOf(envSchema); ok {
			if err := out.SetName(fr.newField, fr.valueOf(env)); err != nil {
				return err
			}
		}
	}
	r.ValueSchema, r.Value = us, out
	return nil
}

// dropFields removes the fields listed in the drop.fields.header.name
// header (written by ExtractChangedRecordState as a list, e.g. [a, b]).
func (t *unwrap) dropFields(r *cd.Record) error {
	h, ok := r.LastHeader(t.dropHeader)
	if !ok || h.Value == nil {
		return nil
	}
	names := parseHeaderList(string(h.Value))
	if len(names) == 0 {
		return nil
	}
	if t.dropFromKey && r.Key != nil {
		if drop := t.toDrop(r.KeySchema, names); len(drop) > 0 {
			if err := t.replace(keySide, drop).applySide(r); err != nil {
				return err
			}
		}
	}
	if drop := t.toDrop(r.ValueSchema, names); len(drop) > 0 {
		return t.replace(valueSide, drop).applySide(r)
	}
	return nil
}

func (t *unwrap) toDrop(s *cd.Schema, names []string) []string {
	if s == nil {
		return nil
	}
	if !t.keepCompatible {
		return names
	}
	var out []string
	for _, f := range s.Fields {
		if f.Schema.Optional && contains(names, f.Name) {
			out = append(out, f.Name)
		}
	}
	return out
}

// replace returns a ReplaceField excluding fields, cached per list.
func (t *unwrap) replace(s side, fields []string) *replaceField {
	m := &t.dropValue
	if s == keySide {
		m = &t.dropKey
	}
	if *m == nil {
		*m = map[string]*replaceField{}
	}
	k := strings.Join(fields, ",")
	if rf, ok := (*m)[k]; ok {
		return rf
	}
	ex := map[string]bool{}
	for _, f := range fields {
		ex[f] = true
	}
	rf := &replaceField{side: s, exclude: ex, include: map[string]bool{}, renames: map[string]string{}, reverse: map[string]string{}, replaceNull: true}
	if len(*m) >= schemaCacheSize {
		clear(*m)
	}
	(*m)[k] = rf
	return rf
}

func (t *replaceField) applySide(r *cd.Record) error {
	_, err := t.apply(r)
	return err
}

// parseHeaderList reads a list header as SimpleHeaderConverter writes one:
// [a, b] or ["a","b"].
func parseHeaderList(s string) []string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil
	}
	var out []string
	for _, it := range strings.Split(s[1:len(s)-1], ",") {
		it = strings.TrimSpace(it)
		it = strings.TrimSuffix(strings.TrimPrefix(it, `"`), `"`)
		if it != "" {
			out = append(out, it)
		}
	}
	return out
}
