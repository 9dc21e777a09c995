package options

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// JSONError reports a malformed request body. It never quotes the body.
type JSONError struct {
	// Offset is the byte offset of the problem; Line and Column (1-based)
	// locate it too.
	Offset       int64
	Line, Column int
	Msg          string
}

func (e *JSONError) Error() string {
	return fmt.Sprintf("malformed JSON at line %d, column %d (byte %d): %s", e.Line, e.Column, e.Offset, e.Msg)
}

// NewJSONError locates a problem at offset in data by line and column.
func NewJSONError(data []byte, offset int64, msg string) *JSONError {
	if offset < 0 {
		offset = 0
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return &JSONError{Offset: offset, Line: line, Column: col, Msg: msg}
}

// ParseConnectorJSON parses a Kafka Connect connector request body
// (POST /connectors): {"name": ..., "config": {...}, "initial_state": ...}.
//
// As in Kafka Connect, config values may be JSON strings, numbers or
// booleans (Jackson turns scalars into their text: 5432 becomes "5432");
// the name is trimmed and copied into config["name"] when absent there. A
// missing or empty name, a null config value, and a config name that differs
// from the body's name are reported with Kafka Connect's messages (the first
// two as a *ValidationError). Other problems are a *JSONError (with line,
// column and byte offset) or a plain error; none quotes config values.
func ParseConnectorJSON(data []byte) (name string, config map[string]string, err error) {
	var body map[string]json.RawMessage
	if err := decodeStrict(data, &body); err != nil {
		return "", nil, err
	}
	if body == nil {
		return "", nil, errors.New("request body must be a JSON object with \"name\" and \"config\"")
	}
	if raw, ok := body["name"]; ok && !isJSONNull(raw) {
		var n string
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", nil, errors.New(`"name" must be a JSON string`)
		}
		name = strings.TrimSpace(n)
	}
	rawConfig, ok := body["config"]
	if !ok || isJSONNull(rawConfig) {
		return name, nil, errors.New(`request body has no "config" object`)
	}
	config, err = configValues(data, rawConfig)
	if err != nil {
		return name, nil, err
	}
	if included, ok := config[PropName]; ok {
		if included != name {
			//lint:ignore ST1005 Kafka Connect's exact text
			return name, nil, fmt.Errorf("Connector name configuration (%s) doesn't match connector name in the URL (%s)", included, name)
		}
	} else {
		config[PropName] = name
	}
	if name == "" {
		return name, config, &ValidationError{Problems: []Problem{{Field: PropName, Message: "Invalid value  for configuration name: String may not be empty"}}}
	}
	return name, config, nil
}

// ParseConfigJSON parses a flat configuration object, the body of
// PUT /connectors/{name}/config and PUT /connector-plugins/{class}/config/validate,
// with the value rules of ParseConnectorJSON.
func ParseConfigJSON(data []byte) (map[string]string, error) {
	var raw json.RawMessage
	if err := decodeStrict(data, &raw); err != nil {
		return nil, err
	}
	return configValues(data, raw)
}

// decodeStrict decodes exactly one JSON value.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return DecodeError(data, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return NewJSONError(data, dec.InputOffset(), "unexpected data after the JSON value")
	}
	return nil
}

// DecodeError turns an encoding/json decoding error of data, read by dec,
// into a *JSONError with its line and column.
func DecodeError(data []byte, dec *json.Decoder, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off := syn.Offset
		if strings.HasPrefix(syn.Error(), "invalid character") && off > 0 {
			off-- // Offset counts the offending byte; point at it
		}
		return NewJSONError(data, off, syn.Error())
	case errors.As(err, &typ):
		if typ.Field != "" {
			return NewJSONError(data, typ.Offset, fmt.Sprintf("%q cannot be a JSON %s", typ.Field, typ.Value))
		}
		return NewJSONError(data, typ.Offset, "expected a JSON object, found "+typ.Value)
	case errors.Is(err, io.EOF):
		return NewJSONError(data, int64(len(data)), "empty body")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return NewJSONError(data, int64(len(data)), "unexpected end of JSON input")
	}
	return NewJSONError(data, dec.InputOffset(), strings.TrimPrefix(err.Error(), "json: "))
}

func isJSONNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// configValues turns a JSON object into a string map.
func configValues(data []byte, raw json.RawMessage) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	base := int64(bytes.Index(data, raw)) // for error offsets into data
	if base < 0 {
		base = 0
	}
	problem := func(err error) error {
		if je := (*JSONError)(nil); errors.As(DecodeError(raw, dec, err), &je) {
			return NewJSONError(data, base+je.Offset, je.Msg)
		}
		return err
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, problem(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, NewJSONError(data, base, `"config" must be a JSON object of string values`)
	}
	out := map[string]string{}
	var nulls []Problem
	for dec.More() {
		ktok, err := dec.Token()
		if err != nil {
			return nil, problem(err)
		}
		key, _ := ktok.(string)
		at := base + dec.InputOffset()
		vtok, err := dec.Token()
		if err != nil {
			return nil, problem(err)
		}
		switch v := vtok.(type) {
		case string:
			out[key] = v
		case json.Number:
			out[key] = v.String()
		case bool:
			if v {
				out[key] = "true"
			} else {
				out[key] = "false"
			}
		case nil:
			nulls = append(nulls, Problem{Field: key, Message: "Null value can not be supplied as the configuration value."})
		case json.Delim:
			kind := "an object"
			if v == '[' {
				kind = "an array"
			}
			return nil, NewJSONError(data, at, fmt.Sprintf("config value of %q must be a string, number or boolean, not %s", key, kind))
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, problem(err)
	}
	if len(nulls) > 0 {
		return nil, &ValidationError{Problems: nulls}
	}
	return out, nil
}
