package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/broker"
	"github.com/pgmotion/pgmotion/internal/connect"
	"github.com/pgmotion/pgmotion/internal/connect/rest"
	"github.com/pgmotion/pgmotion/internal/console"
	"github.com/pgmotion/pgmotion/internal/kafkasink"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/pipeline"
	"github.com/pgmotion/pgmotion/internal/workerconfig"
)

func init() { subcommands = append(subcommands, newConnectCmd) }

type connectFlags struct {
	workerConfig  string
	bootstrap     string
	embedded      string
	embeddedFlag  string // the flag that set embedded, for messages; --embedded-broker if ""
	dataDir       string
	rest          string
	restAuth      string
	restAuthFile  string
	restViewer    string
	noConsole     bool
	restCert      string
	restKey       string
	groupID       string
	flushInterval time.Duration
	compression   string

	// The embedded broker's TLS certificate and key and SASL users.
	brokerCert, brokerKey, brokerUsersFile string
	brokerUsers                            []broker.SASLUser
}

// newConnectCmd is `pgmotion connect`: a Kafka Connect-compatible worker.
func newConnectCmd(g *globals) *cobra.Command {
	var f connectFlags
	cmd := &cobra.Command{
		Use:   "connect [flags] [CONNECTOR.json ...]",
		Short: "Run a Kafka Connect-compatible worker, with the given connectors",
		Long: `Run a worker that streams PostgreSQL changes into Kafka as Debezium events and
serves the Kafka Connect REST API.

Each CONNECTOR.json is a Kafka Connect request body, {"name": ..., "config": {...}},
with Debezium PostgreSQL property names; those connectors are created (or updated)
and start at once. Connector configs, target states, statuses and offsets live in
Kafka (connect-configs, connect-status, connect-offsets), so a restarted worker
resumes every connector as it was. Workers sharing a --group-id share the
connectors; when one dies, the others take its connectors over.

Kafka is an existing cluster (--bootstrap-servers or bootstrap.servers in the
--worker-config file) or the embedded broker started in this process
(--embedded-broker). Settings come from flags, then PGMOTION_* environment
variables (PGMOTION_BOOTSTRAP_SERVERS for bootstrap.servers), then the worker
config file, then defaults.`,
		Example: `  pgmotion connect --embedded-broker 127.0.0.1:9092 sakila.json
  pgmotion connect --worker-config connect-distributed.properties --rest 0.0.0.0:8083
  curl -s localhost:8083/connectors?expand=status`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConnect(cmd, g, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.workerConfig, "worker-config", "", "Kafka Connect worker properties file (connect-distributed.properties)")
	fl.StringVar(&f.bootstrap, "bootstrap-servers", "", "Kafka bootstrap servers, host:port[,host:port] (bootstrap.servers)")
	fl.StringVar(&f.embedded, "embedded-broker", "", "start the embedded Kafka-protocol broker in this process on host:port")
	fl.StringVar(&f.dataDir, "data-dir", "./pgmotion-data", "directory for the embedded broker's log and other worker state")
	fl.StringVar(&f.brokerCert, "embedded-broker-tls-cert", "", "the embedded broker serves TLS only, with this PEM certificate (chain) file")
	fl.StringVar(&f.brokerKey, "embedded-broker-tls-key", "", "the PEM private key file for --embedded-broker-tls-cert")
	fl.StringVar(&f.brokerUsersFile, "embedded-broker-sasl-users-file", "", "the embedded broker requires SASL: file of MECHANISM:USER:PASSWORD lines (or set "+broker.EnvSASLUsers+"); the worker uses the first")
	fl.StringVar(&f.rest, "rest", workerconfig.PgmotionListener, "host:port of the Kafka Connect REST API (listeners); its address is the worker's id")
	fl.StringVar(&f.restAuth, "rest-auth", "", `REST API authentication: "basic:USER:PASSWORD" or "bearer:TOKEN" (also `+envRESTAuth+")")
	fl.StringVar(&f.restAuthFile, "rest-auth-file", "", "read --rest-auth's value from this file (first line), which unlike a flag does not show in ps")
	fl.StringVar(&f.restViewer, "rest-viewer-auth", "", `a read-only REST API and console user, in --rest-auth's format; needs --rest-auth (also `+envRESTViewerAuth+")")
	fl.BoolVar(&f.noConsole, "no-console", false, "do not serve the web console under /ui/ on the REST port")
	fl.StringVar(&f.restCert, "rest-tls-cert", "", "serve the REST API over TLS with this certificate file")
	fl.StringVar(&f.restKey, "rest-tls-key", "", "the TLS private key file for --rest-tls-cert")
	fl.StringVar(&f.groupID, "group-id", workerconfig.Default().GroupID, "worker group (group.id): workers sharing it share connectors")
	fl.DurationVar(&f.flushInterval, "offset-flush-interval", workerconfig.PgmotionOffsetFlushInterval, "how often acknowledged positions are written to connect-offsets and confirmed to the slot (offset.flush.interval.ms)")
	fl.StringVar(&f.compression, "compression", kafkasink.DefaultCompression, "producer compression (producer.compression.type): "+kafkasink.Compressions)
	return cmd
}

type fileConnector struct {
	path   string
	name   string
	config map[string]string
}

// connectorFileShape is the fix for a connector file that is not one.
const connectorFileShape = `the file must hold a Kafka Connect request body, {"name": "...", "config": {...}}`

// oneLine returns err with a configuration's problems on one line: Kafka
// Connect's text for them spans several and points at a REST endpoint,
// which the command line has no use for.
func oneLine(err error) error {
	var ve *options.ValidationError
	if errors.As(err, &ve) {
		return &lineError{line: ve.Line(), err: err}
	}
	return err
}

// lineError is an error shown as line; Unwrap reaches the original.
type lineError struct {
	line string
	err  error
}

func (e *lineError) Error() string { return e.line }
func (e *lineError) Unwrap() error { return e.err }

// workerSettings returns the worker's settings: the defaults, the worker
// config file, the environment and the flags that were given, in rising
// precedence (workerconfig.Assemble).
func workerSettings(cmd *cobra.Command, f connectFlags) (*workerconfig.Worker, error) {
	var flags []workerconfig.Property
	for _, p := range []struct{ flag, key, value string }{
		{"bootstrap-servers", workerconfig.PropBootstrapServers, f.bootstrap},
		{"group-id", workerconfig.PropGroupID, f.groupID},
		{"rest", workerconfig.PropListeners, "http://" + f.rest},
		{"offset-flush-interval", workerconfig.PropOffsetFlushInterval, strconv.FormatInt(f.flushInterval.Milliseconds(), 10)},
	} {
		if cmd.Flags().Changed(p.flag) {
			flags = append(flags, workerconfig.Property{Key: p.key, Value: p.value})
		}
	}
	return workerconfig.Assemble(workerconfig.Sources{File: f.workerConfig, Environ: os.Environ(), Flags: flags})
}

func runConnect(cmd *cobra.Command, g *globals, f connectFlags, files []string) error {
	ctx := cmd.Context()
	tuneGC()
	wc, err := connectSettings(cmd, f, g)
	if err != nil {
		return err
	}
	conns, resolver, err := loadConnectors(files, wc)
	if err != nil {
		return err
	}
	prod, err := producerConfig(cmd, f, wc, g)
	if err != nil {
		return err
	}
	// The parts of the process start in order and stop in reverse order
	// within one deadline, whatever state Kafka and PostgreSQL are in; a
	// watchdog ends the process if a step ignores it.
	stopBy := newShutdown(g.log)
	defer stopBy.done()
	grp := newGroup(ctx, g.log, stopBy.ctx)
	defer grp.stop()
	reg := newRegistry()
	kc, err := useKafka(grp, g, f, wc, prod.MaxRequestSize, reg)
	if err != nil {
		return err
	}
	ln, err := openREST(grp, wc, f)
	if err != nil {
		return err
	}
	workerID := wc.Advertised(ln.Addr().String(), hostname())
	w, err := connect.NewWorker(workerConfig(wc, f, kc, prod, reg, resolver, workerID, g))
	if err != nil {
		return err
	}
	grp.onStop(w.Close)
	if err := serveAPI(grp, ln, w, reg, wc, kc, f, g); err != nil {
		return err
	}
	if err := w.Start(ctx); err != nil {
		return err
	}
	g.log.Info("worker ready", "worker_id", workerID, "group", wc.GroupID, "kafka", kc.brokers)
	for _, c := range conns {
		if _, _, err := w.PutConnectorConfig(ctx, c.name, c.config, true, connect.TargetStarted); err != nil {
			return fmt.Errorf("%s: connector %q: %w", c.path, c.name, oneLine(err))
		}
	}
	// From here on nothing a connector does ends the process: a
	// connector that fails is FAILED (or retrying), and the others run on.
	<-ctx.Done()
	g.log.Info("stopping the worker", "within", shutdownTimeout)
	return nil
}

// connectSettings checks that Kafka is given one way and returns the
// worker's settings, having warned of what in them pgmotion ignores.
func connectSettings(cmd *cobra.Command, f connectFlags, g *globals) (*workerconfig.Worker, error) {
	if f.embedded != "" && cmd.Flags().Changed("bootstrap-servers") {
		return nil, errors.New("give one of --bootstrap-servers (an existing Kafka cluster) and --embedded-broker (start one in this process), not both")
	}
	if f.embedded == "" && (f.brokerCert != "" || f.brokerKey != "" || f.brokerUsersFile != "") {
		return nil, errors.New("the --embedded-broker-* flags configure the embedded broker: add --embedded-broker, or drop them")
	}
	wc, err := workerSettings(cmd, f)
	if err != nil {
		return nil, err
	}
	for _, w := range wc.Warnings {
		g.log.Warn(w)
	}
	return wc, nil
}

// loadConnectors reads and checks every connector file, with its config
// provider placeholders resolved, before anything starts: a bad file stops
// the worker with its reason instead of half-starting it. It returns the
// resolver the worker resolves them with.
func loadConnectors(files []string, wc *workerconfig.Worker) ([]fileConnector, *workerconfig.Resolver, error) {
	var conns []fileConnector
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("read connector file: %w", err)
		}
		name, cfg, err := options.ParseConnectorJSON(data)
		var ve *options.ValidationError
		switch {
		case errors.As(err, &ve):
			return nil, nil, fmt.Errorf("%s: %w", path, oneLine(err))
		case err != nil:
			return nil, nil, fmt.Errorf("%s: %w: %s", path, err, connectorFileShape)
		}
		conns = append(conns, fileConnector{path: path, name: name, config: cfg})
	}
	resolver, err := workerconfig.NewResolver(wc, os.Environ())
	if err != nil {
		return nil, nil, err
	}
	for _, c := range conns {
		resolved, err := resolver.Resolve(c.config)
		if err == nil {
			_, err = pipeline.ValidateConfig(c.name, resolved)
		}
		if err != nil {
			// A validation message may quote a value a provider returned.
			return nil, nil, fmt.Errorf("%s: connector %q: %s", c.path, c.name, resolver.Scrubber(c.config)(oneLine(err).Error()))
		}
	}
	return conns, resolver, nil
}

// producerConfig returns the producer's settings (--compression, when
// given, over producer.compression.type) and warns of the producer.*
// overrides it does not use.
func producerConfig(cmd *cobra.Command, f connectFlags, wc *workerconfig.Worker, g *globals) (workerconfig.Producer, error) {
	var compression *string
	if cmd.Flags().Changed("compression") {
		compression = &f.compression
	}
	prod, err := wc.ProducerConfig(compression)
	if err != nil {
		return prod, err
	}
	for _, p := range prod.Unused {
		g.log.Warn("producer override is not used by pgmotion's producer yet", "property", p)
	}
	return prod, nil
}

// kafkaCluster is the Kafka the worker uses: the cluster its settings
// name, or the embedded broker.
type kafkaCluster struct {
	brokers []string
	opts    []kgo.Opt // the embedded broker's TLS and SASL
	// oneBroker is set for the embedded broker: the internal topics take
	// its default replication whatever the settings say.
	oneBroker bool
}

// useKafka returns the Kafka the worker uses: with --embedded-broker, the
// broker it starts as a part of grp, whose metrics reg serves; otherwise
// the worker settings' bootstrap servers.
func useKafka(grp *group, g *globals, f connectFlags, wc *workerconfig.Worker, maxRequest int32, reg *prometheus.Registry) (kafkaCluster, error) {
	if f.embedded == "" {
		return kafkaCluster{brokers: wc.BootstrapServers}, nil
	}
	var err error
	if f.brokerUsers, err = broker.LoadSASLUsers(f.brokerUsersFile, os.Getenv); err != nil {
		return kafkaCluster{}, err
	}
	addr, opts, err := startEmbeddedBroker(grp, g, f, int(maxRequest))
	if err != nil {
		return kafkaCluster{}, err
	}
	bc, bcl, err := newBrokerCollector(addr, opts...) // brokermetrics.go
	if err != nil {
		return kafkaCluster{}, err
	}
	grp.onStop(func(context.Context) { bcl.Close() })
	reg.MustRegister(bc)
	return kafkaCluster{brokers: []string{addr}, opts: opts, oneBroker: true}, nil
}

// openREST opens the REST API's listener, on the first of the worker's
// listeners, as a part of grp.
func openREST(grp *group, wc *workerconfig.Worker, f connectFlags) (net.Listener, error) {
	listen := f.rest
	if len(wc.Listeners) > 0 {
		listen = wc.Listeners[0]
	}
	if wc.ListenersHTTPS && f.restCert == "" {
		return nil, fmt.Errorf("listeners=https://%s: give the REST API's TLS certificate and key with --rest-tls-cert and --rest-tls-key (PEM files); pgmotion reads no listeners.https.ssl.* keystore", listen)
	}
	ln, err := listenREST(listen, f)
	if err != nil {
		return nil, err
	}
	grp.onStop(func(context.Context) { ln.Close() })
	return ln, nil
}

// hostname is the host's name, or "" when it has none.
func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return h
}

// workerConfig is the configuration of the worker with the id workerID,
// from its settings, on Kafka kc.
func workerConfig(wc *workerconfig.Worker, f connectFlags, kc kafkaCluster, prod workerconfig.Producer, reg *prometheus.Registry,
	resolver *workerconfig.Resolver, workerID string, g *globals) connect.WorkerConfig {
	replication := func(r int16) int16 {
		if kc.oneBroker {
			return -1
		}
		return r
	}
	return connect.WorkerConfig{
		Metrics:     reg,
		Progress:    os.Stderr,
		Brokers:     kc.brokers,
		KafkaOpts:   kc.opts,
		Kafka:       wc.KafkaClients(),
		ConfigTopic: wc.ConfigTopic, StatusTopic: wc.StatusTopic, OffsetTopic: wc.OffsetTopic,
		StatusPartitions: wc.StatusPartitions, OffsetPartitions: wc.OffsetPartitions,
		ConfigReplication: replication(wc.ConfigReplication), StatusReplication: replication(wc.StatusReplication),
		OffsetReplication: replication(wc.OffsetReplication),
		FlushInterval:     wc.OffsetFlushInterval,
		Compression:       prod.Compression,
		MaxRequestSize:    prod.MaxRequestSize,
		WorkerID:          workerID,
		GroupID:           wc.GroupID,
		SessionTimeout:    wc.SessionTimeout,
		HeartbeatInterval: wc.HeartbeatInterval,
		RebalanceTimeout:  wc.RebalanceTimeout,
		Resolve:           resolver.Resolve,
		Scrub:             resolver.Scrubber,
		Converters:        wc.Converters(),
		DataDir:           f.dataDir,
		ReserveMemory:     reserveMemory,
		Log:               g.log,
		Loggers:           g.levels,

		ExactlyOnceSource:         wc.ExactlyOnceSource,
		DisableTopicTracking:      !wc.TopicTracking,
		DisableTopicTrackingReset: !wc.TopicTrackingReset,
	}
}

// serveAPI serves the Kafka Connect REST API over w on ln, with the web
// console under it unless --no-console, as parts of grp.
func serveAPI(grp *group, ln net.Listener, w *connect.Worker, reg *prometheus.Registry, wc *workerconfig.Worker, kc kafkaCluster, f connectFlags, g *globals) error {
	auth, err := restAuthValue(f)
	if err != nil {
		return err
	}
	viewerAuth := f.restViewer
	if viewerAuth == "" {
		viewerAuth = os.Getenv(envRESTViewerAuth)
	}
	var ui *console.Console
	if !f.noConsole {
		// The console reaches Kafka as the worker's own clients do.
		opts, _, err := kafkaClientOpts(wc) // doctor.go
		if err != nil {
			return err
		}
		if ui, err = startConsole(grp, kc.brokers, append(opts, kc.opts...), reg, wc.ConfigTopic, g); err != nil {
			return err
		}
	}
	return serveREST(grp, ln, w, reg, restAuth{admin: auth, viewer: viewerAuth}, ui, f, g)
}

// listenREST opens the REST API's listener, with TLS when configured.
func listenREST(addr string, f connectFlags) (net.Listener, error) {
	if (f.restCert == "") != (f.restKey == "") {
		return nil, errors.New("--rest-tls-cert and --rest-tls-key go together: give both or neither")
	}
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("REST API: %s is already in use (by another worker?): stop it, or pick another address with --rest", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("REST API: %w", err)
	}
	if f.restCert != "" {
		cert, err := tls.LoadX509KeyPair(f.restCert, f.restKey)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("REST API TLS: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	return ln, nil
}

// newRegistry returns the worker's Prometheus registry, with the Go
// runtime's and the process's own metrics.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// startConsole returns the web console over brokers, as a part of grp: it
// samples reg for its CDC views until grp stops.
func startConsole(grp *group, brokers []string, opts []kgo.Opt, reg *prometheus.Registry, configTopic string, g *globals) (*console.Console, error) {
	ui, err := console.New(console.Options{Brokers: brokers, ClientOpts: opts, Metrics: reg, Log: g.log, ConfigTopic: configTopic})
	if err != nil {
		return nil, err
	}
	grp.run("console", ui.Run, func(context.Context) { ui.Close() })
	return ui, nil
}

// The environment variables that set the REST API's credentials when
// their flags (--rest-auth, --rest-viewer-auth) are not given.
const (
	envRESTAuth       = "PGMOTION_REST_AUTH"
	envRESTViewerAuth = "PGMOTION_REST_VIEWER_AUTH"
)

// restAuth holds the REST API's credentials.
type restAuth struct{ admin, viewer string }

// restAuthValue is the REST API's admin credential: --rest-auth, else the
// first line of --rest-auth-file, else PGMOTION_REST_AUTH. A flag's value
// shows in ps; the file and the environment do not.
func restAuthValue(f connectFlags) (string, error) {
	switch {
	case f.restAuth != "" && f.restAuthFile != "":
		return "", errors.New("give one of --rest-auth and --rest-auth-file, not both")
	case f.restAuth != "":
		return f.restAuth, nil
	case f.restAuthFile != "":
		data, err := os.ReadFile(f.restAuthFile)
		if err != nil {
			return "", fmt.Errorf("--rest-auth-file: %w", err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		line = strings.TrimSpace(line)
		if line == "" {
			return "", fmt.Errorf("--rest-auth-file %s is empty: write basic:USER:PASSWORD or bearer:TOKEN on its first line", f.restAuthFile)
		}
		return line, nil
	}
	return os.Getenv(envRESTAuth), nil
}

// The REST server's timeouts. Jetty, which serves Kafka Connect, closes a
// connection idle for 30 s; a request's headers and body must arrive
// within ReadTimeout. There is no write timeout: the console's live views
// stream server-sent events for as long as they are open.
const (
	restReadHeaderTimeout = 10 * time.Second
	restReadTimeout       = 30 * time.Second
	restIdleTimeout       = 30 * time.Second
)

// warnOpenREST warns when the REST API can be reached beyond this host
// with no credentials: anyone who can reach it may create connectors.
func warnOpenREST(addr net.Addr, auth string, g *globals) {
	if auth != "" {
		return
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsLoopback() {
		return
	}
	g.log.Warn("the REST API listens beyond loopback without authentication: anyone who can reach it can create, change and delete connectors; "+
		"set --rest-auth-file (or "+envRESTAuth+"), or listen on 127.0.0.1", "addr", addr.String())
}

// serveREST serves the Kafka Connect REST API over h on ln, with ui (if
// not nil) under console.Prefix, as an actor of grp: it serves until grp
// stops, which shuts it down within the stop's deadline.
func serveREST(grp *group, ln net.Listener, h connect.Herder, reg *prometheus.Registry, auth restAuth, ui *console.Console, f connectFlags, g *globals) error {
	o := rest.Options{Herder: h, Auth: auth.admin, ViewerAuth: auth.viewer, Log: g.log,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelError)})}
	if ui != nil {
		o.Console = ui
	}
	handler, err := rest.NewHandler(o)
	if err != nil {
		return err
	}
	// Shutdown waits for the requests in flight but ends none of them; a
	// stream (the console's live tail, a search) would hold it until the
	// stop's deadline, taking the time the steps after it (the worker's
	// final flushes) need, or for ever under a stop without one (demo).
	// So the requests' contexts end when the shutdown begins.
	reqCtx, endRequests := context.WithCancel(context.Background())
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: restReadHeaderTimeout, ReadTimeout: restReadTimeout, IdleTimeout: restIdleTimeout,
		BaseContext: func(net.Listener) context.Context { return reqCtx }}
	srv.RegisterOnShutdown(endRequests)
	warnOpenREST(ln.Addr(), auth.admin, g)
	grp.run("REST API stopped", func(context.Context) error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, func(ctx context.Context) { srv.Shutdown(ctx) })
	scheme := "http"
	if f.restCert != "" {
		scheme = "https"
	}
	g.log.Info("REST API listening", "url", scheme+"://"+ln.Addr().String())
	if ui != nil {
		g.log.Info("console", "url", scheme+"://"+ln.Addr().String()+console.Prefix)
	}
	return nil
}

// startEmbeddedBroker starts the broker as a part of grp and returns its
// address and the options a client in this process connects to it with
// (TLS and SASL, when it requires them). The broker outlives the parts
// added after it (the connectors write their final offsets to it while
// stopping): it stops in its turn, and a failure to stop cleanly within
// the stop's deadline is logged. It accepts what the worker's producer may
// send (producer.max.request.size), and at least Kafka's default.
func startEmbeddedBroker(grp *group, g *globals, f connectFlags, maxRequest int) (string, []kgo.Opt, error) {
	dir := filepath.Join(f.dataDir, "broker")
	b, err := broker.New(broker.Options{Listen: f.embedded, DataDir: dir, MessageMaxBytes: max(maxRequest+1024, broker.DefaultMessageMaxBytes),
		TLSCertFile: f.brokerCert, TLSKeyFile: f.brokerKey, SASLUsers: f.brokerUsers, Log: g.log.With("component", "broker")})
	if err != nil {
		return "", nil, embeddedBrokerError(err, f)
	}
	ctx, stop := context.WithCancel(context.WithoutCancel(grp.ctx))
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx) }()
	select {
	case <-b.Ready():
	case err := <-errc:
		stop()
		return "", nil, embeddedBrokerError(err, f)
	}
	grp.onStop(func(within context.Context) {
		stop()
		select {
		case err := <-errc:
			if err != nil {
				g.log.Error("embedded broker", "err", err)
			}
		case <-within.Done():
			g.log.Error("embedded broker", "err", errors.New("the embedded broker did not stop before the shutdown deadline"))
		}
	})
	g.log.Info("embedded broker ready", "addr", b.Addr(), "data_dir", dir)
	return b.Addr(), b.ClientOpts(), nil
}

// embeddedBrokerError names, for a busy address, the flag of this command
// that picks another.
func embeddedBrokerError(err error, f connectFlags) error {
	if !errors.Is(err, syscall.EADDRINUSE) {
		return err
	}
	flag := f.embeddedFlag
	if flag == "" {
		flag = "--embedded-broker"
	}
	return fmt.Errorf("embedded broker: %s is already in use (by another broker or pgmotion?): stop it, or pick another address with %s", f.embedded, flag)
}
