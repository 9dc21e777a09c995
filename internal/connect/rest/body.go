package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/pgmotion/pgmotion/internal/connect"
	"github.com/pgmotion/pgmotion/internal/options"
)

// Request bodies are parsed with spec's Kafka-style rules (scalars become
// their text, as Jackson does) and every problem is a 400 whose message
// locates it without quoting config values.

// badBody turns a parse error into a 400 *connect.Error.
func badBody(err error) error {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return err
	}
	return &connect.Error{Code: 400, Msg: err.Error(), Err: err}
}

// createRequest is Kafka Connect's CreateConnectorRequest.
type createRequest struct {
	name    string
	config  map[string]string
	initial connect.TargetState
}

// parseCreate parses the body of POST /connectors. As in Kafka Connect the
// name is trimmed, copied into config.name when absent there, and must
// match it when present; initial_state is RUNNING, PAUSED or STOPPED in
// any case, and RUNNING when absent.
func parseCreate(data []byte) (*createRequest, error) {
	name, cfg, err := options.ParseConnectorJSON(data)
	var je *options.JSONError
	if errors.As(err, &je) {
		return nil, badBody(err)
	}
	// Jackson reads initial_state before the name and config are checked.
	initial, ierr := initialState(data)
	if ierr != nil {
		return nil, ierr
	}
	if err != nil {
		return nil, badBody(err)
	}
	return &createRequest{name: name, config: cfg, initial: initial}, nil
}

func initialState(data []byte) (connect.TargetState, error) {
	var body map[string]json.RawMessage
	if json.Unmarshal(data, &body) != nil {
		return connect.TargetStarted, nil // reported by ParseConnectorJSON
	}
	raw, ok := body["initial_state"]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return connect.TargetStarted, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		switch strings.ToUpper(s) {
		case "RUNNING":
			return connect.TargetStarted, nil
		case "PAUSED":
			return connect.TargetPaused, nil
		case "STOPPED":
			return connect.TargetStopped, nil
		}
	}
	return "", connect.BadRequestf("Invalid initial_state %s: it must be RUNNING, PAUSED or STOPPED", raw)
}

// parseNullableConfig parses a flat config object whose values may be
// null: the body of PATCH /connectors/{name}/config, where null removes a
// key, and of the validate endpoint, where it is a validation error.
func parseNullableConfig(data []byte) (map[string]*string, error) {
	cfg, err := options.ParseConfigJSON(data)
	var ve *options.ValidationError
	if errors.As(err, &ve) {
		// Only null values are validation errors here, and they are
		// reported after the whole body parsed: it is a flat object.
		var raw map[string]json.RawMessage
		if json.Unmarshal(data, &raw) != nil {
			return nil, badBody(err)
		}
		nulls := map[string]bool{}
		for k, v := range raw {
			if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
				nulls[k] = true
				delete(raw, k)
			}
		}
		rest, merr := json.Marshal(raw)
		if merr != nil {
			return nil, badBody(err)
		}
		if cfg, err = options.ParseConfigJSON(rest); err != nil {
			return nil, badBody(err)
		}
		out := make(map[string]*string, len(cfg)+len(nulls))
		for k := range nulls {
			out[k] = nil
		}
		for k, v := range cfg {
			out[k] = &v
		}
		return out, nil
	}
	if err != nil {
		return nil, badBody(err)
	}
	out := make(map[string]*string, len(cfg))
	for k, v := range cfg {
		out[k] = &v
	}
	return out, nil
}

// msgNoOffsets is Kafka Connect's answer to a PATCH without offsets.
const msgNoOffsets = "Partitions / offsets need to be provided for an alter offsets request"

// parseOffsets parses the body of PATCH /connectors/{name}/offsets:
// {"offsets": [{"partition": {...}, "offset": {...} or null}, ...]}.
// Unknown fields are refused, as Jackson refuses them; numbers keep
// their exact text (an LSN does not fit a float64).
func parseOffsets(data []byte) ([]connect.ConnectorOffset, error) {
	var body *struct {
		Offsets []connect.ConnectorOffset `json:"offsets"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return nil, badBody(options.DecodeError(data, dec, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badBody(options.NewJSONError(data, dec.InputOffset(), "unexpected data after the JSON value"))
	}
	if body == nil || len(body.Offsets) == 0 {
		return nil, connect.BadRequestf(msgNoOffsets)
	}
	return body.Offsets, nil
}
