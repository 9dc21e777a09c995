package workerconfig

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pgmotion/pgmotion/internal/options"
)

// Property names, written once. Those of DistributedConfig, WorkerConfig
// and RestServerConfig in Kafka's connect/runtime; the converter settings
// share their names with a connector's, which internal/options declares.
const (
	PropBootstrapServers    = "bootstrap.servers"
	PropGroupID             = "group.id"
	PropConfigTopic         = "config.storage.topic"
	PropOffsetTopic         = "offset.storage.topic"
	PropStatusTopic         = "status.storage.topic"
	PropConfigReplication   = "config.storage.replication.factor"
	PropOffsetReplication   = "offset.storage.replication.factor"
	PropStatusReplication   = "status.storage.replication.factor"
	PropOffsetPartitions    = "offset.storage.partitions"
	PropStatusPartitions    = "status.storage.partitions"
	PropListeners           = "listeners"
	PropAdvertisedHost      = "rest.advertised.host.name"
	PropAdvertisedPort      = "rest.advertised.port"
	PropAdvertisedListener  = "rest.advertised.listener"
	PropKeyConverter        = options.PropKeyConverter
	PropValueConverter      = options.PropValueConverter
	PropHeaderConverter     = options.PropHeaderConverter
	PropKeySchemas          = options.PropKeySchemasEnable
	PropValueSchemas        = options.PropValueSchemasEnable
	PropOffsetFlushInterval = "offset.flush.interval.ms"
	PropOffsetFlushTimeout  = "offset.flush.timeout.ms"
	PropSessionTimeout      = "session.timeout.ms"
	PropHeartbeatInterval   = "heartbeat.interval.ms"
	PropRebalanceTimeout    = "rebalance.timeout.ms"
	PropPluginPath          = "plugin.path"
	PropConfigProviders     = "config.providers"
	PropTopicTracking       = "topic.tracking.enable"
	PropTopicTrackingReset  = "topic.tracking.allow.reset"

	prefixProducer        = "producer."
	prefixConsumer        = "consumer."
	prefixConfigProviders = PropConfigProviders + "."
)

// pgmotion's defaults where they differ from Kafka Connect's. Assemble
// applies them when neither the worker config file, the environment nor a
// flag sets the property.
const (
	// PgmotionListener is pgmotion's listeners: the loopback interface
	// only, where Kafka Connect listens on every interface (:8083). It is
	// also the worker's id when none is given.
	PgmotionListener = "127.0.0.1:8083"
	// PgmotionOffsetFlushInterval is pgmotion's offset.flush.interval.ms:
	// Kafka Connect waits 60 s; pgmotion confirms every second, so a
	// restart repeats less and the slot holds less WAL.
	PgmotionOffsetFlushInterval = time.Second
)

// PropExactlyOnceSource is KIP-618's worker property.
const PropExactlyOnceSource = "exactly.once.source.support"

// The values of exactly.once.source.support. With preparing, Kafka's
// leader writes the config topic transactionally so that a cluster can be
// rolled to enabled; pgmotion has nothing to prepare, and runs tasks as
// with disabled. With enabled, every source task writes its records and
// its offsets in producer transactions.
const (
	EOSDisabled  = "disabled"
	EOSPreparing = "preparing"
	EOSEnabled   = "enabled"
)

// JSONConverter is Kafka's JsonConverter, pgmotion's default key and value
// converter (Kafka Connect has no default and requires both).
const JSONConverter = options.JSONConverterClass

// Worker is a Kafka Connect distributed worker configuration, as pgmotion
// uses it. Build one with Default, Load or Parse, then apply ApplyEnv and
// Set in that order (flags > environment > file > defaults), then Validate,
// or let Assemble do it.
//
// A Worker is not safe for concurrent use while ApplyEnv or Set run; once
// built it may be read from many goroutines.
type Worker struct {
	// BootstrapServers is bootstrap.servers as host:port pairs (a
	// "PLAINTEXT://" style prefix is dropped). Default localhost:9092.
	BootstrapServers []string
	// GroupID is group.id. Kafka Connect requires it; pgmotion defaults
	// to "connect-cluster".
	GroupID string
	// The internal topics. Kafka Connect requires them; pgmotion defaults
	// to connect-configs, connect-offsets and connect-status.
	ConfigTopic, OffsetTopic, StatusTopic string
	// *.storage.replication.factor: default 3; -1 means the broker's
	// default.
	ConfigReplication, OffsetReplication, StatusReplication int16
	// offset.storage.partitions (default 25) and status.storage.partitions
	// (default 5); -1 means the broker's default.
	OffsetPartitions, StatusPartitions int32
	// Listeners is listeners (default http://:8083) as host:port
	// addresses, ":8083" for all interfaces. ListenersHTTPS says they are
	// https:// (a list may not mix the two): the REST API then needs its
	// certificate and key (--rest-tls-cert, --rest-tls-key), since
	// pgmotion reads no listeners.https.ssl.* keystore.
	Listeners      []string
	ListenersHTTPS bool
	// rest.advertised.host.name, rest.advertised.port (0: not set) and
	// rest.advertised.listener ("http" unless set; Kafka derives it the
	// same way from listeners).
	AdvertisedHost     string
	AdvertisedPort     int
	AdvertisedProtocol string
	// key.converter and value.converter (default JSONConverter) and their
	// schemas.enable (JsonConverter's default, true).
	KeyConverter, ValueConverter string
	KeySchemas, ValueSchemas     bool
	// offset.flush.interval.ms (default 60000) and offset.flush.timeout.ms
	// (default 5000).
	OffsetFlushInterval, OffsetFlushTimeout time.Duration
	// session.timeout.ms (10000), heartbeat.interval.ms (3000) and
	// rebalance.timeout.ms (60000).
	SessionTimeout, HeartbeatInterval, RebalanceTimeout time.Duration
	// topic.tracking.enable and topic.tracking.allow.reset (KIP-558),
	// both true by default: record the topics each connector writes to in
	// the status topic, and allow PUT /connectors/{name}/topics/reset.
	TopicTracking, TopicTrackingReset bool
	// ExactlyOnceSource is exactly.once.source.support (KIP-618):
	// EOSDisabled (the default, as in Kafka), EOSPreparing or EOSEnabled.
	ExactlyOnceSource string
	// Producer and Consumer hold the producer.* and consumer.* overrides
	// with the prefix removed.
	Producer, Consumer map[string]string
	// ConfigProviders maps each name listed in config.providers to its
	// config.providers.<name>.class ("" when that is not set). Only these
	// providers are enabled, as in Kafka; see NewResolver.
	ConfigProviders map[string]string
	// PluginPath is plugin.path, accepted and ignored with a warning:
	// pgmotion's plugins are built in.
	PluginPath string
	// Unknown holds every other property, kept as given (after placeholder
	// resolution), including the ones pgmotion ignores with a warning.
	Unknown map[string]string
	// Warnings has one line per property that pgmotion accepts but does
	// not use, and per oddity found while reading (a key set twice, a
	// provider listed without a class). Warnings never contain values.
	Warnings []string

	providersSet  bool              // config.providers was given, maybe empty
	providerProps map[string]string // config.providers and config.providers.*, as given
	environ       []string          // for ${env:...} in worker properties; nil: os.Environ
	sources       map[string]string // property → where its value came from
	warned        map[string]bool
}

// Default returns the configuration of a worker given no properties.
func Default() *Worker {
	return &Worker{
		BootstrapServers:    []string{"localhost:9092"},
		GroupID:             "connect-cluster",
		ConfigTopic:         "connect-configs",
		OffsetTopic:         "connect-offsets",
		StatusTopic:         "connect-status",
		ConfigReplication:   3,
		OffsetReplication:   3,
		StatusReplication:   3,
		OffsetPartitions:    25,
		StatusPartitions:    5,
		Listeners:           []string{":8083"},
		AdvertisedProtocol:  "http",
		KeyConverter:        JSONConverter,
		ValueConverter:      JSONConverter,
		KeySchemas:          true,
		ValueSchemas:        true,
		OffsetFlushInterval: 60 * time.Second,
		OffsetFlushTimeout:  5 * time.Second,
		SessionTimeout:      10 * time.Second,
		HeartbeatInterval:   3 * time.Second,
		RebalanceTimeout:    60 * time.Second,
		TopicTracking:       true,
		TopicTrackingReset:  true,
		ExactlyOnceSource:   EOSDisabled,
		Producer:            map[string]string{},
		Consumer:            map[string]string{},
		ConfigProviders:     map[string]string{},
		Unknown:             map[string]string{},
	}
}

// Load reads a worker properties file (connect-distributed.properties).
// Errors name the file, the line and the property.
func Load(path string) (*Worker, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read worker config: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads worker properties from r; name (usually the file's path)
// prefixes error locations. It starts from Default. Placeholders such as
// ${file:/path:key} in values are resolved before the values are checked,
// with the providers the properties configure, as Kafka's AbstractConfig
// does for worker configs (KIP-421); ${env:...} reads the process
// environment. Every bad property is reported, not only the first.
func Parse(r io.Reader, name string) (*Worker, error) {
	if name == "" {
		name = "worker config"
	}
	props, err := ReadProperties(r)
	if err != nil {
		var se *SyntaxError
		if errors.As(err, &se) {
			key := se.Key
			if key == "" {
				key = "key"
			}
			return nil, fmt.Errorf("%s:%d: %s: %w", name, se.Line, key, se.Err)
		}
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	w := Default()
	// The last occurrence of a key wins, as in java.util.Properties.
	last := map[string]int{}
	for i, p := range props {
		if j, ok := last[p.Key]; ok {
			w.warnf("dup:"+p.Key, "%s:%d: %s is set again (first on line %d); the last value wins", name, p.Line, p.Key, props[j].Line)
		}
		last[p.Key] = i
	}
	var final []Property
	for i, p := range props {
		if last[p.Key] == i {
			final = append(final, p)
		}
	}
	where := func(p Property) string { return fmt.Sprintf("%s:%d", name, p.Line) }
	var errs []error
	for _, p := range final {
		if isProviderKey(p.Key) {
			w.setProviderProp(p.Key, p.Value, where(p))
		}
	}
	errs = append(errs, w.checkProviders()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, p := range final {
		if !isProviderKey(p.Key) {
			if err := w.setFrom(p.Key, p.Value, where(p)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return w, nil
}

// EnvPrefix starts the environment variables that override worker
// properties.
const EnvPrefix = "PGMOTION_"

// ApplyEnv applies the PGMOTION_* variables of environ (as os.Environ
// returns it) that name worker properties; see EnvName for the mapping.
// Variables that name no worker property (PGMOTION_TEST_PG, say) are left
// to whoever reads them. Placeholders in the values are resolved, and
// ${env:...} in worker properties reads environ from now on.
func (w *Worker) ApplyEnv(environ []string) error {
	w.environ = environ
	type setting struct{ env, key, value string }
	var settings []setting
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if key, ok := PropertyForEnv(name); ok {
			settings = append(settings, setting{name, key, value})
		}
	}
	sort.Slice(settings, func(i, j int) bool { return settings[i].env < settings[j].env })
	var errs []error
	providers := false
	for _, s := range settings {
		if isProviderKey(s.key) {
			w.setProviderProp(s.key, s.value, s.env)
			providers = true
		}
	}
	if providers {
		if errs = w.checkProviders(); len(errs) > 0 {
			return errors.Join(errs...)
		}
	}
	for _, s := range settings {
		if !isProviderKey(s.key) {
			if err := w.setFrom(s.key, s.value, s.env); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Set applies one property given on the command line, checked as in a
// file; its placeholders are resolved like the file's.
func (w *Worker) Set(key, value string) error {
	key = strings.TrimSpace(key)
	if key == "" {
		return errors.New("empty worker property name")
	}
	if isProviderKey(key) {
		w.setProviderProp(key, value, "flag")
		return errors.Join(w.checkProviders()...)
	}
	return w.setFrom(key, value, "flag")
}

// Source tells where the value of a property came from: "file:line", the
// environment variable's name, "flag", or "" when it has its default.
func (w *Worker) Source(key string) string { return w.sources[key] }

// Validate checks what no single property can: that heartbeat.interval.ms
// is lower than session.timeout.ms, as Kafka's consumer Heartbeat
// requires. Call it once every source has been applied.
func (w *Worker) Validate() error {
	if w.HeartbeatInterval >= w.SessionTimeout {
		return fmt.Errorf("%s (%d) must be lower than %s (%d); Kafka suggests at most a third of it",
			PropHeartbeatInterval, w.HeartbeatInterval.Milliseconds(), PropSessionTimeout, w.SessionTimeout.Milliseconds())
	}
	return nil
}

// Properties returns the effective configuration as worker properties:
// the typed fields formatted back, producer.* and consumer.*, the provider
// settings and the unknown properties. Values are resolved, so mask them
// (Mask, MaskedMap) before logging.
func (w *Worker) Properties() map[string]string {
	m := make(map[string]string, len(fields)+len(w.Producer)+len(w.Consumer)+len(w.Unknown)+len(w.providerProps))
	for k, v := range w.Unknown {
		m[k] = v
	}
	for k, v := range w.Producer {
		m[prefixProducer+k] = v
	}
	for k, v := range w.Consumer {
		m[prefixConsumer+k] = v
	}
	for k, v := range w.providerProps {
		m[k] = v
	}
	if len(w.ConfigProviders) > 0 || w.providersSet {
		names := make([]string, 0, len(w.ConfigProviders))
		for n, class := range w.ConfigProviders {
			names = append(names, n)
			if class != "" {
				m[providerClassKey(n)] = class
			}
		}
		sort.Strings(names)
		m[PropConfigProviders] = strings.Join(names, ",")
	}
	if w.PluginPath != "" {
		m[PropPluginPath] = w.PluginPath
	}
	for k, f := range fields {
		if k == PropAdvertisedHost && w.AdvertisedHost == "" || k == PropAdvertisedPort && w.AdvertisedPort == 0 {
			continue
		}
		m[k] = f.get(w)
	}
	return m
}

// setFrom resolves the placeholders in value and applies it; source says
// where it came from for errors and Source.
func (w *Worker) setFrom(key, value, source string) error {
	resolved := value
	if strings.Contains(value, "${") && key != PropPluginPath && ignoredReason(key) == "" {
		r, err := w.selfResolver()
		if err != nil {
			return fmt.Errorf("%s: %w", source, err)
		}
		resolved, err = r.resolveValue(key, value)
		if err != nil {
			return fmt.Errorf("%s: %w", source, err)
		}
	}
	if err := w.apply(key, value, resolved, source); err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	if w.sources == nil {
		w.sources = map[string]string{}
	}
	w.sources[key] = source
	return nil
}

// apply stores one resolved value. Errors name the property and quote the
// value as given (raw), never a resolved one, which may be a secret.
func (w *Worker) apply(key, raw, value, source string) error {
	if f, ok := fields[key]; ok {
		if err := f.set(w, value); err != nil {
			if raw == value {
				return fmt.Errorf("%s: %q %w", key, raw, err)
			}
			var ie *itemError
			if errors.As(err, &ie) {
				err = errors.New("has an item" + ie.problem)
			}
			return fmt.Errorf("%s: the value of %s %w", key, raw, err)
		}
		return nil
	}
	switch {
	case key == PropPluginPath:
		w.PluginPath = value
		w.warnf(key, "%s: %s is ignored: %s", source, key, reasonPlugins)
		return nil
	case ignoredReason(key) != "":
		w.warnf(key, "%s: %s is ignored: %s", source, key, ignoredReason(key))
	case strings.HasPrefix(key, prefixProducer) && len(key) > len(prefixProducer):
		setMap(&w.Producer, key[len(prefixProducer):], value)
		return nil
	case strings.HasPrefix(key, prefixConsumer) && len(key) > len(prefixConsumer):
		setMap(&w.Consumer, key[len(prefixConsumer):], value)
		return nil
	}
	setMap(&w.Unknown, key, value)
	return nil
}

func setMap(m *map[string]string, k, v string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}

func (w *Worker) warnf(id, format string, args ...any) {
	if w.warned == nil {
		w.warned = map[string]bool{}
	}
	if w.warned[id] {
		return
	}
	w.warned[id] = true
	w.Warnings = append(w.Warnings, fmt.Sprintf(format, args...))
}

func isProviderKey(key string) bool {
	return key == PropConfigProviders || strings.HasPrefix(key, prefixConfigProviders)
}

func providerClassKey(name string) string { return prefixConfigProviders + name + ".class" }

func providerParamPrefix(name string) string { return prefixConfigProviders + name + ".param." }

// setProviderProp records a config.providers* property (never resolved:
// Kafka configures providers from the raw values) and recomputes
// ConfigProviders.
func (w *Worker) setProviderProp(key, value, source string) {
	if w.providerProps == nil {
		w.providerProps = map[string]string{}
	}
	w.providerProps[key] = value
	if w.sources == nil {
		w.sources = map[string]string{}
	}
	w.sources[key] = source
	list, ok := w.providerProps[PropConfigProviders]
	if !ok {
		return
	}
	w.providersSet = true
	w.ConfigProviders = map[string]string{}
	for _, name := range splitList(list) {
		if name != "" {
			w.ConfigProviders[name] = strings.TrimSpace(w.providerProps[providerClassKey(name)])
		}
	}
}

// checkProviders warns about providers listed without a class and classes
// whose provider is not listed (Kafka ignores both), and reports classes
// pgmotion does not implement.
func (w *Worker) checkProviders() []error {
	for name, class := range w.ConfigProviders {
		if class == "" {
			w.warnf("noclass:"+name, "%s: %s lists %q but %s is not set; the provider is not enabled",
				w.sources[PropConfigProviders], PropConfigProviders, name, providerClassKey(name))
		}
	}
	for key := range w.providerProps {
		name, ok := strings.CutPrefix(key, prefixConfigProviders)
		if !ok {
			continue
		}
		name, ok = strings.CutSuffix(name, ".class")
		if !ok || strings.Contains(name, ".") {
			continue
		}
		if _, listed := w.ConfigProviders[name]; !listed {
			w.warnf("unlisted:"+name, "%s: %s is set but %s does not list %q; the provider is not enabled",
				w.sources[key], key, PropConfigProviders, name)
		}
	}
	_, errs := buildProviders(w, w.env())
	for i, err := range errs {
		var pe *providerConfigError
		if errors.As(err, &pe) && w.sources[pe.property] != "" {
			errs[i] = fmt.Errorf("%s: %w", w.sources[pe.property], err)
		}
	}
	return errs
}

func (w *Worker) env() []string {
	if w.environ != nil {
		return w.environ
	}
	return os.Environ()
}

func (w *Worker) selfResolver() (*Resolver, error) {
	return NewResolver(w, w.env())
}

// The properties pgmotion knows and ignores, with the reason given in the
// warning. Kafka Connect properties pgmotion neither uses nor ignores on
// purpose are kept in Unknown without a word.
const reasonPlugins = "pgmotion has its connectors, converters and transforms built in"

var ignored = map[string]string{
	"plugin.discovery":          reasonPlugins,
	"rest.extension.classes":    "pgmotion cannot load Java REST extensions",
	"rest.host.name":            "Kafka Connect removed it in 3.0; use listeners",
	"rest.port":                 "Kafka Connect removed it in 3.0; use listeners",
	"metric.reporters":          "pgmotion exports Prometheus metrics instead of running Kafka metrics reporters",
	"metrics.sample.window.ms":  "pgmotion exports Prometheus metrics instead of running Kafka metrics reporters",
	"metrics.num.samples":       "pgmotion exports Prometheus metrics instead of running Kafka metrics reporters",
	"metrics.recording.level":   "pgmotion exports Prometheus metrics instead of running Kafka metrics reporters",
	"auto.include.jmx.reporter": "pgmotion exports Prometheus metrics instead of running Kafka metrics reporters",
}

// reasonInternalConverter is Kafka's own warning for the removed internal
// converter properties (WorkerConfig.logInternalConverterRemovalWarnings).
const reasonInternalConverter = "Kafka Connect removed the internal converter properties in 3.0; internal topics always use JsonConverter with schemas.enable=false"

func ignoredReason(key string) string {
	if r, ok := ignored[key]; ok {
		return r
	}
	for _, p := range []string{"internal.key.converter", "internal.value.converter"} {
		if key == p || strings.HasPrefix(key, p+".") {
			return reasonInternalConverter
		}
	}
	return ""
}

// field is one typed worker property. set gets the resolved value and
// returns what is wrong with it as a phrase that follows the quoted value
// ("is not a number of milliseconds"); get formats the field back.
type field struct {
	set func(w *Worker, v string) error
	get func(w *Worker) string
}

var fields = map[string]field{
	PropBootstrapServers: {
		set: func(w *Worker, v string) error {
			servers, err := parseBootstrap(v)
			if err == nil {
				w.BootstrapServers = servers
			}
			return err
		},
		get: func(w *Worker) string { return strings.Join(w.BootstrapServers, ",") },
	},
	PropGroupID:             stringField(func(w *Worker) *string { return &w.GroupID }, nonEmpty),
	PropConfigTopic:         stringField(func(w *Worker) *string { return &w.ConfigTopic }, validTopic),
	PropOffsetTopic:         stringField(func(w *Worker) *string { return &w.OffsetTopic }, validTopic),
	PropStatusTopic:         stringField(func(w *Worker) *string { return &w.StatusTopic }, validTopic),
	PropConfigReplication:   replicationField(func(w *Worker) *int16 { return &w.ConfigReplication }),
	PropOffsetReplication:   replicationField(func(w *Worker) *int16 { return &w.OffsetReplication }),
	PropStatusReplication:   replicationField(func(w *Worker) *int16 { return &w.StatusReplication }),
	PropOffsetPartitions:    partitionsField(func(w *Worker) *int32 { return &w.OffsetPartitions }),
	PropStatusPartitions:    partitionsField(func(w *Worker) *int32 { return &w.StatusPartitions }),
	PropKeyConverter:        stringField(func(w *Worker) *string { return &w.KeyConverter }, nonEmpty),
	PropValueConverter:      stringField(func(w *Worker) *string { return &w.ValueConverter }, nonEmpty),
	PropKeySchemas:          boolField(func(w *Worker) *bool { return &w.KeySchemas }),
	PropValueSchemas:        boolField(func(w *Worker) *bool { return &w.ValueSchemas }),
	PropOffsetFlushInterval: millisField(func(w *Worker) *time.Duration { return &w.OffsetFlushInterval }, maxLongMillis),
	PropOffsetFlushTimeout:  millisField(func(w *Worker) *time.Duration { return &w.OffsetFlushTimeout }, maxLongMillis),
	PropSessionTimeout:      millisField(func(w *Worker) *time.Duration { return &w.SessionTimeout }, math.MaxInt32),
	PropHeartbeatInterval:   millisField(func(w *Worker) *time.Duration { return &w.HeartbeatInterval }, math.MaxInt32),
	PropRebalanceTimeout:    millisField(func(w *Worker) *time.Duration { return &w.RebalanceTimeout }, math.MaxInt32),
	PropTopicTracking:       boolField(func(w *Worker) *bool { return &w.TopicTracking }),
	PropTopicTrackingReset:  boolField(func(w *Worker) *bool { return &w.TopicTrackingReset }),
	PropExactlyOnceSource: {
		set: func(w *Worker, v string) error {
			v = strings.ToLower(strings.TrimSpace(v)) // Kafka's ValidString, case-insensitive
			switch v {
			case EOSDisabled, EOSPreparing, EOSEnabled:
				w.ExactlyOnceSource = v
				return nil
			}
			return errors.New("is not one of disabled, preparing or enabled")
		},
		get: func(w *Worker) string { return w.ExactlyOnceSource },
	},
	PropListeners: {
		set: func(w *Worker, v string) error {
			addrs, https, err := parseListeners(v)
			if err == nil {
				w.Listeners, w.ListenersHTTPS = addrs, https
			}
			return err
		},
		get: func(w *Worker) string {
			scheme := "http://"
			if w.ListenersHTTPS {
				scheme = "https://"
			}
			urls := make([]string, len(w.Listeners))
			for i, a := range w.Listeners {
				urls[i] = scheme + a
			}
			return strings.Join(urls, ",")
		},
	},
	PropAdvertisedHost: stringField(func(w *Worker) *string { return &w.AdvertisedHost }, nil),
	PropAdvertisedPort: {
		set: func(w *Worker, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 || n > 65535 {
				return errors.New("is not a port number (1-65535)")
			}
			w.AdvertisedPort = n
			return nil
		},
		get: func(w *Worker) string { return strconv.Itoa(w.AdvertisedPort) },
	},
	PropAdvertisedListener: {
		set: func(w *Worker, v string) error {
			p := strings.ToLower(strings.TrimSpace(v))
			if p != "http" && p != "https" {
				return errors.New("is not a protocol: use http or https")
			}
			w.AdvertisedProtocol = p
			return nil
		},
		get: func(w *Worker) string { return w.AdvertisedProtocol },
	},
}

// maxLongMillis is the largest number of milliseconds a time.Duration
// holds.
const maxLongMillis = math.MaxInt64 / int64(time.Millisecond)

func stringField(p func(*Worker) *string, check func(string) error) field {
	return field{
		set: func(w *Worker, v string) error {
			v = strings.TrimSpace(v) // ConfigDef trims STRING and CLASS values
			if check != nil {
				if err := check(v); err != nil {
					return err
				}
			}
			*p(w) = v
			return nil
		},
		get: func(w *Worker) string { return *p(w) },
	}
}

func nonEmpty(v string) error {
	if v == "" {
		return errors.New("is empty: a value is required")
	}
	return nil
}

// validTopic applies Kafka's topic name rules (Topic.validate).
func validTopic(v string) error {
	switch {
	case v == "":
		return errors.New("is empty: a topic name is required")
	case v == "." || v == "..":
		return errors.New(`is not a valid topic name: "." and ".." are not allowed`)
	case len(v) > 249 || !topicRE.MatchString(v):
		return errors.New("is not a valid topic name: use at most 249 ASCII letters, digits, '.', '_' and '-'")
	}
	return nil
}

var topicRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

func boolField(p func(*Worker) *bool) field {
	return field{
		set: func(w *Worker, v string) error {
			switch v = strings.TrimSpace(v); {
			case strings.EqualFold(v, "true"):
				*p(w) = true
			case strings.EqualFold(v, "false"):
				*p(w) = false
			default:
				return errors.New("is not a boolean: use true or false")
			}
			return nil
		},
		get: func(w *Worker) string { return strconv.FormatBool(*p(w)) },
	}
}

func millisField(p func(*Worker) *time.Duration, max int64) field {
	return field{
		set: func(w *Worker, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			switch {
			case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(strings.TrimSpace(v), "-"), err == nil && n > max:
				return fmt.Errorf("is too large: use at most %d milliseconds", max)
			case err != nil && !errors.Is(err, strconv.ErrRange):
				return errors.New("is not a number of milliseconds")
			case err != nil || n <= 0:
				return errors.New("is not allowed: use a positive number of milliseconds")
			}
			*p(w) = time.Duration(n) * time.Millisecond
			return nil
		},
		get: func(w *Worker) string { return strconv.FormatInt(p(w).Milliseconds(), 10) },
	}
}

// replicationField is a SHORT with TopicCreationConfig's
// REPLICATION_FACTOR_VALIDATOR: positive, or -1 for the broker's default.
func replicationField(p func(*Worker) *int16) field {
	return field{
		set: func(w *Worker, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 16)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return errors.New("is not a number")
			}
			if err != nil || (n != -1 && n < 1) {
				return errors.New("is not allowed: use a positive replication factor up to 32767, or -1 for the broker's default")
			}
			*p(w) = int16(n)
			return nil
		},
		get: func(w *Worker) string { return strconv.Itoa(int(*p(w))) },
	}
}

// partitionsField is an INT with PARTITIONS_VALIDATOR: positive, or -1 for
// the broker's default.
func partitionsField(p func(*Worker) *int32) field {
	return field{
		set: func(w *Worker, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return errors.New("is not a number")
			}
			if err != nil || (n != -1 && n < 1) {
				return errors.New("is not allowed: use a positive number of partitions, or -1 for the broker's default")
			}
			*p(w) = int32(n)
			return nil
		},
		get: func(w *Worker) string { return strconv.Itoa(int(*p(w))) },
	}
}

// splitList splits a ConfigDef LIST: the value is trimmed, empty means no
// items, and items are separated by commas with white space around them.
func splitList(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	items := strings.Split(v, ",")
	for i := range items {
		items[i] = strings.TrimSpace(items[i])
	}
	return items
}

// hostPortRE is Kafka's Utils.HOST_PORT_PATTERN.
var hostPortRE = regexp.MustCompile(`^(?:[0-9a-zA-Z\-%._]*://)?\[?([0-9a-zA-Z\-%._:]*)]?:([0-9]+)$`)

// parseBootstrap checks bootstrap.servers as Kafka's ClientUtils does:
// empty items are skipped, the others must be [protocol://]host:port.
func parseBootstrap(v string) ([]string, error) {
	var servers []string
	for _, item := range splitList(v) {
		if item == "" {
			continue
		}
		m := hostPortRE.FindStringSubmatch(item)
		if m == nil || m[1] == "" {
			return nil, &itemError{item, ", which is not host:port (e.g. localhost:9092)"}
		}
		port, err := strconv.Atoi(m[2])
		if err != nil || port > 65535 {
			return nil, &itemError{item, ", whose port is not a port number (0-65535)"}
		}
		servers = append(servers, net.JoinHostPort(m[1], strconv.Itoa(port)))
	}
	if len(servers) == 0 {
		return nil, errors.New("has no broker address: give host:port pairs separated by commas")
	}
	return servers, nil
}

// itemError reports a bad item of a list value. apply leaves the item out
// when the value came from a placeholder.
type itemError struct {
	item    string
	problem string // follows the item: ", which is not host:port", ": ..."
}

func (e *itemError) Error() string { return fmt.Sprintf("has %q%s", e.item, e.problem) }

// listenerRE is RestServer.LISTENER_PATTERN.
var listenerRE = regexp.MustCompile(`^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$`)

// parseListeners checks listeners as RestServerConfig's ListenersValidator
// and RestServer.createConnector do, and returns host:port addresses and
// whether they are https.
func parseListeners(v string) ([]string, bool, error) {
	items := splitList(v)
	if len(items) == 0 {
		return nil, false, errors.New("has no URL: at least one is required, e.g. http://:8083")
	}
	addrs := make([]string, 0, len(items))
	var schemes []string
	for _, item := range items {
		if item == "" {
			return nil, false, errors.New("has an empty URL in the list")
		}
		m := listenerRE.FindStringSubmatch(item)
		if m == nil {
			return nil, false, &itemError{item, ", which is not protocol://host:port (e.g. http://:8083)"}
		}
		scheme := strings.ToLower(m[1])
		if scheme != "http" && scheme != "https" {
			return nil, false, &itemError{item, ": the protocol must be http or https"}
		}
		if len(schemes) > 0 && schemes[0] != scheme {
			return nil, false, &itemError{item, ": pgmotion serves one protocol; make every listener http:// or every one https://"}
		}
		schemes = append(schemes, scheme)
		port, err := strconv.Atoi(m[3])
		if err != nil || port < 0 || port > 65535 {
			return nil, false, &itemError{item, ", whose port is not a port number (0-65535)"}
		}
		addrs = append(addrs, net.JoinHostPort(m[2], strconv.Itoa(port)))
	}
	return addrs, schemes[0] == "https", nil
}
