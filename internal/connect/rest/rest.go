// Package rest serves Kafka Connect's REST API over a [connect.Herder]: the
// endpoints, status codes and bodies of Kafka Connect 4.0's
// ConnectorsResource (topic tracking included), ConnectorPluginsResource,
// RootResource and LoggingResource (/admin/loggers), with its error body
// {"error_code": <status>, "message": "..."} for every failure, including
// unknown paths ("HTTP 404 Not Found") and wrong methods ("HTTP 405 Method
// Not Allowed"), as Jersey and ConnectExceptionMapper produce them. Bodies
// are compact JSON without a trailing newline, as Jackson writes them.
//
// Differences from Kafka Connect:
//
//   - Config values of secret options (those the plugin's spec declares
//     secret or PASSWORD, and keys that look like secrets by
//     [options.SensitiveKey], a broader rule than Debezium's) are shown as
//     "[hidden]" in every response: configs, connector infos, task
//     configs, expand=info and validation results; so is the password of
//     a URL in any other value ([options.HideURLPasswords]). Kafka Connect
//     returns configs as stored.
//   - A malformed or mistyped request body is a 400 whose message locates
//     the problem; Kafka Connect answers 500 with Jackson's message (or a
//     NullPointerException's for a body without "config"). An invalid
//     "initial_state" is a 400 too, and unknown fields of a create request
//     are ignored (Jackson refuses them).
//   - Bodies are limited to 16 MiB (413). As in Kafka Connect, a request
//     whose body is not declared application/json (parameters such as
//     charset allowed) is a 415, "HTTP 415 Unsupported Media Type", also
//     when it has no Content-Type (Jersey reads such a body as
//     application/octet-stream, which Jackson does not take) and whatever
//     its body: so a web page cannot create a connector with a simple
//     cross-origin text/plain or form POST, and `curl -d` needs
//     -H 'Content-Type: application/json', as with Kafka Connect.
//   - The validate endpoint also accepts a connector.class and a plugin
//     name that are two names of one registered plugin, and the message for
//     a body without connector.class lists the config with secrets masked.
//   - A slash in a connector's name is escaped in the Location header.
//   - PUT /connectors/{name}/topics/reset needs the connector STOPPED (a
//     400 otherwise, worded like the offsets endpoints' refusal); Kafka
//     Connect resets at any time, and a running task records its topics
//     again as it writes. An unknown connector is reset (202) as in Kafka
//     Connect.
//   - PUT /admin/loggers/{name} with a malformed body, or none, is a 400
//     (Kafka Connect: 500), and an empty level is a 404 "invalid log
//     level" (Kafka Connect: 500). The loggers are pgmotion's components
//     under Kafka Connect's and Debezium's names (see internal/logging).
//     admin.listeners is not supported: the admin endpoints are served
//     with the others.
//   - The internal endpoints used between workers are not served (404 or
//     405).
//   - Kafka Connect has no built-in credentials check (its JAAS basic-auth
//     extension answers 401 with a bare text). Here authentication, when
//     configured, is checked before routing, for every path including
//     /health, and the 401 has the JSON error body and a challenge.
//   - Every herder call is bounded by the request timeout, also those that
//     Kafka Connect answers without one (status, pause, resume).
package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/pgmotion/pgmotion/internal/connect"
	"github.com/pgmotion/pgmotion/internal/options"
)

// Options configures the REST handler.
type Options struct {
	// Herder answers every request; it is required.
	Herder connect.Herder
	// Auth is "" (no authentication), "basic:USER:PASSWORD" or
	// "bearer:TOKEN". Credentials are compared in constant time; a request
	// without valid ones gets 401 and a WWW-Authenticate challenge.
	Auth string
	// Log receives one debug line per request (method, path, status,
	// duration; never bodies) and the errors the herder failed with
	// unexpectedly. Nil discards.
	Log *slog.Logger
	// RequestTimeout bounds each herder call, as Kafka Connect's
	// rest request timeout does; a call that takes longer is answered
	// 500 "Request timed out". Zero means 90s.
	RequestTimeout time.Duration
	// Metrics, if set, serves GET /metrics (Prometheus), behind the same
	// authentication as the API.
	Metrics http.Handler
	// ViewerAuth is a second credential, in Auth's format, for read-only
	// users: they may GET everything and change nothing (403). It needs
	// Auth.
	ViewerAuth string
	// Console, if set, serves everything under /ui/ (the web console),
	// behind the same authentication. Each request it gets carries the
	// caller's role in the header console.RoleHeader ("admin" or
	// "viewer"), set here whatever the client sent.
	Console http.Handler
}

// RoleHeader carries the caller's role to Options.Console; it is the
// console package's console.RoleHeader.
const RoleHeader = "X-Pgmotion-Role"

// DefaultRequestTimeout is Kafka Connect's REST request timeout.
const DefaultRequestTimeout = 90 * time.Second

// healthTimeout is Kafka Connect's health check timeout.
const healthTimeout = 10 * time.Second

// maxBodyBytes limits request bodies.
const maxBodyBytes = 16 << 20

// Kafka Connect's texts for failures the REST layer itself produces.
const (
	msgNotFound         = "HTTP 404 Not Found"
	msgMethodNotAllowed = "HTTP 405 Method Not Allowed"
	// msgUnsupportedMediaType answers a body that is not application/json.
	msgUnsupportedMediaType = "HTTP 415 Unsupported Media Type"
	msgTimedOut             = "Request timed out"
	msgInterrupted          = "Request interrupted"
	msgUnauthorized         = "User cannot access the resource." // JaasBasicAuthFilter
	msgReadOnly             = "This user is read-only: it may look at everything and change nothing. Use the admin credentials (--rest-auth) to make changes."
)

// NewHandler returns the Kafka Connect REST API over o.Herder. It fails when
// the herder is missing or Auth is malformed; the error never quotes the
// credentials. The handler is safe for concurrent use.
func NewHandler(o Options) (http.Handler, error) {
	if o.Herder == nil {
		return nil, errors.New("rest: Options.Herder is required")
	}
	auth, err := parseAuth(o.Auth)
	if err != nil {
		return nil, err
	}
	viewer, err := parseAuth(o.ViewerAuth)
	if err != nil {
		return nil, err
	}
	if viewer != nil && auth == nil {
		return nil, errors.New("rest: a read-only credential (ViewerAuth) needs an admin one (Auth) too")
	}
	h := &handler{
		herder:  o.Herder,
		auth:    auth,
		log:     o.Log,
		timeout: o.RequestTimeout,
		maxBody: maxBodyBytes,
		metrics: o.Metrics,
		viewer:  viewer,
		console: o.Console,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = h.log.With("component", "rest")
	if h.timeout <= 0 {
		h.timeout = DefaultRequestTimeout
	}
	h.routes = h.routeTable()
	return h, nil
}

type handler struct {
	herder  connect.Herder
	auth    *authenticator // nil: none
	log     *slog.Logger
	timeout time.Duration
	maxBody int64
	routes  []route
	metrics http.Handler
	viewer  *authenticator // nil: no read-only users
	console http.Handler
}

// call is one routed request.
type call struct {
	base      string // scheme://host of the request, for Location
	query     url.Values
	connector string // {connector}
	plugin    string // {plugin}
	logger    string // {logger}
	task      int    // {task}
	body      []byte // for routes that read one
}

// reply is what a route answers on success.
type reply struct {
	status   int
	body     any // nil: no body
	location string
}

type handleFunc func(ctx context.Context, c *call) (*reply, error)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	h.serve(rec, r)
	h.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start))
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) {
	role := "admin"
	if h.auth != nil && !h.auth.allow(r) {
		if h.viewer == nil || !h.viewer.allow(r) {
			w.Header().Set("WWW-Authenticate", h.auth.challenge)
			writeError(w, http.StatusUnauthorized, msgUnauthorized)
			return
		}
		role = "viewer"
	}
	if role == "viewer" && r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, http.StatusForbidden, msgReadOnly)
		return
	}
	if h.console != nil && (r.URL.Path == "/ui" || strings.HasPrefix(r.URL.Path, "/ui/")) {
		if r.URL.Path == "/ui" {
			http.Redirect(w, r, "/ui/", http.StatusMovedPermanently)
			return
		}
		r.Header.Set(RoleHeader, role)
		h.console.ServeHTTP(w, r)
		return
	}
	if h.metrics != nil && r.URL.Path == "/metrics" && r.Method == http.MethodGet {
		h.metrics.ServeHTTP(w, r)
		return
	}
	rt, c, status := h.match(r)
	if rt == nil {
		msg := msgNotFound
		if status == http.StatusMethodNotAllowed {
			msg = msgMethodNotAllowed
		}
		writeError(w, status, msg)
		return
	}
	if rt.body {
		if !isJSON(r.Header.Get("Content-Type")) {
			// Jersey's answer to a resource that @Consumes JSON: a page in
			// a browser can POST text/plain without a preflight, but not
			// application/json.
			writeError(w, http.StatusUnsupportedMediaType, msgUnsupportedMediaType)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body is larger than %d bytes", tooBig.Limit))
				return
			}
			writeError(w, http.StatusBadRequest, "Cannot read the request body: "+err.Error())
			return
		}
		c.body = body
	}
	timeout := h.timeout
	if rt.timeout > 0 && rt.timeout < timeout {
		timeout = rt.timeout
	}
	rep, err := h.run(r, rt, c, timeout)
	if err != nil {
		h.writeErr(w, r, err)
		return
	}
	writeReply(w, rep)
}

type result struct {
	rep *reply
	err error
}

// run calls the route with a deadline. The goroutine it starts ends when
// the route returns; the route's context is cancelled at the deadline, so
// a herder that honours it returns promptly, and one that does not only
// delays the goroutine's end, not the answer.
func (h *handler) run(r *http.Request, rt *route, c *call, timeout time.Duration) (*reply, error) {
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				h.log.Error("panic in REST request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				done <- result{err: &connect.Error{Code: http.StatusInternalServerError, Msg: fmt.Sprintf("Unexpected error: %v", p)}}
			}
		}()
		if !rt.starting {
			if err := h.awaitReady(ctx); err != nil {
				done <- result{err: err}
				return
			}
		}
		rep, err := rt.handle(ctx, c)
		done <- result{rep, err}
	}()
	select {
	case res := <-done:
		if res.err != nil && ctx.Err() != nil && errors.Is(res.err, ctx.Err()) {
			return h.expired(r, rt)
		}
		return res.rep, res.err
	case <-ctx.Done():
		select {
		case res := <-done: // finished just in time
			if res.err == nil || !errors.Is(res.err, ctx.Err()) {
				return res.rep, res.err
			}
		default:
		}
		return h.expired(r, rt)
	}
}

// readyPoll is how often a request that arrived while the worker starts
// asks whether it is ready.
const readyPoll = 20 * time.Millisecond

// awaitReady waits until the herder has started (Ready returns nil) or ctx
// ends, whose error it then returns.
func (h *handler) awaitReady(ctx context.Context) error {
	if h.herder.Ready() == nil {
		return nil
	}
	t := time.NewTicker(readyPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if h.herder.Ready() == nil {
				return nil
			}
		}
	}
}

// expired answers a request whose deadline passed or whose client left.
func (h *handler) expired(r *http.Request, rt *route) (*reply, error) {
	if r.Context().Err() != nil {
		return nil, &connect.Error{Code: http.StatusInternalServerError, Msg: msgInterrupted}
	}
	if rt.onTimeout != nil {
		return rt.onTimeout(), nil
	}
	return nil, &connect.Error{Code: http.StatusInternalServerError, Msg: msgTimedOut}
}

// writeErr answers err: a *connect.Error with its code and message, a
// malformed body with 400, anything else with 500 and its text, as
// ConnectExceptionMapper does.
func (h *handler) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := errorStatus(err)
	if status == http.StatusInternalServerError {
		h.log.Error("REST request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, status, msg)
}

func errorStatus(err error) (int, string) {
	var ce *connect.Error
	var ve *options.ValidationError
	var je *options.JSONError
	switch {
	case errors.As(err, &ce):
		code := ce.Code
		if code < 400 || code > 599 {
			code = http.StatusInternalServerError
		}
		return code, ce.Msg
	case errors.As(err, &ve):
		return http.StatusBadRequest, ve.Error()
	case errors.As(err, &je):
		return http.StatusBadRequest, je.Error()
	}
	return http.StatusInternalServerError, err.Error()
}

// errorBody is Kafka Connect's ErrorMessage entity.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// writeError writes Kafka Connect's error body. Every failure goes
// through it.
func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := marshal(errorBody{ErrorCode: status, Message: msg}) // cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeReply(w http.ResponseWriter, rep *reply) {
	if rep.location != "" {
		w.Header().Set("Location", rep.location)
	}
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	b, err := marshal(rep.body)
	if err != nil {
		w.Header().Del("Location")
		writeError(w, http.StatusInternalServerError, "Cannot encode the response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = w.Write(b)
}

// marshal encodes v compactly, as Jackson does: no HTML escaping and no
// trailing newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// recorder remembers the status for the access log.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// isJSON reports whether a Content-Type header is application/json, as
// Jersey matches it against @Consumes(MediaType.APPLICATION_JSON): type
// and subtype in any case, parameters ignored.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}
