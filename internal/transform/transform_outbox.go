package transform

import (
	"fmt"
	"strings"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/java"
	"github.com/pgmotion/pgmotion/internal/options"
)

// EventRouter (io.debezium.transforms.outbox.EventRouter) turns the inserts
// of an outbox table into events, as Debezium's EventRouterDelegate does:
//
//   - tombstones are dropped; records that are not change events
//     (heartbeats, ...) pass through; deletes are dropped; updates are
//     dropped with a warning (table.op.invalid.behavior=warn), an error log
//     (error) or fail the task (fatal); creates and snapshot reads are
//     routed;
//   - topic: route.topic.regex/route.topic.replacement (a RegexRouter)
//     applied to the route.by.field column;
//   - key: the table.field.event.key column, with its schema;
//   - value: the table.field.event.payload column with its schema (a jsonb
//     payload is a JSON string, or, with table.expand.json.payload, a
//     struct inferred from it), or, when a column is placed in the
//     envelope, a struct {payload, <aliases>} named after the row schema
//     with the routed value inserted before its last segment;
//   - headers: the original ones, then id (the table.field.event.id
//     column; a uuid column gives its text), then header placements; a
//     partition placement sets the Kafka partition from an int32 column;
//   - timestamp: the envelope's ts_ms, or table.field.event.timestamp (a
//     Timestamp, MicroTimestamp or NanoTimestamp column) in milliseconds;
//   - route.tombstone.on.empty.payload: a null or blank payload gives a
//     tombstone.

const (
	propFieldEventID         = "table.field.event.id"
	propFieldEventKey        = "table.field.event.key"
	propFieldEventType       = "table.field.event.type"
	propFieldEventTimestamp  = "table.field.event.timestamp"
	propFieldEventPayload    = "table.field.event.payload"
	propFieldsAdditional     = "table.fields.additional.placement"
	propFieldAdditionalMiss  = "table.field.additional.missing"
	propFieldSchemaVersion   = "table.field.event.schema.version"
	propOutboxRouteByField   = propRouteByField // ExtractNewRecordState's name too
	propRouteTopicRegex      = "route.topic.regex"
	propRouteTopicReplace    = "route.topic.replacement"
	propRouteTombstone       = "route.tombstone.on.empty.payload"
	propOpInvalidBehavior    = "table.op.invalid.behavior"
	propExpandJSONPayload    = "table.expand.json.payload"
	propJSONNullBehavior     = "table.json.payload.null.behavior"
	propJSONEmptyArrayBehav  = "table.json.payload.empty.array.behavior"
	propTracingContextField  = "tracing.span.context.field"
	propTracingOperationName = "tracing.operation.name"
	propTracingContextOnly   = "tracing.with.context.field.only"

	groupTable   = "Table"
	groupRouter  = "Router"
	groupTracing = "Tracing"
)

// EventRouterClass is the class name of Debezium's outbox event router.
const EventRouterClass = dbzTransforms + "outbox.EventRouter"

var eventRouterSpec = &options.Spec{
	Class: EventRouterClass, Aliases: []string{"EventRouter"}, Type: typeTransformation, Version: options.DebeziumVersion,
	Title: "Outbox EventRouter",
	Summary: "Routes the inserts of an outbox table (Debezium's outbox pattern) as events: topic from the route.by.field column, " +
		"key from the event key column, value from the payload column, and an id header.",
	Fields: []*options.Field{
		dbz(&options.Field{Name: propFieldEventID, Type: options.TypeString, Default: "id", Importance: options.Low, Group: groupTable, Width: options.WidthMedium,
			DisplayName: "Event ID Field", Doc: "The column which contains the event ID within the outbox table"}),
		dbz(&options.Field{Name: propFieldEventKey, Type: options.TypeString, Default: "aggregateid", Importance: options.Low, Group: groupTable, Width: options.WidthMedium,
			DisplayName: "Event Key Field", Doc: "The column which contains the event key within the outbox table"}),
		dbz(&options.Field{Name: propFieldEventType, Type: options.TypeString, Default: "type", Importance: options.Low, Group: groupTable, Width: options.WidthMedium,
			DisplayName: "Event Type Field", Doc: "The column which contains the event type within the outbox table",
			Note: "accepted as in Debezium, whose current code does not use it"}),
		dbz(&options.Field{Name: propFieldEventPayload, Type: options.TypeString, Default: "payload", Importance: options.Low, Group: groupTable, Width: options.WidthMedium,
			DisplayName: "Event Payload Field", Doc: "The column which contains the event payload within the outbox table"}),
		dbz(&options.Field{Name: propFieldEventTimestamp, Type: options.TypeString, Importance: options.Medium, Group: groupTable, Width: options.WidthMedium,
			DisplayName: "Event Timestamp Field",
			Doc:         "Optionally you can override the Kafka message timestamp with a value from a chosen column, otherwise it'll be the Debezium event processed timestamp.",
			Note:        "the record timestamp is not written to Kafka yet; later transforms (TimestampRouter) see it"}),
		dbz(&options.Field{Name: propFieldsAdditional, Type: options.TypeList, Importance: options.High, Group: groupTable, Width: options.WidthMedium,
			DisplayName: "Settings for each additional column in the outbox table", Check: checkPlacements,
			Doc: "Extra fields can be added as part of the event envelope or a message header, format is a list of colon-delimited pairs or trios when you desire to have aliases, " +
				"e.g. `id:header,field_name:envelope:alias,field_name:partition`"}),
		dbz(&options.Field{Name: propFieldAdditionalMiss, Type: options.TypeString, Default: "error", Importance: options.Medium, Group: groupTable, Width: options.WidthMedium,
			DisplayName: "Behavior when an additional field is missing in the change data", Enum: dbzEnum("error", "ignore"),
			Doc: "When transforming the 'table.fields.additional.placement' fields, defines the behavior when one of the configured fields is missing in the change data. " +
				"'error' (default) will throw an exception; 'ignore' will silently skip the missing field."}),
		dbz(&options.Field{Name: propFieldSchemaVersion, Type: options.TypeString, Importance: options.Low, Group: groupTable, Width: options.WidthMedium,
			DisplayName: "Event Schema Version Field", Doc: "The column which contains the event schema version within the outbox table"}),
		dbz(&options.Field{Name: propOpInvalidBehavior, Type: options.TypeString, Default: "warn", Importance: options.Medium, Group: groupTable, Width: options.WidthMedium,
			DisplayName: "Behavior when capturing an unexpected outbox event", Enum: dbzEnum("warn", "error", "fatal"),
			Doc: "While Debezium is capturing changes from the outbox table, it is expecting only to process 'create' or 'delete' row events; " +
				"in case something else is processed this transform can log it as warning, error or stop the process."}),
		dbz(&options.Field{Name: propExpandJSONPayload, Type: options.TypeBoolean, Default: "false", Importance: options.Medium, Group: groupTable, Width: options.WidthMedium,
			DisplayName: "Expand Payload escaped string as real JSON",
			Doc: "Whether or not to try unescaping a JSON string and make it real JSON. It will infer schema information from payload and update the record schema accordingly. " +
				"If content is not JSON, it just produces a warning and emits the record unchanged"}),
		dbz(&options.Field{Name: propJSONNullBehavior, Type: options.TypeString, Default: "ignore", Importance: options.Medium, Group: groupTable, Width: options.WidthMedium,
			DisplayName: "Behavior when json payload including null value", Enum: dbzEnum("ignore", "optional_bytes"),
			Doc: "Behavior when json payload including null value, the default will ignore null, optional_bytes will keep the null value, and treat null as optional bytes of connect."}),
		dbz(&options.Field{Name: propJSONEmptyArrayBehav, Type: options.TypeString, Default: "ignore", Importance: options.Medium, Group: groupTable, Width: options.WidthMedium,
			DisplayName: "Behavior when json payload including empty array value", Enum: dbzEnum("ignore", "optional_string"), Since: "3.7",
			Doc: "Behavior when json payload including an empty array value, the default ignore will drop the empty array field, optional_string will keep the field as an optional array with an optional string element type."}),
		dbz(&options.Field{Name: propOutboxRouteByField, Type: options.TypeString, Default: "aggregatetype", Importance: options.High, Group: groupRouter, Width: options.WidthMedium,
			DisplayName: "Field to route events by",
			Doc:         "The column which determines how the events will be routed, the value will become part of the topic name"}),
		dbz(&options.Field{Name: propRouteTopicRegex, Type: options.TypeString, Default: "(?<routedByValue>.*)", Importance: options.Low, Group: groupRouter, Width: options.WidthMedium,
			DisplayName: "The name of the routed topic", Check: checkDebeziumRegex,
			Doc: "The default regex to use within the RegexRouter, the default capture will allow to replace the routed field into a new topic name defined in 'route.topic.replacement'"}),
		dbz(&options.Field{Name: propRouteTopicReplace, Type: options.TypeString, Default: "outbox.event.${routedByValue}", Importance: options.High, Group: groupRouter, Width: options.WidthMedium,
			DisplayName: "The name of the routed topic", Check: checkDbzReplacement(propRouteTopicReplace, propRouteTopicRegex),
			Doc:  "The name of the topic in which the events will be routed, a replacement '${routedByValue}' is available which is the value of The column configured via 'route.by.field'",
			Note: "pgmotion checks its group references against route.topic.regex when validating"}),
		dbz(&options.Field{Name: propRouteTombstone, Type: options.TypeBoolean, Default: "false", Importance: options.High, Group: groupRouter, Width: options.WidthMedium,
			DisplayName: "Empty payloads cause a tombstone message", Doc: "Whether or not an empty payload should cause a tombstone event."}),
		dbz(&options.Field{Name: propTracingContextField, Type: options.TypeString, Default: "tracingspancontext", Importance: options.Low, Group: groupTracing, Width: options.WidthMedium,
			DisplayName: "Serialized tracing span context field", Status: options.Accepted, Note: "OpenTelemetry tracing is not implemented",
			Doc: "The name of the field containing java.util.Properties representation of serialized span context."}),
		dbz(&options.Field{Name: propTracingOperationName, Type: options.TypeString, Default: "debezium-read", Importance: options.Low, Group: groupTracing, Width: options.WidthMedium,
			DisplayName: "Tracing operation name", Status: options.Accepted, Note: "OpenTelemetry tracing is not implemented",
			Doc: "The operation name representing Debezium processing span."}),
		dbz(&options.Field{Name: propTracingContextOnly, Type: options.TypeBoolean, Default: "false", Importance: options.Low, Group: groupTracing, Width: options.WidthShort,
			DisplayName: "Trace only events with context field present", Status: options.Accepted, Note: "OpenTelemetry tracing is not implemented",
			Doc: "Set to `true` when only events that have serialized context field should be traced."}),
	},
}

func init() {
	register(&plugin{spec: eventRouterSpec, newTransform: newEventRouter})
}

// placement is one table.fields.additional.placement entry.
type placement struct {
	field, where, alias string
}

func parsePlacements(items []string) ([]placement, error) {
	var out []placement
	for _, it := range items {
		parts := java.Split(it, ":")
		if len(parts) != 2 && len(parts) != 3 {
			return nil, javaErrorf("A comma-separated list of valid String pairs or trios is expected but got: %s", java.ListString(items))
		}
		p := placement{field: strings.TrimSpace(parts[0]), where: strings.ToLower(strings.TrimSpace(parts[1]))}
		p.alias = p.field
		if len(parts) == 3 {
			p.alias = strings.TrimSpace(parts[2])
		}
		switch p.where {
		case "header", "envelope", "partition":
		default:
			return nil, fmt.Errorf("placement %q of column %q is not one of header, envelope, partition", strings.TrimSpace(parts[1]), p.field)
		}
		out = append(out, p)
	}
	return out, nil
}

// checkPlacements is AdditionalFieldsValidator.isListOfStringPairs, plus
// the placement names (Debezium fails on the first record).
func checkPlacements(c *options.Check) {
	if c.IsNull() {
		return
	}
	var items []string
	for _, it := range strings.Split(c.Value(), ",") {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	if _, err := parsePlacements(items); err != nil {
		c.Errorf("%v", err)
	}
}

type valueSchemaKey struct {
	payload *cd.Schema
	routed  string
	version int32
	hasVer  bool
}

type eventRouter struct {
	e                 *env
	fieldID, fieldKey string
	fieldPayload      string
	fieldTimestamp    string
	fieldVersion      string
	routeBy           string
	router            *regexRouter
	placements        []placement
	ignoreMissing     bool
	onlyHeaders       bool
	tombstoneOnEmpty  bool
	invalidOp         string
	expand            bool
	expander          jsonExpander
	valueSchemas      map[valueSchemaKey]*cd.Schema
}

type expanded struct {
	schema *cd.Schema
	value  any
}

func newEventRouter(c *options.Config, e *env) (transformation, error) {
	re, err := compileJavaRegex(c.Str(propRouteTopicRegex))
	if err != nil {
		return nil, err
	}
	repl, err := parseJavaReplacement(c.Str(propRouteTopicReplace), re.find)
	if err != nil {
		return nil, err
	}
	var items []string
	for _, it := range c.List(propFieldsAdditional) {
		if it != "" {
			items = append(items, it)
		}
	}
	pl, err := parsePlacements(items)
	if err != nil {
		return nil, err
	}
	t := &eventRouter{
		e:                e,
		fieldID:          c.Str(propFieldEventID),
		fieldKey:         c.Str(propFieldEventKey),
		fieldPayload:     c.Str(propFieldEventPayload),
		fieldTimestamp:   c.Str(propFieldEventTimestamp),
		fieldVersion:     c.Str(propFieldSchemaVersion),
		routeBy:          c.Str(propOutboxRouteByField),
		router:           &regexRouter{re: re, repl: repl, cache: map[string]string{}},
		placements:       pl,
		ignoreMissing:    c.Str(propFieldAdditionalMiss) == "ignore",
		tombstoneOnEmpty: c.Bool(propRouteTombstone),
		invalidOp:        c.Str(propOpInvalidBehavior),
		expand:           c.Bool(propExpandJSONPayload),
		expander: jsonExpander{
			nullAsBytes:      c.Str(propJSONNullBehavior) == "optional_bytes",
			emptyArrayString: c.Str(propJSONEmptyArrayBehav) == "optional_string",
		},
		valueSchemas: map[valueSchemaKey]*cd.Schema{},
	}
	t.onlyHeaders = true
	for _, p := range pl {
		if p.where == "envelope" {
			t.onlyHeaders = false
		}
	}
	return t, nil
}

func (t *eventRouter) uses() uses { return useKey | useValue }

func (t *eventRouter) apply(r *cd.Record) (bool, error) {
	if r.Value == nil {
		return false, nil // tombstones are ignored
	}
	if !isEnvelope(r.ValueSchema) {
		return true, nil
	}
	env, err := requireStruct(r.Value, "Detect Debezium Operation")
	if err != nil {
		return false, err
	}
	op, _ := stringField(env, envOp)
	switch op {
	case "d":
		return false, nil
	case "u":
		key := cd.String(r.KeySchema, r.Key)
		switch t.invalidOp {
		case "fatal":
			return false, javaErrorf("Unexpected update message received %s, fail.", key)
		case "error":
			t.e.log.Error("EventRouter: unexpected update of the outbox table ignored", "topic", r.Topic, "key", key)
		default:
			t.e.log.Warn("EventRouter: unexpected update of the outbox table ignored", "topic", r.Topic, "key", key)
		}
		return false, nil
	}
	afterF, ok := r.ValueSchema.Field(envAfter)
	if !ok {
		return false, javaErrorf("Unknown field: %s", envAfter)
	}
	event, err := requireStruct(env.GetOrDefault(afterF.Index), "Read Outbox Event")
	if err != nil {
		return false, err
	}
	es := afterF.Schema
	payloadF, ok := es.Field(t.fieldPayload)
	if !ok {
		return false, javaErrorf("Unable to find payload field %s in event", t.fieldPayload)
	}
	payloadSchema := payloadF.Schema
	ts, err := t.timestamp(env, event)
	if err != nil {
		return false, err
	}
	idF, ok := es.Field(t.fieldID)
	if !ok {
		return false, dataErrorf("%s is not a valid field name", t.fieldID)
	}
	payload := event.GetOrDefault(payloadF.Index)
	if err := r.AddHeader("id", idF.Schema, event.GetOrDefault(idF.Index)); err != nil {
		return false, err
	}
	if t.expand {
		switch p := payload.(type) {
		case string:
			if x, ok := t.expandPayload(p, r); ok {
				payloadSchema, payload = x.schema, x.value
			}
		case nil:
		default:
			t.e.log.Warn("EventRouter: table.expand.json.payload is on but the payload is not a string", "topic", r.Topic, "key", cd.String(r.KeySchema, r.Key))
		}
	}
	routed, err := t.routedValue(event)
	if err != nil {
		return false, err
	}
	var structValue *cd.Struct
	var valueSchema *cd.Schema
	if !t.onlyHeaders {
		if valueSchema, err = t.valueSchema(payloadSchema, es, event, routed); err != nil {
			return false, err
		}
		structValue = cd.NewStruct(valueSchema)
		structValue.Set(0, payload)
	}
	partition := int32(-1)
	for _, p := range t.placements {
		f, ok := es.Field(p.field)
		if !ok && t.ignoreMissing {
			continue
		}
		switch p.where {
		case "envelope":
			if !ok {
				return false, javaErrorf("Unable to find field %s in event", p.field)
			}
			if err := structValue.SetName(p.alias, event.GetOrDefault(f.Index)); err != nil {
				return false, err
			}
		case "header":
			if !ok {
				return false, dataErrorf("%s is not a valid field name", p.field)
			}
			if err := r.AddHeader(p.alias, f.Schema, event.GetOrDefault(f.Index)); err != nil {
				return false, err
			}
		case "partition":
			if !ok {
				return false, dataErrorf("%s is not a valid field name", p.field)
			}
			if f.Schema.Type != cd.TypeInt32 {
				return false, dataErrorf("Field '%s' is not of type INT32", p.field)
			}
			partition = -1
			if v, ok := event.GetOrDefault(f.Index).(int32); ok {
				partition = v
			}
		}
	}
	switch {
	case t.tombstoneOnEmpty && isEmptyPayload(payload):
		r.ValueSchema, r.Value = nil, nil
	case t.onlyHeaders:
		r.ValueSchema, r.Value = payloadSchema, payload
	default:
		r.ValueSchema, r.Value = valueSchema, structValue
	}
	kf, ok := es.Field(t.fieldKey)
	if !ok {
		return false, dataErrorf("%s is not a valid field name", t.fieldKey)
	}
	r.KeySchema, r.Key = kf.Schema, event.GetOrDefault(kf.Index)
	r.Partition = partition
	r.Timestamp, r.HasTimestamp = ts, true
	r.Topic = t.router.route(routed)
	return true, nil
}

// routedValue is eventStruct.getString(route.by.field).
func (t *eventRouter) routedValue(event *cd.Struct) (string, error) {
	f, ok := event.Schema().Field(t.routeBy)
	if !ok {
		return "", dataErrorf("%s is not a valid field name", t.routeBy)
	}
	if f.Schema.Type != cd.TypeString {
		return "", dataErrorf("Field '%s' is not of type STRING", t.routeBy)
	}
	v, _ := event.GetOrDefault(f.Index).(string)
	if v == "" && event.GetOrDefault(f.Index) == nil {
		return "", dataErrorf("the %s column is null: no topic to route the event to", t.routeBy)
	}
	return v, nil
}

// isEmptyPayload is payload == null || payload.toString().trim().isEmpty().
func isEmptyPayload(p any) bool {
	switch v := p.(type) {
	case nil:
		return true
	case string:
		return isBlank(v)
	}
	return false
}

// timestamp is getEventTimestampMs.
func (t *eventRouter) timestamp(env, event *cd.Struct) (int64, error) {
	envTs := func() (int64, error) {
		v, ok := env.Lookup(envTsMs)
		if !ok {
			return 0, dataErrorf("%s is not a valid field name", envTsMs)
		}
		n, _ := v.(int64)
		return n, nil
	}
	if t.fieldTimestamp == "" {
		return envTs()
	}
	f, ok := event.Schema().Field(t.fieldTimestamp)
	if !ok {
		return 0, javaErrorf("Unable to find timestamp field %s in event", t.fieldTimestamp)
	}
	if f.Schema.Type != cd.TypeInt64 {
		return 0, dataErrorf("Field '%s' is not of type INT64", t.fieldTimestamp)
	}
	v := event.GetOrDefault(f.Index)
	if v == nil {
		return envTs()
	}
	n := v.(int64)
	switch f.Schema.Name {
	case "":
		return 0, javaErrorf("Unsupported field type %s (without logical schema name) for event timestamp", f.Schema.Type)
	case "io.debezium.time.Timestamp":
		return n, nil
	case "io.debezium.time.MicroTimestamp":
		return n / 1_000, nil
	case "io.debezium.time.NanoTimestamp":
		return n / 1_000_000, nil
	}
	return 0, javaErrorf("Unsupported field type %s for event timestamp", f.Schema.Name)
}

// valueSchema is getValueSchema: {payload, <envelope aliases>} named after
// the row schema with the routed value before its last segment.
func (t *eventRouter) valueSchema(payload, rowSchema *cd.Schema, event *cd.Struct, routed string) (*cd.Schema, error) {
	key := valueSchemaKey{payload: payload, routed: routed}
	if t.fieldVersion != "" {
		f, ok := event.Schema().Field(t.fieldVersion)
		if !ok {
			return nil, dataErrorf("%s is not a valid field name", t.fieldVersion)
		}
		if f.Schema.Type != cd.TypeInt32 {
			return nil, dataErrorf("Field '%s' is not of type INT32", t.fieldVersion)
		}
		key.version, key.hasVer = event.GetOrDefault(f.Index).(int32)
	}
	if s, ok := t.valueSchemas[key]; ok {
		return s, nil
	}
	name := routed
	if n := rowSchema.Name; n != "" {
		if dot := strings.LastIndexByte(n, '.'); dot >= 0 {
			name = n[:dot+1] + routed + "." + n[dot+1:]
		} else {
			name = routed + "." + n
		}
	}
	b := cd.Schema{Type: cd.TypeStruct, Name: name, Version: key.version, HasVersion: key.hasVer}
	b.Fields = append(b.Fields, cd.Field{Name: "payload", Schema: payload})
	for _, p := range t.placements {
		if p.where != "envelope" {
			continue
		}
		f, ok := rowSchema.Field(p.field)
		if !ok {
			if t.ignoreMissing {
				continue
			}
			return nil, javaErrorf("Unable to find field %s in event", p.field)
		}
		b.Fields = append(b.Fields, cd.Field{Name: p.alias, Schema: f.Schema})
	}
	s, err := cd.Build(b)
	if err != nil {
		return nil, err
	}
	if len(t.valueSchemas) >= schemaCacheSize {
		clear(t.valueSchemas)
	}
	t.valueSchemas[key] = s
	return s, nil
}

// expandPayload parses a JSON payload and infers its schema; on failure it
// logs a warning and leaves the payload as it is, as Debezium does.
func (t *eventRouter) expandPayload(p string, r *cd.Record) (expanded, bool) {
	x, err := t.doExpand(p)
	if err != nil {
		t.e.log.Warn("EventRouter: JSON expansion failed", "topic", r.Topic, "err", err)
		return expanded{}, false
	}
	return x, true
}

func (t *eventRouter) doExpand(p string) (expanded, error) {
	if !strings.HasPrefix(p, "{") && !strings.HasPrefix(p, "[") {
		c := ""
		if p != "" {
			c = p[:1]
		}
		return expanded{}, javaErrorf("Unable to parse payload starting with '%s'", c)
	}
	doc, err := t.expander.parser.Parse([]byte(p))
	if err != nil {
		return expanded{}, err
	}
	s, err := t.expander.inferSchema(t.fieldPayload, doc)
	if err != nil {
		return expanded{}, err
	}
	if s == nil {
		return expanded{}, fmt.Errorf("no schema for payload %s", p)
	}
	v, err := t.expander.value(doc, s)
	if err != nil {
		return expanded{}, err
	}
	return expanded{schema: s, value: v}, nil
}
