package connectdata

import (
	"errors"
	"fmt"
)

// Struct is a Connect Struct: values in the order of its schema's fields.
type Struct struct {
	schema *Schema
	values []any
}

// NewStruct returns a Struct of schema s with every field null.
func NewStruct(s *Schema) *Struct {
	return &Struct{schema: s, values: make([]any, len(s.Fields))}
}

// StructArena hands out Structs, and the arrays of their values, from
// blocks it keeps and reuses: Reset takes back every Struct it handed out.
// It is for a producer that builds Connect data, converts it and forgets
// it, such as the encoder for each change: nothing may hold a Struct from
// an arena, or anything reached through it, after its Reset. It is not
// safe for concurrent use.
type StructArena struct {
	structs [][]Struct
	values  [][]any
	sb, si  int // next Struct: block, index
	vb, vi  int // next values: block, index
}

const (
	arenaStructs = 64
	arenaValues  = 1024
)

// New returns a Struct of schema s with every field null, as NewStruct.
func (a *StructArena) New(s *Schema) *Struct {
	n := len(s.Fields)
	if a.sb == len(a.structs) {
		a.structs = append(a.structs, make([]Struct, arenaStructs))
	}
	st := &a.structs[a.sb][a.si]
	if a.si++; a.si == arenaStructs {
		a.sb, a.si = a.sb+1, 0
	}
	if n > arenaValues/4 {
		*st = Struct{schema: s, values: make([]any, n)}
		return st
	}
	if a.vb < len(a.values) && a.vi+n > arenaValues {
		a.vb, a.vi = a.vb+1, 0
	}
	if a.vb == len(a.values) {
		a.values = append(a.values, make([]any, arenaValues))
	}
	*st = Struct{schema: s, values: a.values[a.vb][a.vi : a.vi+n : a.vi+n]}
	a.vi += n
	return st
}

// Reset takes back every Struct handed out, clearing what they held.
func (a *StructArena) Reset() {
	if a.sb == 0 && a.si == 0 {
		return
	}
	// Only what was handed out: a change uses a few dozen values.
	for i := range a.vb {
		clear(a.values[i])
	}
	if a.vb < len(a.values) {
		clear(a.values[a.vb][:a.vi])
	}
	for i := range a.sb {
		clear(a.structs[i])
	}
	if a.sb < len(a.structs) {
		clear(a.structs[a.sb][:a.si])
	}
	a.sb, a.si, a.vb, a.vi = 0, 0, 0, 0
}

// Schema returns the struct's schema.
func (s *Struct) Schema() *Schema { return s.schema }

// Get returns the value of field i as set (Kafka's getWithoutDefault).
func (s *Struct) Get(i int) any { return s.values[i] }

// GetOrDefault returns the value of field i, or its schema default when the
// value is null (Kafka's Struct.get).
func (s *Struct) GetOrDefault(i int) any {
	if v := s.Get(i); v != nil {
		return v
	}
	return s.schema.Fields[i].Schema.Default
}

// Lookup returns the value of the field called name as set; ok is false
// when the schema has no such field.
func (s *Struct) Lookup(name string) (v any, ok bool) {
	f, ok := s.schema.Field(name)
	if !ok {
		return nil, false
	}
	return s.Get(f.Index), true
}

// LookupOrDefault is Lookup with Kafka's Struct.get default rule.
func (s *Struct) LookupOrDefault(name string) (v any, ok bool) {
	f, ok := s.schema.Field(name)
	if !ok {
		return nil, false
	}
	return s.GetOrDefault(f.Index), true
}

// Set sets field i.
func (s *Struct) Set(i int, v any) { s.values[i] = v }

// SetName sets the field called name; the error is Kafka's for a field the
// schema does not have.
func (s *Struct) SetName(name string, v any) error {
	f, ok := s.schema.Field(name)
	if !ok {
		return fmt.Errorf("%s is not a valid field name", name)
	}
	s.values[f.Index] = v
	return nil
}

// Len returns the number of fields.
func (s *Struct) Len() int { return len(s.values) }

// MapEntry is one entry of a Map.
type MapEntry struct {
	Key, Value any
}

// Map is a Connect map, in insertion order.
type Map []MapEntry

// Get returns the value of the entry whose key is the string k.
func (m Map) Get(k string) (any, bool) {
	for i := len(m) - 1; i >= 0; i-- {
		if s, ok := m[i].Key.(string); ok && s == k {
			return m[i].Value, true
		}
	}
	return nil, false
}

// Set replaces the value of the entry with string key k, or appends one.
// It returns the updated map, which may share m's array.
func (m Map) Set(k string, v any) Map {
	for i := range m {
		if s, ok := m[i].Key.(string); ok && s == k {
			m[i].Value = v
			return m
		}
	}
	return append(m, MapEntry{Key: k, Value: v})
}

// Delete returns m without the entries whose key is the string k; it does
// not modify m.
func (m Map) Delete(k string) Map {
	out := make(Map, 0, len(m))
	for _, e := range m {
		if s, ok := e.Key.(string); ok && s == k {
			continue
		}
		out = append(out, e)
	}
	return out
}

// Clone returns a copy of m's entries.
func (m Map) Clone() Map { return append(Map(nil), m...) }

// JavaClassName returns the Java class Kafka would show for a value of this
// Go type in its messages ("java.lang.String", ...).
func JavaClassName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case int8:
		return "java.lang.Byte"
	case int16:
		return "java.lang.Short"
	case int32:
		return "java.lang.Integer"
	case int64:
		return "java.lang.Long"
	case float32:
		return "java.lang.Float"
	case float64:
		return "java.lang.Double"
	case bool:
		return "java.lang.Boolean"
	case string:
		return "java.lang.String"
	case []byte:
		return "[B"
	case []any:
		return "java.util.ArrayList"
	case Map:
		return "java.util.HashMap"
	case *Struct:
		return "org.apache.kafka.connect.data.Struct"
	}
	return fmt.Sprintf("%T", v)
}

// TypeOf returns the schema type of a schemaless value (Kafka's
// ConnectSchema.schemaType), and false for nil or an unknown Go type.
func TypeOf(v any) (Type, bool) {
	switch v.(type) {
	case int8:
		return TypeInt8, true
	case int16:
		return TypeInt16, true
	case int32:
		return TypeInt32, true
	case int64:
		return TypeInt64, true
	case float32:
		return TypeFloat32, true
	case float64:
		return TypeFloat64, true
	case bool:
		return TypeBoolean, true
	case string:
		return TypeString, true
	case []byte:
		return TypeBytes, true
	case []any:
		return TypeArray, true
	case Map:
		return TypeMap, true
	case *Struct:
		return TypeStruct, true
	}
	return 0, false
}

// ErrData is wrapped by the errors about values that do not fit their
// schema (Kafka's DataException).
var ErrData = errors.New("invalid data")

func dataErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrData, fmt.Sprintf(format, args...))
}

// Validate checks v against s as Kafka's ConnectSchema.validateValue does:
// the Go type fits the schema type, required values are not null, struct
// values have s as schema, recursively.
func Validate(s *Schema, v any) error {
	if v == nil {
		if s != nil && !s.Optional && s.Default == nil {
			return dataErrorf("Invalid value: null used for required field: %q, schema type: %s", s.Name, s.Type)
		}
		return nil
	}
	if s == nil {
		return nil
	}
	ok := false
	switch x := v.(type) {
	case int8:
		ok = s.Type == TypeInt8
	case int16:
		ok = s.Type == TypeInt16
	case int32:
		ok = s.Type == TypeInt32
	case int64:
		ok = s.Type == TypeInt64
	case float32:
		ok = s.Type == TypeFloat32
	case float64:
		ok = s.Type == TypeFloat64
	case bool:
		ok = s.Type == TypeBoolean
	case string:
		ok = s.Type == TypeString
	case []byte:
		ok = s.Type == TypeBytes
	case []any:
		if s.Type != TypeArray {
			break
		}
		for _, e := range x {
			if err := Validate(s.Elem, e); err != nil {
				return err
			}
		}
		return nil
	case Map:
		if s.Type != TypeMap {
			break
		}
		for _, e := range x {
			if err := Validate(s.Key, e.Key); err != nil {
				return err
			}
			if err := Validate(s.Elem, e.Value); err != nil {
				return err
			}
		}
		return nil
	case *Struct:
		if s.Type != TypeStruct {
			break
		}
		if !Equal(x.schema, s) {
			return dataErrorf("Struct schemas do not match.")
		}
		for i, f := range s.Fields {
			if err := Validate(f.Schema, x.Get(i)); err != nil {
				return err
			}
		}
		return nil
	}
	if !ok {
		return dataErrorf("Invalid Java object for schema with type %s: class %s", s.Type, JavaClassName(v))
	}
	return nil
}
