package pgsource

import (
	"reflect"
	"testing"
)

func TestFilterFunctions(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"color = 'blue'", []string{}},
		{"lo_export(1, '/tmp/x') = 1", []string{"lo_export"}},
		{`pg_catalog.LO_EXPORT (1, '/x')`, []string{"lo_export"}},
		{`"pg_catalog"."Lo_Export"(1, '/x')`, []string{"Lo_Export"}},
		{"id IN (SELECT id FROM t) AND lower(name) = 'x'", []string{"in", "lower"}},
		{"name = 'lo_export(1)' AND note = E'it\\'s lo_export(' ", []string{}},
		{"name = $q$ pg_read_file('/etc/passwd') $q$ AND x = $$ dblink( $$", []string{}},
		{"x = 1 -- pg_sleep(1)\n AND /* nested /* pg_sleep(2) */ still */ y = 2", []string{}},
		{"id = $1 AND now() > ts", []string{"now"}},
		{`a$b(1) = "quoted""name"(2)`, []string{"a$b", `quoted"name`}},
	} {
		got := filterFunctions(tt.in)
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("filterFunctions(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
