package pgsource

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/pgmotion/pgmotion/internal/change"
)

// The snapshot reads tables with COPY (SELECT ...) TO STDOUT rather than
// with the SELECT itself: the server does the same scan and calls the
// same output functions, but skips the per-row work of the extended
// protocol, about a quarter of its CPU per row, and the client's framing
// per value goes too. Each CopyData message of a COPY TO is one row in
// PostgreSQL's text format: values separated by tabs, the row ended by a
// newline, \N for NULL, and backslash escapes for backslash, tab,
// newline, carriage return and the other control characters.

// errCopyRow is the error of a COPY row that is not in the text format.
var errCopyRow = errors.New("malformed COPY text row")

// fillCopy makes b the snapshot read of one row of rel given as a COPY
// text line. The line is copied into b's own buffer at once, and the
// values are the fields of that copy, unescaped in place where they hold
// a backslash (unescaping never lengthens a value).
func (b *rowBuf) fillCopy(rel *change.Relation, line []byte) error {
	n := len(line)
	if n == 0 || line[n-1] != '\n' {
		return fmt.Errorf("%w: it does not end with a newline", errCopyRow)
	}
	b.data = append(b.data[:0], line[:n-1]...)
	line = b.data
	b.c.Op, b.c.Rel, b.c.Before = change.OpRead, rel, nil
	cols := len(rel.Columns)
	if cap(b.c.After) < cols {
		b.c.After = make(change.Tuple, cols)
	}
	b.c.After = b.c.After[:cols]
	col := 0
	for {
		if col == cols {
			return fmt.Errorf("%w: more than the %d values of %s", errCopyRow, cols, rel.QualifiedName())
		}
		field, rest, last := cutField(line)
		switch {
		case len(field) == 2 && field[0] == '\\' && field[1] == 'N':
			b.c.After[col] = change.Value{Kind: change.KindNull}
		default:
			if bytes.IndexByte(field, '\\') >= 0 {
				// In place: what is written never passes what is read.
				var err error
				if field, err = unescapeCopy(field[:0], field); err != nil {
					return fmt.Errorf("%w: value %d of %s: %w", errCopyRow, col+1, rel.QualifiedName(), err)
				}
			}
			b.c.After[col] = change.Value{Kind: change.KindText, Data: field[:len(field):len(field)]}
		}
		col++
		if last {
			break
		}
		line = rest
	}
	if col != cols {
		return fmt.Errorf("%w: %d values, %s has %d columns", errCopyRow, col, rel.QualifiedName(), cols)
	}
	return nil
}

// cutField splits line at its first tab; last reports that there was
// none. A tab is always escaped inside a value, so the first raw tab ends
// the field.
func cutField(line []byte) (field, rest []byte, last bool) {
	if i := bytes.IndexByte(line, '\t'); i >= 0 {
		return line[:i], line[i+1:], false
	}
	return line, nil, true
}

// unescapeCopy appends the value of the COPY text field f to dst: \b \f
// \n \r \t \v, one to three octal digits, \x and one or two hex digits,
// and a backslash before any other character standing for that
// character, as COPY FROM reads them.
func unescapeCopy(dst, f []byte) ([]byte, error) {
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '\\' {
			// Copy the run up to the next backslash at once.
			j := i + 1
			for j < len(f) && f[j] != '\\' {
				j++
			}
			dst = append(dst, f[i:j]...)
			i = j - 1
			continue
		}
		if i+1 == len(f) {
			return dst, errors.New("a backslash ends it")
		}
		i++
		switch c = f[i]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'v':
			dst = append(dst, '\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := c - '0'
			for k := 0; k < 2 && i+1 < len(f) && f[i+1] >= '0' && f[i+1] <= '7'; k++ {
				i++
				v = v<<3 | (f[i] - '0')
			}
			dst = append(dst, v)
		case 'x':
			v, digits := byte(0), 0
			for digits < 2 && i+1 < len(f) && hexVal(f[i+1]) >= 0 {
				i++
				v = v<<4 | byte(hexVal(f[i]))
				digits++
			}
			if digits == 0 {
				dst = append(dst, 'x') // as COPY FROM: \x without digits is x
			} else {
				dst = append(dst, v)
			}
		default:
			dst = append(dst, c)
		}
	}
	return dst, nil
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
