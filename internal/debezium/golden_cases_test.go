package debezium

import (
	"github.com/pgmotion/pgmotion/internal/change"
)

func numericMod(p, s int) int32 { return int32(p<<16|(s&0x7FF)) + 4 }

// allTypes has one column of every supported type, plus a box column the
// encoder must leave out.
func allTypes() *change.Relation {
	return &change.Relation{
		ID: 20001, Namespace: "public", Name: "all_types",
		Columns: []change.Column{
			{Name: "id", TypeOID: oidInt8, TypeMod: -1, TypeName: "int8", NotNull: true},
			{Name: "b", TypeOID: oidBool, TypeMod: -1, TypeName: "bool"},
			{Name: "i2", TypeOID: oidInt2, TypeMod: -1, TypeName: "int2"},
			{Name: "i4", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4"},
			{Name: "i8", TypeOID: oidInt8, TypeMod: -1, TypeName: "int8"},
			{Name: "o", TypeOID: oidOID, TypeMod: -1, TypeName: "oid"},
			{Name: "f4", TypeOID: oidFloat4, TypeMod: -1, TypeName: "float4"},
			{Name: "f8", TypeOID: oidFloat8, TypeMod: -1, TypeName: "float8"},
			{Name: "n", TypeOID: oidNumeric, TypeMod: numericMod(10, 2), TypeName: "numeric"},
			{Name: "nv", TypeOID: oidNumeric, TypeMod: -1, TypeName: "numeric"},
			{Name: "n0", TypeOID: oidNumeric, TypeMod: numericMod(5, 0), TypeName: "numeric"},
			{Name: "t", TypeOID: oidText, TypeMod: -1, TypeName: "text"},
			{Name: "vc", TypeOID: oidVarchar, TypeMod: 24, TypeName: "varchar"},
			{Name: "c", TypeOID: oidBPChar, TypeMod: 9, TypeName: "bpchar"},
			{Name: "nm", TypeOID: oidName, TypeMod: -1, TypeName: "name"},
			{Name: "ba", TypeOID: oidBytea, TypeMod: -1, TypeName: "bytea"},
			{Name: "d", TypeOID: oidDate, TypeMod: -1, TypeName: "date"},
			{Name: "tm", TypeOID: oidTime, TypeMod: -1, TypeName: "time"},
			{Name: "tm3", TypeOID: oidTime, TypeMod: 3, TypeName: "time"},
			{Name: "ts", TypeOID: oidTimestamp, TypeMod: -1, TypeName: "timestamp"},
			{Name: "ts3", TypeOID: oidTimestamp, TypeMod: 3, TypeName: "timestamp"},
			{Name: "ts0", TypeOID: oidTimestamp, TypeMod: 0, TypeName: "timestamp"},
			{Name: "tz", TypeOID: oidTimestamptz, TypeMod: -1, TypeName: "timestamptz"},
			{Name: "tz3", TypeOID: oidTimestamptz, TypeMod: 3, TypeName: "timestamptz"},
			{Name: "tz0", TypeOID: oidTimestamptz, TypeMod: 0, TypeName: "timestamptz"},
			{Name: "u", TypeOID: oidUUID, TypeMod: -1, TypeName: "uuid"},
			{Name: "j", TypeOID: oidJSON, TypeMod: -1, TypeName: "json"},
			{Name: "jb", TypeOID: oidJSONB, TypeMod: -1, TypeName: "jsonb"},
			{Name: "bx", TypeOID: 603, TypeMod: -1, TypeName: "box"},
		},
		Key: []int{0}, ReplicaIdentity: 'd',
	}
}

func allTypesTypical() change.Tuple {
	return change.Tuple{
		txt("1"), txt("t"), txt("-32768"), txt("2147483647"), txt("-9223372036854775808"), txt("4000000000"),
		txt("3.3"), txt("4.44"), txt("12345678.90"), txt("10.1111"), txt("42"),
		txt("hello"), txt("vc"), txt("ab   "), txt("pg_class"), txt(`\x0102ff`),
		txt("2020-01-02"), txt("13:45:30.5"), txt("13:45:30.123"),
		txt("2018-06-20 15:13:16.945104"), txt("2018-06-20 15:13:16.945"), txt("2018-06-20 15:13:17"),
		txt("2025-02-22 09:57:48.51736+00"), txt("2025-02-22 09:57:48.517+00"), txt("2025-02-22 09:57:48+00"),
		txt("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), txt(`{"a": [1, 2]}`), txt(`{"b": "x/y"}`), txt("(1,1),(0,0)"),
	}
}

func allTypesNulls() change.Tuple {
	t := make(change.Tuple, len(allTypes().Columns))
	for i := range t {
		t[i] = null
	}
	t[0] = txt("2")
	return t
}

func allTypesEdge() change.Tuple {
	return change.Tuple{
		txt("3"), txt("f"), txt("0"), txt("-1"), txt("9223372036854775807"), txt("0"),
		txt("NaN"), txt("-Infinity"), txt("-0.01"), txt("-100"), txt("-99999"),
		txt("quote\" backslash\\ slash/ \x01\x1f\b\t\n\f\r\x7f é 日本 😀 bad\xff\xfe end"), txt(""), txt("     "), txt(""), txt(`\x`),
		txt("0044-03-15 BC"), txt("24:00:00"), txt("00:00:00"),
		txt("infinity"), txt("-infinity"), txt("0044-03-15 12:00:00 BC"),
		txt("-infinity"), txt("1969-12-31 23:59:59.999+00"), txt("10000-01-01 00:00:00+05:30"),
		txt("00000000-0000-0000-0000-000000000000"), txt(`"\u0000"`), txt(`[]`), txt("(2,2),(1,1)"),
	}
}

func allTypesMore() change.Tuple {
	return change.Tuple{
		txt("4"), txt("t"), txt("1"), txt("1"), txt("1"), txt("4294967295"),
		txt("1e+30"), txt("1.7976931348623157e+308"), txt("0.00"), txt("0.000"), txt("0"),
		txt("x"), txt("y"), txt("z    "), txt("n"), txt(`\xDEADBEEF`),
		txt("infinity"), txt("00:00:00.000001"), txt("23:59:59.999"),
		txt("1970-01-01 00:00:00"), txt("1969-12-31 23:59:59.999"), txt("294276-12-31 23:59:59"),
		txt("1900-01-01 00:00:00.000001-05:30"), txt("0001-01-01 00:00:00+00"), txt("-infinity"),
		txt("ffffffff-ffff-ffff-ffff-ffffffffffff"), txt(`null`), txt(`{"k": "v\n"}`), null,
	}
}

// nums exercises decimal.handling.mode.
func nums() *change.Relation {
	return &change.Relation{
		ID: 20002, Namespace: "public", Name: "nums",
		Columns: []change.Column{
			{Name: "id", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true},
			{Name: "n", TypeOID: oidNumeric, TypeMod: numericMod(10, 2), TypeName: "numeric"},
			{Name: "nv", TypeOID: oidNumeric, TypeMod: -1, TypeName: "numeric"},
			{Name: "nn", TypeOID: oidNumeric, TypeMod: numericMod(6, 3), TypeName: "numeric", NotNull: true},
		},
		Key: []int{0}, ReplicaIdentity: 'd',
	}
}

func numsRows(special bool) []*change.Change {
	rows := []change.Tuple{
		{txt("1"), txt("123.45"), txt("1.50"), txt("0.000")},
		{txt("2"), txt("-0.01"), txt("-100"), txt("-999.999")},
		{txt("3"), txt("99999999.99"), txt("12345678901234567890.123456789"), txt("128.000")},
		{txt("4"), null, txt("-12345678901234567890123"), txt("-0.128")},
		{txt("5"), txt("0.00"), txt("0.000"), txt("1.000")},
	}
	if special {
		rows = append(rows,
			change.Tuple{txt("6"), txt("NaN"), txt("Infinity"), txt("-Infinity")},
		)
	}
	var cs []*change.Change
	for _, r := range rows {
		cs = append(cs, streamed(change.OpCreate, nums(), nil, r))
	}
	// A delete under REPLICA IDENTITY DEFAULT: the NOT NULL numeric gets
	// its fallback, zero at the column's scale.
	cs = append(cs, streamed(change.OpDelete, nums(), change.Tuple{txt("7"), null, null, null}, nil))
	return cs
}

// blobs exercises binary.handling.mode.
func blobs() *change.Relation {
	return &change.Relation{
		ID: 20003, Namespace: "public", Name: "blobs",
		Columns: []change.Column{
			{Name: "id", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true},
			{Name: "b", TypeOID: oidBytea, TypeMod: -1, TypeName: "bytea"},
			{Name: "bnn", TypeOID: oidBytea, TypeMod: -1, TypeName: "bytea", NotNull: true},
		},
		Key: []int{0}, ReplicaIdentity: 'd',
	}
}

func blobRows(withToast bool) []*change.Change {
	cs := []*change.Change{
		streamed(change.OpCreate, blobs(), nil, change.Tuple{txt("1"), txt(`\x0102ff`), txt(`\xfbff01`)}),
		streamed(change.OpCreate, blobs(), nil, change.Tuple{txt("2"), txt(`\x`), txt(`\x00`)}),
		streamed(change.OpCreate, blobs(), nil, change.Tuple{txt("3"), null, txt(`\x48656c6c6f2c20776f726c6421`)}),
		streamed(change.OpDelete, blobs(), change.Tuple{txt("4"), null, null}, nil),
	}
	if withToast {
		cs = append(cs, streamed(change.OpUpdate, blobs(), nil, change.Tuple{txt("5"), toast, toast}))
	}
	return cs
}

// withDefaults has column defaults of many kinds (pg_get_expr text).
func withDefaults() *change.Relation {
	return &change.Relation{
		ID: 20004, Namespace: "public", Name: "with_defaults",
		Columns: []change.Column{
			{Name: "id", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true, Default: "nextval('with_defaults_id_seq'::regclass)"},
			{Name: "qty", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true, Default: "0"},
			{Name: "neg", TypeOID: oidInt8, TypeMod: -1, TypeName: "int8", Default: "'-1'::integer"},
			{Name: "label", TypeOID: oidVarchar, TypeMod: 24, TypeName: "varchar", Default: "'abc'::character varying"},
			{Name: "quote", TypeOID: oidText, TypeMod: -1, TypeName: "text", Default: "'it''s'::text"},
			{Name: "flag", TypeOID: oidBool, TypeMod: -1, TypeName: "bool", NotNull: true, Default: "true"},
			{Name: "created", TypeOID: oidTimestamptz, TypeMod: -1, TypeName: "timestamptz", NotNull: true, Default: "now()"},
			{Name: "created0", TypeOID: oidTimestamptz, TypeMod: 0, TypeName: "timestamptz", Default: "CURRENT_TIMESTAMP"},
			{Name: "stamp", TypeOID: oidTimestamptz, TypeMod: 3, TypeName: "timestamptz", Default: "'2020-01-02 03:04:05.6+02'::timestamp with time zone"},
			{Name: "local", TypeOID: oidTimestamp, TypeMod: -1, TypeName: "timestamp", Default: "'2020-01-02 03:04:05'::timestamp without time zone"},
			{Name: "day", TypeOID: oidDate, TypeMod: -1, TypeName: "date", Default: "CURRENT_DATE"},
			{Name: "birthday", TypeOID: oidDate, TypeMod: -1, TypeName: "date", Default: "'2000-02-29'::date"},
			{Name: "at", TypeOID: oidTime, TypeMod: -1, TypeName: "time", Default: "'12:30:00'::time without time zone"},
			{Name: "price", TypeOID: oidNumeric, TypeMod: numericMod(8, 2), TypeName: "numeric", Default: "9.5"},
			{Name: "toofine", TypeOID: oidNumeric, TypeMod: numericMod(8, 2), TypeName: "numeric", Default: "9.125"},
			{Name: "amount", TypeOID: oidNumeric, TypeMod: -1, TypeName: "numeric", Default: "1.50"},
			{Name: "uid", TypeOID: oidUUID, TypeMod: -1, TypeName: "uuid", NotNull: true, Default: "gen_random_uuid()"},
			{Name: "ratio", TypeOID: oidFloat8, TypeMod: -1, TypeName: "float8", Default: "'1.5'::double precision"},
			{Name: "ratio4", TypeOID: oidFloat4, TypeMod: -1, TypeName: "float4", Default: "'-0.25'::real"},
			{Name: "doc", TypeOID: oidJSONB, TypeMod: -1, TypeName: "jsonb", NotNull: true, Default: "'{}'::jsonb"},
			{Name: "nothing", TypeOID: oidText, TypeMod: -1, TypeName: "text", Default: "NULL::text"},
			{Name: "expr", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", Default: "(1 + 1)"},
			{Name: "nm", TypeOID: oidName, TypeMod: -1, TypeName: "name", Default: "'x'::name"},
		},
		Key: []int{0}, ReplicaIdentity: 'd',
	}
}

func withDefaultsRow() change.Tuple {
	t := make(change.Tuple, len(withDefaults().Columns))
	for i := range t {
		t[i] = null
	}
	t[0] = txt("1")
	t[1] = txt("5")
	t[5] = txt("f")
	t[6] = txt("2025-02-22 09:57:48.51736+00")
	t[16] = txt("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
	t[19] = txt(`{"x": 1}`)
	return t
}

// notNulls has one NOT NULL column of each type without a default: a
// delete under REPLICA IDENTITY DEFAULT shows Debezium's fallbacks.
func notNulls() *change.Relation {
	rel := allTypes()
	rel.ID = 20005
	rel.Name = "not_nulls"
	for i := range rel.Columns {
		rel.Columns[i].NotNull = true
	}
	return rel
}

func keyOnly(rel *change.Relation, key string) change.Tuple {
	t := make(change.Tuple, len(rel.Columns))
	for i := range t {
		t[i] = null
	}
	t[rel.Key[0]] = txt(key)
	return t
}

func goldenCases() []goldenCase {
	cust := customers()
	full := customers()
	full.ReplicaIdentity = 'f'
	noKey := customers()
	noKey.ID, noKey.Name, noKey.Key = 16390, "no_key", nil
	odd := customers()
	odd.ID, odd.Namespace, odd.Name = 16391, "My Schema", "tablé😀"
	composite := &change.Relation{
		ID: 16392, Namespace: "public", Name: "composite",
		Columns: []change.Column{
			{Name: "name", TypeOID: oidText, TypeMod: -1, TypeName: "text", NotNull: true},
			{Name: "amount", TypeOID: oidNumeric, TypeMod: numericMod(6, 2), TypeName: "numeric", NotNull: true},
			{Name: "nv", TypeOID: oidNumeric, TypeMod: -1, TypeName: "numeric", NotNull: true},
			{Name: "ratio", TypeOID: oidFloat8, TypeMod: -1, TypeName: "float8", NotNull: true},
			{Name: "data", TypeOID: oidBytea, TypeMod: -1, TypeName: "bytea", NotNull: true},
			{Name: "tiny", TypeOID: oidNumeric, TypeMod: numericMod(12, 10), TypeName: "numeric", NotNull: true},
			{Name: "note", TypeOID: oidText, TypeMod: -1, TypeName: "text"},
		},
		Key: []int{0, 1, 2, 3, 4, 5}, ReplicaIdentity: 'd',
	}
	snap := func(m change.SnapshotMarker, id string) *change.Change {
		c := streamed(change.OpRead, cust, nil, change.Tuple{txt(id), txt("snap")})
		c.Snapshot = m
		c.LastCommitLSN = 0
		return c
	}
	noSchemas := func(o *Options) { o.KeySchemas, o.ValueSchemas = false, false }
	return append(extGoldenCases(), []goldenCase{
		{name: "create", changes: []*change.Change{
			streamed(change.OpCreate, cust, nil, change.Tuple{txt("1"), txt("a")}),
			streamed(change.OpCreate, cust, nil, change.Tuple{txt("2"), null}),
		}},
		{name: "update_default_identity", changes: []*change.Change{
			streamed(change.OpUpdate, cust, nil, change.Tuple{txt("1"), txt("b")}),
		}},
		{name: "update_full_identity", changes: []*change.Change{
			streamed(change.OpUpdate, full, change.Tuple{txt("1"), txt("a")}, change.Tuple{txt("1"), txt("b")}),
		}},
		{name: "delete", changes: []*change.Change{
			streamed(change.OpDelete, cust, change.Tuple{txt("1"), null}, nil),
			streamed(change.OpDelete, full, change.Tuple{txt("2"), txt("gone")}, nil),
			// REPLICA IDENTITY NOTHING: no old row, no record.
			streamed(change.OpDelete, cust, nil, nil),
		}},
		{name: "delete_no_tombstone", opts: func(o *Options) { o.TombstonesOnDelete = false }, changes: []*change.Change{
			streamed(change.OpDelete, cust, change.Tuple{txt("1"), null}, nil),
		}},
		{name: "pk_change", changes: []*change.Change{
			streamed(change.OpUpdate, cust, change.Tuple{txt("1"), null}, change.Tuple{txt("2"), txt("moved")}),
		}},
		{name: "pk_change_full_identity", changes: []*change.Change{
			streamed(change.OpUpdate, full, change.Tuple{txt("1"), txt("a")}, change.Tuple{txt("2"), txt("a")}),
		}},
		{name: "pk_change_composite_key", changes: []*change.Change{
			streamed(change.OpUpdate, composite,
				change.Tuple{txt(`say "hi" \ there`), txt("-1.50"), txt("2.500"), txt("NaN"), txt(`\x00ff`), txt("0.0000000100"), null},
				change.Tuple{txt("b"), txt("1.00"), txt("100"), txt("1e+20"), txt(`\x`), txt("-0.0000000001"), txt("n")}),
		}},
		{name: "pk_change_skipped_update_and_delete", opts: func(o *Options) {
			o.Skipped = map[change.Op]bool{change.OpUpdate: true, change.OpDelete: true}
		}, changes: []*change.Change{
			streamed(change.OpUpdate, cust, change.Tuple{txt("1"), null}, change.Tuple{txt("2"), txt("moved")}),
			streamed(change.OpUpdate, cust, nil, change.Tuple{txt("2"), txt("skipped")}),
			streamed(change.OpDelete, cust, change.Tuple{txt("2"), null}, nil),
		}},
		{name: "truncate", opts: func(o *Options) { o.Skipped = nil }, changes: []*change.Change{
			streamed(change.OpTruncate, cust, nil, nil),
		}},
		{name: "truncate_skipped_by_default", changes: []*change.Change{
			streamed(change.OpTruncate, cust, nil, nil),
		}},
		{name: "snapshot_markers", changes: []*change.Change{
			snap(change.SnapshotFirst, "1"),
			snap(change.SnapshotTrue, "2"),
			snap(change.SnapshotLastInDataCollection, "3"),
			snap(change.SnapshotFirstInDataCollection, "4"),
			snap(change.SnapshotLast, "5"),
			snap(change.SnapshotIncremental, "6"),
		}},
		{name: "schemas_disabled", opts: noSchemas, changes: []*change.Change{
			streamed(change.OpCreate, cust, nil, change.Tuple{txt("1"), txt("a")}),
			streamed(change.OpDelete, cust, change.Tuple{txt("1"), null}, nil),
			streamed(change.OpUpdate, cust, change.Tuple{txt("1"), null}, change.Tuple{txt("2"), txt("b")}),
		}},
		{name: "no_key", changes: []*change.Change{
			streamed(change.OpCreate, noKey, nil, change.Tuple{txt("1"), txt("a")}),
		}},
		{name: "extended_headers_disabled", opts: func(o *Options) { o.ExtendedHeaders = false }, changes: []*change.Change{
			streamed(change.OpCreate, cust, nil, change.Tuple{txt("1"), txt("a")}),
			streamed(change.OpUpdate, cust, change.Tuple{txt("1"), null}, change.Tuple{txt("2"), txt("b")}),
		}},
		{name: "topic_sanitized", changes: []*change.Change{
			streamed(change.OpCreate, odd, nil, change.Tuple{txt("1"), txt("a")}),
		}},
		{name: "types_typical", changes: []*change.Change{
			streamed(change.OpCreate, allTypes(), nil, allTypesTypical()),
		}},
		{name: "types_nulls", changes: []*change.Change{
			streamed(change.OpCreate, allTypes(), nil, allTypesNulls()),
		}},
		{name: "types_edge", changes: []*change.Change{
			streamed(change.OpCreate, allTypes(), nil, allTypesEdge()),
			streamed(change.OpCreate, allTypes(), nil, allTypesMore()),
		}},
		{name: "types_schemas_disabled", opts: noSchemas, changes: []*change.Change{
			streamed(change.OpCreate, allTypes(), nil, allTypesTypical()),
		}},
		{name: "types_not_null_fallbacks", changes: []*change.Change{
			streamed(change.OpDelete, notNulls(), keyOnly(notNulls(), "9"), nil),
		}},
		{name: "types_not_null_fallbacks_double_string", opts: func(o *Options) {
			o.DecimalHandling = DecimalString
			o.BinaryHandling = BinaryHex
		}, changes: []*change.Change{
			streamed(change.OpDelete, notNulls(), keyOnly(notNulls(), "9"), nil),
		}},
		{name: "decimal_precise", changes: numsRows(false)},
		{name: "decimal_double", opts: func(o *Options) { o.DecimalHandling = DecimalDouble }, changes: numsRows(true)},
		{name: "decimal_string", opts: func(o *Options) { o.DecimalHandling = DecimalString }, changes: numsRows(true)},
		{name: "binary_bytes", changes: blobRows(true)},
		{name: "binary_base64", opts: func(o *Options) { o.BinaryHandling = BinaryBase64 }, changes: blobRows(false)},
		{name: "binary_base64_url_safe", opts: func(o *Options) { o.BinaryHandling = BinaryBase64URLSafe }, changes: blobRows(false)},
		{name: "binary_hex", opts: func(o *Options) { o.BinaryHandling = BinaryHex }, changes: blobRows(true)},
		{name: "defaults", changes: []*change.Change{
			streamed(change.OpCreate, withDefaults(), nil, withDefaultsRow()),
			streamed(change.OpDelete, withDefaults(), keyOnly(withDefaults(), "1"), nil),
		}},
		{name: "defaults_decimal_string", opts: func(o *Options) { o.DecimalHandling = DecimalString }, changes: []*change.Change{
			streamed(change.OpCreate, withDefaults(), nil, withDefaultsRow()),
		}},
		{name: "unchanged_toast", changes: []*change.Change{
			// DEFAULT identity: the placeholder.
			streamed(change.OpUpdate, cust, nil, change.Tuple{txt("1"), toast}),
			// FULL identity: the old value.
			streamed(change.OpUpdate, full, change.Tuple{txt("1"), txt("old big text")}, change.Tuple{txt("1"), toast}),
		}},
		{name: "unavailable_placeholder_hex", opts: func(o *Options) { o.UnavailablePlaceholder = "hex:00ff" }, changes: []*change.Change{
			streamed(change.OpUpdate, blobs(), nil, change.Tuple{txt("1"), toast, toast}),
		}},
		// Debezium's PostgreSQL connector reads no column comments: the
		// comment must not become a doc.
		{name: "schema_comments", changes: []*change.Change{
			streamed(change.OpCreate, func() *change.Relation {
				r := customers()
				r.Columns[1].Comment = "the \"display\" name"
				return r
			}(), nil, change.Tuple{txt("1"), txt("a")}),
		}},
	}...)
}
