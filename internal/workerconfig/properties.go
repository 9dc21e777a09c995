package workerconfig

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Property is one key/element pair of a .properties file.
type Property struct {
	Key, Value string
	// Line is the 1-based natural line on which the pair's logical line
	// starts (continuation lines are part of the same logical line).
	Line int
}

// ReadProperties reads r in the format of java.util.Properties.load and
// returns the pairs in file order, duplicates included (the last one wins
// when they are put in a map, as in Java).
//
// The syntax is Java's exactly: `key=value`, `key: value` and `key value`;
// blank lines and lines whose first non-blank character is '#' or '!' are
// skipped; space, tab and form feed are white space; a line ending in an odd
// number of backslashes continues on the next line, whose leading white
// space is dropped; `\t`, `\n`, `\r`, `\f` and `\uXXXX` are escapes and a
// backslash before any other character stands for that character.
//
// Two things differ from Java, both about bytes rather than syntax. Input
// that is valid UTF-8 is read as UTF-8 and anything else as ISO-8859-1
// (Kafka reads worker files as ISO-8859-1 and FileConfigProvider files as
// UTF-8; both agree on ASCII), and a leading UTF-8 byte order mark is
// dropped. A `\uXXXX` escape for half of a surrogate pair that is not
// followed by the other half becomes U+FFFD, since Go strings hold UTF-8.
//
// A malformed `\uXXXX` escape is a *SyntaxError naming the line and, when
// it is in the element, the key; the element itself is never quoted
// because it may be a secret.
func ReadProperties(r io.Reader) ([]Property, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	text := decodeText(data)
	lr := lineReader{s: text, line: 1}
	var props []Property
	for {
		buf, line, ok := lr.next()
		if !ok {
			return props, nil
		}
		rawKey, rawValue := splitKeyValue(buf)
		key, err := unescape(rawKey)
		if err != nil {
			return nil, &SyntaxError{Line: line, Err: err}
		}
		value, err := unescape(rawValue)
		if err != nil {
			return nil, &SyntaxError{Line: line, Key: key, Err: err}
		}
		props = append(props, Property{Key: key, Value: value, Line: line})
	}
}

// SyntaxError reports a malformed escape in a properties file.
type SyntaxError struct {
	Line int    // where the logical line starts
	Key  string // the key whose element is malformed; "" when the key is
	Err  error
}

func (e *SyntaxError) Error() string {
	key := e.Key
	if key == "" {
		key = "key"
	}
	return fmt.Sprintf("line %d: %s: %v", e.Line, key, e.Err)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// decodeText turns file bytes into a UTF-8 string: UTF-8 when the bytes
// are valid UTF-8 (after dropping a byte order mark), ISO-8859-1 otherwise.
func decodeText(data []byte) string {
	data = trimBOM(data)
	if utf8.Valid(data) {
		return string(data)
	}
	var b strings.Builder
	b.Grow(len(data) * 2)
	for _, c := range data {
		b.WriteRune(rune(c))
	}
	return b.String()
}

func trimBOM(data []byte) []byte {
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		return data[3:]
	}
	return data
}

func isPropSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

// lineReader splits text into logical lines the way Properties.LineReader
// does: it skips blank and comment lines and leading white space, and joins
// continuation lines. Every byte it inspects is ASCII, which is safe on
// UTF-8 because multi-byte sequences contain no ASCII bytes.
type lineReader struct {
	s    string
	off  int
	line int // natural line of s[off]
}

// newline counts the terminator c just consumed at s[off-1]; "\r\n"
// counts once, on its '\n'.
func (lr *lineReader) newline(c byte) {
	if c == '\n' || lr.off >= len(lr.s) || lr.s[lr.off] != '\n' {
		lr.line++
	}
}

// next returns the next logical line with continuations joined and the
// line it starts on; ok is false at the end of the input.
func (lr *lineReader) next() (buf []byte, start int, ok bool) {
	skipSpace := true // skipping white space at the start of a natural line
	continued := false
	backslash := false // an odd run of backslashes ends buf
	for {
		if lr.off >= len(lr.s) {
			if len(buf) == 0 {
				return nil, 0, false
			}
			if backslash {
				buf = buf[:len(buf)-1]
			}
			return buf, start, true
		}
		c := lr.s[lr.off]
		lr.off++
		if skipSpace {
			if isPropSpace(c) {
				continue
			}
			if !continued && (c == '\r' || c == '\n') {
				lr.newline(c)
				continue
			}
			skipSpace, continued = false, false
		}
		if len(buf) == 0 && (c == '#' || c == '!') {
			// A comment runs to the end of its natural line and is never
			// continued.
			for lr.off < len(lr.s) {
				d := lr.s[lr.off]
				lr.off++
				if d == '\r' || d == '\n' {
					lr.newline(d)
					break
				}
			}
			skipSpace = true
			continue
		}
		if c != '\r' && c != '\n' {
			if len(buf) == 0 && start == 0 {
				start = lr.line
			}
			buf = append(buf, c)
			backslash = c == '\\' && !backslash
			continue
		}
		lr.newline(c)
		if len(buf) == 0 {
			skipSpace = true
			continue
		}
		if lr.off >= len(lr.s) {
			if backslash {
				buf = buf[:len(buf)-1]
			}
			return buf, start, true
		}
		if !backslash {
			return buf, start, true
		}
		// An escaped line terminator: drop the backslash, the terminator
		// and the next line's leading white space.
		buf = buf[:len(buf)-1]
		skipSpace, continued, backslash = true, true, false
		if c == '\r' && lr.s[lr.off] == '\n' {
			lr.off++
			lr.line++
		}
	}
}

// splitKeyValue finds the raw (still escaped) key and element of a logical
// line as Properties.load0 does: the key ends at the first unescaped '=',
// ':' or white space; white space and at most one '=' or ':' after it are
// skipped.
func splitKeyValue(line []byte) (key, value []byte) {
	n := len(line)
	keyLen, valueStart := 0, n
	hasSep, backslash := false, false
	for keyLen < n {
		c := line[keyLen]
		if (c == '=' || c == ':') && !backslash {
			valueStart, hasSep = keyLen+1, true
			break
		}
		if isPropSpace(c) && !backslash {
			valueStart = keyLen + 1
			break
		}
		backslash = c == '\\' && !backslash
		keyLen++
	}
	for valueStart < n {
		c := line[valueStart]
		if !isPropSpace(c) {
			if hasSep || (c != '=' && c != ':') {
				break
			}
			hasSep = true
		}
		valueStart++
	}
	return line[:keyLen], line[valueStart:]
}

// errMalformedUnicode is Java's IllegalArgumentException text.
var errMalformedUnicode = errors.New(`malformed \uxxxx encoding`)

// unescape applies the escapes of Properties.loadConvert.
func unescape(raw []byte) (string, error) {
	i := 0
	for i < len(raw) && raw[i] != '\\' {
		i++
	}
	if i == len(raw) {
		return string(raw), nil
	}
	out := make([]byte, 0, len(raw))
	out = append(out, raw[:i]...)
	for i < len(raw) {
		c := raw[i]
		i++
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i >= len(raw) {
			break // cannot happen after lineReader; drop a lone backslash
		}
		c = raw[i]
		i++
		switch c {
		case 'u':
			u, ok := hex4(raw[i:])
			if !ok {
				return "", errMalformedUnicode
			}
			i += 4
			r := rune(u)
			if utf16.IsSurrogate(r) {
				r = utf8.RuneError
				if u < 0xDC00 && len(raw) >= i+6 && raw[i] == '\\' && raw[i+1] == 'u' {
					if lo, ok := hex4(raw[i+2:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
						r = utf16.DecodeRune(rune(u), rune(lo))
						i += 6
					}
				}
			}
			out = utf8.AppendRune(out, r)
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'n':
			out = append(out, '\n')
		case 'f':
			out = append(out, '\f')
		default:
			// Any other escaped character stands for itself; the bytes of
			// a multi-byte character follow on the next iterations.
			out = append(out, c)
		}
	}
	return string(out), nil
}

func hex4(b []byte) (uint16, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var v uint16
	for _, c := range b[:4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint16(d)
	}
	return v, true
}

// WriteProperties writes props in the format of Properties.store to an
// OutputStream: one `key=value` line each, with '\', '=', ':', '#', '!',
// every space in the key and a leading space in the element escaped, and
// every character outside printable ASCII written as \uXXXX. The output is
// ASCII, so Java and ReadProperties read it back the same.
func WriteProperties(w io.Writer, props []Property) error {
	bw := bufio.NewWriter(w)
	for _, p := range props {
		bw.WriteString(escapeProperty(p.Key, true))
		bw.WriteByte('=')
		bw.WriteString(escapeProperty(p.Value, false))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// escapeProperty is Properties.saveConvert with escUnicode set.
func escapeProperty(s string, isKey bool) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case ' ':
			if i == 0 || isKey {
				b.WriteByte('\\')
			}
			b.WriteByte(' ')
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		case '=', ':', '#', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			if r < 0x20 || r > 0x7e {
				var units []uint16
				if r > 0xFFFF {
					hi, lo := utf16.EncodeRune(r)
					units = []uint16{uint16(hi), uint16(lo)}
				} else {
					units = []uint16{uint16(r)}
				}
				for _, u := range units {
					fmt.Fprintf(&b, `\u%04X`, u)
				}
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}
