// Package transform runs Kafka Connect single message transforms (SMTs)
// and predicates over the records of a connector, as Kafka Connect chains
// them: transforms=<a>,<b> in order, each optionally guarded by
// transforms.<a>.predicate (and .negate), a transform dropping the record by
// returning none.
//
// Implemented plugins, one per file, with Kafka's and Debezium's option
// names, defaults, behaviour and error texts:
//
//   - Debezium: io.debezium.transforms.outbox.EventRouter
//     (transform_outbox.go, with jsonexpand.go for
//     table.expand.json.payload), io.debezium.transforms.ExtractNewRecordState
//     (transform_unwrap.go), io.debezium.transforms.ByLogicalTableRouter
//     (transform_logicaltable.go);
//   - Kafka (org.apache.kafka.connect.transforms): RegexRouter, Filter,
//     InsertField, ReplaceField, MaskField, ValueToKey, ExtractField,
//     TimestampRouter, HeaderFrom and Cast, with their $Key and $Value
//     variants (transform_<name>.go);
//   - predicates (org.apache.kafka.connect.transforms.predicates):
//     TopicNameMatches, HasHeaderKey, RecordIsTombstone (predicates.go).
//
// Each plugin declares its options as a spec.Spec registered in init(), so
// the same declarations drive parsing, the validation of a connector's
// transforms.* and predicates.* options (PUT
// /connector-plugins/{class}/config/validate), GET /connector-plugins and
// the reference docs.
//
// Transforms work on connectdata values, in Kafka Connect's order: the
// source builds a record as Connect data, Chain.Transform runs the
// plugins over it, and the converter writes what is left. The debezium
// encoder does all three (debezium.Options.Transforms): the sides of a
// record that one of the chain's plugins reads (Chain.Parses) reach it as
// Connect data built from the change, the others as the bytes the encoder
// wrote. A connector without transforms has no Chain at all.
//
// Differences from the Java stack:
//
//   - Regular expressions use Go's RE2 syntax (no look-around,
//     back-references or possessive quantifiers); replacements follow
//     java.util.regex ($1, ${name}, \ escapes) and are checked against the
//     expression when the configuration is validated, not on the first
//     record.
//   - Debezium's own validations (regular expressions, placements, ...)
//     are reported by the connector's validation rather than when the task
//     starts.
//   - EventRouter caches the value schema of table.fields.additional.placement
//     envelope fields per payload schema and routed topic; Debezium caches it
//     per payload schema only, so its name follows the first routed topic.
//     When it merges the schemas of the objects of a JSON array it takes
//     them in order of appearance (Debezium: HashSet order).
//   - A streamed event's source.snapshot reads "false" (the encoder writes
//     the schema default) where Debezium's unset field gives null to
//     ExtractNewRecordState's add.fields and add.headers.
package transform
