package debezium

import "testing"

func TestExtractDefault(t *testing.T) {
	for _, tt := range []struct {
		expr, placeholder string
		want              string
		ok                bool
	}{
		{"0", "0", "0", true},
		{"nextval('t_id_seq'::regclass)", "0", "0", true},
		{"now()", "1970-01-01", "1970-01-01", true},
		{"CURRENT_TIMESTAMP", "1970-01-01", "1970-01-01", true},
		{"CURRENT_TIMESTAMP(6)", "1970-01-01", "1970-01-01", true},
		{"LOCALTIME", "00:00", "00:00", true},
		{"(gen_random_uuid())::text", "", "", true},
		{"public.my_func(1, 'a')", "x", "x", true},
		{"f(\n)", "x", "f(\n)", true}, // a line break stops the function pattern; no quote: raw
		{"'abc'::character varying", "", "abc", true},
		{"'it''s'::text", "", "it", true},
		{"'a\nb'::text", "", "", false},
		{"'a\nb' || 'c'::text", "", " || ", true}, // the match restarts at the closing quote
		{"('abc'::text || 'def'::text)", "", "abc", true},
		{"E'a\\\\b'::text", "", "a\\\\b", true},
		{"true", "false", "true", true},
		{"(1 + 1)", "0", "(1 + 1)", true},
		{"'unterminated", "", "", false},
	} {
		got, ok := extractDefault(tt.expr, tt.placeholder)
		if ok != tt.ok || got != tt.want {
			t.Errorf("extractDefault(%q) = %q, %v; want %q, %v", tt.expr, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseDefault(t *testing.T) {
	for _, tt := range []struct {
		mode   string
		oid    uint32
		typmod int32
		expr   string
		want   string // JSON of the default; "" = none
	}{
		{DecimalPrecise, oidInt4, -1, "nextval('t_id_seq'::regclass)", "0"},
		{DecimalPrecise, oidInt4, -1, "42", "42"},
		{DecimalPrecise, oidInt4, -1, "'-1'::integer", "-1"},
		{DecimalPrecise, oidInt4, -1, " 7 ", "7"},
		{DecimalPrecise, oidInt2, -1, "40000", ""},
		{DecimalPrecise, oidInt8, -1, "'9223372036854775807'::bigint", "9223372036854775807"},
		{DecimalPrecise, oidInt4, -1, "NULL::integer", ""},
		{DecimalPrecise, oidInt4, -1, "(1 + 1)", ""},
		{DecimalPrecise, oidBool, -1, "true", "true"},
		{DecimalPrecise, oidBool, -1, "false", "false"},
		{DecimalPrecise, oidBool, -1, "(1 = 1)", "false"}, // Boolean.parseBoolean
		{DecimalPrecise, oidFloat8, -1, "'1.5'::double precision", "1.5"},
		{DecimalPrecise, oidFloat8, -1, "1.5d", "1.5"},
		{DecimalPrecise, oidFloat8, -1, "'NaN'::double precision", `"NaN"`},
		{DecimalPrecise, oidFloat4, -1, "'0.1'::real", "0.1"},
		{DecimalPrecise, oidFloat4, -1, "random()", "0.0"},
		{DecimalPrecise, oidNumeric, numericMod(8, 2), "9.5", `"A7Y="`},
		{DecimalPrecise, oidNumeric, numericMod(8, 2), "'-1.25'::numeric", `"gw=="`},
		{DecimalPrecise, oidNumeric, numericMod(8, 2), "9.125", ""},
		{DecimalPrecise, oidNumeric, numericMod(8, 2), "1e2", `"JxA="`},
		{DecimalPrecise, oidNumeric, numericMod(8, 2), "'NaN'::numeric", ""},
		{DecimalPrecise, oidNumeric, numericMod(8, 2), "nextval('s'::regclass)", `"AA=="`},
		{DecimalPrecise, oidNumeric, -1, "1.50", ""},
		{DecimalDouble, oidNumeric, -1, "1.50", "1.5"},
		{DecimalDouble, oidNumeric, numericMod(8, 2), "9.5", "9.5"},
		{DecimalString, oidNumeric, -1, "1.50", `"1.50"`},
		{DecimalString, oidNumeric, -1, "1e3", `"1000"`},
		{DecimalString, oidNumeric, -1, "f()", `"0.0"`},
		{DecimalString, oidNumeric, numericMod(8, 2), "9.5", `"9.50"`},
		{DecimalPrecise, oidText, -1, "'abc'::text", `"abc"`},
		{DecimalPrecise, oidText, -1, "' padded '::text", `" padded "`},
		{DecimalPrecise, oidVarchar, 24, "'x'::character varying", `"x"`},
		{DecimalPrecise, oidBPChar, 9, "'ab'::bpchar", `"ab"`},
		{DecimalPrecise, oidText, -1, "NULL::text", ""},
		{DecimalPrecise, oidText, -1, "md5('x'::text)", `""`},
		{DecimalPrecise, oidJSONB, -1, "'{\"a\": 1}'::jsonb", `"{\"a\": 1}"`},
		{DecimalPrecise, oidJSON, -1, "json_build_object()", `"{}"`},
		{DecimalPrecise, oidUUID, -1, "gen_random_uuid()", `"00000000-0000-0000-0000-000000000000"`},
		{DecimalPrecise, oidUUID, -1, "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid", `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`},
		{DecimalPrecise, oidUUID, -1, "'nope'::uuid", ""},
		{DecimalPrecise, oidDate, -1, "CURRENT_DATE", "0"},
		{DecimalPrecise, oidDate, -1, "'2000-02-29'::date", "11016"},
		{DecimalPrecise, oidDate, -1, "'infinity'::date", ""},
		{DecimalPrecise, oidTime, -1, "'12:30:00'::time without time zone", "45000000000"},
		{DecimalPrecise, oidTime, 3, "'12:30:00.5'::time without time zone", "45000500"},
		{DecimalPrecise, oidTime, -1, "'24:00:00'::time without time zone", "86399999999"},
		{DecimalPrecise, oidTime, -1, "LOCALTIME", "0"},
		{DecimalPrecise, oidTimestamp, -1, "now()", "0"},
		{DecimalPrecise, oidTimestamp, 3, "'2020-01-02 03:04:05.678'::timestamp without time zone", "1577934245678"},
		{DecimalPrecise, oidTimestamptz, -1, "now()", `"1970-01-01T00:00:00.000000Z"`},
		{DecimalPrecise, oidTimestamptz, 0, "CURRENT_TIMESTAMP", `"1970-01-01T00:00:00Z"`},
		{DecimalPrecise, oidTimestamptz, 3, "'2020-01-02 03:04:05.6+02'::timestamp with time zone", `"2020-01-02T01:04:05.600Z"`},
		{DecimalPrecise, oidTimestamptz, -1, "'infinity'::timestamp with time zone", ""},
		{DecimalPrecise, oidName, -1, "'x'::name", ""},
		{DecimalPrecise, oidBytea, -1, "'\\x00'::bytea", ""},
		{DecimalPrecise, oidOID, -1, "0", ""},
	} {
		e := newTestEncoder(t, func(o *Options) { o.DecimalHandling = tt.mode })
		cp := column(t, e, tt.oid, tt.typmod)
		v, ok := e.parseDefault(cp, typeMappings[tt.oid].dflt, tt.expr)
		got := ""
		if ok {
			got = string(v.appendJSON(nil))
		}
		if got != tt.want {
			t.Errorf("%s oid %d(%d) default %q = %s, want %s", tt.mode, tt.oid, tt.typmod, tt.expr, got, tt.want)
		}
	}
}

func TestIsFunctionDefault(t *testing.T) {
	for s, want := range map[string]bool{
		"now()": true, "nextval('a'::regclass)": true, "(gen_random_uuid())::text": true, "pg_catalog.now()": true,
		"'now()'::text": false, "now": false, "(1 + 1)": false, "f(": false, "f(\n)": false, "": false,
	} {
		if got := isFunctionDefault(s); got != want {
			t.Errorf("isFunctionDefault(%q) = %v, want %v", s, got, want)
		}
	}
}
