package kafkaclient

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseJAAS(t *testing.T) {
	for _, tc := range []struct {
		in      string
		module  string
		flag    string
		options map[string]string
		err     string
	}{
		{in: `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`,
			module: plainModule, flag: "required", options: map[string]string{"username": "u", "password": "p"}},
		{in: "org.apache.kafka.common.security.scram.ScramLoginModule REQUIRED\n  username=alice\n  password='s e;c=r\"et' ;",
			module: scramModule, flag: "required", options: map[string]string{"username": "alice", "password": `s e;c=r"et`}},
		// Java escapes inside quotes, octal too.
		{in: `m required password="a\"b\\c\n\101\0777";`, module: "m", flag: "required",
			options: map[string]string{"password": "a\"b\\c\nA\x3f7"}},
		// Comments, as StreamTokenizer reads them.
		{in: "m /* block */ optional // to the end of the line\n k=v;", module: "m", flag: "optional", options: map[string]string{"k": "v"}},
		// A word ends at '/', which then comments out the rest of the line.
		{in: "m required k=a/b\n;", module: "m", flag: "required", options: map[string]string{"k": "a"}},
		// A quoted string ends at a line break.
		{in: "m required k=\"abc\n;", module: "m", flag: "required", options: map[string]string{"k": "abc"}},
		{in: `m required;`, module: "m", flag: "required", options: map[string]string{}},
		{in: `m required clientId="ü" scope=x.y extension_a=1;`, module: "m", flag: "required",
			options: map[string]string{"clientId": "ü", "scope": "x.y", "extension_a": "1"}},
		{in: ``, err: "names no login module"},
		{in: `  // nothing`, err: "names no login module"},
		{in: `m required username="u"`, err: "does not end with ';'"},
		{in: `m username="u";`, err: `control flag "username"`},
		{in: `m;`, err: "has no control flag"},
		{in: `m required username;`, err: `no value for the option "username"`},
		{in: `m required username=;`, err: `no value for the option "username"`},
		{in: `m required = x;`, err: `has "=" where an option name belongs`},
		{in: `a required; b required;`, err: "names 2 login modules"},
		{in: `m required k="\`, err: "ends with a '\\'"},
		{in: "; m required;", err: `starts with ";"`},
		{in: "m required k=\u0085;", err: "control character U+0085"},
	} {
		got, err := ParseJAAS(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseJAAS(%q) = %v, want error containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseJAAS(%q): %v", tc.in, err)
			continue
		}
		if got.Module != tc.module || got.Flag != tc.flag || !reflect.DeepEqual(got.Options, tc.options) {
			t.Errorf("ParseJAAS(%q) = %+v, want %s %s %v", tc.in, got, tc.module, tc.flag, tc.options)
		}
	}
}

// An error never shows an option's value.
func TestParseJAASErrorsHideValues(t *testing.T) {
	for _, in := range []string{
		`m required password="hunter2"`,
		`m required password="hunter2" x;`,
		`m required password=hunter2 user`,
		`m required password="hunter2"; n required password="hunter2";`,
		`m required username="u" password=my hunter2;`, // an unquoted space
		`m required password="my" "hunter2";`,
	} {
		_, err := ParseJAAS(in)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseJAAS(%q) = %v: want an error without the password", in, err)
		}
	}
}

func FuzzParseJAAS(f *testing.F) {
	for _, s := range []string{
		`org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`,
		"m required k='v' /* c */ k2=\"a\\\"b\\101\" // x\n;",
		`m required k="\`, "\u0085", "m required k=\"abc\n;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := ParseJAAS(s)
		if err != nil {
			return
		}
		if j.Module == "" || j.Flag == "" || j.Options == nil {
			t.Fatalf("ParseJAAS(%q) = %+v without error", s, j)
		}
		// A parsed entry written back with quotes and escapes reads the same.
		var b strings.Builder
		b.WriteString(`"` + quoteJava(j.Module) + `" ` + j.Flag)
		for k, v := range j.Options {
			b.WriteString(` "` + quoteJava(k) + `"="` + quoteJava(v) + `"`)
		}
		b.WriteString(";")
		j2, err := ParseJAAS(b.String())
		if err != nil || j2.Module != j.Module || !reflect.DeepEqual(j2.Options, j.Options) {
			t.Fatalf("round trip of %q via %q: %+v, %v", s, b.String(), j2, err)
		}
	})
}

// quoteJava escapes s for a double-quoted StreamTokenizer string.
func quoteJava(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
	return r.Replace(s)
}
