package connectdata

// The JSON reader: tokens, strings, numbers, skipping and nesting limits.

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// decoder reads JSON from data.
type decoder struct {
	data []byte
	pos  int
	// numbers makes schemaless return numbers as Number.
	numbers bool
	// entries and elems are the stacks schemaless builds objects and
	// arrays on.
	entries []MapEntry
	elems   []any
	depth   int
}

// maxDepth is the deepest nesting read, Jackson's default
// (StreamReadConstraints.maxNestingDepth).
const maxDepth = 1000

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return dataErrorf("Document nesting depth (%d) exceeds the maximum allowed (%d)", d.depth, maxDepth)
	}
	return nil
}

func (d *decoder) leave() { d.depth-- }

// Number is a JSON number as written, returned by ParseJSON.
type Number string

// Integral reports whether the number has neither a fraction nor an
// exponent (Jackson's isIntegralNumber).
func (n Number) Integral() bool {
	for i := 0; i < len(n); i++ {
		if c := n[i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

// ParseJSON parses one JSON document into Map, []any, string, bool, nil and
// Number values, keeping the key order of objects (a repeated key keeps its
// first position and takes the last value), as Jackson's readTree does.
// Errors wrap ErrData.
func ParseJSON(data []byte) (any, error) {
	var p JSONParser
	return p.Parse(data)
}

// JSONParser is ParseJSON with buffers kept from one call to the next. The
// zero value is ready to use; it is not safe for concurrent use.
type JSONParser struct {
	entries []MapEntry
	elems   []any
}

// Parse is ParseJSON.
func (p *JSONParser) Parse(data []byte) (any, error) {
	d := decoder{data: data, numbers: true, entries: p.entries[:0], elems: p.elems[:0]}
	v, err := d.schemaless()
	if err == nil {
		err = d.end()
	}
	// Keep the grown stacks, without pinning the values they held.
	clear(d.entries[:cap(d.entries)])
	clear(d.elems[:cap(d.elems)])
	p.entries, p.elems = d.entries[:0], d.elems[:0]
	return v, err
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *decoder) end() error {
	d.ws()
	if d.pos != len(d.data) {
		return d.syntaxErr("unexpected content after the JSON value")
	}
	return nil
}

func (d *decoder) syntaxErr(msg string) error {
	if d.pos >= len(d.data) {
		return dataErrorf("Converting byte[] to Kafka Connect data failed due to serialization error: %s at end of input", msg)
	}
	return dataErrorf("Converting byte[] to Kafka Connect data failed due to serialization error: %s at offset %d", msg, d.pos)
}

// key reads an object key and the colon after it.
func (d *decoder) key() (string, error) {
	d.ws()
	if d.peek() != '"' {
		return "", d.syntaxErr("expected a field name")
	}
	k, err := d.str()
	if err != nil {
		return "", err
	}
	d.ws()
	if d.peek() != ':' {
		return "", d.syntaxErr("expected ':'")
	}
	d.pos++
	return k, nil
}

// rawKey consumes the object key name and its colon when they are written
// plainly at d.pos.
func (d *decoder) rawKey(name string) bool {
	d.ws()
	end := d.pos + 1 + len(name)
	if end >= len(d.data) || d.data[d.pos] != '"' || d.data[end] != '"' || string(d.data[d.pos+1:end]) != name {
		return false
	}
	save := d.pos
	d.pos = end + 1
	d.ws()
	if d.peek() != ':' {
		d.pos = save
		return false
	}
	d.pos++
	return true
}

// str reads a string literal at d.pos (which holds the opening quote).
func (d *decoder) str() (string, error) {
	start := d.pos + 1
	i := start
	ascii := true
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(d.data[start:i]) {
				d.pos = start
				return "", d.syntaxErr("invalid UTF-8")
			}
			d.pos = i + 1
			return string(d.data[start:i]), nil
		case c == '\\':
			return d.strSlow(start)
		case c < 0x20:
			d.pos = i
			return "", d.syntaxErr("illegal unquoted control character in a string")
		case c >= utf8.RuneSelf:
			ascii = false
		}
		i++
	}
	d.pos = len(d.data)
	return "", d.syntaxErr("unterminated string")
}

func (d *decoder) strSlow(start int) (string, error) {
	// The unescaped text is never longer than the escaped one.
	end := start
	for end < len(d.data) && d.data[end] != '"' {
		if d.data[end] == '\\' {
			end++
		}
		end++
	}
	b, err := d.unescape(start, make([]byte, 0, end-start), true)
	if err != nil {
		return "", err
	}
	// b is never written again: share its bytes, as strings.Builder does.
	return unsafe.String(unsafe.SliceData(b), len(b)), nil
}

// unescape reads the body of a string starting at start up to and past the
// closing quote, checking escapes, control characters and UTF-8; with
// build, the unescaped text is appended to b.
func (d *decoder) unescape(start int, b []byte, build bool) ([]byte, error) {
	i := start
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return b, nil
		case c == '\\':
			if i+1 >= len(d.data) {
				d.pos = i
				return nil, d.syntaxErr("unterminated escape")
			}
			e := d.data[i+1]
			i += 2
			var r rune = -1
			switch e {
			case '"', '\\', '/':
				r = rune(e)
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			case 'u':
				u, ok := hex4(d.data, i)
				if !ok {
					d.pos = i
					return nil, d.syntaxErr("invalid \\u escape")
				}
				i += 4
				r = u
				if utf16.IsSurrogate(r) {
					r2, ok2 := rune(0), false
					if i+6 <= len(d.data) && d.data[i] == '\\' && d.data[i+1] == 'u' {
						r2, ok2 = hex4(d.data, i+2)
					}
					r = utf8.RuneError
					if ok2 {
						if dec := utf16.DecodeRune(u, r2); dec != utf8.RuneError {
							r = dec
							i += 6
						}
					}
				}
			default:
				d.pos = i - 1
				return nil, d.syntaxErr("unrecognized escape")
			}
			if build {
				b = utf8.AppendRune(b, r)
			}
		case c < 0x20:
			d.pos = i
			return nil, d.syntaxErr("illegal unquoted control character in a string")
		case c < utf8.RuneSelf:
			if build {
				b = append(b, c)
			}
			i++
		default:
			r, n := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && n == 1 {
				d.pos = i
				return nil, d.syntaxErr("invalid UTF-8")
			}
			if build {
				b = append(b, d.data[i:i+n]...)
			}
			i += n
		}
	}
	d.pos = len(d.data)
	return nil, d.syntaxErr("unterminated string")
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}

// number scans a JSON number; integral reports the absence of a fraction
// and an exponent.
func (d *decoder) number() (text []byte, integral bool, err error) {
	start := d.pos
	i := d.pos
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	intStart := i
	if n := digits(); n == 0 {
		d.pos = i
		return nil, false, d.syntaxErr("invalid number")
	} else if n > 1 && d.data[intStart] == '0' {
		d.pos = intStart
		return nil, false, d.syntaxErr("leading zeroes are not allowed")
	}
	integral = true
	if i < len(d.data) && d.data[i] == '.' {
		i++
		integral = false
		if digits() == 0 {
			d.pos = i
			return nil, false, d.syntaxErr("invalid number: no digit after the decimal point")
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		integral = false
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if digits() == 0 {
			d.pos = i
			return nil, false, d.syntaxErr("invalid number: no digit in the exponent")
		}
	}
	d.pos = i
	return d.data[start:i], integral, nil
}

// literal reads true, false or null.
func (d *decoder) literal(word string) error {
	if !bytes.HasPrefix(d.data[d.pos:], []byte(word)) {
		return d.syntaxErr("unrecognized token")
	}
	d.pos += len(word)
	return nil
}

// skipValue skips one JSON value, checking its syntax, and returns its
// first byte.
func (d *decoder) skipValue() (byte, error) {
	d.ws()
	if c := d.peek(); c != '{' && c != '[' {
		return d.skipValueIn()
	}
	if err := d.enter(); err != nil {
		return 0, err
	}
	c, err := d.skipValueIn()
	d.leave()
	return c, err
}

func (d *decoder) skipValueIn() (byte, error) {
	d.ws()
	c := d.peek()
	switch {
	case c == '"':
		_, err := d.skipString()
		return c, err
	case c == '{':
		d.pos++
		d.ws()
		if d.peek() == '}' {
			d.pos++
			return c, nil
		}
		for {
			d.ws()
			if d.peek() != '"' {
				return c, d.syntaxErr("expected a field name")
			}
			if _, err := d.skipString(); err != nil {
				return c, err
			}
			d.ws()
			if d.peek() != ':' {
				return c, d.syntaxErr("expected ':'")
			}
			d.pos++
			if _, err := d.skipValue(); err != nil {
				return c, err
			}
			d.ws()
			switch d.peek() {
			case ',':
				d.pos++
			case '}':
				d.pos++
				return c, nil
			default:
				return c, d.syntaxErr("expected ',' or '}'")
			}
		}
	case c == '[':
		d.pos++
		d.ws()
		if d.peek() == ']' {
			d.pos++
			return c, nil
		}
		for {
			if _, err := d.skipValue(); err != nil {
				return c, err
			}
			d.ws()
			switch d.peek() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				return c, nil
			default:
				return c, d.syntaxErr("expected ',' or ']'")
			}
		}
	case c == 't':
		return c, d.literal("true")
	case c == 'f':
		return c, d.literal("false")
	case c == 'n':
		return c, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		_, _, err := d.number()
		return c, err
	}
	return c, d.syntaxErr("unexpected character")
}

// skipString skips a string literal, checking escapes, control characters
// and UTF-8.
func (d *decoder) skipString() (int, error) {
	start := d.pos
	i := d.pos + 1
	ascii := true
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(d.data[start+1:i]) {
				return 0, d.syntaxErr("invalid UTF-8")
			}
			d.pos = i + 1
			return start, nil
		case c == '\\':
			_, err := d.unescape(start+1, nil, false)
			return start, err
		case c < 0x20:
			d.pos = i
			return 0, d.syntaxErr("illegal unquoted control character in a string")
		case c >= utf8.RuneSelf:
			ascii = false
		}
		i++
	}
	d.pos = len(d.data)
	return 0, d.syntaxErr("unterminated string")
}

// nodeType names the JSON node at d.pos as Jackson's JsonNodeType does.
func (d *decoder) nodeType() string {
	switch c := d.peek(); {
	case c == '"':
		return "STRING"
	case c == '{':
		return "OBJECT"
	case c == '[':
		return "ARRAY"
	case c == 't' || c == 'f':
		return "BOOLEAN"
	case c == 'n':
		return "NULL"
	}
	return "NUMBER"
}
