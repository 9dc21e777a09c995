package debezium

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
)

// One golden file per Debezium logical type, testdata/schemas/<name>.json:
// the field schema of each column of that type (nullable, NOT NULL, with
// literal, function and NULL defaults), one JSON line per column with
// the DDL and the pg_get_expr text PostgreSQL 15 gives for it (checked
// against a real server: varbit defaults print as '101'::"bit", a
// DEFAULT NULL leaves no pg_attrdef row except for varbit). Besides the golden
// comparison, every schema is checked against debeziumBuilders (name,
// type, version, doc, parameter keys and members as Debezium's builders
// set them) and every default against the value worked out by hand from
// PostgresDefaultValueConverter.

// debeziumBuilder is what one logical type's builder sets.
type debeziumBuilder struct {
	typ     string
	version int
	doc     string
	// params are the parameter keys in order; a trailing '?' marks one
	// that may be missing.
	params []string
	// members is the raw JSON of "items" or "fields", "" for none.
	members string
	// source is the file that builds the schema (Debezium 3.4.0.Final
	// unless it is Kafka's).
	source string
}

// debeziumBuilders are the logical types Debezium's PostgreSQL connector
// can write. Not here because the PostgreSQL connector never writes them:
// io.debezium.data.EnumSet and io.debezium.time.Year (MySQL),
// io.debezium.time.NanoDuration, and the Circle and Line structs (and
// Geometry version 2) of Debezium 3.7, which maps box, circle, line,
// lseg, path and polygon; 3.4 leaves those columns out.
var debeziumBuilders = map[string]debeziumBuilder{
	"io.debezium.data.Bits":  {typ: "bytes", version: 1, params: []string{"length"}, source: "debezium-core/.../schema/SchemaFactory.java datatypeBitsSchema"},
	"io.debezium.data.Json":  {typ: "string", version: 1, source: "debezium-core/.../schema/SchemaFactory.java datatypeJsonSchema"},
	"io.debezium.data.Uuid":  {typ: "string", version: 1, source: "debezium-core/.../schema/SchemaFactory.java datatypeUuidSchema"},
	"io.debezium.data.Xml":   {typ: "string", version: 1, source: "debezium-core/.../schema/SchemaFactory.java datatypeXmlSchema"},
	"io.debezium.data.Enum":  {typ: "string", version: 1, params: []string{"allowed"}, source: "debezium-core/.../schema/SchemaFactory.java datatypeEnumSchema"},
	"io.debezium.data.Ltree": {typ: "string", version: 1, source: "debezium-connector-postgres/.../PostgresSchemaFactory.java datatypeLtreeSchema"},
	"io.debezium.data.Tsvector": {typ: "string", version: 1,
		source: "debezium-core/.../data/TsVector.java builder"},
	"io.debezium.data.VariableScaleDecimal": {typ: "struct", version: 1, doc: "Variable scaled decimal",
		members: `[{"type":"int32","optional":false,"field":"scale"},{"type":"bytes","optional":false,"field":"value"}]`,
		source:  "debezium-core/.../schema/SchemaFactory.java datatypeVariableScaleDecimalSchema"},
	"io.debezium.data.geometry.Point": {typ: "struct", version: 1, doc: "Geometry (POINT)",
		members: `[{"type":"double","optional":false,"field":"x"},{"type":"double","optional":false,"field":"y"},{"type":"bytes","optional":true,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}]`,
		source:  "debezium-core/.../data/geometry/Point.java builder"},
	"io.debezium.data.geometry.Geometry": {typ: "struct", version: 1, doc: "Geometry", members: postgisMembers,
		source: "debezium-core/.../data/geometry/Geometry.java builder"},
	"io.debezium.data.geometry.Geography": {typ: "struct", version: 1, doc: "Geography", members: postgisMembers,
		source: "debezium-core/.../data/geometry/Geography.java builder"},
	"io.debezium.data.DoubleVector": {typ: "array", version: 1, members: `{"type":"double","optional":false}`,
		source: "debezium-core/.../schema/SchemaFactory.java datatypeDoubleVectorSchema"},
	"io.debezium.data.FloatVector": {typ: "array", version: 1, members: `{"type":"float","optional":false}`,
		source: "debezium-core/.../schema/SchemaFactory.java datatypeFloatVectorSchema"},
	"io.debezium.data.SparseDoubleVector": {typ: "struct", version: 1, doc: "Sparse double vector",
		members: `[{"type":"int16","optional":false,"field":"dimensions"},{"type":"map","keys":{"type":"int16","optional":false},"values":{"type":"double","optional":false},"optional":false,"field":"vector"}]`,
		source:  "debezium-core/.../schema/SchemaFactory.java dataTypeSparseDoubleVectorSchema"},
	"io.debezium.time.Date":           {typ: "int32", version: 1, source: "debezium-core/.../time/Date.java"},
	"io.debezium.time.Time":           {typ: "int32", version: 1, source: "debezium-core/.../time/Time.java"},
	"io.debezium.time.MicroTime":      {typ: "int64", version: 1, source: "debezium-core/.../time/MicroTime.java"},
	"io.debezium.time.NanoTime":       {typ: "int64", version: 1, source: "debezium-core/.../time/NanoTime.java"},
	"io.debezium.time.Timestamp":      {typ: "int64", version: 1, source: "debezium-core/.../time/Timestamp.java"},
	"io.debezium.time.MicroTimestamp": {typ: "int64", version: 1, source: "debezium-core/.../time/MicroTimestamp.java"},
	"io.debezium.time.NanoTimestamp":  {typ: "int64", version: 1, source: "debezium-core/.../time/NanoTimestamp.java"},
	"io.debezium.time.ZonedTime":      {typ: "string", version: 1, source: "debezium-core/.../time/ZonedTime.java"},
	"io.debezium.time.ZonedTimestamp": {typ: "string", version: 1, source: "debezium-core/.../time/ZonedTimestamp.java"},
	"io.debezium.time.MicroDuration":  {typ: "int64", version: 1, source: "debezium-core/.../time/MicroDuration.java"},
	"io.debezium.time.Interval":       {typ: "string", version: 1, source: "debezium-core/.../time/Interval.java"},
	"io.debezium.time.IsoDate":        {typ: "string", version: 1, source: "debezium-core/.../time/IsoDate.java"},
	"io.debezium.time.IsoTime":        {typ: "string", version: 1, source: "debezium-core/.../time/IsoTime.java"},
	"io.debezium.time.IsoTimestamp":   {typ: "string", version: 1, source: "debezium-core/.../time/IsoTimestamp.java"},
	// Kafka's logical types (connect/api/.../data/*.java); Debezium adds
	// the precision parameter (SpecialValueDecimal.builder), except for
	// money (PostgresValueConverter.moneySchema).
	"org.apache.kafka.connect.data.Decimal": {typ: "bytes", version: 1, params: []string{"scale", "connect.decimal.precision?"},
		source: "kafka connect/api/.../data/Decimal.java + debezium-core/.../data/SpecialValueDecimal.java"},
	"org.apache.kafka.connect.data.Date":      {typ: "int32", version: 1, source: "kafka connect/api/.../data/Date.java"},
	"org.apache.kafka.connect.data.Time":      {typ: "int32", version: 1, source: "kafka connect/api/.../data/Time.java"},
	"org.apache.kafka.connect.data.Timestamp": {typ: "int64", version: 1, source: "kafka connect/api/.../data/Timestamp.java"},
}

const postgisMembers = `[{"type":"bytes","optional":false,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}]`

// schemaCol is one column of a logical-type case.
type schemaCol struct {
	sql string        // the column as declared
	col change.Column // as the catalog reports it (Default: pg_get_expr)
	// dflt is the schema default Debezium writes, as JSON; "" for none.
	dflt string
}

type logicalCase struct {
	golden string // file name under testdata/schemas, without .json
	opts   func(*Options)
	cols   []schemaCol
}

var moodType = change.Column{TypeOID: 16500, TypeMod: -1, TypeName: "mood", TypeType: 'e', EnumValues: []string{"sad", "ok", "happy"}}

func typed(name string, oid uint32, typmod int32, typeName string) change.Column {
	return change.Column{Name: name, TypeOID: oid, TypeMod: typmod, TypeName: typeName}
}

func notNull(c change.Column) change.Column { c.NotNull = true; return c }

func withDefault(c change.Column, expr string) change.Column { c.Default = expr; return c }

func enumCol(name string) change.Column {
	c := moodType
	c.Name = name
	return c
}

func arrayCol(name string, oid uint32, typmod int32, typeName string, elem uint32, elemName string) change.Column {
	return change.Column{Name: name, TypeOID: oid, TypeMod: typmod, TypeName: typeName, ElemTypeOID: elem, ElemTypeName: elemName}
}

func logicalCases() []logicalCase {
	adaptive := func(o *Options) {}
	mode := func(m string) func(*Options) { return func(o *Options) { o.TimePrecision = m } }
	return []logicalCase{
		{golden: "io.debezium.data.Bits", opts: adaptive, cols: []schemaCol{
			{sql: `b8 bit(8)`, col: typed("b8", oidBit, 8, "bit")},
			// B'10100000': the last character is bit 0, so bits 5 and 7.
			{sql: `b8d bit(8) NOT NULL DEFAULT B'10100000'`, col: notNull(withDefault(typed("b8d", oidBit, 8, "bit"), `'10100000'::"bit"`)), dflt: `"oA=="`},
			{sql: `b8f bit(8) DEFAULT bits_fn()`, col: withDefault(typed("b8f", oidBit, 8, "bit"), `bits_fn()`), dflt: `""`}, // placeholder "00"
			{sql: `vb varbit(16) DEFAULT B'101'`, col: withDefault(typed("vb", oidVarbit, 16, "varbit"), `'101'::"bit"`), dflt: `"BQ=="`},
			{sql: `vbn varbit DEFAULT B'0'`, col: withDefault(typed("vbn", oidVarbit, -1, "varbit"), `'0'::"bit"`), dflt: `""`},
			{sql: `vbnull varbit(4) DEFAULT NULL::varbit`, col: withDefault(typed("vbnull", oidVarbit, 4, "varbit"), `NULL::bit varying`)},
			// Length 1 is a boolean: bit's mapper gives one for a one-digit text.
			{sql: `b1 bit(1) NOT NULL DEFAULT B'1'`, col: notNull(withDefault(typed("b1", oidBit, 1, "bit"), `'1'::"bit"`)), dflt: `true`},
			{sql: `vb1 varbit(1) DEFAULT B'0'`, col: withDefault(typed("vb1", oidVarbit, 1, "varbit"), `'0'::"bit"`), dflt: `false`},
			// A domain's type name has no default mapper (CREATE DOMAIN
			// bits4 AS bit(4)).
			{sql: `bd bits4 DEFAULT B'1010'`, col: change.Column{Name: "bd", TypeOID: 16700, TypeMod: -1, TypeName: "bits4",
				TypeType: 'd', BaseTypeOID: oidBit, BaseTypeMod: 4, BaseTypeName: "bit", Default: `'1010'::"bit"`}},
		}},
		{golden: "io.debezium.data.Json", opts: adaptive, cols: []schemaCol{
			{sql: `j json`, col: typed("j", oidJSON, -1, "json")},
			{sql: `jd json NOT NULL DEFAULT '{}'`, col: notNull(withDefault(typed("jd", oidJSON, -1, "json"), `'{}'::json`)), dflt: `"{}"`},
			{sql: `jb jsonb DEFAULT '{"a": 1}'`, col: withDefault(typed("jb", oidJSONB, -1, "jsonb"), `'{"a": 1}'::jsonb`), dflt: `"{\"a\": 1}"`},
			{sql: `jf jsonb DEFAULT jsonb_build_object()`, col: withDefault(typed("jf", oidJSONB, -1, "jsonb"), `jsonb_build_object()`), dflt: `"{}"`},
			// hstore (json mode) has no default mapper.
			{sql: `h hstore NOT NULL DEFAULT ''`, col: notNull(withDefault(typed("h", 16800, -1, "hstore"), `''::hstore`))},
			{sql: `ja jsonb[]`, col: arrayCol("ja", 3807, -1, "_jsonb", oidJSONB, "jsonb")},
		}},
		{golden: "io.debezium.data.Uuid", opts: adaptive, cols: []schemaCol{
			{sql: `u uuid`, col: typed("u", oidUUID, -1, "uuid")},
			{sql: `ug uuid NOT NULL DEFAULT gen_random_uuid()`, col: notNull(withDefault(typed("ug", oidUUID, -1, "uuid"), `gen_random_uuid()`)),
				dflt: `"00000000-0000-0000-0000-000000000000"`},
			{sql: `ul uuid DEFAULT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'`, col: withDefault(typed("ul", oidUUID, -1, "uuid"), `'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid`),
				dflt: `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`},
			{sql: `ua uuid[]`, col: arrayCol("ua", 2951, -1, "_uuid", oidUUID, "uuid")},
		}},
		{golden: "io.debezium.data.Xml", opts: adaptive, cols: []schemaCol{
			{sql: `x xml`, col: typed("x", oidXML, -1, "xml")},
			{sql: `xd xml NOT NULL DEFAULT '<a>b</a>'`, col: notNull(withDefault(typed("xd", oidXML, -1, "xml"), `'<a>b</a>'::xml`)), dflt: `"<a>b</a>"`},
			{sql: `xf xml DEFAULT xmlcomment('c')`, col: withDefault(typed("xf", oidXML, -1, "xml"), `xmlcomment('c'::text)`), dflt: `""`},
		}},
		{golden: "io.debezium.data.Enum", opts: adaptive, cols: []schemaCol{
			{sql: `e mood`, col: enumCol("e")},
			{sql: `ed mood NOT NULL DEFAULT 'happy'`, col: notNull(withDefault(enumCol("ed"), `'happy'::mood`)), dflt: `"happy"`},
			// No placeholder for enums: a function default gives none.
			{sql: `ef mood DEFAULT pick_mood()`, col: withDefault(enumCol("ef"), `pick_mood()`)},
			// Enum.builder without optional(): required elements.
			{sql: `ea mood[]`, col: change.Column{Name: "ea", TypeOID: 16501, TypeMod: -1, TypeName: "_mood", ElemTypeOID: 16500, ElemTypeName: "mood", EnumValues: moodType.EnumValues}},
		}},
		{golden: "io.debezium.data.Ltree", opts: adaptive, cols: []schemaCol{
			{sql: `l ltree`, col: typed("l", 16900, -1, "ltree")},
			{sql: `ld ltree NOT NULL DEFAULT 'a.b'`, col: notNull(withDefault(typed("ld", 16900, -1, "ltree"), `'a.b'::ltree`))},
			{sql: `la ltree[]`, col: arrayCol("la", 16901, -1, "_ltree", 16900, "ltree")},
		}},
		{golden: "io.debezium.data.Tsvector", opts: adaptive, cols: []schemaCol{
			{sql: `tv tsvector`, col: typed("tv", oidTsvector, -1, "tsvector")},
			{sql: `tvd tsvector NOT NULL DEFAULT ''`, col: notNull(withDefault(typed("tvd", oidTsvector, -1, "tsvector"), `''::tsvector`))},
		}},
		{golden: "io.debezium.data.VariableScaleDecimal", opts: adaptive, cols: []schemaCol{
			{sql: `n numeric`, col: typed("n", oidNumeric, -1, "numeric")},
			// Struct defaults are dropped (KAFKA-12694).
			{sql: `nd numeric NOT NULL DEFAULT 1.50`, col: notNull(withDefault(typed("nd", oidNumeric, -1, "numeric"), `1.50`))},
			{sql: `na numeric[]`, col: arrayCol("na", 1231, -1, "_numeric", oidNumeric, "numeric")},
		}},
		{golden: "org.apache.kafka.connect.data.Decimal", opts: adaptive, cols: []schemaCol{
			{sql: `d numeric(8,2)`, col: typed("d", oidNumeric, numericMod(8, 2), "numeric")},
			// 9.5 at scale 2: unscaled 950 = 0x03B6.
			{sql: `dd numeric(8,2) NOT NULL DEFAULT 9.5`, col: notNull(withDefault(typed("dd", oidNumeric, numericMod(8, 2), "numeric"), `9.5`)), dflt: `"A7Y="`},
			// -1.5 at scale 2: unscaled -150 = 0xFF6A.
			{sql: `dn numeric(5,2) DEFAULT -1.5`, col: withDefault(typed("dn", oidNumeric, numericMod(5, 2), "numeric"), `'-1.5'::numeric`), dflt: `"/2o="`},
			// DBZ-7562: 0.0 at scale 0 is 0.
			{sql: `dz numeric(12,0) NOT NULL DEFAULT 0.0`, col: notNull(withDefault(typed("dz", oidNumeric, numericMod(12, 0), "numeric"), `0.0`)), dflt: `"AA=="`},
			{sql: `df numeric(8,2) DEFAULT random()`, col: withDefault(typed("df", oidNumeric, numericMod(8, 2), "numeric"), `random()`), dflt: `"AA=="`},
			{sql: `dnan numeric(8,2) DEFAULT 'NaN'`, col: withDefault(typed("dnan", oidNumeric, numericMod(8, 2), "numeric"), `'NaN'::numeric`)},
			// money: scale money.fraction.digits, no precision, no default mapper.
			{sql: `m money NOT NULL DEFAULT 0`, col: notNull(withDefault(typed("m", oidMoney, -1, "money"), `0`))},
			{sql: `da numeric(6,2)[]`, col: arrayCol("da", 1231, numericMod(6, 2), "_numeric", oidNumeric, "numeric")},
		}},
		{golden: "io.debezium.data.geometry.Point", opts: adaptive, cols: []schemaCol{
			{sql: `p point`, col: typed("p", oidPoint, -1, "point")},
			{sql: `pd point NOT NULL DEFAULT '(1,2)'`, col: notNull(withDefault(typed("pd", oidPoint, -1, "point"), `'(1,2)'::point`))},
		}},
		{golden: "io.debezium.data.geometry.Geometry", opts: adaptive, cols: []schemaCol{
			{sql: `g geometry`, col: typed("g", 17100, -1, "geometry")},
			// Geometry.builder() is already optional(): optional even here.
			{sql: `gn geometry NOT NULL DEFAULT 'SRID=4326;POINT(1 2)'`, col: notNull(withDefault(typed("gn", 17100, -1, "geometry"),
				`'0101000020E6100000000000000000F03F0000000000000040'::geometry`))},
			{sql: `ga geometry[]`, col: arrayCol("ga", 17101, -1, "_geometry", 17100, "geometry")},
		}},
		{golden: "io.debezium.data.geometry.Geography", opts: adaptive, cols: []schemaCol{
			{sql: `g geography`, col: typed("g", 17110, -1, "geography")},
			{sql: `gn geography NOT NULL`, col: notNull(typed("gn", 17110, -1, "geography"))},
			{sql: `ga geography[]`, col: arrayCol("ga", 17111, -1, "_geography", 17110, "geography")},
		}},
		{golden: "io.debezium.data.DoubleVector", opts: adaptive, cols: []schemaCol{
			{sql: `v vector(3)`, col: typed("v", 17000, 3, "vector")},
			{sql: `vd vector(3) NOT NULL DEFAULT '[1,2,3]'`, col: notNull(withDefault(typed("vd", 17000, 3, "vector"), `'[1,2,3]'::vector`))},
		}},
		{golden: "io.debezium.data.FloatVector", opts: adaptive, cols: []schemaCol{
			{sql: `hv halfvec(3)`, col: typed("hv", 17010, 3, "halfvec")},
			{sql: `hvd halfvec(3) NOT NULL DEFAULT '[1,2,3]'`, col: notNull(withDefault(typed("hvd", 17010, 3, "halfvec"), `'[1,2,3]'::halfvec`))},
		}},
		{golden: "io.debezium.data.SparseDoubleVector", opts: adaptive, cols: []schemaCol{
			{sql: `sv sparsevec(5)`, col: typed("sv", 17020, 5, "sparsevec")},
			{sql: `svd sparsevec(5) NOT NULL DEFAULT '{1:1}/5'`, col: notNull(withDefault(typed("svd", 17020, 5, "sparsevec"), `'{1:1}/5'::sparsevec`))},
		}},
		{golden: "io.debezium.time.Date", opts: adaptive, cols: []schemaCol{
			{sql: `d date`, col: typed("d", oidDate, -1, "date")},
			{sql: `dc date NOT NULL DEFAULT CURRENT_DATE`, col: notNull(withDefault(typed("dc", oidDate, -1, "date"), `CURRENT_DATE`)), dflt: `0`},
			{sql: `dl date DEFAULT '2000-02-29'`, col: withDefault(typed("dl", oidDate, -1, "date"), `'2000-02-29'::date`), dflt: `11016`},
			{sql: `da date[]`, col: arrayCol("da", 1182, -1, "_date", oidDate, "date")},
		}},
		{golden: "io.debezium.time.Time", opts: adaptive, cols: []schemaCol{
			{sql: `t3 time(3)`, col: typed("t3", oidTime, 3, "time")},
			{sql: `t3d time(3) NOT NULL DEFAULT '12:30:00.25'`, col: notNull(withDefault(typed("t3d", oidTime, 3, "time"), `'12:30:00.25'::time without time zone`)), dflt: `45000250`},
			{sql: `t0 time(0) DEFAULT LOCALTIME`, col: withDefault(typed("t0", oidTime, 0, "time"), `LOCALTIME`), dflt: `0`},
		}},
		{golden: "io.debezium.time.MicroTime", opts: adaptive, cols: []schemaCol{
			{sql: `t time`, col: typed("t", oidTime, -1, "time")},
			{sql: `td time NOT NULL DEFAULT '12:30:00.5'`, col: notNull(withDefault(typed("td", oidTime, -1, "time"), `'12:30:00.5'::time without time zone`)), dflt: `45000500000`},
			{sql: `t4 time(4) DEFAULT '24:00'`, col: withDefault(typed("t4", oidTime, 4, "time"), `'24:00:00'::time without time zone`), dflt: `86399999999`},
			{sql: `ta time[]`, col: arrayCol("ta", 1183, -1, "_time", oidTime, "time")},
		}},
		{golden: "io.debezium.time.NanoTime", opts: mode(TimeNanoseconds), cols: []schemaCol{
			{sql: `t time`, col: typed("t", oidTime, -1, "time")},
			{sql: `td time NOT NULL DEFAULT '00:00:01.5'`, col: notNull(withDefault(typed("td", oidTime, -1, "time"), `'00:00:01.5'::time without time zone`)), dflt: `1500000000`},
		}},
		{golden: "io.debezium.time.Timestamp", opts: adaptive, cols: []schemaCol{
			{sql: `ts3 timestamp(3)`, col: typed("ts3", oidTimestamp, 3, "timestamp")},
			{sql: `ts3d timestamp(3) NOT NULL DEFAULT '2020-01-02 03:04:05.678'`, col: notNull(withDefault(typed("ts3d", oidTimestamp, 3, "timestamp"),
				`'2020-01-02 03:04:05.678'::timestamp without time zone`)), dflt: `1577934245678`},
			{sql: `ts0 timestamp(0) DEFAULT now()`, col: withDefault(typed("ts0", oidTimestamp, 0, "timestamp"), `now()`), dflt: `0`},
		}},
		{golden: "io.debezium.time.MicroTimestamp", opts: adaptive, cols: []schemaCol{
			{sql: `ts timestamp`, col: typed("ts", oidTimestamp, -1, "timestamp")},
			{sql: `tsd timestamp NOT NULL DEFAULT '2020-01-02 03:04:05.678901'`, col: notNull(withDefault(typed("tsd", oidTimestamp, -1, "timestamp"),
				`'2020-01-02 03:04:05.678901'::timestamp without time zone`)), dflt: `1577934245678901`},
			{sql: `tsc timestamp DEFAULT CURRENT_TIMESTAMP`, col: withDefault(typed("tsc", oidTimestamp, -1, "timestamp"), `CURRENT_TIMESTAMP`), dflt: `0`},
			{sql: `tsa timestamp[]`, col: arrayCol("tsa", 1115, -1, "_timestamp", oidTimestamp, "timestamp")},
		}},
		{golden: "io.debezium.time.NanoTimestamp", opts: mode(TimeNanoseconds), cols: []schemaCol{
			{sql: `ts timestamp`, col: typed("ts", oidTimestamp, -1, "timestamp")},
			{sql: `tsd timestamp NOT NULL DEFAULT '2020-01-02 03:04:05.678901'`, col: notNull(withDefault(typed("tsd", oidTimestamp, -1, "timestamp"),
				`'2020-01-02 03:04:05.678901'::timestamp without time zone`)), dflt: `1577934245678901000`},
		}},
		{golden: "io.debezium.time.ZonedTime", opts: adaptive, cols: []schemaCol{
			{sql: `tz timetz`, col: typed("tz", oidTimetz, -1, "timetz")},
			// timetz has no default mapper.
			{sql: `tzd timetz NOT NULL DEFAULT '12:00:00+02'`, col: notNull(withDefault(typed("tzd", oidTimetz, -1, "timetz"), `'12:00:00+02'::time with time zone`))},
			{sql: `tza timetz[]`, col: arrayCol("tza", 1270, -1, "_timetz", oidTimetz, "timetz")},
		}},
		{golden: "io.debezium.time.ZonedTimestamp", opts: adaptive, cols: []schemaCol{
			{sql: `tz timestamptz`, col: typed("tz", oidTimestamptz, -1, "timestamptz")},
			// The fraction has the column's precision (6 when unset).
			{sql: `tzn timestamptz NOT NULL DEFAULT now()`, col: notNull(withDefault(typed("tzn", oidTimestamptz, -1, "timestamptz"), `now()`)),
				dflt: `"1970-01-01T00:00:00.000000Z"`},
			{sql: `tz3 timestamptz(3) DEFAULT '2020-01-02 03:04:05.6+02'`, col: withDefault(typed("tz3", oidTimestamptz, 3, "timestamptz"),
				`'2020-01-02 01:04:05.6+00'::timestamp with time zone`), dflt: `"2020-01-02T01:04:05.600Z"`},
			{sql: `tz0 timestamptz(0) DEFAULT CURRENT_TIMESTAMP`, col: withDefault(typed("tz0", oidTimestamptz, 0, "timestamptz"), `CURRENT_TIMESTAMP`),
				dflt: `"1970-01-01T00:00:00Z"`},
			{sql: `tza timestamptz[]`, col: arrayCol("tza", 1185, -1, "_timestamptz", oidTimestamptz, "timestamptz")},
		}},
		{golden: "io.debezium.time.MicroDuration", opts: adaptive, cols: intervalCols([]string{
			``, `86400000000`, `3600000000`, `36817200000000`, `-79015500000`, `0`})},
		{golden: "io.debezium.time.Interval", opts: func(o *Options) { o.IntervalHandling = IntervalString }, cols: intervalCols([]string{
			``, `"P0Y0M1DT0H0M0S"`, `"P0Y0M0DT1H0M0S"`, `"P1Y2M0DT0H0M0S"`, `"P0Y0M-1DT2H3M4.5S"`, `"P0Y0M0DT0H0M0S"`})},
		{golden: "io.debezium.time.IsoDate", opts: mode(TimeIsoString), cols: []schemaCol{
			{sql: `d date`, col: typed("d", oidDate, -1, "date")},
			{sql: `dl date NOT NULL DEFAULT '2000-02-29'`, col: notNull(withDefault(typed("dl", oidDate, -1, "date"), `'2000-02-29'::date`)), dflt: `"2000-02-29Z"`},
		}},
		{golden: "io.debezium.time.IsoTime", opts: mode(TimeIsoString), cols: []schemaCol{
			{sql: `t time`, col: typed("t", oidTime, -1, "time")},
			{sql: `td time NOT NULL DEFAULT '12:30:00.5'`, col: notNull(withDefault(typed("td", oidTime, -1, "time"), `'12:30:00.5'::time without time zone`)), dflt: `"12:30:00.5Z"`},
		}},
		{golden: "io.debezium.time.IsoTimestamp", opts: mode(TimeIsoString), cols: []schemaCol{
			{sql: `ts timestamp`, col: typed("ts", oidTimestamp, -1, "timestamp")},
			{sql: `tsd timestamp NOT NULL DEFAULT '2020-01-02 03:04:05'`, col: notNull(withDefault(typed("tsd", oidTimestamp, -1, "timestamp"),
				`'2020-01-02 03:04:05'::timestamp without time zone`)), dflt: `"2020-01-02T03:04:05Z"`},
		}},
		{golden: "org.apache.kafka.connect.data.Date", opts: mode(TimeConnect), cols: []schemaCol{
			{sql: `d date`, col: typed("d", oidDate, -1, "date")},
			{sql: `dl date NOT NULL DEFAULT '2000-02-29'`, col: notNull(withDefault(typed("dl", oidDate, -1, "date"), `'2000-02-29'::date`)), dflt: `11016`},
		}},
		{golden: "org.apache.kafka.connect.data.Time", opts: mode(TimeConnect), cols: []schemaCol{
			{sql: `t time`, col: typed("t", oidTime, -1, "time")},
			{sql: `td time NOT NULL DEFAULT '12:30:00.5'`, col: notNull(withDefault(typed("td", oidTime, -1, "time"), `'12:30:00.5'::time without time zone`)), dflt: `45000500`},
		}},
		{golden: "org.apache.kafka.connect.data.Timestamp", opts: mode(TimeConnect), cols: []schemaCol{
			{sql: `ts timestamp`, col: typed("ts", oidTimestamp, -1, "timestamp")},
			{sql: `tsd timestamp NOT NULL DEFAULT '2020-01-02 03:04:05.678901'`, col: notNull(withDefault(typed("tsd", oidTimestamp, -1, "timestamp"),
				`'2020-01-02 03:04:05.678901'::timestamp without time zone`)), dflt: `1577934245678`},
		}},
	}
}

// intervalCols are the interval columns of both interval modes; dflts
// are the defaults in column order.
func intervalCols(dflts []string) []schemaCol {
	return []schemaCol{
		{sql: `i interval`, col: typed("i", oidInterval, -1, "interval"), dflt: dflts[0]},
		{sql: `id interval NOT NULL DEFAULT '1 day'`, col: notNull(withDefault(typed("id", oidInterval, -1, "interval"), `'1 day'::interval`)), dflt: dflts[1]},
		{sql: `ih interval DEFAULT '1 hour'`, col: withDefault(typed("ih", oidInterval, -1, "interval"), `'01:00:00'::interval`), dflt: dflts[2]},
		// 14 months of 365.25/12 days.
		{sql: `iy interval DEFAULT '1 year 2 months'`, col: withDefault(typed("iy", oidInterval, -1, "interval"), `'1 year 2 mons'::interval`), dflt: dflts[3]},
		{sql: `im interval DEFAULT '-1 day +02:03:04.5'`, col: withDefault(typed("im", oidInterval, -1, "interval"), `'-1 days +02:03:04.5'::interval`), dflt: dflts[4]},
		// The function placeholder "epoch" is a zero PGInterval.
		{sql: `ifn interval DEFAULT make_interval(days => 1)`, col: withDefault(typed("ifn", oidInterval, -1, "interval"), `make_interval(days => 1)`), dflt: dflts[5]},
	}
}

func TestLogicalTypeSchemas(t *testing.T) {
	seen := map[string]bool{}
	for _, lc := range logicalCases() {
		t.Run(lc.golden, func(t *testing.T) {
			e := newTestEncoder(t, lc.opts)
			rel := &change.Relation{ID: 30001, Namespace: "public", Name: "logical_types", ReplicaIdentity: 'd',
				Columns: []change.Column{{Name: "pk", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true}}, Key: []int{0}}
			for _, c := range lc.cols {
				rel.Columns = append(rel.Columns, c.col)
			}
			p, err := e.compile(rel)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.cols) != len(rel.Columns) {
				t.Fatalf("%d of %d columns mapped", len(p.cols), len(rel.Columns))
			}
			var out []byte
			for i, c := range lc.cols {
				schema := e.appendFieldSchema(nil, &p.cols[i+1])
				var f map[string]json.RawMessage
				if err := json.Unmarshal(schema, &f); err != nil {
					t.Fatalf("%s: %v: %s", c.sql, err, schema)
				}
				if got := string(f["default"]); got != c.dflt {
					t.Errorf("%s: default %s, Debezium writes %s", c.sql, orNone(got), orNone(c.dflt))
				}
				checkDebeziumBuilder(t, c.sql, schema, seen)
				out = append(out, `{"sql":`...)
				out = appendJSONStr(out, c.sql)
				out = append(out, `,"default_expr":`...)
				out = appendJSONStr(out, c.col.Default)
				out = append(out, `,"schema":`...)
				out = append(out, schema...)
				out = append(out, "}\n"...)
			}
			if !seen[lc.golden] {
				t.Errorf("no column of this case has the logical type %s", lc.golden)
			}
			checkGolden(t, filepath.Join("testdata", "schemas", lc.golden+".json"), out,
				"go test ./internal/debezium -run TestLogicalTypeSchemas -update")
		})
	}
	for name := range debeziumBuilders {
		if !seen[name] {
			t.Errorf("no golden test shows %s", name)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// checkDebeziumBuilder compares a schema (and its array items) with the
// builder of its logical name.
func checkDebeziumBuilder(t *testing.T, what string, schema []byte, seen map[string]bool) {
	t.Helper()
	var f map[string]json.RawMessage
	if err := json.Unmarshal(schema, &f); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	str := func(k string) string {
		var s string
		if raw, ok := f[k]; ok {
			_ = json.Unmarshal(raw, &s)
		}
		return s
	}
	if items, ok := f["items"]; ok {
		checkDebeziumBuilder(t, what+" items", items, seen)
	}
	name := str("name")
	if name == "" {
		return
	}
	b, ok := debeziumBuilders[name]
	if !ok {
		t.Errorf("%s: logical type %s is not one Debezium's PostgreSQL connector writes", what, name)
		return
	}
	seen[name] = true
	var version int
	_ = json.Unmarshal(f["version"], &version)
	if typ := str("type"); typ != b.typ || version != b.version || str("doc") != b.doc {
		t.Errorf("%s: %s is %s v%d doc %q; %s builds %s v%d doc %q", what, name, typ, version, str("doc"), b.source, b.typ, b.version, b.doc)
	}
	keys := paramKeys(t, f["parameters"])
	want := b.params
	for _, k := range keys {
		for len(want) > 0 && strings.HasSuffix(want[0], "?") && strings.TrimSuffix(want[0], "?") != k {
			want = want[1:]
		}
		if len(want) == 0 || strings.TrimSuffix(want[0], "?") != k {
			t.Errorf("%s: %s has parameters %v; %s sets %v", what, name, keys, b.source, b.params)
			return
		}
		want = want[1:]
	}
	for _, k := range want {
		if !strings.HasSuffix(k, "?") {
			t.Errorf("%s: %s lacks parameter %s (%s)", what, name, k, b.source)
		}
	}
	members := f["fields"]
	if members == nil {
		members = f["items"]
	}
	if b.members != "" && !bytes.Equal(members, []byte(b.members)) {
		t.Errorf("%s: %s members %s; %s builds %s", what, name, members, b.source, b.members)
	}
}

// paramKeys lists the keys of a parameters object in order.
func paramKeys(t *testing.T, raw json.RawMessage) []string {
	if raw == nil {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	var keys []string
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		if _, err := d.Token(); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestPostgisNotNullFallback: a null in a NOT NULL geometry column (the
// non-key columns of a delete under REPLICA IDENTITY DEFAULT) is
// PostgisGeometry.createEmpty(), an empty GEOMETRYCOLLECTION.
func TestPostgisNotNullFallback(t *testing.T) {
	rel := &change.Relation{ID: 30002, Namespace: "public", Name: "shapes", ReplicaIdentity: 'd', Key: []int{0},
		Columns: []change.Column{{Name: "pk", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true},
			notNull(typed("gn", 17100, -1, "geometry"))}}
	recs, err := newTestEncoder(t, nil).Encode(nil, streamed(change.OpDelete, rel, keyOnly(rel, "1"), nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := `"before":{"pk":1,"gn":{"wkb":"AQcAAAAAAAAA","srid":null}}`; !bytes.Contains(recs[0].Value, []byte(want)) {
		t.Errorf("delete lacks %s:\n%s", want, recs[0].Value)
	}
}
