package pgsource

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
)

// escapeCopy writes v as COPY TO writes a text value: backslash, tab,
// newline, carriage return and \b \f \v escaped.
func escapeCopy(v []byte) []byte {
	var b []byte
	for _, c := range v {
		switch c {
		case '\\':
			b = append(b, `\\`...)
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\v':
			b = append(b, `\v`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

func copyRel(n int) *change.Relation {
	return &change.Relation{Namespace: "public", Name: "t", Columns: make([]change.Column, n)}
}

// show renders a row's values: text in quotes, NULL as null.
func show(t change.Tuple) string {
	var parts []string
	for _, v := range t {
		if v.Kind == change.KindNull {
			parts = append(parts, "null")
		} else {
			parts = append(parts, `"`+string(v.Data)+`"`)
		}
	}
	return strings.Join(parts, " ")
}

func TestFillCopy(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		cols       int
		want       string
		err        string
	}{
		{"plain", "1\tabc\tt\n", 3, `"1" "abc" "t"`, ""},
		{"null and empty", "\\N\t\t\\N\n", 3, `null "" null`, ""},
		{"literal \\N text", "\\\\N\n", 1, `"\N"`, ""},
		{"escapes", `a\tb\nc\rd\\e\bf\fg\vh` + "\n", 1, "\"a\tb\nc\rd\\e\bf\fg\vh\"", ""},
		{"octal and hex", `\101\x42\7\x4` + "\n", 1, "\"AB\a\x04\"", ""},
		{"octal wraps as COPY FROM", `\777` + "\n", 1, "\"\xff\"", ""},
		{"other escaped char", `\q\x` + "\n", 1, `"qx"`, ""},
		{"bytea and array", `\\x0001ff` + "\t" + `{"a\\\\b","c\\"d",NULL}` + "\n", 2, `"\x0001ff" "{"a\\b","c\"d",NULL}"`, ""},
		{"utf-8", "ünïcødé\t€\n", 2, `"ünïcødé" "€"`, ""},
		{"no newline", "1\t2", 2, "", "does not end with a newline"},
		{"empty message", "", 1, "", "does not end with a newline"},
		{"too few values", "1\n", 2, "", "1 values, public.t has 2 columns"},
		{"too many values", "1\t2\t3\n", 2, "", "more than the 2 values of public.t"},
		{"trailing backslash", "1\tab\\\n", 2, "", "value 2 of public.t: a backslash ends it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b rowBuf
			err := b.fillCopy(copyRel(tc.cols), []byte(tc.line))
			if tc.err != "" {
				if err == nil || !errors.Is(err, errCopyRow) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("fillCopy(%q) = %v, want an error containing %q", tc.line, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("fillCopy(%q): %v", tc.line, err)
			}
			if b.c.Op != change.OpRead || b.c.Before != nil {
				t.Errorf("op %c, before %v: want a read with no old row", b.c.Op, b.c.Before)
			}
			if got := show(b.c.After); got != tc.want {
				t.Errorf("fillCopy(%q) = %s, want %s", tc.line, got, tc.want)
			}
		})
	}
}

// TestFillCopyReuse fills one buffer with a long row and then a short
// one: the values of the second must not show the first's bytes.
func TestFillCopyReuse(t *testing.T) {
	var b rowBuf
	rel := copyRel(2)
	if err := b.fillCopy(rel, []byte(strings.Repeat("x", 100)+"\t"+strings.Repeat("y", 100)+"\n")); err != nil {
		t.Fatal(err)
	}
	if err := b.fillCopy(rel, []byte("a\t\\N\n")); err != nil {
		t.Fatal(err)
	}
	if got := show(b.c.After); got != `"a" null` {
		t.Errorf("second row %s", got)
	}
}

// FuzzCopyText: any line decodes or fails with errCopyRow, never panics;
// and values escaped as COPY TO escapes them come back unchanged.
func FuzzCopyText(f *testing.F) {
	f.Add([]byte("1\tabc\t\\N\n"), []byte("a\tb"), []byte(""))
	f.Add([]byte(`\x4g\0\\`), []byte("\\N"), []byte("\n\r\b\f\v\x00"))
	f.Fuzz(func(t *testing.T, line, v1, v2 []byte) {
		var b rowBuf
		for cols := 1; cols <= 3; cols++ {
			if err := b.fillCopy(copyRel(cols), line); err != nil && !errors.Is(err, errCopyRow) {
				t.Fatalf("fillCopy(%q): unexpected error %v", line, err)
			}
		}
		row := append(append(append(escapeCopy(v1), '\t'), escapeCopy(v2)...), '\n')
		if err := b.fillCopy(copyRel(2), row); err != nil {
			t.Fatalf("fillCopy(%q) of escaped %q, %q: %v", row, v1, v2, err)
		}
		for i, want := range [][]byte{v1, v2} {
			if got := b.c.After[i]; got.Kind != change.KindText || !bytes.Equal(got.Data, want) {
				t.Fatalf("value %d of %q: %q (kind %c), want %q", i+1, row, got.Data, got.Kind, want)
			}
		}
	})
}
