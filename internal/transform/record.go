package transform

import (
	"fmt"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
)

// side selects the key or the value of a record, for the $Key and $Value
// variants of Kafka's transformations.
type side bool

const (
	keySide   side = true
	valueSide side = false
)

func (s side) get(r *cd.Record) (*cd.Schema, any) {
	if s == keySide {
		return r.KeySchema, r.Key
	}
	return r.ValueSchema, r.Value
}

func (s side) set(r *cd.Record, sch *cd.Schema, v any) {
	if s == keySide {
		r.KeySchema, r.Key = sch, v
		return
	}
	r.ValueSchema, r.Value = sch, v
}

func (s side) uses() uses {
	if s == keySide {
		return useKey
	}
	return useValue
}

// suffix is the nested class name of the variant.
func (s side) suffix() string {
	if s == keySide {
		return "$Key"
	}
	return "$Value"
}

// requireStruct is Kafka's Requirements.requireStruct.
func requireStruct(v any, purpose string) (*cd.Struct, error) {
	st, ok := v.(*cd.Struct)
	if !ok {
		return nil, dataErrorf("Only Struct objects supported for [%s], found: %s", purpose, cd.JavaClassName(v))
	}
	return st, nil
}

// requireMap is Kafka's Requirements.requireMap.
func requireMap(v any, purpose string) (cd.Map, error) {
	m, ok := v.(cd.Map)
	if !ok {
		return nil, dataErrorf("Only Map objects supported in absence of schema for [%s], found: %s", purpose, cd.JavaClassName(v))
	}
	return m, nil
}

// dataErrorf is a Kafka DataException.
func dataErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", cd.ErrData, fmt.Sprintf(format, args...))
}

// copySchemaBasics is Kafka's SchemaUtil.copySchemaBasics onto a new schema
// of type t: name, version, doc and parameters (not optionality, not the
// default).
func copySchemaBasics(src *cd.Schema, t cd.Type) cd.Schema {
	return cd.Schema{Type: t, Name: src.Name, Version: src.Version, HasVersion: src.HasVersion,
		Doc: src.Doc, HasDoc: src.HasDoc, Params: src.Params}
}

// fieldValue reads field i as Kafka's transformations do: Struct.get (the
// default for null) when replaceNull, else getWithoutDefault.
func fieldValue(st *cd.Struct, i int, replaceNull bool) any {
	if replaceNull {
		return st.GetOrDefault(i)
	}
	return st.Get(i)
}

// schemaCache maps an input schema to the schema a transformation derived
// from it. Kafka bounds these caches (LRU of 16); this one starts over when
// full.
type schemaCache struct {
	m map[*cd.Schema]*cd.Schema
}

const schemaCacheSize = 256

func (c *schemaCache) get(s *cd.Schema) (*cd.Schema, bool) {
	v, ok := c.m[s]
	return v, ok
}

func (c *schemaCache) put(s, v *cd.Schema) {
	if c.m == nil || len(c.m) >= schemaCacheSize {
		c.m = make(map[*cd.Schema]*cd.Schema)
	}
	c.m[s] = v
}

// javaErrorf formats the exact text of a Java exception (Kafka's or
// Debezium's), which Go's lower-case convention for errors does not fit.
func javaErrorf(format string, args ...any) error {
	return errorString(fmt.Sprintf(format, args...))
}
