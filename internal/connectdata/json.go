package connectdata

import (
	"bytes"
)

// SchemaCacheSize is JsonConverter's schemas.cache.size default: the number
// of parsed schemas a JSONConverter keeps.
const SchemaCacheSize = 1000

// JSONConverter is Kafka's org.apache.kafka.connect.json.JsonConverter with
// replace.null.with.default=true and decimal.format=BASE64. It is not safe
// for concurrent use: it caches parsed schemas (by their exact JSON text)
// and reuses a buffer.
type JSONConverter struct {
	schemas bool
	cache   map[string]*Schema
	buf     []byte
}

// NewJSONConverter returns a converter; schemasEnable is the converter's
// schemas.enable.
func NewJSONConverter(schemasEnable bool) *JSONConverter {
	return &JSONConverter{schemas: schemasEnable, cache: make(map[string]*Schema)}
}

// SchemasEnabled reports the converter's schemas.enable.
func (c *JSONConverter) SchemasEnabled() bool { return c.schemas }

// errEnvelope is Kafka's message for a schemas.enable message that is not a
// {"schema","payload"} envelope.
const errEnvelope = `JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.`

// ToConnect is toConnectData: nil bytes are (nil, nil); with schemas.enable
// the bytes must be a {"schema":…,"payload":…} envelope. Errors wrap
// ErrData.
func (c *JSONConverter) ToConnect(data []byte) (*Schema, any, error) {
	if data == nil {
		return nil, nil, nil
	}
	d := decoder{data: data}
	d.ws()
	if !c.schemas {
		if d.pos == len(d.data) {
			return nil, nil, nil // Jackson reads empty content as a missing node
		}
		v, err := d.schemaless()
		if err == nil {
			err = d.end()
		}
		if err != nil {
			return nil, nil, err
		}
		return nil, v, nil
	}
	s, v, err := c.envelope(&d)
	if err == nil {
		err = d.end()
	}
	if err != nil {
		return nil, nil, err
	}
	return s, v, nil
}

func (c *JSONConverter) envelope(d *decoder) (*Schema, any, error) {
	if d.peek() != '{' {
		if _, err := d.skipValue(); err != nil {
			return nil, nil, err
		}
		return nil, nil, dataErrorf("%s", errEnvelope)
	}
	d.pos++
	var (
		schema                 *Schema
		value                  any
		decodedWith            *Schema
		schemaSeen, decoded    bool
		payloadStart, payloadN int = -1, 0
		other                  bool
	)
	first := true
	for {
		d.ws()
		if d.peek() == '}' && first {
			d.pos++
			break
		}
		var key string
		switch {
		case d.rawKey("schema"):
			key = "schema"
		case d.rawKey("payload"):
			key = "payload"
		default:
			var err error
			if key, err = d.key(); err != nil {
				return nil, nil, err
			}
		}
		var err error
		switch key {
		case "schema":
			if schema, err = c.schemaAt(d); err != nil {
				return nil, nil, err
			}
			schemaSeen = true
		case "payload":
			d.ws()
			start := d.pos
			if schemaSeen {
				value, err = d.value(schema)
				decoded, decodedWith = err == nil, schema
			} else {
				_, err = d.skipValue()
				decoded = false
			}
			if err != nil {
				return nil, nil, err
			}
			payloadStart, payloadN = start, d.pos-start
		default:
			other = true
			if _, err := d.skipValue(); err != nil {
				return nil, nil, err
			}
		}
		first = false
		d.ws()
		if d.peek() == ',' {
			d.pos++
			continue
		}
		if d.peek() == '}' {
			d.pos++
			break
		}
		return nil, nil, d.syntaxErr("expected ',' or '}'")
	}
	if other || !schemaSeen || payloadStart < 0 {
		return nil, nil, dataErrorf("%s", errEnvelope)
	}
	if !decoded || decodedWith != schema {
		pd := decoder{data: d.data[:payloadStart+payloadN], pos: payloadStart}
		v, err := pd.value(schema)
		if err != nil {
			return nil, nil, err
		}
		value = v
	}
	return schema, value, nil
}

// schemaAt reads the schema at d's position, from the cache when its text
// was seen before.
func (c *JSONConverter) schemaAt(d *decoder) (*Schema, error) {
	d.ws()
	if bytes.HasPrefix(d.data[d.pos:], []byte("null")) {
		d.pos += 4
		return nil, nil
	}
	start := d.pos
	if _, err := d.skipValue(); err != nil {
		return nil, err
	}
	raw := d.data[start:d.pos]
	s, ok := c.cache[string(raw)]
	if !ok {
		sd := decoder{data: raw}
		var err error
		if s, _, _, err = sd.schema(); err != nil {
			return nil, err
		}
		if len(c.cache) >= SchemaCacheSize {
			clear(c.cache)
		}
		c.cache[string(raw)] = s
	}
	return s, nil
}

// ParseSchema parses a schema in JsonConverter's JSON form.
func ParseSchema(data []byte) (*Schema, error) {
	d := decoder{data: data}
	s, _, _, err := d.schema()
	if err == nil {
		err = d.end()
	}
	return s, err
}

// FromConnect is fromConnectData: nil when both schema and value are nil (a
// tombstone or null key), else the JSON, in an envelope when schemas are
// enabled. The result is a new slice. Errors wrap ErrData.
func (c *JSONConverter) FromConnect(s *Schema, v any) ([]byte, error) {
	if s == nil && v == nil {
		return nil, nil
	}
	buf := c.buf[:0]
	var err error
	if c.schemas {
		buf = append(buf, `{"schema":`...)
		if s == nil {
			buf = append(buf, "null"...)
		} else {
			buf = append(buf, s.json...)
		}
		buf = append(buf, `,"payload":`...)
		buf, err = AppendJSON(buf, s, v)
		buf = append(buf, '}')
	} else {
		buf, err = AppendJSON(buf, s, v)
	}
	c.buf = buf
	if err != nil {
		return nil, err
	}
	return bytes.Clone(buf), nil
}
