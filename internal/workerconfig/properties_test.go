package workerconfig

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func kv(pairs ...string) []Property {
	var ps []Property
	for i := 0; i+1 < len(pairs); i += 2 {
		ps = append(ps, Property{Key: pairs[i], Value: pairs[i+1]})
	}
	return ps
}

func stripLines(ps []Property) []Property {
	out := make([]Property, len(ps))
	for i, p := range ps {
		out[i] = Property{Key: p.Key, Value: p.Value}
	}
	return out
}

func TestReadProperties(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Property
	}{
		// The examples of the java.util.Properties.load(Reader) javadoc.
		{"javadoc equals", "Truth = Beauty\n", kv("Truth", "Beauty")},
		{"javadoc colon after leading space", " Truth:Beauty\n", kv("Truth", "Beauty")},
		{"javadoc spaces then colon", "Truth                    :Beauty\n", kv("Truth", "Beauty")},
		{"javadoc fruits", "fruits                           apple, banana, pear, \\\n" +
			"                                 cantaloupe, watermelon, \\\n" +
			"                                 kiwi, mango\n",
			kv("fruits", "apple, banana, pear, cantaloupe, watermelon, kiwi, mango")},
		{"javadoc cheeses", "cheeses\n", kv("cheeses", "")},
		{"javadoc escaped separators in key", `\:\=`, kv(":=", "")},

		{"whitespace separator", "key value", kv("key", "value")},
		{"tab and form feed are white space", "\t\fkey\tvalue", kv("key", "value")},
		{"one separator only", "key = = value", kv("key", "= value")},
		{"colon then equals", "key:=value", kv("key", "=value")},
		{"spaces then equals", "key   =value", kv("key", "value")},
		{"empty value", "a=", kv("a", "")},
		{"empty key", "=b", kv("", "b")},
		{"trailing white space kept", "a=b  \t", kv("a", "b  \t")},
		{"comments and blank lines", "# comment\n! also a comment\n   # indented comment\n\n  \t \na=1\n", kv("a", "1")},
		{"hash inside a value", "a=b#c!d", kv("a", "b#c!d")},
		{"escaped space in key", `my\ key=v`, kv("my key", "v")},
		{"escaped leading spaces in value", `key=\ \ x`, kv("key", "  x")},
		{"control escapes", `k=\t\n\r\f`, kv("k", "\t\n\r\f")},
		{"unknown escapes drop the backslash", `k=\b\z\"\'\#`, kv("k", `bz"'#`)},
		{"backslash escape", `k=c:\\dir\\file`, kv("k", `c:\dir\file`)},
		{"unicode escape", `k=\u0041\u00e9\u00E9`, kv("k", "Aéé")},
		{"surrogate pair", `k=\uD83D\uDE00!`, kv("k", "😀!")},
		{"lone high surrogate", `k=\uD800x`, kv("k", "\uFFFDx")},
		{"lone low surrogate", `k=\uDC00`, kv("k", "\uFFFD")},
		{"escaped non-ASCII", "k=\\é", kv("k", "é")},
		{"UTF-8 text", "clé=valeur été", kv("clé", "valeur été")},
		{"Latin-1 text", "k=caf\xe9", kv("k", "café")},
		{"byte order mark", "\xEF\xBB\xBFa=1", kv("a", "1")},
		{"two backslashes do not continue", "a=b\\\\\nc=d", kv("a", `b\`, "c", "d")},
		{"three backslashes continue", "a=b\\\\\\\n   c", kv("a", `b\c`)},
		{"continuation of the key", "ke\\\n  y=v", kv("key", "v")},
		{"continuation line starting with #", "a=b\\\n#c", kv("a", "b#c")},
		{"comment lines do not continue", "#c\\\na=b", kv("a", "b")},
		{"blank continuation line ends the value", "a=b\\\n\nc=d", kv("a", "b", "c", "d")},
		{"white-space continuation line ends the value", "a=b\\\n   \nc=d", kv("a", "b", "c", "d")},
		{"backslash at end of input", "a=b\\", kv("a", "b")},
		{"backslash before final newline", "a=b\\\n", kv("a", "b")},
		{"CRLF", "a=1\r\nb=2\r\n", kv("a", "1", "b", "2")},
		{"CR only", "a=1\rb=2\r", kv("a", "1", "b", "2")},
		{"continuation over CRLF", "a=b\\\r\n   c\r\n", kv("a", "bc")},
		{"continuation over CR", "a=b\\\r   c", kv("a", "bc")},
		{"continuation to a comment-looking empty logical line", "\\\n#x", nil},
		{"duplicates kept in order", "a=1\na=2", kv("a", "1", "a", "2")},
		{"empty input", "", nil},
		{"only comments", "#a\n!b", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadProperties(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := stripLines(got); !reflect.DeepEqual(got, stripLines(tt.want)) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReadPropertiesLines(t *testing.T) {
	in := "# header\n\na=1\nb=2\\\n  3\\\n  4\r\n\r\nc=5\rd\n"
	got, err := ReadProperties(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Property{{"a", "1", 3}, {"b", "234", 4}, {"c", "5", 8}, {"d", "", 9}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestReadPropertiesErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`a=\u12`, `line 1: a: malformed \uxxxx encoding`},
		{"x=1\n\npassword=\\u12G4secret", `line 3: password: malformed \uxxxx encoding`},
		{`k\uZZZZ=v`, `line 1: key: malformed \uxxxx encoding`},
		{"a=\\\n  \\u1", `line 1: a: malformed \uxxxx encoding`},
	}
	for _, tt := range tests {
		_, err := ReadProperties(strings.NewReader(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("ReadProperties(%q) = %v, want %q", tt.in, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q quotes the value", err)
		}
	}
}

func TestWriteProperties(t *testing.T) {
	props := []Property{
		{Key: "a b", Value: " leading and trailing "},
		{Key: "#!=:", Value: "#!=:"},
		{Key: "ctl", Value: "\t\n\r\f\x00\x7f"},
		{Key: "path", Value: `c:\dir`},
		{Key: "uni", Value: "é😀"},
		{Key: "", Value: ""},
	}
	var buf bytes.Buffer
	if err := WriteProperties(&buf, props); err != nil {
		t.Fatal(err)
	}
	want := `a\ b=\ leading and trailing ` + "\n" +
		`\#\!\=\:=\#\!\=\:` + "\n" +
		`ctl=\t\n\r\f\u0000\u007F` + "\n" +
		`path=c\:\\dir` + "\n" +
		`uni=\u00E9\uD83D\uDE00` + "\n" +
		"=\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	back, err := ReadProperties(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stripLines(back), props) {
		t.Errorf("round trip: got %+v, want %+v", back, props)
	}
}
