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
// Types added with types_builtin.go and array.go (PostgresValueConverter,
// ReplicationMessageColumnValueResolver, MicroDuration, Interval, Point,
// PGInterval/PGmoney of PgJDBC):
//
//   - enum: string io.debezium.data.Enum v1, parameter allowed = the
//     labels joined by "," in EnumValues order. Debezium 3.6+ orders them
//     by enumsortorder; before, array_agg without ORDER BY (usually the
//     same catalog order).
//   - domain: mapped as its base type with the base typmod (one level:
//     a domain over another domain, an enum or an array is left out).
//   - arrays: array of the element schema made optional, for the explicit
//     *_ARRAY cases (int2/4/8, oid, text-like, inet/cidr/macaddr(8), the
//     six ranges, numeric (the array typmod gives scale/precision), float4/8,
//     bool, date, uuid, json/jsonb, time, timetz, timestamp, timestamptz,
//     bytea) plus citext[] and ltree[]. Enum arrays use Enum.builder
//     without optional(), so their elements are required and a NULL
//     element fails. money, name, interval, varbit, xml and point arrays
//     and arrays of domains are left out. Multi-dimensional arrays fail.
//   - tsvector io.debezium.data.Tsvector, ltree io.debezium.data.Ltree,
//     xml io.debezium.data.Xml (all v1); inet, cidr, macaddr, macaddr8,
//     citext and isbn (matched by type name) and the six built-in ranges:
//     plain strings, PostgreSQL text form.
//   - interval, numeric mode: int64 io.debezium.time.MicroDuration =
//     (long)(((((y*12+m)*365.25/12 + d)*24 + h)*60 + min)*60 + s)*1e6) in
//     doubles, s being PGInterval's wholeSeconds + round(frac*1e6)/1e6;
//     string mode: io.debezium.time.Interval "P1Y2M3DT4H5M6.78S" (seconds
//     BigDecimal.valueOf, cut to 6 digits, trailing zeros stripped).
//   - money: PGmoney reads "$1,234.56" ("-$…" as "(…)") into a double;
//     precise: Decimal with scale money.fraction.digits and no precision,
//     BigDecimal.valueOf(d).setScale(scale, HALF_UP), so values past 2^53
//     lose digits exactly as Debezium's do; double: the double; string:
//     String.valueOf(double) ("1.2345678E7"). Needs lc_monetary=C.
//   - bit(1)/varbit(1): boolean. bit(n>1)/varbit: bytes io.debezium.data.Bits
//     v1, parameter length (varbit without a length: 2147483647); the bits
//     are a little-endian BitSet (last character = bit 0) of
//     ceil(highest set bit/8) bytes, so all zeros is empty.
//   - timetz: io.debezium.time.ZonedTime, the time shifted to UTC in
//     ISO_OFFSET_TIME form (13:51:30.123456Z, no fraction when zero);
//     24:00:00+00 gives 24:00:00Z.
//   - point: struct io.debezium.data.geometry.Point v1, doc "Geometry
//     (POINT)", fields x, y (double), wkb (1, type 1, x, y little-endian,
//     21 bytes), srid (null).
//   - Column defaults (PostgresDefaultValueConverter, see defaults.go):
//     bit, varbit, xml, interval and enum columns get one; domain
//     columns, arrays and the other added types do not.
//   - Schema docs: only the logical types' own (VariableScaleDecimal
//     "Variable scaled decimal", Point "Geometry (POINT)",
//     SparseDoubleVector "Sparse double vector"); the PostgreSQL
//     connector never reads column comments, whatever
//     include.schema.comments says.
//
// Added with types_time.go, types_extension.go and columns.go:
//
//   - time.precision.mode (reference §3): adaptive_time_microseconds
//     (time always MicroTime), connect (org.apache.kafka.connect.data
//     Date/Time/Timestamp, ms, truncated), isostring (IsoDate "…Z",
//     IsoTime, IsoTimestamp: ISO_OFFSET_* in UTC, shortest fraction),
//     microseconds, nanoseconds (NanoTime, NanoTimestamp; Java's
//     saturating toNanos then a wrapping add, so the infinity constants
//     wrap as they would in Debezium). timetz, timestamptz and interval
//     do not depend on the mode.
//   - hstore (found by name): json mode, a Json string written by a
//     Jackson generator; map mode, map<string, optional string>. Pairs
//     come in java.util.HashMap order (PgJDBC HStoreConverter), which
//     javaHashOrder reproduces; unchanged TOAST is {placeholder:
//     placeholder}.
//   - pgvector (found by name): vector → array<double>
//     io.debezium.data.DoubleVector, halfvec → array<float>
//     io.debezium.data.FloatVector (required elements), sparsevec →
//     struct io.debezium.data.SparseDoubleVector {dimensions int16,
//     vector map<int16,double>} (JSON: [[k,v],…] in HashMap(n) order); a
//     sparsevec Debezium cannot split ("{}/5") is null.
//   - PostGIS (found by name): geometry → struct
//     io.debezium.data.geometry.Geometry v1 doc "Geometry", always
//     optional (its builder calls optional()); geography → Geography v1
//     doc "Geography"; both {wkb: the whole EWKB, srid: from the EWKB
//     when flagged, else null}; arrays of both; a null in a NOT NULL
//     column is an empty GEOMETRYCOLLECTION; an unchanged TOASTed value
//     is null.
//   - include.unknown.datatypes: columns with no mapping become the
//     bytes of their text, per binary.handling.mode; without it they are
//     left out with one warning per relation naming schema.table.column.
//   - column.include.list/column.exclude.list (key columns always kept),
//     column.mask.with.<n>.chars and column.truncate.to.<n>.chars (plain
//     string columns only; UTF-16 units), column.propagate.source.type and
//     datatype.propagate.source.type (__debezium.source.column.type =
//     upper-case type name, .length and .scale from PgJDBC's
//     TypeInfoCache precision/display size and scale, appended after the
//     type's own parameters). column.mask.hash.* is not implemented.
//
// Known differences from Debezium 3.4: name columns are streamed with
// their value (Debezium's pgoutput resolver has no case for name and
// streams null or ""); numeric columns with a negative scale get their
// real scale (PgJDBC reports 2048+scale); 'infinity' date and timestamp
// column defaults get no schema default; invalid UTF-8 becomes one U+FFFD
// per byte. An unchanged TOASTed array fails the change (Debezium writes
// a placeholder list; not implemented yet).
package debezium
