package debezium

import (
	"errors"
	"strconv"
)

// Arrays arrive in array_out's text form: {1,2,NULL}, {"a b","c\"d",""},
// with "[0:2]=" in front when the lower bound is not 1. Debezium maps the
// explicit *_ARRAY types of PostgresValueConverter to a Connect array of
// the element schema made optional; enum arrays keep the element schema
// required (SchemaBuilder.array(Enum.builder(allowed))).

var (
	errArrayMultiDim = errors.New("multi-dimensional arrays are not supported (Debezium fails on them too)")
	errArraySyntax   = errors.New("malformed array literal")
	errArrayNull     = errors.New("NULL element in an enum array, whose element schema is required (Debezium fails the same way)")
)

// arrayIter walks the elements of a one-dimensional array literal. It
// never allocates beyond buf and checks every index.
type arrayIter struct {
	b   []byte
	pos int
	buf []byte // unescaped text of the current quoted element
	n   int    // elements read
}

// newArrayIter checks the outer braces (after an optional dimension
// decoration) and returns an iterator positioned on the first element.
func newArrayIter(b, buf []byte) (arrayIter, error) {
	it := arrayIter{buf: buf}
	if len(b) > 0 && b[0] == '[' {
		// [lo:hi]= ; more than one bracket pair means more dimensions.
		i := 1
		for i < len(b) && b[i] != ']' {
			c := b[i]
			if (c < '0' || c > '9') && c != ':' && c != '-' {
				return it, errArraySyntax
			}
			i++
		}
		if i+2 > len(b) {
			return it, errArraySyntax
		}
		if b[i+1] == '[' {
			return it, errArrayMultiDim
		}
		if b[i+1] != '=' {
			return it, errArraySyntax
		}
		b = b[i+2:]
	}
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return it, errArraySyntax
	}
	if b[1] == '{' {
		return it, errArrayMultiDim
	}
	it.b = b[1 : len(b)-1]
	return it, nil
}

// next returns the next element: its text, whether it is NULL, and ok
// false at the end.
func (it *arrayIter) next() (elem []byte, null bool, ok bool, err error) {
	b := it.b
	if it.pos >= len(b) {
		// The end; a trailing delimiter ("{1,}") fails below as an
		// empty element.
		return nil, false, false, nil
	}
	if it.n > 0 {
		if b[it.pos] != ',' {
			return nil, false, false, errArraySyntax
		}
		it.pos++
	}
	it.n++
	i := it.pos
	if i < len(b) && b[i] == '"' {
		out := it.buf[:0]
		i++
		for {
			if i >= len(b) {
				it.buf = out
				return nil, false, false, errArraySyntax
			}
			c := b[i]
			if c == '"' {
				i++
				break
			}
			if c == '\\' {
				i++
				if i >= len(b) {
					it.buf = out
					return nil, false, false, errArraySyntax
				}
				c = b[i]
			}
			out = append(out, c)
			i++
		}
		it.buf = out
		if i < len(b) && b[i] != ',' {
			return nil, false, false, errArraySyntax
		}
		it.pos = i
		return out, false, true, nil
	}
	start := i
	escaped := false
	for i < len(b) && b[i] != ',' {
		switch b[i] {
		case '{', '}', '"':
			if b[i] == '{' {
				return nil, false, false, errArrayMultiDim
			}
			return nil, false, false, errArraySyntax
		case '\\':
			escaped = true
			i++
			if i >= len(b) {
				return nil, false, false, errArraySyntax
			}
		}
		i++
	}
	it.pos = i
	raw := b[start:i]
	if len(raw) == 0 {
		return nil, false, false, errArraySyntax
	}
	if !escaped && len(raw) == 4 && (raw[0]|0x20) == 'n' && (raw[1]|0x20) == 'u' && (raw[2]|0x20) == 'l' && (raw[3]|0x20) == 'l' {
		return nil, true, true, nil
	}
	if !escaped {
		return raw, false, true, nil
	}
	out := it.buf[:0]
	for j := 0; j < len(raw); j++ {
		if raw[j] == '\\' {
			j++
		}
		out = append(out, raw[j])
	}
	it.buf = out
	return out, false, true, nil
}

// setupArray maps an array column to an array of its element's schema.
func setupArray(cp *colPlan, s *settings) error {
	if cp.col == nil {
		return errors.New("array column without element type")
	}
	elemOID, ok := arrayElementOID(cp.col)
	if !ok {
		return errors.New("array element type is not supported")
	}
	elem := &colPlan{name: cp.name + "-element", typmod: cp.typmod, oid: elemOID, col: cp.col}
	if err := typeMappings[elemOID].setup(elem, s); err != nil {
		return err
	}
	// Element schemas are optional except for enums.
	elem.notNull = elemOID == pseudoEnumOID
	cp.elem = elem
	cp.schema = fieldSchema{typ: "array", items: string(appendSchemaBody(nil, &elem.schema, !elem.notNull))}
	cp.decode = decArray
	cp.fallback = val{k: kRaw, b: []byte("[]"), d: []byte("[]")}
	return nil
}

// appendSchemaBody writes a schema that is not a struct member: type,
// items, fields, optional, name, version, doc, parameters.
func appendSchemaBody(dst []byte, fs *fieldSchema, optional bool) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, fs.typ...)
	dst = append(dst, '"')
	dst = appendSchemaChildren(dst, fs)
	dst = append(dst, `,"optional":`...)
	dst = strconv.AppendBool(dst, optional)
	if fs.name != "" {
		dst = append(dst, `,"name":`...)
		dst = appendJSONStr(dst, fs.name)
	}
	if fs.version != 0 {
		dst = append(dst, `,"version":`...)
		dst = strconv.AppendInt(dst, int64(fs.version), 10)
	}
	if fs.doc != "" {
		dst = append(dst, `,"doc":`...)
		dst = appendJSONStr(dst, fs.doc)
	}
	dst = appendParams(dst, fs.params)
	return append(dst, '}')
}

// decArray converts every element and writes the JSON and header forms.
func decArray(e *Encoder, cp *colPlan, b []byte) (val, error) {
	it, err := newArrayIter(b, e.arrElem[:0])
	if err != nil {
		return val{}, err
	}
	js := append(e.arrJSON[:0], '[')
	hd := append(e.arrHdr[:0], '[')
	for i := 0; ; i++ {
		elem, null, ok, err := it.next()
		if err != nil || !ok {
			e.arrElem, e.arrJSON, e.arrHdr = it.buf, js, hd
			if err != nil {
				return val{}, err
			}
			break
		}
		if i > 0 {
			js = append(js, ',')
			hd = append(hd, ',')
		}
		if null {
			if cp.elem.notNull {
				e.arrElem, e.arrJSON, e.arrHdr = it.buf, js, hd
				return val{}, errArrayNull
			}
			js = append(js, "null"...)
			hd = append(hd, "null"...)
			continue
		}
		v, err := cp.elem.decode(e, cp.elem, elem)
		if err != nil {
			e.arrElem, e.arrJSON, e.arrHdr = it.buf, js, hd
			return val{}, fmtElemErr(i, err)
		}
		js = v.appendJSON(js)
		hd = v.appendHeader(hd)
	}
	js = append(js, ']')
	hd = append(hd, ']')
	e.arrJSON, e.arrHdr = js, hd
	return val{k: kRaw, b: js, d: hd}, nil
}

type arrayElemError struct {
	index int
	err   error
}

func (a *arrayElemError) Error() string {
	return "array element " + strconv.Itoa(a.index+1) + ": " + a.err.Error()
}

func (a *arrayElemError) Unwrap() error { return a.err }

func fmtElemErr(i int, err error) error { return &arrayElemError{i, err} }
