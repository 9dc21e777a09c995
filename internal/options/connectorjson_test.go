package options

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseConnectorJSON(t *testing.T) {
	cases := []struct {
		body    string
		name    string
		config  map[string]string
		wantErr string
	}{
		{body: `{"name":" a ","config":{"x":"y"}}`, name: "a", config: map[string]string{"x": "y", "name": "a"}},
		{body: `{"name":"a","config":{"port":5432,"f":1.50,"e":1e3,"b":true,"c":false,"name":"a"}}`, name: "a",
			config: map[string]string{"port": "5432", "f": "1.50", "e": "1e3", "b": "true", "c": "false", "name": "a"}},
		{body: `{"name":"a","config":{"x":"1","x":"2"}}`, name: "a", config: map[string]string{"x": "2", "name": "a"}},
		{body: `{"name":"a","config":{},"initial_state":"PAUSED","extra":1}`, name: "a", config: map[string]string{"name": "a"}},
		{body: ``, wantErr: "malformed JSON at line 1, column 1 (byte 0): empty body"},
		{body: `[]`, wantErr: "malformed JSON at line 1, column 2 (byte 1): expected a JSON object, found array"},
		{body: `null`, wantErr: `request body must be a JSON object`},
		{body: `{"name":"a"}`, wantErr: `request body has no "config" object`},
		{body: `{"name":"a","config":"x"}`, wantErr: `"config" must be a JSON object of string values`},
		{body: `{"name":1,"config":{}}`, wantErr: `"name" must be a JSON string`},
		{body: "{\"name\":\"a\",\n  \"config\":{\"k\":\"v\",}}", wantErr: "malformed JSON at line 2, column 21 (byte 33): invalid character '}' looking for beginning of object key string"},
		{body: `{"name":"a","config":{}} {}`, wantErr: "unexpected data after the JSON value"},
		{body: `{"name":"a","config":{"k":[1]}}`, wantErr: `config value of "k" must be a string, number or boolean, not an array`},
		{body: `{"name":"a","config":{"k":null,"j":null}}`, wantErr: "contains the following 2 error(s):\nNull value can not be supplied as the configuration value.\nNull value"},
		{body: `{"name":"a","config":{"name":"b"}}`, wantErr: "Connector name configuration (b) doesn't match connector name in the URL (a)"},
		{body: `{"config":{}}`, wantErr: "Invalid value  for configuration name: String may not be empty"},
	}
	for _, c := range cases {
		name, config, err := ParseConnectorJSON([]byte(c.body))
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: err = %v, want %q", c.body, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		if name != c.name || !reflect.DeepEqual(config, c.config) {
			t.Errorf("%s: got %q %v", c.body, name, config)
		}
	}
	var je *JSONError
	_, _, err := ParseConnectorJSON([]byte("{\n\n   x"))
	if !errors.As(err, &je) || je.Line != 3 || je.Column != 4 || je.Offset != 6 {
		t.Errorf("position: %#v", je)
	}
}

func TestParseConfigJSON(t *testing.T) {
	got, err := ParseConfigJSON([]byte(`{"connector.class":"Postgres","database.port":5432}`))
	if err != nil || !reflect.DeepEqual(got, map[string]string{"connector.class": "Postgres", "database.port": "5432"}) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := ParseConfigJSON([]byte(`{"a":`)); err == nil || !strings.Contains(err.Error(), "unexpected end of JSON input") {
		t.Errorf("err = %v", err)
	}
}
