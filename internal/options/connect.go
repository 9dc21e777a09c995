package options

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/pgmotion/pgmotion/internal/java"
)

// Kafka Connect framework property names.
const (
	PropName               = "name"
	PropConnectorClass     = "connector.class"
	PropTasksMax           = "tasks.max"
	PropKeyConverter       = "key.converter"
	PropValueConverter     = "value.converter"
	PropHeaderConverter    = "header.converter"
	PropTransforms         = "transforms"
	PropPredicates         = "predicates"
	PropTopicPartitions    = "topic.creation.default.partitions"
	PropTopicReplication   = "topic.creation.default.replication.factor"
	PropKeySchemasEnable   = "key.converter.schemas.enable"
	PropValueSchemasEnable = "value.converter.schemas.enable"
	// PropReplaceNullWithDefault is JsonConverter's replace.null.with.default
	// (under key.converter. and value.converter.); Kafka's InsertField and
	// Debezium's ExtractNewRecordState have options of the same name.
	PropReplaceNullWithDefault = "replace.null.with.default"
	topicCreationPrefix        = "topic.creation."
	PrefixProducerOverride     = "producer.override."
	PrefixAdminOverride        = "admin.override."
	simpleHeaderConverter      = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
	JSONConverterClass         = "org.apache.kafka.connect.json.JsonConverter"
	stringConverterClass       = "org.apache.kafka.connect.storage.StringConverter"
	byteArrayConverterClass    = "org.apache.kafka.connect.converters.ByteArrayConverter"
)

// KIP-618's connector options (exactly-once source).
const (
	PropExactlyOnceSupport        = "exactly.once.support"
	PropTransactionBoundary       = "transaction.boundary"
	PropTransactionBoundaryMillis = "transaction.boundary.interval.ms"
)

// Kafka Connect's groups.
const (
	groupCommon        = "Common"
	groupTransforms    = "Transforms"
	groupPredicates    = "Predicates"
	groupErrors        = "Error Handling"
	groupTopicCreation = "Topic Creation"
	groupExactlyOnce   = "Exactly Once Support"
	groupOffsetsTopic  = "offsets.topic"
	groupSchemas       = "Schemas"
	groupSerialization = "Serialization"
)

// builtinConverters are the converter classes pgmotion knows without any
// converter spec being registered.
var builtinConverters = []string{JSONConverterClass, stringConverterClass, byteArrayConverterClass}

// knownClass reports whether class names a plugin of type typ: a registered
// spec of that type (by class or alias), or one of the built-in converters.
// verifiable is false when nothing of that type is registered and there is no
// built-in list, in which case no class can be refused.
func knownClass(typ, class string) (known, verifiable bool) {
	if s, ok := Lookup(class); ok && s.Type == typ {
		return true, true
	}
	if typ == "converter" {
		for _, b := range builtinConverters {
			if class == b || class == b[strings.LastIndexByte(b, '.')+1:] {
				return true, true
			}
		}
		return false, true
	}
	return false, len(ofType(typ)) > 0
}

// classesOf lists the class names of a plugin type for recommendations.
func classesOf(typ string) []string {
	var out []string
	if typ == "converter" {
		out = append(out, builtinConverters...)
	}
	for _, s := range ofType(typ) {
		out = append(out, s.Class)
	}
	sort.Strings(out)
	return out
}

func checkClass(typ string) func(*Check) {
	return func(c *Check) {
		if c.IsNull() {
			return
		}
		v := c.Value()
		if known, verifiable := knownClass(typ, v); verifiable && !known {
			c.Errorf("Class %s could not be found.", v)
		}
	}
}

// checkNameChars is Kafka's NonEmptyStringWithoutControlChars.
func checkNameChars(c *Check) {
	if c.IsNull() {
		return
	}
	v := c.Value()
	if v == "" {
		c.Errorf("String may not be empty")
		return
	}
	var bad []string
	for _, r := range v {
		if unicode.IsControl(r) {
			bad = append(bad, strconv.Itoa(int(r)))
		}
	}
	if len(bad) > 0 {
		c.Errorf("String may not contain control sequences but had the following ASCII chars: %s", strings.Join(bad, ", "))
	}
}

// checkUniqueAliases is Kafka's alias validator for transforms, predicates and
// topic.creation.groups.
func checkUniqueAliases(c *Check) {
	if c.IsNull() {
		return
	}
	items := splitList(c.Value())
	seen := map[string]bool{}
	for _, it := range items {
		if seen[it] {
			c.ErrorValuef(java.ListString(items), "Duplicate alias provided.")
			return
		}
		seen[it] = true
	}
}

// checkTasksMax refuses more tasks than the connector can run.
func checkTasksMax(max int) func(*Check) {
	return func(c *Check) {
		if c.IsNull() {
			return
		}
		if n, err := strconv.Atoi(strings.TrimSpace(c.Value())); err == nil && n > max {
			c.Errorf("the connector runs exactly %d task; set tasks.max=%d", max, max)
		}
	}
}

// checkConnectorClass refuses a class that is not the spec's.
func checkConnectorClass(class string, aliases []string) func(*Check) {
	return func(c *Check) {
		if c.IsNull() {
			return
		}
		v := c.Value()
		if v == class {
			return
		}
		for _, a := range aliases {
			if v == a {
				return
			}
		}
		c.Errorf("this configuration is validated as %s (also accepted: %s)", class, strings.Join(aliases, ", "))
	}
}

func usesTopicCreation(c *Check) bool {
	for _, k := range c.Keys() {
		if strings.HasPrefix(k, topicCreationPrefix) {
			return true
		}
	}
	return false
}

// checkTopicCreationCount is Kafka's validation of the default topic
// creation group, required as soon as any topic.creation.* key is present.
func checkTopicCreationCount(what string) func(*Check) {
	return func(c *Check) {
		if c.IsNull() && !c.IsSet() {
			if usesTopicCreation(c) {
				c.Fail(fmt.Sprintf("Missing required configuration %q which has no default value.", c.Name()))
			}
			return
		}
		if !c.TypeOK() {
			return
		}
		n, _ := strconv.Atoi(strings.TrimSpace(c.Value()))
		if n != -1 && n < 1 {
			if what == "partitions" {
				c.ErrorValuef(strconv.Itoa(n), "Number of partitions must be positive, or -1 to use the broker's default")
			} else {
				c.ErrorValuef(strconv.Itoa(n), "Replication factor must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default")
			}
		}
	}
}

func checkHeaderConverter(c *Check) {
	if c.IsSet() && !c.IsNull() && c.Value() != simpleHeaderConverter && c.Value() != "SimpleHeaderConverter" {
		c.Warnf("%q=%s is accepted for Debezium compatibility but not implemented by pgmotion yet; headers are written as by %s", c.Name(), c.Value(), simpleHeaderConverter)
	}
}

// connectFields returns the options of Kafka Connect's ConnectorConfig and
// SourceConnectorConfig, in Kafka's order.
func connectFields(class string, aliases []string, maxTasks int) []*Field {
	k := func(f *Field) *Field { f.Origin = OriginKafka; return f }
	return []*Field{
		k(&Field{Name: PropName, Type: TypeString, Required: true, Importance: High, Group: groupCommon, Order: 1, Width: WidthMedium,
			DisplayName: "Connector name", Check: checkNameChars,
			Doc: "Globally unique name to use for this connector."}),
		k(&Field{Name: PropConnectorClass, Type: TypeString, Required: true, Importance: High, Group: groupCommon, Order: 2, Width: WidthLong,
			DisplayName: "Connector class", Check: checkConnectorClass(class, aliases),
			Doc: "Name or alias of the class for this connector: " + class + ", or one of " + strings.Join(aliases, ", ") + "."}),
		k(&Field{Name: PropTasksMax, Type: TypeInt, Default: "1", Range: AtLeast(1), Importance: High, Group: groupCommon, Order: 3, Width: WidthShort,
			DisplayName: "Tasks max", Check: checkTasksMax(maxTasks),
			Doc:  "Maximum number of tasks to use for this connector.",
			Note: fmt.Sprintf("the connector always runs %d task; pgmotion refuses a higher value where Debezium ignores it", maxTasks)}),
		k(&Field{Name: "tasks.max.enforce", Type: TypeBoolean, Default: "true", Importance: Low, Group: groupCommon, Order: 4, Width: WidthShort,
			DisplayName: "Enforce tasks max", Status: Accepted, Since: "Kafka 3.8",
			Doc: "(Deprecated) Whether to enforce that the tasks.max property is respected by the connector."}),
		k(&Field{Name: PropKeyConverter, Type: TypeClass, Importance: Low, Group: groupCommon, Order: 5, Width: WidthShort,
			DisplayName: "Key converter class", Check: checkClass("converter"), Recommended: builtinConverters,
			Doc: "Converter class for record keys; overrides the worker's. pgmotion knows " + strings.Join(builtinConverters, ", ") + "."}),
		k(&Field{Name: PropValueConverter, Type: TypeClass, Importance: Low, Group: groupCommon, Order: 6, Width: WidthShort,
			DisplayName: "Value converter class", Check: checkClass("converter"), Recommended: builtinConverters,
			Doc: "Converter class for record values; overrides the worker's. pgmotion knows " + strings.Join(builtinConverters, ", ") + "."}),
		k(&Field{Name: PropHeaderConverter, Type: TypeClass, Importance: Low, Group: groupCommon, Order: 7, Width: WidthShort,
			DisplayName: "Header converter class", Check: checkHeaderConverter,
			Doc:  "HeaderConverter class for record headers; overrides the worker's (" + simpleHeaderConverter + ").",
			Note: "only " + simpleHeaderConverter + " is implemented"}),
		k(&Field{Name: PropTransforms, Type: TypeList, EmptyDefault: true, Importance: Low, Group: groupTransforms, Order: 8, Width: WidthLong,
			DisplayName: "Transforms", Check: checkUniqueAliases,
			Doc: "Aliases for the transformations to be applied to records; each alias <a> is configured by transforms.<a>.type and transforms.<a>.*."}),
		k(&Field{Name: PropPredicates, Type: TypeList, EmptyDefault: true, Importance: Low, Group: groupPredicates, Order: 9, Width: WidthLong,
			DisplayName: "Predicates", Check: checkUniqueAliases,
			Doc: "Aliases for the predicates used by transformations; each alias <p> is configured by predicates.<p>.type and predicates.<p>.*."}),
		k(&Field{Name: "config.action.reload", Type: TypeString, Default: "restart", Enum: enums("none", "restart"), Importance: Low, Group: groupCommon, Order: 10, Width: WidthMedium,
			DisplayName: "Reload Action", Status: Accepted,
			Doc: "What to do when a configuration provider reports a changed value: none, or restart the connector."}),
		k(&Field{Name: "errors.retry.timeout", Type: TypeLong, Default: "0", Importance: Medium, Group: groupErrors, Order: 1, Width: WidthMedium,
			DisplayName: "Retry Timeout for Errors", Status: Accepted,
			Doc: "Maximum duration in milliseconds that a failed converter or transformation is retried; 0 means no retries, -1 infinite retries."}),
		k(&Field{Name: "errors.retry.delay.max.ms", Type: TypeLong, Default: "60000", Importance: Medium, Group: groupErrors, Order: 2, Width: WidthMedium,
			DisplayName: "Maximum Delay Between Retries for Errors", Status: Accepted,
			Doc: "Maximum duration in milliseconds between consecutive retries."}),
		k(&Field{Name: "errors.tolerance", Type: TypeString, Default: "none", Enum: enums("none", "all"), Importance: Medium, Group: groupErrors, Order: 3, Width: WidthShort,
			DisplayName: "Error Tolerance", Status: Accepted,
			Doc: "none: any converter or transformation error fails the task; all: problematic records are skipped."}),
		k(&Field{Name: "errors.log.enable", Type: TypeBoolean, Default: "false", Importance: Medium, Group: groupErrors, Order: 4, Width: WidthShort,
			DisplayName: "Log Errors", Status: Accepted,
			Doc: "Log each tolerated error with the failed operation."}),
		k(&Field{Name: "errors.log.include.messages", Type: TypeBoolean, Default: "false", Importance: Medium, Group: groupErrors, Order: 5, Width: WidthShort,
			DisplayName: "Log Error Details", Status: Accepted,
			Doc: "Include the failed record (key, value, headers) in the error log."}),
		k(&Field{Name: "topic.creation.groups", Type: TypeList, EmptyDefault: true, Importance: Low, Group: groupTopicCreation, Order: 1, Width: WidthLong,
			DisplayName: "Topic Creation Groups", Status: Accepted, Check: checkUniqueAliases,
			Doc: "Groups of configurations for topics created by source connectors (besides the default group)."}),
		k(&Field{Name: PropExactlyOnceSupport, Type: TypeString, Default: "requested", Enum: enums("requested", "required"), CaseInsensitive: true,
			Importance: Medium, Group: groupExactlyOnce, Order: 2, Width: WidthShort, DisplayName: "Exactly once support", Since: "Kafka 3.3",
			Doc: "requested or required; required fails the connector unless the worker has exactly.once.source.support=enabled. With it enabled, every connector is transactional: its records and its offsets (snapshot progress included) go to Kafka in one producer transaction per boundary."}),
		k(&Field{Name: PropTransactionBoundary, Type: TypeString, Default: "poll", Enum: enums("poll", "interval", "connector"), CaseInsensitive: true,
			Importance: Medium, Group: groupExactlyOnce, Order: 3, Width: WidthShort, DisplayName: "Transaction Boundary", Since: "Kafka 3.3",
			Doc: "With exactly-once support: poll (a producer transaction per batch of at most max.batch.size events or poll.interval.ms), interval (per transaction.boundary.interval.ms), or connector (a producer transaction per PostgreSQL transaction)."}),
		k(&Field{Name: PropTransactionBoundaryMillis, Type: TypeLong, Importance: Low, Group: groupExactlyOnce, Order: 4, Width: WidthShort,
			DisplayName: "Transaction boundary interval", Since: "Kafka 3.3", Check: checkOptionalAtLeastZero,
			Doc: "Commit interval of producer transactions when transaction.boundary is interval; defaults to the worker's offset.flush.interval.ms."}),
		k(&Field{Name: "offsets.storage.topic", Type: TypeString, Importance: Low, Group: groupOffsetsTopic, Order: 1, Width: WidthLong,
			DisplayName: "Offsets topic", Status: Accepted, Since: "Kafka 3.3", Check: checkNonEmptyIfSet,
			Doc: "A separate offsets topic for this connector; by default the worker's offsets topic is used."}),
		k(&Field{Name: "topic.creation.default.include", Type: TypeList, Default: ".*", Importance: Low, Group: groupTopicCreation, Order: 5, Width: WidthLong,
			DisplayName: "Inclusion Topic Pattern for default", Status: Accepted,
			Doc: "Regular expressions of the topic names created with the default group's settings."}),
		k(&Field{Name: "topic.creation.default.exclude", Type: TypeList, EmptyDefault: true, Importance: Low, Group: groupTopicCreation, Order: 6, Width: WidthLong,
			DisplayName: "Exclusion Topic Pattern for default", Status: Accepted,
			Doc: "Regular expressions of the topic names not created with the default group's settings."}),
		k(&Field{Name: PropTopicReplication, Type: TypeShort, Importance: Low, Group: groupTopicCreation, Order: 7, Width: WidthLong,
			DisplayName: "Replication Factor for Topics in default", Check: checkTopicCreationCount("replication"),
			Doc: "Replication factor of the topics the connector creates, or -1 for the broker's default. Required, with " + PropTopicPartitions + ", as soon as any topic.creation.* property is set; without them topics are left to the broker's auto-creation."}),
		k(&Field{Name: PropTopicPartitions, Type: TypeInt, Importance: Low, Group: groupTopicCreation, Order: 8, Width: WidthLong,
			DisplayName: "Partition Count for Topics in default", Check: checkTopicCreationCount("partitions"),
			Doc: "Number of partitions of the topics the connector creates, or -1 for the broker's default. Required, with " + PropTopicReplication + ", as soon as any topic.creation.* property is set."}),
	}
}

// converterFields returns JsonConverter's options under a converter prefix.
// Kafka validates them under their unprefixed names.
func converterFields(prefix, which string) []*Field {
	k := func(f *Field) *Field {
		f.Origin = OriginKafka
		f.ErrName = f.Name
		f.Name = prefix + f.Name
		return f
	}
	return []*Field{
		k(&Field{Name: "schemas.enable", Type: TypeBoolean, Default: "true", Importance: High, Group: groupSchemas, Width: WidthMedium,
			DisplayName: "Enable Schemas",
			Doc:         "JsonConverter: include the schema with each serialized " + which + " ({\"schema\":…,\"payload\":…})."}),
		k(&Field{Name: "schemas.cache.size", Type: TypeInt, Default: "1000", Importance: High, Group: groupSchemas, Width: WidthMedium,
			DisplayName: "Schema Cache Size", Status: Accepted,
			Doc: "JsonConverter: maximum number of schemas cached."}),
		k(&Field{Name: "decimal.format", Type: TypeString, Default: "BASE64", Enum: enums("BASE64", "NUMERIC"), CaseInsensitive: true,
			Importance: Low, Group: groupSerialization, Width: WidthMedium, DisplayName: "Decimal Format", Status: Accepted,
			Doc: "JsonConverter: serialize decimals as BASE64 (the unscaled bytes) or NUMERIC (a JSON number)."}),
		k(&Field{Name: PropReplaceNullWithDefault, Type: TypeBoolean, Default: "true", Importance: Low, Group: groupSerialization, Width: WidthMedium,
			DisplayName: "Replace null with default", Status: Accepted, Since: "Kafka 3.5",
			Doc: "JsonConverter: write a null field that has a schema default as the default."}),
	}
}

func checkOptionalAtLeastZero(c *Check) {
	if c.IsNull() || !c.TypeOK() {
		return
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(c.Value()), 10, 64); err == nil && n < 0 {
		c.ErrorValuef(strconv.FormatInt(n, 10), "Value must be at least 0")
	}
}

func checkNonEmptyIfSet(c *Check) {
	if c.IsSet() && !c.IsNull() && c.Value() == "" {
		c.Errorf("String must be non-empty")
	}
}

// connectPrefixes are the Kafka Connect property families.
func connectPrefixes() []*Prefix {
	return []*Prefix{
		{Prefix: PropTransforms + ".", Display: "transforms.<alias>.*", Doc: "Options of each transformation alias: type, predicate, negate and the transformation's own options."},
		{Prefix: PropPredicates + ".", Display: "predicates.<alias>.*", Doc: "Options of each predicate alias: type and the predicate's own options."},
		{Prefix: PropKeyConverter + ".", Doc: "Options of the key converter."},
		{Prefix: PropValueConverter + ".", Doc: "Options of the value converter."},
		{Prefix: PropHeaderConverter + ".", Doc: "Options of the header converter."},
		{Prefix: PrefixProducerOverride, Doc: "Producer options for this connector (Kafka's connector.client.config.override.policy applies).", Status: Accepted},
		{Prefix: PrefixAdminOverride, Doc: "Admin client options for this connector.", Status: Accepted},
		{Prefix: topicCreationPrefix, Display: "topic.creation.<group>.*", Doc: "Settings of the topic creation groups listed in topic.creation.groups.", Status: Accepted},
	}
}

// enrichConnect adds, like Kafka Connect, the options of each transformation
// and predicate alias: <prefix><alias>.type, and, for transformations, the
// predicate and negate options plus the options of a registered
// transformation spec.
func enrichConnect(values map[string]string) []*Field {
	var out []*Field
	out = append(out, enrichAliases(values, PropTransforms, groupTransforms, "transformation", "Transformation")...)
	out = append(out, enrichAliases(values, PropPredicates, groupPredicates, "predicate", "Predicate")...)
	return out
}

func enrichAliases(values map[string]string, listProp, group, typ, kind string) []*Field {
	seen := map[string]bool{}
	var out []*Field
	for _, alias := range splitList(values[listProp]) {
		if seen[alias] {
			continue
		}
		seen[alias] = true
		prefix := listProp + "." + alias + "."
		g := group + ": " + alias
		typeName := prefix + "type"
		out = append(out, &Field{Name: typeName, Type: TypeClass, Required: true, Importance: High, Group: g, Width: WidthLong,
			DisplayName: kind + " type for " + alias, Origin: OriginKafka, Recommended: classesOf(typ),
			Doc:   "Class for the '" + alias + "' " + strings.ToLower(kind) + ".",
			Check: checkAliasType(typ, prefix)})
		if typ == "transformation" {
			out = append(out,
				&Field{Name: prefix + "predicate", Type: TypeString, Importance: Medium, Group: g, Width: WidthNone, Origin: OriginKafka,
					Doc: "The alias of a predicate used to determine whether to apply this transformation.", Check: checkPredicateAlias},
				&Field{Name: prefix + "negate", Type: TypeBoolean, Default: "false", Importance: Medium, Group: g, Width: WidthNone, Origin: OriginKafka,
					Doc: "Whether the configured predicate should be negated."})
		}
		if s, ok := Lookup(strings.TrimSpace(values[typeName])); ok && s.Type == typ {
			for _, f := range s.Fields {
				if f.Name == "predicate" || f.Name == "negate" {
					continue
				}
				cp := *f
				cp.Name = prefix + f.Name
				if cp.ValidatorName == "" {
					cp.ValidatorName = f.Name
				}
				cp.Group = g
				if f.Group != "" {
					cp.Group = g + ": " + f.Group
				}
				cp.Order = 0
				cp.Dependents = nil
				out = append(out, &cp)
			}
		}
	}
	return out
}

// checkPredicateAlias refuses a predicate alias that predicates does not
// list: Kafka Connect only finds out when the task starts.
func checkPredicateAlias(c *Check) {
	if c.IsNull() {
		return
	}
	list, _ := c.Get(PropPredicates)
	for _, a := range splitList(list) {
		if a == c.Value() {
			return
		}
	}
	c.Errorf("Predicate alias %s is not listed in %s", c.Value(), PropPredicates)
}

func checkAliasType(typ, prefix string) func(*Check) {
	return func(c *Check) {
		if typ == "transformation" {
			_, negate := c.Get(prefix + "negate")
			_, pred := c.Get(prefix + "predicate")
			if negate && !pred {
				c.Fail(fmt.Sprintf("Config '%snegate' was provided but there is no config '%spredicate' defining a predicate to be negated.", prefix, prefix))
			}
		}
		checkClass(typ)(c)
	}
}

// enums declares implemented enum values.
func enums(values ...string) []Enum {
	out := make([]Enum, len(values))
	for i, v := range values {
		out[i] = Enum{Value: v}
	}
	return out
}
