package connectdata

// Writing Connect values and schemas as JsonConverter does.

import (
	"fmt"
	"strconv"
)

// AppendJSON appends v as JsonConverter writes a payload with schema s
// (nil: schemaless).
func AppendJSON(dst []byte, s *Schema, v any) ([]byte, error) {
	if v == nil {
		switch {
		case s == nil:
			return append(dst, "null"...), nil
		case s.Default != nil:
			return AppendJSON(dst, s, s.Default)
		case s.Optional:
			return append(dst, "null"...), nil
		}
		return dst, dataErrorf("Conversion error: null value for field that is required and has no default value")
	}
	var t Type
	if s == nil {
		var ok bool
		if t, ok = TypeOf(v); !ok {
			return dst, dataErrorf("Java class %s does not have corresponding schema type.", JavaClassName(v))
		}
	} else {
		t = s.Type
		switch s.logical {
		case logicalDecimal:
			b, ok := v.([]byte)
			if !ok {
				return dst, dataErrorf("Invalid type for Decimal, expected BigDecimal but was class %s", JavaClassName(v))
			}
			if len(b) == 0 {
				b = []byte{0}
			}
			return appendBase64(dst, canonicalUnscaled(b)), nil
		case logicalDate, logicalTime:
			n, ok := v.(int32)
			if !ok {
				return dst, dataErrorf("Invalid type for %s, expected Date but was class %s", s.Name[len("org.apache.kafka.connect.data."):], JavaClassName(v))
			}
			return strconv.AppendInt(dst, int64(n), 10), nil
		case logicalTimestamp:
			n, ok := v.(int64)
			if !ok {
				return dst, dataErrorf("Invalid type for Timestamp, expected Date but was class %s", JavaClassName(v))
			}
			return strconv.AppendInt(dst, n, 10), nil
		}
	}
	bad := func() ([]byte, error) {
		return dst, dataErrorf("Invalid type for %s: class %s", t, JavaClassName(v))
	}
	switch t {
	case TypeInt8:
		n, ok := v.(int8)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(dst, int64(n), 10), nil
	case TypeInt16:
		n, ok := v.(int16)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(dst, int64(n), 10), nil
	case TypeInt32:
		n, ok := v.(int32)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(dst, int64(n), 10), nil
	case TypeInt64:
		n, ok := v.(int64)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(dst, n, 10), nil
	case TypeFloat32:
		f, ok := v.(float32)
		if !ok {
			return bad()
		}
		return appendJSONDouble(dst, float64(f), 32), nil
	case TypeFloat64:
		f, ok := v.(float64)
		if !ok {
			return bad()
		}
		return appendJSONDouble(dst, f, 64), nil
	case TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		return strconv.AppendBool(dst, b), nil
	case TypeString:
		str, ok := v.(string)
		if !ok {
			return bad()
		}
		return appendJSONStr(dst, str), nil
	case TypeBytes:
		b, ok := v.([]byte)
		if !ok {
			return bad()
		}
		return appendBase64(dst, b), nil
	case TypeArray:
		a, ok := v.([]any)
		if !ok {
			return bad()
		}
		var elem *Schema
		if s != nil {
			elem = s.Elem
		}
		dst = append(dst, '[')
		for i, e := range a {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = AppendJSON(dst, elem, e); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case TypeMap:
		m, ok := v.(Map)
		if !ok {
			return bad()
		}
		return appendMapJSON(dst, s, m)
	case TypeStruct:
		st, ok := v.(*Struct)
		if !ok {
			return bad()
		}
		if st.schema != s && !Equal(st.schema, s) {
			return dst, dataErrorf("Mismatching schema.")
		}
		dst = append(dst, '{')
		for i, f := range st.schema.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONStr(dst, f.Name)
			dst = append(dst, ':')
			var err error
			if dst, err = AppendJSON(dst, f.Schema, st.Get(i)); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}
	return dst, dataErrorf("Couldn't convert %v to JSON.", v)
}

func appendMapJSON(dst []byte, s *Schema, m Map) ([]byte, error) {
	var keyS, valS *Schema
	objectMode := true
	if s != nil {
		keyS, valS = s.Key, s.Elem
		objectMode = keyS.Type == TypeString
	} else {
		for _, e := range m {
			if _, ok := e.Key.(string); !ok {
				objectMode = false
				break
			}
		}
	}
	var err error
	if objectMode {
		dst = append(dst, '{')
		for i, e := range m {
			if i > 0 {
				dst = append(dst, ',')
			}
			// JsonNode.asText of the converted key.
			var kb []byte
			if kb, err = AppendJSON(nil, keyS, e.Key); err != nil {
				return dst, err
			}
			dst = appendJSONStr(dst, asText(kb, e.Key))
			dst = append(dst, ':')
			if dst, err = AppendJSON(dst, valS, e.Value); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}
	dst = append(dst, '[')
	for i, e := range m {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		if dst, err = AppendJSON(dst, keyS, e.Key); err != nil {
			return dst, err
		}
		dst = append(dst, ',')
		if dst, err = AppendJSON(dst, valS, e.Value); err != nil {
			return dst, err
		}
		dst = append(dst, ']')
	}
	return append(dst, ']'), nil
}

// asText is JsonNode.asText of a converted map key: the string itself for
// text nodes, the JSON text otherwise.
func asText(js []byte, key any) string {
	if s, ok := key.(string); ok {
		return s
	}
	return string(js)
}

// appendSchemaJSON writes s as JsonConverter's asJsonSchema does.
func appendSchemaJSON(dst []byte, s *Schema) ([]byte, error) {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, s.Type.JSONName()...)
	dst = append(dst, '"')
	switch s.Type {
	case TypeArray:
		dst = append(dst, `,"items":`...)
		dst = append(dst, s.Elem.json...)
	case TypeMap:
		dst = append(dst, `,"keys":`...)
		dst = append(dst, s.Key.json...)
		dst = append(dst, `,"values":`...)
		dst = append(dst, s.Elem.json...)
	case TypeStruct:
		dst = append(dst, `,"fields":[`...)
		for i, f := range s.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			fj := f.Schema.json
			dst = append(dst, fj[:len(fj)-1]...)
			dst = append(dst, `,"field":`...)
			dst = appendJSONStr(dst, f.Name)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"optional":`...)
	dst = strconv.AppendBool(dst, s.Optional)
	if s.Name != "" {
		dst = append(dst, `,"name":`...)
		dst = appendJSONStr(dst, s.Name)
	}
	if s.HasVersion {
		dst = append(dst, `,"version":`...)
		dst = strconv.AppendInt(dst, int64(s.Version), 10)
	}
	if s.HasDoc {
		dst = append(dst, `,"doc":`...)
		dst = appendJSONStr(dst, s.Doc)
	}
	if len(s.Params) > 0 {
		dst = append(dst, `,"parameters":{`...)
		for i, p := range s.Params {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONStr(dst, p.Key)
			dst = append(dst, ':')
			dst = appendJSONStr(dst, p.Value)
		}
		dst = append(dst, '}')
	}
	if s.Default != nil {
		dst = append(dst, `,"default":`...)
		var err error
		if dst, err = AppendJSON(dst, s, s.Default); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

// String renders a value for messages: its JSON form with schema s.
func String(s *Schema, v any) string {
	b, err := AppendJSON(nil, s, v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
