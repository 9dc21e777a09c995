// Package connectdata is Kafka Connect's data model (org.apache.kafka.connect.data)
// and its JsonConverter, in both directions.
//
// A value is described by a *Schema, whose Type fixes the Go type of the
// value:
//
//	Type          Go value            logical types (Schema.Name) with the same Go value
//	TypeInt8      int8
//	TypeInt16     int16
//	TypeInt32     int32               Date (days since epoch), Time (ms of day)
//	TypeInt64     int64               Timestamp (ms since epoch)
//	TypeFloat32   float32
//	TypeFloat64   float64
//	TypeBoolean   bool
//	TypeString    string
//	TypeBytes     []byte              Decimal (unscaled big-endian two's complement; scale in the "scale" parameter)
//	TypeArray     []any
//	TypeMap       Map
//	TypeStruct    *Struct
//
// A nil any is null. Logical types keep their underlying representation
// (Kafka turns them into java.util.Date and BigDecimal); their schema names
// are kept, so they round-trip unchanged and transformations that care
// (Cast, header rendering) interpret them by name. Values without a schema
// ("schemaless") use the same Go types; JSON objects become Map.
//
// JSONConverter reproduces Kafka's JsonConverter byte for byte: compact
// Jackson output, schema keys in Jackson's order, struct fields in schema
// order, doubles as Java prints them, NaN and infinities quoted, bytes as
// padded base64, replace.null.with.default on. Parsing is Kafka's
// toConnectData with three deliberate differences, all for input Kafka
// would reject or mangle: values whose JSON type does not fit the schema
// are errors rather than Jackson's lenient coercions (a number read as a
// string becomes null there), the quoted "NaN", "Infinity" and "-Infinity"
// of float fields are read back as those values (Jackson reads 0.0), and
// schemaless objects keep their key order (Kafka builds a HashMap).
//
// The encoder builds change events as Connect data directly when a
// transformation chain needs them (Kafka Connect's order: source,
// transforms, converter); ToConnect reads the rare records it writes as
// JSON (heartbeats, transaction and message events) and test fixtures.
// Record is a record between the two.
//
// Schemas are immutable once built (Build) and safe for concurrent use.
// Struct, Map and slices are plain values: share them only read-only. A
// JSONConverter caches parsed schemas and is not safe for concurrent use.
package connectdata
