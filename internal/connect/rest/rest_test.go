package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/connect"
	"github.com/pgmotion/pgmotion/internal/options"
)

func TestNewHandlerOptions(t *testing.T) {
	if _, err := NewHandler(Options{}); err == nil {
		t.Error("no herder: want an error")
	}
	for _, auth := range []string{"", "basic:u:p", "basic:u:p:with:colons", "BASIC:u:p", "bearer:tok", "bearer:tok:with:colon"} {
		if _, err := NewHandler(Options{Herder: newFixture(), Auth: auth}); err != nil {
			t.Errorf("auth %q: %v", auth, err)
		}
	}
	for _, auth := range []string{"basic", "basic:", "basic:user", "basic:user:", "basic::s3cretpw", "bearer:", "token:s3cretpw", "user:s3cretpw", "s3cretpw"} {
		_, err := NewHandler(Options{Herder: newFixture(), Auth: auth})
		if err == nil {
			t.Errorf("auth %q: want an error", auth)
			continue
		}
		if strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("auth %q: the error quotes the setting: %v", auth, err)
		}
	}
	h, _ := NewHandler(Options{Herder: newFixture()})
	if got := h.(*handler).timeout; got != DefaultRequestTimeout {
		t.Errorf("default timeout %v, want %v", got, DefaultRequestTimeout)
	}
}

// TestAccessLog checks the one debug line per request, without bodies.
func TestAccessLog(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := NewHandler(Options{Herder: newFixture(), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"name":"orders","config":` + ordersConfig + `}`
	h.ServeHTTP(httptest.NewRecorder(), jsonRequest("POST", "/connectors", body))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/connectors/nope", nil))

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 log lines, got %d:\n%s", len(lines), logs.String())
	}
	for i, want := range []struct {
		method, path string
		status       float64
	}{{"POST", "/connectors", 201}, {"GET", "/connectors/nope", 404}} {
		var rec map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["level"] != "DEBUG" || rec["component"] != "rest" || rec["method"] != want.method || rec["path"] != want.path || rec["status"] != want.status {
			t.Errorf("line %d: %s", i, lines[i])
		}
		if _, ok := rec["duration"]; !ok {
			t.Errorf("line %d has no duration: %s", i, lines[i])
		}
	}
	if strings.Contains(logs.String(), "pg-s3cret") || strings.Contains(logs.String(), "replicator") {
		t.Errorf("the log holds the request body:\n%s", logs.String())
	}
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("%v: %s", err, rec.Body.Bytes())
	}
	return e
}

// TestInterrupted: a client that leaves gets Kafka Connect's "Request
// interrupted" (nobody reads it), and the herder's context ends with it.
func TestInterrupted(t *testing.T) {
	f := newFixture()
	f.slow["inventory"] = true
	h, _ := NewHandler(Options{Herder: f})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/connectors/inventory", nil))
	if e := decodeError(t, rec); rec.Code != 500 || e.Message != msgInterrupted {
		t.Errorf("got %d %+v", rec.Code, e)
	}
}

func TestBodyTooLarge(t *testing.T) {
	hh, _ := NewHandler(Options{Herder: newFixture()})
	h := hh.(*handler)
	h.maxBody = 64
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, jsonRequest("PUT", "/connectors/orders/config", ordersConfig))
	if e := decodeError(t, rec); rec.Code != 413 || e.ErrorCode != 413 || e.Message != "Request body is larger than 64 bytes" {
		t.Errorf("got %d %+v", rec.Code, e)
	}
}

type panicking struct{ *fakeHerder }

func (panicking) ConnectorInfo(context.Context, string) (*connect.ConnectorInfo, error) {
	panic("boom")
}

func TestHerderPanic(t *testing.T) {
	h, _ := NewHandler(Options{Herder: panicking{newFixture()}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/connectors/inventory", nil))
	if e := decodeError(t, rec); rec.Code != 500 || e.Message != "Unexpected error: boom" {
		t.Errorf("got %d %+v", rec.Code, e)
	}
}

// badCode returns an *connect.Error whose code is no error status.
type badCode struct{ *fakeHerder }

func (badCode) Pause(context.Context, string) error { return &connect.Error{Code: 200, Msg: "odd"} }

func TestErrorCodeOutOfRange(t *testing.T) {
	h, _ := NewHandler(Options{Herder: badCode{newFixture()}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("PUT", "/connectors/inventory/pause", nil))
	if e := decodeError(t, rec); rec.Code != 500 || e.ErrorCode != 500 || e.Message != "odd" {
		t.Errorf("got %d %+v", rec.Code, e)
	}
}

// maskingHerder masks configs itself, as the real herder may.
type maskingHerder struct{ *fakeHerder }

func (m maskingHerder) ConnectorConfig(ctx context.Context, name string) (map[string]string, error) {
	cfg, err := m.fakeHerder.ConnectorConfig(ctx, name)
	return options.MaskConfig(cfg), err
}

func TestMaskTwice(t *testing.T) {
	cfg := newFixture().conns["inventory"].config
	once := options.MaskConfig(cfg)
	if !maps.Equal(options.MaskConfig(once), once) {
		t.Errorf("masking twice changed the config:\n%v\n%v", once, options.MaskConfig(once))
	}
	if options.MaskConfig(nil) == nil {
		t.Error("a nil config must become {}")
	}
	plain, _ := NewHandler(Options{Herder: newFixture()})
	masked, _ := NewHandler(Options{Herder: maskingHerder{newFixture()}})
	var bodies []string
	for _, h := range []http.Handler{plain, masked} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/connectors/inventory/config", nil))
		bodies = append(bodies, rec.Body.String())
	}
	if bodies[0] != bodies[1] {
		t.Errorf("a masking herder changes the response:\n%s\n%s", bodies[0], bodies[1])
	}
}

func TestSecretKey(t *testing.T) {
	cfg := map[string]string{
		"connector.class":        "Postgres",
		"transforms":             "a",
		"transforms.a.type":      transformClass,
		"predicates.p.type":      transformClass,
		"key.converter":          transformClass,
		"value.converter":        "org.example.Unknown",
		"value.converter.secret": "x",
	}
	for key, want := range map[string]bool{
		"database.password":           true,  // PASSWORD in the connector's spec
		"database.sslpassword":        true,  // PASSWORD in the connector's spec
		"database.user":               false, // declared, not secret
		"my.api.secret":               true,  // Debezium's name rule
		"sasl.jaas.config":            true,  // Debezium's name rule
		"transforms.a.credential":     true,  // secret in the transform's spec
		"transforms.b.credential":     false, // alias b has no type
		"transforms.a.type":           false,
		"predicates.p.credential":     true,
		"key.converter.credential":    true,
		"value.converter.credential":  false, // unknown converter class
		"value.converter.secret":      true,  // name rule
		"header.converter.credential": false,
	} {
		if got := options.SecretIn(cfg, key); got != want {
			t.Errorf("SecretIn(%q) = %v, want %v", key, got, want)
		}
	}
	// Without a usable connector.class every connector spec is asked.
	if !options.SecretIn(map[string]string{}, "database.password") || !options.SecretIn(map[string]string{"connector.class": "nope"}, "access.token") {
		t.Error("a config without a known class must still be masked")
	}
}

func TestClassMatches(t *testing.T) {
	for _, c := range []struct {
		included, plugin string
		want             bool
	}{
		{options.PostgresClass, options.PostgresClass, true},
		{options.PostgresClass, "PostgresConnector", true}, // Kafka Connect's suffix rule
		{options.PostgresClass, "Postgres", true},
		{"Postgres", options.PostgresClass, true},         // same registered plugin
		{"PostgresConnector", "Postgres", true},           // both rules
		{"com.other.PostgresConnector", "Postgres", true}, // Kafka Connect's suffix rule accepts it too
		{exampleClass, "Postgres", false},
		{"Postgres", "ExampleSource", false},
		{"Connector", "Connector", true},
	} {
		if got := classMatches(c.included, c.plugin); got != c.want {
			t.Errorf("classMatches(%q, %q) = %v, want %v", c.included, c.plugin, got, c.want)
		}
	}
}

// TestServer runs the handler behind a real net/http server.
func TestServer(t *testing.T) {
	h, _ := NewHandler(Options{Herder: newFixture(), Auth: bearerAuth})
	srv := httptest.NewServer(h)
	defer srv.Close()
	do := func(method, path, body string) (*http.Response, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer t0ken")
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := do("POST", "/connectors", `{"name":"a/b","config":`+ordersConfig+`}`)
	if resp.StatusCode != 201 || resp.Header.Get("Location") != srv.URL+"/connectors/a%2Fb" {
		t.Fatalf("create: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	// A name holding a slash is reachable with %2F.
	resp, body = do("GET", "/connectors/a%2Fb/config", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"name":"a/b"`) || strings.Contains(body, "pg-s3cret") {
		t.Fatalf("config: %d %s", resp.StatusCode, body)
	}
	resp, body = do("HEAD", "/connectors", "")
	if resp.StatusCode != 200 || body != "" {
		t.Fatalf("HEAD: %d %q", resp.StatusCode, body)
	}
	resp, body = do("DELETE", "/connectors/a%2Fb", "")
	if resp.StatusCode != 204 || body != "" || resp.Header.Get("Content-Type") != "" {
		t.Fatalf("delete: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = do("GET", "/connectors/a/../inventory", "")
	if resp.StatusCode != 404 || body != `{"error_code":404,"message":"HTTP 404 Not Found"}` {
		t.Fatalf("dot segments: %d %q", resp.StatusCode, body)
	}
}

// TestLoggerScopeWarning follows LoggingResourceTest's
// testSetLevel*Scope: an unknown scope acts as worker with one WARN line;
// worker and the default scope log none; cluster reaches the herder's
// cluster setter and nothing else.
func TestLoggerScopeWarning(t *testing.T) {
	for _, tt := range []struct {
		query   string
		status  int
		warns   int
		cluster bool
	}{
		{"", 200, 0, false},
		{"?scope=worker", 200, 0, false},
		{"?scope=kip-976", 200, 1, false},
		{"?scope=", 200, 1, false},
		{"?scope=cluster", 204, 0, true},
	} {
		var logs bytes.Buffer
		f := newFixture()
		h, err := NewHandler(Options{Herder: f, Log: slog.New(slog.NewJSONHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, jsonRequest("PUT", "/admin/loggers/org.apache.kafka.connect"+tt.query, `{"level":"TRACE"}`))
		if rec.Code != tt.status {
			t.Errorf("%q: status %d, want %d: %s", tt.query, rec.Code, tt.status, rec.Body)
		}
		if got := strings.Count(logs.String(), `"level":"WARN"`); got != tt.warns {
			t.Errorf("%q: %d warnings, want %d:\n%s", tt.query, got, tt.warns, logs.String())
		}
		_, inCluster := f.cluster["org.apache.kafka.connect"]
		got, _ := f.levels.Get("org.apache.kafka.connect")
		if inCluster != tt.cluster || (got.Level == "TRACE") == tt.cluster {
			t.Errorf("%q: cluster %v, worker level %s", tt.query, inCluster, got.Level)
		}
	}
}

// TestLoggerSetThenGet sets a level and reads it back with its
// last_modified, as Kafka Connect's integration tests do.
func TestLoggerSetThenGet(t *testing.T) {
	h, err := NewHandler(Options{Herder: newFixture()})
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, body string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, jsonRequest(method, path, body))
		return rec.Body.String()
	}
	if got := do("PUT", "/admin/loggers/kafka", `{"level":"debug"}`); got != `["kafka"]` {
		t.Fatalf("PUT: %s", got)
	}
	if got := do("GET", "/admin/loggers/kafka", ""); got != `{"level":"DEBUG","last_modified":1718000000000}` {
		t.Errorf("GET: %s", got)
	}
	if got := do("PUT", "/admin/loggers/kafka", `{"level":"DEBUG"}`); got != `[]` {
		t.Errorf("PUT again: %s", got)
	}
}

// jsonRequest is a request whose body is declared application/json, as
// Kafka Connect requires.
func jsonRequest(method, path, body string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// TestRequestsWhileStarting checks the REST API while the worker starts
// (it serves before the worker has read the internal topics): requests for
// connector state wait for the worker, as Kafka Connect's herder requests
// do, and time out as they do; root, health, plugins and logger reads
// answer at once; nothing reaches the herder's connector state early.
func TestRequestsWhileStarting(t *testing.T) {
	f := newFixture()
	f.ready = errors.New("Worker is still starting up.")
	h, err := NewHandler(Options{Herder: f, RequestTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{"/", 200, `"version":"4.0.0"`},
		{"/health", 503, "starting"},
		{"/health/ready", 503, "starting"},
		{"/health/connectors/inventory", 503, "Worker is still starting up."},
		{"/connector-plugins", 200, "PostgresConnector"},
		{"/admin/loggers", 200, "root"},
		{"/connectors", 500, "Request timed out"},
		{"/connectors/inventory/status", 500, "Request timed out"},
	} {
		if code, body := get(c.path); code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("GET %s while starting: %d %s, want %d with %q", c.path, code, body, c.code, c.want)
		}
	}

	// A request that arrives while the worker starts is answered once it
	// has started.
	type answer struct {
		code int
		body string
	}
	got := make(chan answer, 1)
	go func() {
		code, body := get("/connectors/inventory/status")
		got <- answer{code, body}
	}()
	time.Sleep(50 * time.Millisecond)
	f.mu.Lock()
	f.ready = nil
	f.mu.Unlock()
	a := <-got
	if a.code != 200 || !strings.Contains(a.body, `"name":"inventory"`) {
		t.Errorf("status asked while starting, answered after: %d %s", a.code, a.body)
	}
}
