package rest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzHandler feeds random methods, paths, queries and bodies to the
// handler over a fresh fixture: it must never panic, and every answer must
// hold checkResponse's invariants (a valid status, Kafka Connect's JSON
// error body for failures, no leaked secret).
func FuzzHandler(f *testing.F) {
	for _, c := range goldenCases {
		if c.timeout != 0 || c.auth != "" {
			continue // slow or authenticated: not what the fuzzer explores
		}
		p, q, _ := strings.Cut(c.path, "?")
		f.Add(c.method, p, q, []byte(c.body))
	}
	f.Add("GET", "/connectors/%2F/config", "", []byte(nil))
	f.Add("PATCH", "/connectors/inventory/config", "", []byte(`{"a":null,"a":"b","c":1e999}`))
	f.Add("POST", "/connectors", "", []byte(`{"name":"x","config":{},"initial_state":null}`))
	f.Add("PUT", "/connector-plugins/Connector/config/validate", "", []byte(`{"connector.class":"Connector"}`))
	f.Add("PATCH", "/connectors/archive/offsets", "", []byte(`{"offsets":[null,{"partition":null}]}`))
	f.Add("HEAD", "/connectors/inventory/tasks/2147483648/status", "expand", []byte(nil))
	f.Add("OPTIONS", "/connectors/", "", []byte(nil))

	f.Fuzz(func(t *testing.T, method, path, query string, body []byte) {
		u, err := url.ParseRequestURI(path)
		if err != nil || method == "" || strings.ContainsAny(method, " \t\r\n") {
			return // net/http refuses such requests before any handler
		}
		u.RawQuery = query
		h, err := NewHandler(Options{Herder: newFixture(), RequestTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "http://"+testHost+"/", bytes.NewReader(body))
		req.Method = method
		req.URL = u
		req.RequestURI = u.RequestURI()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		// A secret the request itself holds may be echoed (in a name, a
		// class, an error): only the stored ones must never show.
		var secrets []string
		for _, s := range fixtureSecrets {
			if !strings.Contains(path, s) && !strings.Contains(query, s) && !bytes.Contains(body, []byte(s)) {
				secrets = append(secrets, s)
			}
		}
		checkResponse(t, method, u.Path, rec.Code, rec.Header(), rec.Body.Bytes(), secrets)
		if rec.Code == http.StatusUnauthorized {
			t.Fatalf("401 without authentication configured")
		}
	})
}
