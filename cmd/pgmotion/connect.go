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
	"sync"
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
	"github.com/pgmotion/pgmotion/internal/kafkaclient"
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
	fl.StringVar(&f.restAuth, "rest-auth", "", `REST API authentication: "basic:USER:PASSWORD" or "bearer:TOKEN" (also PGMOTION_REST_AUTH)`)
	fl.StringVar(&f.restAuthFile, "rest-auth-file", "", "read --rest-auth's value from this file (first line), which unlike a flag does not show in ps")
	fl.StringVar(&f.restViewer, "rest-viewer-auth", "", `a read-only REST API and console user, in --rest-auth's format; needs --rest-auth (also PGMOTION_REST_VIEWER_AUTH)`)
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

// workerSettings merges defaults, the worker config file, the environment
// and the flags that were given, in rising precedence.
func workerSettings(cmd *cobra.Command, f connectFlags) (*workerconfig.Worker, error) {
	wc := workerconfig.Default()
	if f.workerConfig != "" {
		var err error
		if wc, err = workerconfig.Load(f.workerConfig); err != nil {
			return nil, err
		}
	}
	if err := wc.ApplyEnv(os.Environ()); err != nil {
		return nil, err
	}
	set := func(flag, key, value string) error {
		if cmd.Flags().Changed(flag) {
			return wc.Set(key, value)
		}
		return nil
	}
	if err := errors.Join(
		set("bootstrap-servers", workerconfig.PropBootstrapServers, f.bootstrap),
		set("group-id", workerconfig.PropGroupID, f.groupID),
		set("rest", workerconfig.PropListeners, "http://"+f.rest),
		set("offset-flush-interval", workerconfig.PropOffsetFlushInterval, strconv.FormatInt(f.flushInterval.Milliseconds(), 10)),
	); err != nil {
		return nil, err
	}
	if wc.Source(workerconfig.PropGroupID) == "" {
		wc.GroupID = f.groupID
	}
	if wc.Source(workerconfig.PropListeners) == "" {
		wc.Listeners = []string{f.rest}
	}
	// Kafka Connect asks for 3 replicas of its topics, which a small
	// cluster refuses; unless told, use the cluster's own default.
	for _, r := range []struct {
		key string
		v   *int16
	}{
		{workerconfig.PropConfigReplication, &wc.ConfigReplication},
		{workerconfig.PropOffsetReplication, &wc.OffsetReplication},
		{workerconfig.PropStatusReplication, &wc.StatusReplication},
	} {
		if wc.Source(r.key) == "" {
			*r.v = -1
		}
	}
	if wc.Source(workerconfig.PropOffsetFlushInterval) == "" {
		// pgmotion's flush interval (PgmotionOffsetFlushInterval unless
		// the flag says otherwise), not Kafka Connect's 60 s.
		wc.OffsetFlushInterval = f.flushInterval
	}
	return wc, wc.Validate()
}

func runConnect(cmd *cobra.Command, g *globals, f connectFlags, files []string) error {
	ctx := cmd.Context()
	tuneGC()
	if f.embedded != "" && cmd.Flags().Changed("bootstrap-servers") {
		return errors.New("give one of --bootstrap-servers (an existing Kafka cluster) and --embedded-broker (start one in this process), not both")
	}
	if f.embedded == "" && (f.brokerCert != "" || f.brokerKey != "" || f.brokerUsersFile != "") {
		return errors.New("the --embedded-broker-* flags configure the embedded broker: add --embedded-broker, or drop them")
	}
	wc, err := workerSettings(cmd, f)
	if err != nil {
		return err
	}
	for _, w := range wc.Warnings {
		g.log.Warn(w)
	}
	// Read and check every connector before starting anything, so a bad
	// file stops the worker with its reason instead of half-starting it.
	var conns []fileConnector
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read connector file: %w", err)
		}
		name, cfg, err := options.ParseConnectorJSON(data)
		var ve *options.ValidationError
		switch {
		case errors.As(err, &ve):
			return fmt.Errorf("%s: %w", path, oneLine(err))
		case err != nil:
			return fmt.Errorf("%s: %w: %s", path, err, connectorFileShape)
		}
		conns = append(conns, fileConnector{path: path, name: name, config: cfg})
	}
	resolver, err := workerconfig.NewResolver(wc, os.Environ())
	if err != nil {
		return err
	}
	for _, c := range conns {
		resolved, err := resolver.Resolve(c.config)
		if err == nil {
			_, err = pipeline.ValidateConfig(c.name, resolved)
		}
		if err != nil {
			// A validation message may quote a value a provider returned.
			return fmt.Errorf("%s: connector %q: %s", c.path, c.name, resolver.Scrubber(c.config)(oneLine(err).Error()))
		}
	}

	if c, ok := wc.Producer[kafkasink.PropCompressionType]; ok && !cmd.Flags().Changed("compression") {
		f.compression = c
	}
	if err := kafkasink.CheckCompression(f.compression); err != nil {
		return err
	}
	var maxRequest int32
	if v, ok := wc.Producer[kafkasink.PropMaxRequestSize]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil || n < 1024 {
			return fmt.Errorf("producer.max.request.size=%q: want a number of bytes of at least 1024", v)
		}
		maxRequest = int32(n)
	}
	for k := range wc.Producer {
		if k != kafkasink.PropCompressionType && k != kafkasink.PropMaxRequestSize && !kafkaclient.IsSecurityKey(k) {
			g.log.Warn("producer override is not used by pgmotion's producer yet", "property", "producer."+k)
		}
	}
	// Shutdown: every step shares one deadline, whatever state Kafka and
	// PostgreSQL are in; a watchdog ends the process if a step ignores it.
	stopBy := newShutdown(g.log)
	defer stopBy.done()
	brokers := wc.BootstrapServers
	replication := func(r int16) int16 { return r }
	reg := newRegistry()
	var kafkaOpts []kgo.Opt
	if f.embedded != "" {
		if f.brokerUsers, err = broker.LoadSASLUsers(f.brokerUsersFile, os.Getenv); err != nil {
			return err
		}
		// The broker outlives the connectors: they write their final
		// offsets to it while stopping.
		bctx, stopBroker := context.WithCancel(context.WithoutCancel(ctx))
		addr, opts, wait, err := startEmbeddedBroker(bctx, g, f, int(maxRequest))
		if err != nil {
			stopBroker()
			return err
		}
		defer func() {
			stopBroker()
			if err := wait(stopBy.ctx()); err != nil {
				g.log.Error("embedded broker", "err", err)
			}
		}()
		brokers = []string{addr}
		kafkaOpts = opts
		replication = func(int16) int16 { return -1 }          // one broker
		bc, bcl, err := newBrokerCollector(addr, kafkaOpts...) // brokermetrics.go
		if err != nil {
			return err
		}
		defer bcl.Close()
		reg.MustRegister(bc)
	}

	listen := f.rest
	if len(wc.Listeners) > 0 {
		listen = wc.Listeners[0]
	}
	if wc.ListenersHTTPS && f.restCert == "" {
		return fmt.Errorf("listeners=https://%s: give the REST API's TLS certificate and key with --rest-tls-cert and --rest-tls-key (PEM files); pgmotion reads no listeners.https.ssl.* keystore", listen)
	}
	ln, err := listenREST(listen, f)
	if err != nil {
		return err
	}
	defer ln.Close()
	workerID := advertised(wc, ln.Addr().String())
	w, err := connect.NewWorker(connect.WorkerConfig{
		Metrics:     reg,
		Progress:    os.Stderr,
		Brokers:     brokers,
		KafkaOpts:   kafkaOpts,
		Kafka:       wc.KafkaClients(),
		ConfigTopic: wc.ConfigTopic, StatusTopic: wc.StatusTopic, OffsetTopic: wc.OffsetTopic,
		StatusPartitions: wc.StatusPartitions, OffsetPartitions: wc.OffsetPartitions,
		ConfigReplication: replication(wc.ConfigReplication), StatusReplication: replication(wc.StatusReplication),
		OffsetReplication: replication(wc.OffsetReplication),
		FlushInterval:     wc.OffsetFlushInterval,
		Compression:       f.compression,
		MaxRequestSize:    maxRequest,
		WorkerID:          workerID,
		GroupID:           wc.GroupID,
		SessionTimeout:    wc.SessionTimeout,
		HeartbeatInterval: wc.HeartbeatInterval,
		RebalanceTimeout:  wc.RebalanceTimeout,
		Resolve:           resolver.Resolve,
		Scrub:             resolver.Scrubber,
		Converters:        workerConverters(wc),
		DataDir:           f.dataDir,
		ReserveMemory:     reserveMemory,
		Log:               g.log,
		Loggers:           g.levels,

		ExactlyOnceSource:         wc.ExactlyOnceSource,
		DisableTopicTracking:      !wc.TopicTracking,
		DisableTopicTrackingReset: !wc.TopicTrackingReset,
	})
	if err != nil {
		return err
	}
	defer func() { w.Close(stopBy.ctx()) }()

	auth, err := restAuthValue(f)
	if err != nil {
		return err
	}
	viewerAuth := f.restViewer
	if viewerAuth == "" {
		viewerAuth = os.Getenv("PGMOTION_REST_VIEWER_AUTH")
	}
	var ui *console.Console
	if !f.noConsole {
		// The console reaches Kafka as the worker's own clients do.
		sec, err := kafkaclient.Parse(wc.KafkaClients().Worker, "")
		if err != nil {
			return err
		}
		if ui, err = startConsole(ctx, brokers, append(sec.Opts(), kafkaOpts...), reg, g); err != nil {
			return err
		}
		defer ui.Close()
	}
	srv, err := serveREST(ln, w, reg, restAuth{admin: auth, viewer: viewerAuth}, ui, f, g)
	if err != nil {
		return err
	}
	defer func() { srv.Shutdown(stopBy.ctx()) }()

	if err := w.Start(ctx); err != nil {
		return err
	}
	g.log.Info("worker ready", "worker_id", workerID, "group", wc.GroupID, "kafka", brokers)
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

// shutdownTimeout bounds a worker's clean stop: stopping its connectors
// with their final flushes and offset writes, leaving the worker group,
// the REST API and the embedded broker. watchdogTimeout ends the process
// if a step overruns it anyway.
const (
	shutdownTimeout = 8 * time.Second
	watchdogTimeout = 10 * time.Second
)

// shutdown is the deadline the steps of a worker's stop share: its clock
// starts when the first step asks for it.
type shutdown struct {
	log    *slog.Logger
	once   sync.Once
	c      context.Context
	cancel context.CancelFunc
	dog    *time.Timer
}

func newShutdown(log *slog.Logger) *shutdown { return &shutdown{log: log} }

func (s *shutdown) ctx() context.Context {
	s.once.Do(func() {
		s.c, s.cancel = context.WithTimeout(context.Background(), shutdownTimeout)
		s.dog = time.AfterFunc(watchdogTimeout, func() {
			s.log.Error("the worker did not stop in time; exiting now (what was not written to Kafka comes again after a restart)", "after", watchdogTimeout)
			os.Exit(1)
		})
	})
	return s.c
}

// done ends the deadline and the watchdog once every step has run.
func (s *shutdown) done() {
	s.ctx()
	s.cancel()
	s.dog.Stop()
}

// advertised is the worker's id: the REST address other workers and
// clients reach it at (rest.advertised.host.name and .port when set).
func advertised(wc *workerconfig.Worker, listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	if wc.AdvertisedHost != "" {
		host = wc.AdvertisedHost
	}
	if wc.AdvertisedPort != 0 {
		port = strconv.Itoa(wc.AdvertisedPort)
	}
	return net.JoinHostPort(host, port)
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

// serveREST serves the Kafka Connect REST API over h on ln, on a
// goroutine, until the returned server is shut down.
// newRegistry returns the worker's Prometheus registry, with the Go
// runtime's and the process's own metrics.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// startConsole returns the web console over brokers, sampling reg for its
// CDC views until ctx ends.
func startConsole(ctx context.Context, brokers []string, opts []kgo.Opt, reg *prometheus.Registry, g *globals) (*console.Console, error) {
	ui, err := console.New(console.Options{Brokers: brokers, ClientOpts: opts, Metrics: reg, Log: g.log})
	if err != nil {
		return nil, err
	}
	go func() { _ = ui.Run(ctx) }()
	return ui, nil
}

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
	return os.Getenv("PGMOTION_REST_AUTH"), nil
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
		"set --rest-auth-file (or PGMOTION_REST_AUTH), or listen on 127.0.0.1", "addr", addr.String())
}

func serveREST(ln net.Listener, h connect.Herder, reg *prometheus.Registry, auth restAuth, ui *console.Console, f connectFlags, g *globals) (*http.Server, error) {
	o := rest.Options{Herder: h, Auth: auth.admin, ViewerAuth: auth.viewer, Log: g.log,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(g.log.Handler(), slog.LevelError)})}
	if ui != nil {
		o.Console = ui
	}
	handler, err := rest.NewHandler(o)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: restReadHeaderTimeout, ReadTimeout: restReadTimeout, IdleTimeout: restIdleTimeout}
	warnOpenREST(ln.Addr(), auth.admin, g)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.log.Error("REST API stopped", "err", err)
		}
	}()
	scheme := "http"
	if f.restCert != "" {
		scheme = "https"
	}
	g.log.Info("REST API listening", "url", scheme+"://"+ln.Addr().String())
	if ui != nil {
		g.log.Info("console", "url", scheme+"://"+ln.Addr().String()+console.Prefix)
	}
	return srv, nil
}

// startEmbeddedBroker runs the broker until ctx ends and returns its
// address, the options a client in this process connects to it with (TLS
// and SASL, when it requires them) and a function that waits for it to stop.
// The broker accepts what the worker's producer may send
// (producer.max.request.size), and at least Kafka's default.
func startEmbeddedBroker(ctx context.Context, g *globals, f connectFlags, maxRequest int) (string, []kgo.Opt, func(context.Context) error, error) {
	dir := filepath.Join(f.dataDir, "broker")
	b, err := broker.New(broker.Options{Listen: f.embedded, DataDir: dir, MessageMaxBytes: max(maxRequest+1024, broker.DefaultMessageMaxBytes),
		TLSCertFile: f.brokerCert, TLSKeyFile: f.brokerKey, SASLUsers: f.brokerUsers, Log: g.log.With("component", "broker")})
	if err != nil {
		return "", nil, nil, embeddedBrokerError(err, f)
	}
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx) }()
	select {
	case <-b.Ready():
	case err := <-errc:
		return "", nil, nil, embeddedBrokerError(err, f)
	}
	g.log.Info("embedded broker ready", "addr", b.Addr(), "data_dir", dir)
	return b.Addr(), b.ClientOpts(), func(stop context.Context) error {
		select {
		case err := <-errc:
			return err
		case <-stop.Done():
			return errors.New("the embedded broker did not stop before the shutdown deadline")
		}
	}, nil
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

// workerConverters is the worker's converter settings, which connectors
// without their own inherit.
func workerConverters(wc *workerconfig.Worker) map[string]string {
	out := map[string]string{
		workerconfig.PropKeyConverter:   wc.KeyConverter,
		workerconfig.PropValueConverter: wc.ValueConverter,
		workerconfig.PropKeySchemas:     strconv.FormatBool(wc.KeySchemas),
		workerconfig.PropValueSchemas:   strconv.FormatBool(wc.ValueSchemas),
	}
	for k, v := range wc.Unknown {
		if strings.HasPrefix(k, workerconfig.PropKeyConverter+".") || strings.HasPrefix(k, workerconfig.PropValueConverter+".") {
			out[k] = v
		}
	}
	return out
}
