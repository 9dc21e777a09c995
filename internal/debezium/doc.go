// Package debezium turns change.Change values into Kafka records that are
// byte-identical to what Debezium's PostgreSQL connector (3.4 layout:
// Source struct version 1, Envelope version 2 with ts_us/ts_ns, no origin
// fields) produces through Kafka Connect's JsonConverter and
// SimpleHeaderConverter.
//
// Input values are PostgreSQL text output (DateStyle=ISO, TimeZone=UTC,
// extra_float_digits=1, bytea_output=hex). Per relation the Encoder
// compiles a plan: topic, schema JSON and one converter per column from
// the type table in types.go; columns of types missing from that table are
// left out, with one warning per relation, as Debezium does.
//
// Facts taken from the Debezium 3.4.0.Final and Kafka sources:
//
//   - Null in a NOT NULL column (the non-key columns of a delete under
//     REPLICA IDENTITY DEFAULT) becomes the schema default, else the
//     converter's fallback (JdbcValueConverters.convertValue): false, 0,
//     0.0, "", empty bytes, Decimal zero at the column's scale,
//     VariableScaleDecimal {scale 0, value 0}, "0.00"-style text in string
//     mode, epoch 0 for Date/Time/Timestamp, and "1970-01-01T00:00:00Z"
//     (no fixed fraction) for ZonedTimestamp.
//   - A null in any field that has a schema default is written as the
//     default (JsonConverter replace.null.with.default, on by default).
//   - numeric NaN/Infinity: precise mode fails (SpecialValueDecimal throws
//     a ConnectException; so does Encode), double mode writes the Java
//     doubles ("NaN", "Infinity", "-Infinity", quoted by Jackson), string
//     mode writes the enum names NAN, POSITIVE_INFINITY, NEGATIVE_INFINITY.
//   - Variable-scale numerics have their trailing zeros stripped in precise
//     mode only.
//   - Infinite dates map to the epoch days of -5877611-06-21 (infinity)
//     and -5877611-06-22 (-infinity); infinite timestamps to
//     9223372036825200000 and -9223372036832400000 µs (÷1000 for ms);
//     timestamptz to the strings "infinity" and "-infinity".
//   - Floats are printed as Java's Double.toString/Float.toString (JDK 19+
//     shortest form) via Jackson; NaN and infinities are quoted.
//   - Headers: a key change adds __debezium.newkey to the delete and its
//     tombstone and __debezium.oldkey to the create, before the context
//     headers; the key struct is written by Values.append ({"id":1},
//     strings quoted with only \ and " escaped, bytes as base64, decimals
//     as BigDecimal.toString, NaN unquoted). extended.headers.enabled adds
//     connectorLogicalName (topic.prefix), taskId, connectorName (the
//     plugin name, "postgresql", not the Connect connector name) and, since
//     3.4, runId (a UUIDv7 per task start) to every record, tombstones
//     included.
//   - skipped.operations applies to the emitted records: a key change under
//     skipped "u" still emits its delete and create.
//
// Known differences from Debezium 3.4: name columns are streamed with
// their value (Debezium's pgoutput resolver has no case for name and
// streams null or ""); numeric columns with a negative scale get their
// real scale (PgJDBC reports 2048+scale); 'infinity' date and timestamp
// column defaults get no schema default; invalid UTF-8 becomes one U+FFFD
// per byte.
package debezium
