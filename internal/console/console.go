// Package console serves pgmotion's web console: the embedded single-page
// application under /ui/ and the small JSON API under /ui/api/ that it
// needs beyond Kafka Connect's REST API (topics, messages, consumer groups
// and the CDC views drawn from the worker's own metrics).
//
// The handler does no authentication of its own: it is mounted behind the
// REST server's, which tells it the caller's role (see [RoleHeader]). A
// viewer may read everything and change nothing; the REST server refuses a
// viewer's writes before they get here, and the handler refuses them again,
// so a route added later cannot forget the check.
//
// The API is documented in docs/console-api.md.
package console

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pgmotion/pgmotion/internal/workerconfig"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// RoleHeader is the request header through which the REST server tells the
// console the caller's role: RoleAdmin or RoleViewer. The REST server sets
// it on every request it passes on, replacing whatever the client sent; a
// request without it is treated as a viewer's.
const RoleHeader = "X-Pgmotion-Role"

// The roles.
const (
	RoleAdmin  = "admin"
	RoleViewer = "viewer"
)

// Prefix is the path the console is served under.
const Prefix = "/ui/"

// Options configures the console.
type Options struct {
	// Brokers are the Kafka bootstrap servers the worker uses.
	Brokers []string
	// ClientOpts are extra franz-go options for the console's clients
	// (TLS, SASL), the same the worker's own clients use.
	ClientOpts []kgo.Opt
	// Metrics is the worker's registry; the CDC views sample it.
	Metrics prometheus.Gatherer
	// SampleInterval is how often the CDC views sample Metrics; 0 means 5s.
	SampleInterval time.Duration
	// Log receives the console's errors. Nil discards.
	Log *slog.Logger
	// ConfigTopic is the worker's config.storage.topic, whose connector
	// configs the console shows with their secrets hidden (secrets.go);
	// "" means Kafka Connect's default, connect-configs.
	ConfigTopic string
}

// Console is the console's HTTP handler. It is safe for concurrent use.
// Run samples the metrics for the CDC views until its context ends; Close
// releases the Kafka client.
type Console struct {
	log     *slog.Logger
	cl      *kgo.Client
	adm     *kadm.Client
	opts    []kgo.Opt // for the per-request consumers
	sampler *sampler
	mux     *http.ServeMux
	// configTopic is Options.ConfigTopic.
	configTopic string

	closeOnce sync.Once
}

// New returns the console. It connects to nothing until a request needs
// Kafka.
func New(o Options) (*Console, error) {
	if len(o.Brokers) == 0 {
		return nil, errors.New("console: Options.Brokers is required")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := append([]kgo.Opt{kgo.SeedBrokers(o.Brokers...), kgo.ClientID("pgmotion-console")}, o.ClientOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("console: kafka client: %w", err)
	}
	interval := o.SampleInterval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	c := &Console{
		log:     log.With("component", "console"),
		cl:      cl,
		adm:     kadm.NewClient(cl),
		opts:    opts,
		sampler: newSampler(o.Metrics, interval, 360),

		configTopic: cmp.Or(o.ConfigTopic, workerconfig.Default().ConfigTopic),
	}
	c.mux = c.routes()
	return c, nil
}

// Run samples the worker's metrics for the CDC views until ctx ends.
func (c *Console) Run(ctx context.Context) error {
	c.sampler.run(ctx)
	return nil
}

// Close releases the Kafka client. It is safe to call more than once.
func (c *Console) Close() {
	c.closeOnce.Do(c.cl.Close)
}

func (c *Console) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /ui/api/whoami", c.whoami)
	m.HandleFunc("GET /ui/api/cluster", c.cluster)
	m.HandleFunc("GET /ui/api/topics", c.listTopics)
	m.HandleFunc("GET /ui/api/topics-last", c.lastRecordTimes)
	m.HandleFunc("POST /ui/api/topics", c.createTopic)
	m.HandleFunc("GET /ui/api/topics/{topic}", c.getTopic)
	m.HandleFunc("DELETE /ui/api/topics/{topic}", c.deleteTopic)
	m.HandleFunc("PUT /ui/api/topics/{topic}/configs", c.alterTopicConfigs)
	m.HandleFunc("GET /ui/api/topics/{topic}/messages", c.messages)
	m.HandleFunc("GET /ui/api/topics/{topic}/search", c.search)
	m.HandleFunc("GET /ui/api/topics/{topic}/tail", c.tail)
	m.HandleFunc("GET /ui/api/groups", c.listGroups)
	m.HandleFunc("GET /ui/api/groups/{group}", c.getGroup)
	m.HandleFunc("POST /ui/api/groups/{group}/reset", c.resetGroup)
	m.HandleFunc("DELETE /ui/api/groups/{group}", c.deleteGroup)
	m.HandleFunc("GET /ui/api/cdc", c.cdc)
	m.HandleFunc("/ui/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such console API endpoint: "+r.Method+" "+r.URL.Path)
	})
	m.Handle("/ui/", assets())
	return m
}

// ServeHTTP serves the console. Writes (anything but GET and HEAD) need the
// admin role.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && role(r) != RoleAdmin {
		writeError(w, http.StatusForbidden, "read-only user: this request changes something, which needs the admin credentials (--rest-auth)")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Body != nil &&
		r.ContentLength != 0 && !isJSON(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, "send the request body as application/json")
		return
	}
	c.mux.ServeHTTP(w, r)
}

func role(r *http.Request) string {
	if r.Header.Get(RoleHeader) == RoleAdmin {
		return RoleAdmin
	}
	return RoleViewer
}

func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

func (c *Console) whoami(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"role": role(r)})
}

// errorBody has the shape of Kafka Connect's error entity, so the
// frontend handles both APIs' failures alike.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{ErrorCode: status, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// readJSON decodes a request body of at most 1 MiB into v.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

// kafkaError answers a failed Kafka call: 504 when it timed out, 502
// otherwise, naming the action.
func (c *Console) kafkaError(w http.ResponseWriter, action string, err error) {
	status := http.StatusBadGateway
	if errors.Is(err, context.DeadlineExceeded) {
		status = http.StatusGatewayTimeout
	}
	c.log.Warn("console: kafka request failed", "action", action, "err", err)
	writeError(w, status, action+": "+err.Error())
}

// requestTimeout bounds each Kafka round of an API call.
const requestTimeout = 15 * time.Second
