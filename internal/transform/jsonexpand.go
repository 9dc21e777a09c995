package transform

import (
	"errors"
	"math/big"
	"strconv"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
)

// jsonExpander is Debezium's JsonSchemaData: it infers a Connect schema
// from a JSON document (objects become optional structs named by their
// path, numbers int32, int64 or float64 as Jackson reads them) and
// converts the document to it. It is used by EventRouter's
// table.expand.json.payload.
type jsonExpander struct {
	nullAsBytes      bool // table.json.payload.null.behavior=optional_bytes
	emptyArrayString bool // table.json.payload.empty.array.behavior=optional_string
	// schemas caches the inferred schema of each document shape: the
	// events of one type usually share theirs.
	schemas map[string]*cd.Schema
	key     []byte
	parser  cd.JSONParser
}

// shapeCacheSize bounds the schemas cached per EventRouter.
const shapeCacheSize = 1024

// inferSchema is schema for a whole document, cached by the document's
// shape (JSON types, number kinds, member names, element shapes).
func (x *jsonExpander) inferSchema(root string, doc any) (*cd.Schema, error) {
	x.key = appendShape(append(x.key[:0], root...), doc)
	if s, ok := x.schemas[string(x.key)]; ok {
		return s, nil
	}
	s, err := x.schema(root, true, doc)
	if err != nil {
		return nil, err
	}
	if x.schemas == nil || len(x.schemas) >= shapeCacheSize {
		x.schemas = map[string]*cd.Schema{}
	}
	x.schemas[string(x.key)] = s
	return s, nil
}

// appendShape appends a description of doc that fixes its inferred schema.
func appendShape(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 'n')
	case string:
		return append(b, 's')
	case bool:
		return append(b, 'b')
	case cd.Number:
		return append(b, "ilBd"[kindOf(x)])
	case []any:
		b = append(b, '[')
		for _, e := range x {
			b = appendShape(b, e)
		}
		return append(b, ']')
	case cd.Map:
		b = append(b, '{')
		for _, e := range x {
			k := e.Key.(string)
			b = strconv.AppendInt(b, int64(len(k)), 10)
			b = append(b, ':')
			b = append(b, k...)
			b = appendShape(b, e.Value)
		}
		return append(b, '}')
	}
	return append(b, '?')
}

// numberKind is how Jackson's default ObjectMapper reads a number.
type numberKind int

const (
	numInt numberKind = iota
	numLong
	numBig // BigInteger: schema float64, but the value a BigDecimal
	numDouble
)

func kindOf(n cd.Number) numberKind {
	if !n.Integral() {
		return numDouble
	}
	if _, err := strconv.ParseInt(string(n), 10, 32); err == nil {
		return numInt
	}
	if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return numLong
	}
	return numBig
}

func nodeType(v any) string {
	switch v.(type) {
	case nil:
		return "NULL"
	case string:
		return "STRING"
	case bool:
		return "BOOLEAN"
	case cd.Number:
		return "NUMBER"
	case []any:
		return "ARRAY"
	case cd.Map:
		return "OBJECT"
	}
	return "MISSING"
}

// asText is JsonNode.asText, for messages.
func asText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case cd.Number:
		return string(x)
	}
	return ""
}

// schema is toConnectSchema: nil for a value that gets no field.
func (x *jsonExpander) schema(key string, hasKey bool, node any) (*cd.Schema, error) {
	switch v := node.(type) {
	case string:
		return cd.OptionalStringSchema, nil
	case bool:
		return cd.OptionalBooleanSchema, nil
	case cd.Number:
		switch kindOf(v) {
		case numInt:
			return cd.OptionalInt32Schema, nil
		case numLong:
			return cd.OptionalInt64Schema, nil
		}
		return cd.OptionalFloat64Schema, nil
	case []any:
		if len(v) == 0 {
			if x.emptyArrayString {
				return cd.Build(cd.Schema{Type: cd.TypeArray, Elem: cd.OptionalStringSchema, Optional: true})
			}
			return nil, nil
		}
		elem, err := x.arrayElement(key, hasKey, v)
		if err != nil {
			return nil, err
		}
		return cd.Build(cd.Schema{Type: cd.TypeArray, Elem: elem, Optional: true})
	case cd.Map:
		b := cd.Schema{Type: cd.TypeStruct, Optional: true}
		if hasKey {
			b.Name = key
		}
		for _, e := range v {
			name := e.Key.(string)
			fieldKey := name
			if hasKey && !isBlank(key) {
				fieldKey = key + "." + name
			}
			fs, err := x.schema(fieldKey, true, e.Value)
			if err != nil {
				return nil, err
			}
			if fs == nil {
				continue
			}
			dup := false
			for _, f := range b.Fields {
				if f.Name == name {
					dup = true
					break
				}
			}
			if !dup {
				b.Fields = append(b.Fields, cd.Field{Name: name, Schema: fs})
			}
		}
		return cd.Build(b)
	case nil:
		if x.nullAsBytes {
			return cd.OptionalBytesSchema, nil
		}
		return nil, nil
	}
	return nil, nil
}

func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] > ' ' {
			return false
		}
	}
	return true
}

// arrayElement is toConnectSchemaWithCycles.
func (x *jsonExpander) arrayElement(key string, hasKey bool, arr []any) (*cd.Schema, error) {
	sample, err := firstArrayElement(arr)
	if err != nil {
		return nil, err
	}
	if _, ok := sample.(cd.Map); ok {
		// Debezium merges a HashSet of the element schemas; pgmotion merges
		// them in order of first appearance.
		var distinct []*cd.Schema
		for _, e := range arr {
			if _, ok := e.(cd.Map); !ok {
				continue
			}
			s, err := x.schema(key, hasKey, e)
			if err != nil {
				return nil, err
			}
			seen := false
			for _, d := range distinct {
				if cd.Equal(d, s) {
					seen = true
					break
				}
			}
			if !seen {
				distinct = append(distinct, s)
			}
		}
		var merged *cd.Schema
		for _, s := range distinct {
			if merged, err = mergeSchema(merged, s); err != nil {
				return nil, err
			}
		}
		return merged, nil
	}
	s, err := x.schema("", false, sample)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, javaErrorf("Array '' has unrecognized member schema.")
	}
	return s, nil
}

// firstArrayElement is getFirstArrayElement: the first non-null element,
// all non-null elements being of one JSON type (and one number kind).
func firstArrayElement(arr []any) (any, error) {
	var ref any
	refKind := numberKind(-1)
	for _, e := range arr {
		if e == nil {
			continue
		}
		if ref == nil {
			ref = e
		}
		if nodeType(e) != nodeType(ref) {
			return nil, javaErrorf("Field is not a homogenous array (%s x %s).", asText(ref), nodeType(e))
		}
		if n, ok := e.(cd.Number); ok {
			if refKind < 0 {
				refKind = kindOf(ref.(cd.Number))
			}
			if k := kindOf(n); schemaOfKind(k) != schemaOfKind(refKind) {
				return nil, javaErrorf("Field is not a homogenous array (%s x %s), different number types (%s x %s)",
					asText(ref), asText(e), schemaOfKind(refKind), schemaOfKind(k))
			}
		}
	}
	return ref, nil
}

func schemaOfKind(k numberKind) *cd.Schema {
	switch k {
	case numInt:
		return cd.OptionalInt32Schema
	case numLong:
		return cd.OptionalInt64Schema
	}
	return cd.OptionalFloat64Schema
}

// mergeSchema is Debezium's mergeSchema: fields of left, then new fields
// of right; a bytes field (a null placeholder) takes right's type. The
// result is copySchemaBasics(left): not optional.
func mergeSchema(left, right *cd.Schema) (*cd.Schema, error) {
	if left == nil {
		return right, nil
	}
	fields := append([]cd.Field(nil), left.Fields...)
	for _, f := range right.Fields {
		found := -1
		for i, o := range fields {
			if o.Name == f.Name {
				found = i
				break
			}
		}
		switch {
		case found < 0:
			fields = append(fields, cd.Field{Name: f.Name, Schema: f.Schema})
		case !cd.Equal(fields[found].Schema, f.Schema) && fields[found].Schema.Type == cd.TypeBytes && f.Schema.Type != cd.TypeBytes:
			fields[found] = cd.Field{Name: f.Name, Schema: f.Schema}
		}
	}
	b := copySchemaBasics(left, left.Type)
	b.Fields = fields
	return cd.Build(b)
}

// value is toConnectData: the document as a value of schema s (the
// document must be an object, as jsonNodeToStructInternal assumes).
func (x *jsonExpander) value(doc any, s *cd.Schema) (any, error) {
	m, ok := doc.(cd.Map)
	if !ok || s.Type != cd.TypeStruct {
		return nil, errors.New("Not a struct schema: " + s.String())
	}
	return x.structValue(m, s)
}

func (x *jsonExpander) structValue(m cd.Map, s *cd.Schema) (*cd.Struct, error) {
	st := cd.NewStruct(s)
	for i, f := range s.Fields {
		node, ok := m.Get(f.Name)
		if !ok {
			continue
		}
		v, err := x.fieldValue(node, f.Schema)
		if err != nil {
			return nil, err
		}
		// Struct.put validates the value against the field's schema.
		if err := cd.Validate(f.Schema, v); err != nil {
			return nil, err
		}
		st.Set(i, v)
	}
	return st, nil
}

// fieldValue is getStructFieldValue.
func (x *jsonExpander) fieldValue(node any, s *cd.Schema) (any, error) {
	switch v := node.(type) {
	case string:
		return v, nil
	case bool:
		return v, nil
	case cd.Number:
		switch kindOf(v) {
		case numDouble:
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return nil, err
			}
			return f, nil
		case numInt:
			n, _ := strconv.ParseInt(string(v), 10, 32)
			return int32(n), nil
		case numLong:
			n, _ := strconv.ParseInt(string(v), 10, 64)
			return n, nil
		}
		// node.decimalValue(): a BigDecimal, which fits no inferred schema.
		b, _ := new(big.Int).SetString(string(v), 10)
		return nil, javaErrorf("Invalid Java object for schema with type %s: class java.math.BigDecimal for field: %q", s.Type, b.String())
	case []any:
		if s.Type != cd.TypeArray {
			return nil, javaErrorf("Invalid Java object for schema with type %s: class java.util.ArrayList", s.Type)
		}
		out := make([]any, 0, len(v))
		for _, e := range v {
			ev, err := x.fieldValue(e, s.Elem)
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
		return out, nil
	case cd.Map:
		if s.Type != cd.TypeStruct {
			return nil, javaErrorf("Invalid Java object for schema with type %s: class org.apache.kafka.connect.data.Struct", s.Type)
		}
		return x.structValue(v, s)
	}
	return nil, nil
}
