package connectdata

// Reading JSON into Connect values: schemaless, by schema, and schemas.

import (
	"bytes"
	"encoding/base64"
	"math"
	"math/big"
	"strconv"
)

// schemaless reads any JSON value without a schema: objects become Map,
// integral numbers int64 (wrapped to 64 bits, as BigInteger.longValue),
// other numbers float64.
func (d *decoder) schemaless() (any, error) {
	d.ws()
	if c := d.peek(); c != '{' && c != '[' {
		return d.schemalessIn()
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	v, err := d.schemalessIn()
	d.leave()
	return v, err
}

func (d *decoder) schemalessIn() (any, error) {
	d.ws()
	switch c := d.peek(); {
	case c == '"':
		return d.str()
	case c == '{':
		d.pos++
		d.ws()
		if d.peek() == '}' {
			d.pos++
			return Map{}, nil
		}
		// Entries collect on a stack shared by nested objects, so that
		// each object allocates its Map once, at its final size.
		mark := len(d.entries)
		defer func() { d.entries = d.entries[:mark] }()
		for {
			k, err := d.key()
			if err != nil {
				return nil, err
			}
			v, err := d.schemaless()
			if err != nil {
				return nil, err
			}
			tail := setOrAppend(Map(d.entries[mark:]), k, v)
			d.entries = append(d.entries[:mark], tail...)
			d.ws()
			switch d.peek() {
			case ',':
				d.pos++
			case '}':
				d.pos++
				return append(Map(nil), d.entries[mark:]...), nil
			default:
				return nil, d.syntaxErr("expected ',' or '}'")
			}
		}
	case c == '[':
		d.pos++
		d.ws()
		if d.peek() == ']' {
			d.pos++
			return []any{}, nil
		}
		mark := len(d.elems)
		defer func() { d.elems = d.elems[:mark] }()
		for {
			v, err := d.schemaless()
			if err != nil {
				return nil, err
			}
			d.elems = append(d.elems, v)
			d.ws()
			switch d.peek() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				return append([]any(nil), d.elems[mark:]...), nil
			default:
				return nil, d.syntaxErr("expected ',' or ']'")
			}
		}
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		text, integral, err := d.number()
		if err != nil {
			return nil, err
		}
		if d.numbers {
			return Number(text), nil
		}
		if integral {
			return wrapInt(text), nil
		}
		f, _ := strconv.ParseFloat(string(text), 64)
		return f, nil
	}
	return nil, d.syntaxErr("unexpected character")
}

// setOrAppend is ObjectNode.set: a repeated key keeps its position and
// takes the new value.
func setOrAppend(m Map, k string, v any) Map {
	if len(m) <= 16 {
		for i := range m {
			if m[i].Key == k {
				m[i].Value = v
				return m
			}
		}
	} else {
		for i := range m {
			if s, _ := m[i].Key.(string); s == k {
				m[i].Value = v
				return m
			}
		}
	}
	return append(m, MapEntry{Key: k, Value: v})
}

// wrapInt parses an integral literal into its low 64 bits
// (BigInteger.longValue).
func wrapInt(text []byte) int64 {
	neg := text[0] == '-'
	if neg {
		text = text[1:]
	}
	var u uint64
	for _, c := range text {
		u = u*10 + uint64(c-'0')
	}
	if neg {
		u = -u
	}
	return int64(u)
}

// truncInt returns the low 64 bits of a non-integral literal truncated
// toward zero (BigDecimal.longValue).
func truncInt(text []byte) int64 {
	mant, exp, ok := splitNumber(text)
	if !ok {
		return 0
	}
	switch {
	case exp >= 64:
		return 0 // a multiple of 10^64, hence of 2^64
	case exp <= -int64(len(mant)):
		return 0 // |value| < 1
	}
	n, _ := new(big.Int).SetString(string(mant), 10)
	if exp > 0 {
		n.Mul(n, pow10(int(exp)))
	} else if exp < 0 {
		n.Quo(n, pow10(int(-exp)))
	}
	if text[0] == '-' {
		n.Neg(n)
	}
	return int64(new(big.Int).And(n, new(big.Int).SetUint64(math.MaxUint64)).Uint64())
}

// splitNumber splits a JSON number into its digits (no sign, no point) and
// the power of ten they are multiplied by.
func splitNumber(text []byte) (mant []byte, exp int64, ok bool) {
	i := 0
	if i < len(text) && text[i] == '-' {
		i++
	}
	for ; i < len(text) && text[i] != 'e' && text[i] != 'E'; i++ {
		switch c := text[i]; {
		case c == '.':
			exp = -int64(len(text) - i - 1)
			if e := bytes.IndexAny(text[i:], "eE"); e >= 0 {
				exp = -int64(e - 1)
			}
		case c >= '0' && c <= '9':
			mant = append(mant, c)
		default:
			return nil, 0, false
		}
	}
	if i < len(text) {
		e, err := strconv.ParseInt(string(text[i+1:]), 10, 64)
		if err != nil {
			// Beyond ±9.2e18: the value is 0 or has no low bits left.
			if text[i+1] == '-' {
				return mant, math.MinInt32, true
			}
			return mant, math.MaxInt32, true
		}
		if e > math.MaxInt32 {
			e = math.MaxInt32
		} else if e < math.MinInt32 {
			e = math.MinInt32
		}
		exp += e
	}
	return mant, exp, true
}

func (d *decoder) intValue() (int64, error) {
	if c := d.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, dataErrorf("expected a number, found %s", d.nodeType())
	}
	text, integral, err := d.number()
	if err != nil {
		return 0, err
	}
	if integral {
		return wrapInt(text), nil
	}
	return truncInt(text), nil
}

// nullFor is the value of a missing or null field: the schema default, or
// null when the schema is optional.
func nullFor(s *Schema) (any, error) {
	if s.Default != nil {
		return s.Default, nil
	}
	if s.Optional {
		return nil, nil
	}
	return nil, dataErrorf("Invalid null value for required %s field", s.Type)
}

// value reads the value at d.pos with schema s (nil: schemaless).
func (d *decoder) value(s *Schema) (any, error) {
	if s == nil || s.Type < TypeArray {
		return d.valueIn(s)
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	v, err := d.valueIn(s)
	d.leave()
	return v, err
}

func (d *decoder) valueIn(s *Schema) (any, error) {
	if s == nil {
		return d.schemaless()
	}
	d.ws()
	c := d.peek()
	if c == 'n' {
		if err := d.literal("null"); err != nil {
			return nil, err
		}
		return nullFor(s)
	}
	switch s.logical {
	case logicalDecimal:
		switch {
		case c == '"':
			t, err := d.str()
			if err != nil {
				return nil, err
			}
			b, err := base64.StdEncoding.DecodeString(t)
			if err != nil || len(b) == 0 {
				return nil, dataErrorf("Invalid bytes for Decimal field")
			}
			return canonicalUnscaled(b), nil
		case c == '-' || (c >= '0' && c <= '9'):
			text, _, err := d.number()
			if err != nil {
				return nil, err
			}
			b, err := unscaledFromText(string(text), s.scale)
			if err != nil {
				return nil, dataErrorf("%v", err)
			}
			return b, nil
		}
		return nil, dataErrorf("Invalid type for Decimal, underlying representation should be numeric or bytes but was %s", d.nodeType())
	case logicalDate, logicalTime:
		name := "Date"
		if s.logical == logicalTime {
			name = "Time"
		}
		if c == '-' || (c >= '0' && c <= '9') {
			start := d.pos
			text, integral, err := d.number()
			if err != nil {
				return nil, err
			}
			if n, perr := strconv.ParseInt(string(text), 10, 32); integral && perr == nil {
				return int32(n), nil
			}
			d.pos = start
		}
		return nil, dataErrorf("Invalid type for %s, underlying representation should be integer but was %s", name, d.nodeType())
	case logicalTimestamp:
		if c == '-' || (c >= '0' && c <= '9') {
			start := d.pos
			text, integral, err := d.number()
			if err != nil {
				return nil, err
			}
			if integral {
				return wrapInt(text), nil
			}
			d.pos = start
		}
		return nil, dataErrorf("Invalid type for Timestamp, underlying representation should be integral but was %s", d.nodeType())
	}
	switch s.Type {
	case TypeInt8:
		n, err := d.intValue()
		return int8(int32(n)), err
	case TypeInt16:
		n, err := d.intValue()
		return int16(int32(n)), err
	case TypeInt32:
		n, err := d.intValue()
		return int32(n), err
	case TypeInt64:
		return d.intValue()
	case TypeFloat32, TypeFloat64:
		bits := 64
		if s.Type == TypeFloat32 {
			bits = 32
		}
		var f float64
		switch {
		case c == '"':
			t, err := d.str()
			if err != nil {
				return nil, err
			}
			switch t {
			case "NaN":
				f = math.NaN()
			case "Infinity":
				f = math.Inf(1)
			case "-Infinity":
				f = math.Inf(-1)
			default:
				return nil, dataErrorf("Invalid value for %s: %q", s.Type, t)
			}
		case c == '-' || (c >= '0' && c <= '9'):
			text, _, err := d.number()
			if err != nil {
				return nil, err
			}
			f, _ = strconv.ParseFloat(string(text), bits)
		default:
			return nil, dataErrorf("Invalid value for %s: found %s", s.Type, d.nodeType())
		}
		if bits == 32 {
			return float32(f), nil
		}
		return f, nil
	case TypeBoolean:
		switch c {
		case 't':
			return true, d.literal("true")
		case 'f':
			return false, d.literal("false")
		}
		return nil, dataErrorf("Invalid value for BOOLEAN: found %s", d.nodeType())
	case TypeString:
		if c != '"' {
			return nil, dataErrorf("Invalid value for STRING: found %s", d.nodeType())
		}
		return d.str()
	case TypeBytes:
		if c != '"' {
			return nil, dataErrorf("Invalid bytes field: found %s", d.nodeType())
		}
		t, err := d.str()
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(t)
		if err != nil {
			return nil, dataErrorf("Invalid bytes field")
		}
		return b, nil
	case TypeArray:
		if c != '[' {
			return nil, dataErrorf("Invalid value for ARRAY: found %s", d.nodeType())
		}
		d.pos++
		out := []any{}
		d.ws()
		if d.peek() == ']' {
			d.pos++
			return out, nil
		}
		for {
			v, err := d.value(s.Elem)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			d.ws()
			switch d.peek() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				return out, nil
			default:
				return nil, d.syntaxErr("expected ',' or ']'")
			}
		}
	case TypeMap:
		return d.mapValue(s, c)
	case TypeStruct:
		return d.structValue(s, c)
	}
	return nil, dataErrorf("Unknown schema type: %s", s.Type)
}

func (d *decoder) mapValue(s *Schema, c byte) (any, error) {
	m := Map{}
	if s.Key.Type == TypeString {
		if c != '{' {
			return nil, dataErrorf("Maps with string fields should be encoded as JSON objects, but found %s", d.nodeType())
		}
		d.pos++
		d.ws()
		if d.peek() == '}' {
			d.pos++
			return m, nil
		}
		for {
			k, err := d.key()
			if err != nil {
				return nil, err
			}
			v, err := d.value(s.Elem)
			if err != nil {
				return nil, err
			}
			m = setOrAppend(m, k, v)
			d.ws()
			switch d.peek() {
			case ',':
				d.pos++
			case '}':
				d.pos++
				return m, nil
			default:
				return nil, d.syntaxErr("expected ',' or '}'")
			}
		}
	}
	if c != '[' {
		return nil, dataErrorf("Maps with non-string fields should be encoded as JSON array of tuples, but found %s", d.nodeType())
	}
	d.pos++
	d.ws()
	if d.peek() == ']' {
		d.pos++
		return m, nil
	}
	for {
		d.ws()
		if d.peek() != '[' {
			return nil, dataErrorf("Found invalid map entry instead of array tuple: %s", d.nodeType())
		}
		d.pos++
		k, err := d.value(s.Key)
		if err != nil {
			return nil, err
		}
		d.ws()
		if d.peek() != ',' {
			return nil, dataErrorf("Found invalid map entry, expected length 2")
		}
		d.pos++
		v, err := d.value(s.Elem)
		if err != nil {
			return nil, err
		}
		d.ws()
		if d.peek() != ']' {
			return nil, dataErrorf("Found invalid map entry, expected length 2")
		}
		d.pos++
		m = append(m, MapEntry{Key: k, Value: v})
		d.ws()
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return m, nil
		default:
			return nil, d.syntaxErr("expected ',' or ']'")
		}
	}
}

func (d *decoder) structValue(s *Schema, c byte) (any, error) {
	if c != '{' {
		return nil, dataErrorf("Structs should be encoded as JSON objects, but found %s", d.nodeType())
	}
	st := NewStruct(s)
	seen, err := d.members(s, st)
	if err != nil {
		return nil, err
	}
	for i, f := range s.Fields {
		if seen.has(i) {
			continue
		}
		v, err := nullFor(f.Schema)
		if err != nil {
			return nil, err
		}
		st.values[i] = v
	}
	return st, nil
}

// member reads the value of field idx into st.
func (d *decoder) member(s *Schema, st *Struct, idx int) error {
	fs := s.Fields[idx].Schema
	v, err := d.value(fs)
	st.values[idx] = v
	return err
}

// fieldSet records which fields of a struct a JSON object held.
type fieldSet struct {
	small uint64
	big   []bool
}

func (f *fieldSet) add(i int) {
	if f.big != nil {
		f.big[i] = true
		return
	}
	f.small |= 1 << uint(i)
}

func (f *fieldSet) has(i int) bool {
	if f.big != nil {
		return f.big[i]
	}
	return f.small&(1<<uint(i)) != 0
}

// members reads the object at d.pos (its opening brace) as a struct of s
// into st; members naming no field are skipped. It returns the fields
// seen.
func (d *decoder) members(s *Schema, st *Struct) (fieldSet, error) {
	var seen fieldSet
	if len(s.Fields) > 64 {
		seen.big = make([]bool, len(s.Fields))
	}
	d.pos++
	next := 0
	d.ws()
	if d.peek() == '}' {
		d.pos++
		return seen, nil
	}
	for {
		d.ws()
		if d.peek() != '"' {
			return seen, d.syntaxErr("expected a field name")
		}
		idx := -1
		// Fast path: the field expected next, compared in place.
		if next < len(s.Fields) {
			name := s.Fields[next].Name
			end := d.pos + 1 + len(name)
			if end < len(d.data) && d.data[end] == '"' && string(d.data[d.pos+1:end]) == name && bytes.IndexByte(d.data[d.pos+1:end], '\\') < 0 {
				idx = next
				d.pos = end + 1
				d.ws()
				if d.peek() != ':' {
					return seen, d.syntaxErr("expected ':'")
				}
				d.pos++
			}
		}
		if idx < 0 {
			k, err := d.key()
			if err != nil {
				return seen, err
			}
			if f, ok := s.Field(k); ok {
				idx = f.Index
			}
		}
		if idx < 0 {
			if _, err := d.skipValue(); err != nil {
				return seen, err
			}
		} else {
			d.ws()
			if err := d.member(s, st, idx); err != nil {
				return seen, err
			}
			seen.add(idx)
			next = idx + 1
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.pos++
			continue
		case '}':
			d.pos++
			return seen, nil
		}
		return seen, d.syntaxErr("expected ',' or '}'")
	}
}

// schema reads a schema object (Kafka's asConnectSchema); field is the
// "field" member of a struct field's schema.
func (d *decoder) schema() (s *Schema, field string, hasField bool, err error) {
	if err := d.enter(); err != nil {
		return nil, "", false, err
	}
	defer d.leave()
	d.ws()
	if d.peek() != '{' {
		if _, err := d.skipValue(); err != nil {
			return nil, "", false, err
		}
		return nil, "", false, dataErrorf("Schema must contain 'type' field")
	}
	d.pos++
	var (
		b                   Schema
		typeName            string
		hasType             bool
		items, keys, values *Schema
		hasKeys, hasValues  bool
		fields              []Field
		fieldsOK            bool
		defStart, defEnd    = -1, -1
		fieldsErr           error
	)
	d.ws()
	if d.peek() == '}' {
		d.pos++
	} else {
		for {
			k, err := d.key()
			if err != nil {
				return nil, "", false, err
			}
			d.ws()
			c := d.peek()
			switch k {
			case "type":
				hasType = c == '"'
				if hasType {
					if typeName, err = d.str(); err != nil {
						return nil, "", false, err
					}
				} else if _, err := d.skipValue(); err != nil {
					return nil, "", false, err
				}
			case "optional":
				b.Optional = c == 't'
				if _, err := d.skipValue(); err != nil {
					return nil, "", false, err
				}
			case "name":
				b.Name = ""
				if c == '"' {
					if b.Name, err = d.str(); err != nil {
						return nil, "", false, err
					}
				} else if _, err := d.skipValue(); err != nil {
					return nil, "", false, err
				}
			case "version":
				b.HasVersion = false
				if c == '-' || (c >= '0' && c <= '9') {
					text, integral, err := d.number()
					if err != nil {
						return nil, "", false, err
					}
					if integral {
						b.Version, b.HasVersion = int32(wrapInt(text)), true
					}
				} else if _, err := d.skipValue(); err != nil {
					return nil, "", false, err
				}
			case "doc":
				b.Doc, b.HasDoc = "", c == '"'
				if c == '"' {
					if b.Doc, err = d.str(); err != nil {
						return nil, "", false, err
					}
				} else if _, err := d.skipValue(); err != nil {
					return nil, "", false, err
				}
			case "parameters":
				b.Params = nil
				if c != '{' {
					if _, err := d.skipValue(); err != nil {
						return nil, "", false, err
					}
					break
				}
				v, err := d.schemaless()
				if err != nil {
					return nil, "", false, err
				}
				for _, e := range v.(Map) {
					sv, ok := e.Value.(string)
					if !ok {
						return nil, "", false, dataErrorf("Schema parameters must have string values.")
					}
					b.Params = append(b.Params, Param{Key: e.Key.(string), Value: sv})
				}
			case "default":
				defStart = d.pos
				if _, err := d.skipValue(); err != nil {
					return nil, "", false, err
				}
				defEnd = d.pos
			case "field":
				hasField = c == '"'
				if hasField {
					if field, err = d.str(); err != nil {
						return nil, "", false, err
					}
				} else if _, err := d.skipValue(); err != nil {
					return nil, "", false, err
				}
			case "items", "keys", "values":
				var sub *Schema
				if c == 'n' {
					if err := d.literal("null"); err != nil {
						return nil, "", false, err
					}
				} else if sub, _, _, err = d.schema(); err != nil {
					return nil, "", false, err
				}
				switch k {
				case "items":
					items = sub
				case "keys":
					keys, hasKeys = sub, true
				default:
					values, hasValues = sub, true
				}
			case "fields":
				fields, fieldsOK, fieldsErr = nil, c == '[', nil
				if c != '[' {
					if _, err := d.skipValue(); err != nil {
						return nil, "", false, err
					}
					break
				}
				d.pos++
				d.ws()
				if d.peek() == ']' {
					d.pos++
					break
				}
				for {
					fs, name, ok, err := d.schema()
					if err != nil {
						return nil, "", false, err
					}
					if !ok && fieldsErr == nil {
						fieldsErr = dataErrorf("Struct schema's field name not specified properly")
					}
					fields = append(fields, Field{Name: name, Schema: fs})
					d.ws()
					if d.peek() == ',' {
						d.pos++
						continue
					}
					if d.peek() == ']' {
						d.pos++
						break
					}
					return nil, "", false, d.syntaxErr("expected ',' or ']'")
				}
			default:
				if _, err := d.skipValue(); err != nil {
					return nil, "", false, err
				}
			}
			d.ws()
			if d.peek() == ',' {
				d.pos++
				continue
			}
			if d.peek() == '}' {
				d.pos++
				break
			}
			return nil, "", false, d.syntaxErr("expected ',' or '}'")
		}
	}
	if !hasType {
		return nil, "", false, dataErrorf("Schema must contain 'type' field")
	}
	switch t := typeFromJSONName(typeName); t {
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64, TypeFloat32, TypeFloat64, TypeBoolean, TypeString, TypeBytes:
		b.Type = t
	case TypeArray:
		if items == nil {
			return nil, "", false, dataErrorf("Array schema did not specify the element type")
		}
		b.Type, b.Elem = TypeArray, items
	case TypeMap:
		if !hasKeys || keys == nil {
			return nil, "", false, dataErrorf("Map schema did not specify the key type")
		}
		if !hasValues || values == nil {
			return nil, "", false, dataErrorf("Map schema did not specify the value type")
		}
		b.Type, b.Key, b.Elem = TypeMap, keys, values
	case TypeStruct:
		if !fieldsOK {
			return nil, "", false, dataErrorf("Struct schema's \"fields\" argument is not an array.")
		}
		if fieldsErr != nil {
			return nil, "", false, fieldsErr
		}
		b.Type, b.Fields = TypeStruct, fields
	default:
		return nil, "", false, dataErrorf("Unknown schema type: %s", typeName)
	}
	built, err := Build(b)
	if err != nil {
		return nil, "", false, dataErrorf("%v", err)
	}
	if defStart >= 0 {
		dd := decoder{data: d.data[:defEnd], pos: defStart}
		def, err := dd.value(built)
		if err != nil {
			return nil, "", false, err
		}
		if def != nil {
			b.Default = def
			if built, err = Build(b); err != nil {
				return nil, "", false, dataErrorf("%v", err)
			}
		}
	}
	return built, field, hasField, nil
}
