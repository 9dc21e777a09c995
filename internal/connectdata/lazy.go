package connectdata

import (
	"encoding/base64"
	"fmt"
	"strconv"
)

// JSONConverter.ToConnect checks the whole document against its schema but
// decodes the struct, array and map members of structs only when they are
// first read (Struct.Get): transformations usually read a few fields of an
// envelope and never its source block. The check does what decoding does
// without building values, so a checked member always decodes.

// lazy is a checked, not yet decoded struct member.
type lazy struct {
	raw    []byte // the member's JSON, a slice of the record's bytes
	schema *Schema
}

func (l *lazy) decode() any {
	d := decoder{data: l.raw, lazy: true}
	v, err := d.value(l.schema)
	if err != nil {
		panic(fmt.Sprintf("connectdata: a checked value does not decode: %v", err))
	}
	return v
}

// check validates the value at d.pos against s as value would read it,
// and moves past it.
func (d *decoder) check(s *Schema) error {
	if s == nil || s.Type < TypeArray {
		return d.checkIn(s)
	}
	if err := d.enter(); err != nil {
		return err
	}
	err := d.checkIn(s)
	d.leave()
	return err
}

func (d *decoder) checkIn(s *Schema) error {
	if s == nil {
		_, err := d.skipValue()
		return err
	}
	d.ws()
	c := d.peek()
	if c == 'n' {
		if err := d.literal("null"); err != nil {
			return err
		}
		_, err := nullFor(s)
		return err
	}
	isNum := c == '-' || (c >= '0' && c <= '9')
	switch s.logical {
	case logicalDecimal, logicalDate, logicalTime, logicalTimestamp:
		// Rare enough to decode.
		_, err := d.value(s)
		return err
	}
	switch s.Type {
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		if !isNum {
			return dataErrorf("expected a number, found %s", d.nodeType())
		}
		_, _, err := d.number()
		return err
	case TypeFloat32, TypeFloat64:
		if isNum {
			_, _, err := d.number()
			return err
		}
		if c != '"' {
			return dataErrorf("Invalid value for %s: found %s", s.Type, d.nodeType())
		}
		_, err := d.value(s)
		return err
	case TypeBoolean:
		switch c {
		case 't':
			return d.literal("true")
		case 'f':
			return d.literal("false")
		}
		return dataErrorf("Invalid value for BOOLEAN: found %s", d.nodeType())
	case TypeString:
		if c != '"' {
			return dataErrorf("Invalid value for STRING: found %s", d.nodeType())
		}
		_, err := d.skipString()
		return err
	case TypeBytes:
		if c != '"' {
			return dataErrorf("Invalid bytes field: found %s", d.nodeType())
		}
		start := d.pos
		if _, err := d.skipString(); err != nil {
			return err
		}
		body := d.data[start+1 : d.pos-1]
		for _, b := range body {
			if b == '\\' {
				d.pos = start
				_, err := d.value(s)
				return err
			}
		}
		if cap(d.scratch) < base64.StdEncoding.DecodedLen(len(body)) {
			d.scratch = make([]byte, base64.StdEncoding.DecodedLen(len(body)))
		}
		if _, err := base64.StdEncoding.Decode(d.scratch[:cap(d.scratch)], body); err != nil {
			return dataErrorf("Invalid bytes field")
		}
		return nil
	case TypeArray:
		if c != '[' {
			return dataErrorf("Invalid value for ARRAY: found %s", d.nodeType())
		}
		d.pos++
		d.ws()
		if d.peek() == ']' {
			d.pos++
			return nil
		}
		for {
			if err := d.check(s.Elem); err != nil {
				return err
			}
			d.ws()
			switch d.peek() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				return nil
			default:
				return d.syntaxErr("expected ',' or ']'")
			}
		}
	case TypeMap:
		// Maps are rare in change events: decode to check.
		_, err := d.mapValue(s, c)
		return err
	case TypeStruct:
		if c != '{' {
			return dataErrorf("Structs should be encoded as JSON objects, but found %s", d.nodeType())
		}
		seen, err := d.members(s, nil)
		if err != nil {
			return err
		}
		for i, f := range s.Fields {
			if !seen.has(i) {
				if _, err := nullFor(f.Schema); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return dataErrorf("Unknown schema type: %s", strconv.Itoa(int(s.Type)))
}
