package connectdata

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Type is a Connect schema type.
type Type uint8

// The Connect schema types.
const (
	TypeInt8 Type = iota + 1
	TypeInt16
	TypeInt32
	TypeInt64
	TypeFloat32
	TypeFloat64
	TypeBoolean
	TypeString
	TypeBytes
	TypeArray
	TypeMap
	TypeStruct
)

// jsonTypeNames are the "type" values of JsonConverter's schemas.
var jsonTypeNames = [...]string{
	TypeInt8: "int8", TypeInt16: "int16", TypeInt32: "int32", TypeInt64: "int64",
	TypeFloat32: "float", TypeFloat64: "double", TypeBoolean: "boolean", TypeString: "string",
	TypeBytes: "bytes", TypeArray: "array", TypeMap: "map", TypeStruct: "struct",
}

// javaTypeNames are the names of Java's Schema.Type enum, used in messages.
var javaTypeNames = [...]string{
	TypeInt8: "INT8", TypeInt16: "INT16", TypeInt32: "INT32", TypeInt64: "INT64",
	TypeFloat32: "FLOAT32", TypeFloat64: "FLOAT64", TypeBoolean: "BOOLEAN", TypeString: "STRING",
	TypeBytes: "BYTES", TypeArray: "ARRAY", TypeMap: "MAP", TypeStruct: "STRUCT",
}

// String returns Java's name of the type (INT32, STRUCT, ...), as Kafka's
// messages print it.
func (t Type) String() string {
	if t >= TypeInt8 && t <= TypeStruct {
		return javaTypeNames[t]
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// JSONName returns the type's name in JsonConverter schemas (int32,
// double, struct, ...).
func (t Type) JSONName() string {
	if t >= TypeInt8 && t <= TypeStruct {
		return jsonTypeNames[t]
	}
	return ""
}

// typeFromJSONName returns the type a JsonConverter schema's "type"
// names, or 0 for a name it does not know.
func typeFromJSONName(name string) Type {
	for t, n := range jsonTypeNames {
		if n == name && n != "" {
			return Type(t)
		}
	}
	return 0
}

// ParseType returns the type named by Java's enum name, case-insensitively
// (Schema.Type.valueOf(s.toUpperCase())).
func ParseType(s string) (Type, bool) {
	for t := TypeInt8; t <= TypeStruct; t++ {
		if strings.EqualFold(javaTypeNames[t], s) {
			return t, true
		}
	}
	return 0, false
}

// IsPrimitive reports whether t is neither array, map nor struct.
func (t Type) IsPrimitive() bool { return t >= TypeInt8 && t <= TypeBytes }

// Names of Connect's logical types.
const (
	DecimalName   = "org.apache.kafka.connect.data.Decimal"
	DateName      = "org.apache.kafka.connect.data.Date"
	TimeName      = "org.apache.kafka.connect.data.Time"
	TimestampName = "org.apache.kafka.connect.data.Timestamp"
	// DecimalScale is the parameter of Decimal holding the scale.
	DecimalScale = "scale"
)

// Param is one schema parameter; Kafka keeps parameters in insertion order.
type Param struct {
	Key, Value string
}

// Field is one field of a struct schema.
type Field struct {
	Name   string
	Index  int
	Schema *Schema
}

// Schema is a Connect schema. Build one with Build; a built schema must not
// be modified, since it caches its JSON form and its field index.
type Schema struct {
	Type     Type
	Optional bool
	// Name is the schema name ("" for none).
	Name string
	// Version is the schema version when HasVersion.
	Version    int32
	HasVersion bool
	// Doc is the documentation when HasDoc.
	Doc    string
	HasDoc bool
	Params []Param
	// Default is the default value (nil: none).
	Default any
	// Fields are the fields of a struct; Build sets their Index.
	Fields []Field
	// Key is the key schema of a map.
	Key *Schema
	// Elem is the element schema of an array and the value schema of a map.
	Elem *Schema

	json    []byte         // JsonConverter form, built by Build
	index   map[string]int // field positions of large structs
	built   bool
	logical logicalKind
	scale   int32 // Decimal scale
}

// logicalKind is the logical type a schema's name selects, when the
// schema's type is the logical type's underlying type.
type logicalKind uint8

const (
	logicalNone logicalKind = iota
	logicalDecimal
	logicalDate
	logicalTime
	logicalTimestamp
)

func logicalOf(s *Schema) (logicalKind, int32) {
	switch {
	case s.Name == DecimalName && s.Type == TypeBytes:
		v, _ := s.Param(DecimalScale)
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return logicalNone, 0
		}
		return logicalDecimal, int32(n)
	case s.Name == DateName && s.Type == TypeInt32:
		return logicalDate, 0
	case s.Name == TimeName && s.Type == TypeInt32:
		return logicalTime, 0
	case s.Name == TimestampName && s.Type == TypeInt64:
		return logicalTimestamp, 0
	}
	return logicalNone, 0
}

// ErrSchema is wrapped by the errors of Build: the schema is inconsistent.
var ErrSchema = errors.New("invalid schema")

// Build checks s, computes its caches and returns it as an immutable
// schema. Nested schemas must be built already. The error wraps ErrSchema.
func Build(s Schema) (*Schema, error) {
	out := s
	if out.Type < TypeInt8 || out.Type > TypeStruct {
		return nil, fmt.Errorf("%w: unknown type %d", ErrSchema, s.Type)
	}
	switch out.Type {
	case TypeArray:
		if out.Elem == nil {
			return nil, fmt.Errorf("%w: array without element schema", ErrSchema)
		}
	case TypeMap:
		if out.Key == nil || out.Elem == nil {
			return nil, fmt.Errorf("%w: map without key or value schema", ErrSchema)
		}
	}
	for _, c := range []*Schema{out.Key, out.Elem} {
		if c != nil && !c.built {
			return nil, fmt.Errorf("%w: nested schema not built", ErrSchema)
		}
	}
	if len(out.Fields) > 0 {
		if out.Type != TypeStruct {
			return nil, fmt.Errorf("%w: fields on a %s schema", ErrSchema, out.Type)
		}
		out.Fields = append([]Field(nil), out.Fields...)
		seen := make(map[string]int, len(out.Fields))
		for i := range out.Fields {
			f := &out.Fields[i]
			if f.Schema == nil || !f.Schema.built {
				return nil, fmt.Errorf("%w: field %q has no built schema", ErrSchema, f.Name)
			}
			if _, dup := seen[f.Name]; dup {
				return nil, fmt.Errorf("%w: Cannot create field because of field name duplication %s", ErrSchema, f.Name)
			}
			seen[f.Name] = i
			f.Index = i
		}
		if len(out.Fields) > smallStruct {
			out.index = seen
		}
	}
	if len(out.Params) > 0 {
		out.Params = append([]Param(nil), out.Params...)
	}
	out.built = true
	out.logical, out.scale = logicalOf(&out)
	if out.Default != nil {
		if err := Validate(&out, out.Default); err != nil {
			return nil, fmt.Errorf("%w: invalid default value: %w", ErrSchema, err)
		}
	}
	js, err := appendSchemaJSON(nil, &out)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	out.json = js
	return &out, nil
}

// MustBuild is Build for schemas known to be valid; it panics otherwise.
func MustBuild(s Schema) *Schema {
	b, err := Build(s)
	if err != nil {
		panic(err)
	}
	return b
}

// smallStruct is the field count up to which a linear scan finds fields.
const smallStruct = 8

// Field returns the field called name.
func (s *Schema) Field(name string) (Field, bool) {
	if s == nil || s.Type != TypeStruct {
		return Field{}, false
	}
	if s.index != nil {
		i, ok := s.index[name]
		if !ok {
			return Field{}, false
		}
		return s.Fields[i], true
	}
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Param returns the value of a parameter.
func (s *Schema) Param(key string) (string, bool) {
	for _, p := range s.Params {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// JSON returns the schema as JsonConverter writes it. The slice is shared:
// do not modify it.
func (s *Schema) JSON() []byte { return s.json }

// String returns the JSON form.
func (s *Schema) String() string {
	if s == nil {
		return "null"
	}
	return string(s.json)
}

// WithOptional returns a copy of s with Optional set to opt (s itself when
// it already is).
func (s *Schema) WithOptional(opt bool) *Schema {
	if s.Optional == opt {
		return s
	}
	c := *s
	c.Optional = opt
	c.json, c.index, c.built = nil, nil, false
	return MustBuild(c)
}

// Unbuilt returns a copy of s that can be changed and built again.
func (s *Schema) Unbuilt() Schema {
	c := *s
	c.json, c.index, c.built = nil, nil, false
	c.logical, c.scale = logicalNone, 0
	return c
}

// Equal reports whether two schemas are equal as Kafka's ConnectSchema.equals
// sees it (type, optionality, name, version, doc, parameters, default,
// fields, key and value schemas).
func Equal(a, b *Schema) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	if a.built && b.built {
		// The JSON form holds every property (the "field" names of struct
		// members included).
		return string(a.json) == string(b.json)
	}
	return false
}

// The primitive schemas of Kafka's Schema class.
var (
	Int8Schema              = MustBuild(Schema{Type: TypeInt8})
	Int16Schema             = MustBuild(Schema{Type: TypeInt16})
	Int32Schema             = MustBuild(Schema{Type: TypeInt32})
	Int64Schema             = MustBuild(Schema{Type: TypeInt64})
	Float32Schema           = MustBuild(Schema{Type: TypeFloat32})
	Float64Schema           = MustBuild(Schema{Type: TypeFloat64})
	BooleanSchema           = MustBuild(Schema{Type: TypeBoolean})
	StringSchema            = MustBuild(Schema{Type: TypeString})
	BytesSchema             = MustBuild(Schema{Type: TypeBytes})
	OptionalInt8Schema      = MustBuild(Schema{Type: TypeInt8, Optional: true})
	OptionalInt16Schema     = MustBuild(Schema{Type: TypeInt16, Optional: true})
	OptionalInt32Schema     = MustBuild(Schema{Type: TypeInt32, Optional: true})
	OptionalInt64Schema     = MustBuild(Schema{Type: TypeInt64, Optional: true})
	OptionalFloat32Schema   = MustBuild(Schema{Type: TypeFloat32, Optional: true})
	OptionalFloat64Schema   = MustBuild(Schema{Type: TypeFloat64, Optional: true})
	OptionalBooleanSchema   = MustBuild(Schema{Type: TypeBoolean, Optional: true})
	OptionalStringSchema    = MustBuild(Schema{Type: TypeString, Optional: true})
	OptionalBytesSchema     = MustBuild(Schema{Type: TypeBytes, Optional: true})
	TimestampSchema         = MustBuild(Schema{Type: TypeInt64, Name: TimestampName, Version: 1, HasVersion: true})
	OptionalTimestampSchema = MustBuild(Schema{Type: TypeInt64, Name: TimestampName, Version: 1, HasVersion: true, Optional: true})
)

// PrimitiveSchema returns Kafka's constant schema of a primitive type.
func PrimitiveSchema(t Type, optional bool) *Schema {
	switch t {
	case TypeInt8:
		return pick(optional, OptionalInt8Schema, Int8Schema)
	case TypeInt16:
		return pick(optional, OptionalInt16Schema, Int16Schema)
	case TypeInt32:
		return pick(optional, OptionalInt32Schema, Int32Schema)
	case TypeInt64:
		return pick(optional, OptionalInt64Schema, Int64Schema)
	case TypeFloat32:
		return pick(optional, OptionalFloat32Schema, Float32Schema)
	case TypeFloat64:
		return pick(optional, OptionalFloat64Schema, Float64Schema)
	case TypeBoolean:
		return pick(optional, OptionalBooleanSchema, BooleanSchema)
	case TypeString:
		return pick(optional, OptionalStringSchema, StringSchema)
	case TypeBytes:
		return pick(optional, OptionalBytesSchema, BytesSchema)
	}
	return nil
}

func pick(cond bool, a, b *Schema) *Schema {
	if cond {
		return a
	}
	return b
}
