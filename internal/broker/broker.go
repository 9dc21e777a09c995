// Package broker runs an embedded, single-node Kafka-protocol broker: franz-go's
// kfake, with a listener we bind ourselves, a data directory that one process
// owns at a time, a cluster ID that stays put across restarts, and kfake's
// logs routed into slog.
//
// kfake serves produce, fetch, metadata, list offsets, classic and KIP-848
// consumer groups, the idempotent and transactional producer, create and
// delete topics, configs and more (62 API keys). Where it differs from a real
// Kafka broker, in ways a CDC pipeline notices:
//
//   - There is one broker, so CreateTopics with a replication factor above 1
//     fails with INVALID_REPLICATION_FACTOR, as on any one-node cluster. Ask
//     for -1 (the broker default) or 1; Kafka Connect's internal topics default
//     to 3 and must be configured down.
//   - Produce requests are answered once the batch is written to the segment
//     file (the page cache, or disk with SyncWrites); the timeout is ignored
//     and there is no replication to wait for.
//   - Topics are auto-created only for clients that ask in their Metadata
//     request (librdkafka and the Java producer do by default; kgo needs
//     kgo.AllowAutoTopicCreation). We create them ourselves rather than
//     through kfake's option, which forgot them after a crash (autocreate.go).
//     Topic names are checked only on auto-creation; CreateTopics takes any.
//   - Log compaction (cleanup.policy=compact) runs on a timer,
//     log.cleaner.backoff.ms, which kfake defaults to one hour rather than
//     Kafka's 15 seconds. Each run rewrites every compacted partition whole,
//     with no dirty ratio, on the loop that serves all requests; the last
//     batch of a partition is neither cleaned nor counted. Retention likewise
//     runs only for topics with retention settings.
//   - The idempotent producer's sequence windows are saved on a clean
//     shutdown only. After a crash the records come back and a producer
//     carries on (kfake takes its next sequence as a new start), but a retry
//     of a batch written just before the crash is not recognised as a
//     duplicate, and the batch in flight at the crash may land after later
//     ones (seen even with one produce request in flight). Records
//     acknowledged before the crash keep their order.
//   - Partition snapshots are written on a clean shutdown only: after a crash
//     the broker rereads every segment file at start-up.
//   - Every record lives in memory when no data directory is given.
//   - With TLS and SASL (Options.TLSCertFile, Options.SASLUsers), every
//     connection uses both: one listener, no PLAINTEXT one beside it. The
//     users are the options' alone, with no authorizer; GSSAPI,
//     OAUTHBEARER, client certificates and SaslHandshake v0's raw framing
//     are not served.
package broker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DefaultListen is the address the broker binds when Options.Listen is empty.
const DefaultListen = "127.0.0.1:9092"

// Options configures a Broker. The zero value runs an in-memory broker on
// DefaultListen with one partition per new topic.
type Options struct {
	// Listen is the host:port to bind. The host may be 0.0.0.0, :: or
	// empty to bind every interface, and port 0 picks a free port.
	Listen string

	// Advertise is the host[:port] the broker tells clients to connect to,
	// in metadata and coordinator responses. Empty means the bound address,
	// or 127.0.0.1 with the bound port when Listen binds every interface.
	// Without a port, the bound port is used.
	Advertise string

	// DataDir keeps topics, records, group offsets and producer state on
	// disk, so they survive a restart or a crash of the process. Empty keeps
	// everything in memory, and it is lost when the broker stops. A data
	// directory is used by one broker at a time.
	DataDir string

	// SyncWrites fsyncs every produced batch before acknowledging it, so it
	// also survives a crash of the machine. It needs DataDir.
	SyncWrites bool

	// DefaultPartitions is the partition count of auto-created topics and of
	// CreateTopics requests that ask for the broker default (-1). Zero means 1.
	DefaultPartitions int

	// ClusterID is the ID the broker reports in metadata. Empty means the ID
	// stored in DataDir, or a new random one the first time (kept in DataDir
	// from then on). A non-empty ClusterID must match the one in DataDir.
	ClusterID string

	// MessageMaxBytes is message.max.bytes: the largest record batch the
	// broker accepts. Zero means Kafka's default, DefaultMessageMaxBytes.
	MessageMaxBytes int

	// SocketRequestMaxBytes is socket.request.max.bytes: a connection that
	// announces a larger request is closed before anything is allocated
	// for it. Zero means Kafka's default, 104857600 (100 MiB). With SASL,
	// a client that has not authenticated yet may send at most 512 KiB
	// (Kafka's sasl.server.max.receive.size).
	SocketRequestMaxBytes int

	// TLSCertFile and TLSKeyFile, PEM files, make the listener serve TLS
	// only. Both or neither.
	TLSCertFile, TLSKeyFile string

	// SASLUsers, when not empty, makes every client authenticate with
	// SASL as one of them before any other request (Kafka's
	// SASL_PLAINTEXT, or SASL_SSL with TLS). They are the only users:
	// AlterUserScramCredentials is refused.
	SASLUsers []SASLUser

	// Log receives the broker's own log lines and kfake's, which carry
	// logger=kfake; nil discards them. Scope it for the broker yourself,
	// with With("component", "broker").
	Log *slog.Logger
}

// Broker is an embedded Kafka-protocol broker. Its methods are safe for
// concurrent use; Run may be called once.
type Broker struct {
	opts Options
	log  *slog.Logger

	ready    chan struct{} // closed once the broker accepts connections
	stop     chan struct{} // closed by Close
	done     chan struct{} // closed when Run returns
	stopOnce sync.Once

	mu         sync.Mutex
	started    bool
	addr       string // advertised bootstrap address
	listenAddr string // bound address
	clusterID  string
	leaf       *x509.Certificate // the TLS certificate, when serving TLS
}

// New validates opts and returns a Broker that Run starts. It binds nothing
// and touches no files.
func New(opts Options) (*Broker, error) {
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	if _, err := splitListen(opts.Listen); err != nil {
		return nil, err
	}
	if opts.Advertise != "" {
		if _, _, err := splitAdvertise(opts.Advertise); err != nil {
			return nil, err
		}
	}
	if opts.SyncWrites && opts.DataDir == "" {
		return nil, errors.New("broker: sync writes need a data dir: set one, or drop sync writes")
	}
	switch {
	case opts.DefaultPartitions == 0:
		opts.DefaultPartitions = 1
	case opts.DefaultPartitions < 0:
		return nil, fmt.Errorf("broker: default partitions %d: want 1 or more", opts.DefaultPartitions)
	}
	if (opts.TLSCertFile == "") != (opts.TLSKeyFile == "") {
		return nil, errors.New("broker: a TLS certificate and key go together: give both or neither")
	}
	switch {
	case opts.SocketRequestMaxBytes == 0:
		opts.SocketRequestMaxBytes = DefaultSocketRequestMaxBytes
	case opts.SocketRequestMaxBytes < 0:
		return nil, fmt.Errorf("broker: socket.request.max.bytes %d: want 1 or more", opts.SocketRequestMaxBytes)
	}
	for _, u := range opts.SASLUsers {
		if u.Mechanism != MechanismPlain && u.Mechanism != MechanismScramSHA256 && u.Mechanism != MechanismScramSHA512 {
			return nil, fmt.Errorf("broker: SASL user %q: mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", u.User, u.Mechanism)
		}
		if u.User == "" || u.Password == "" {
			return nil, fmt.Errorf("broker: SASL user %q (%s): the name and the password must not be empty", u.User, u.Mechanism)
		}
	}
	if strings.ContainsAny(opts.ClusterID, " \t\r\n") {
		return nil, fmt.Errorf("broker: cluster ID %q: must not contain white space", opts.ClusterID)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Broker{
		opts:  opts,
		log:   log,
		ready: make(chan struct{}),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}, nil
}

// Run starts the broker and serves clients until ctx is done or Close is
// called, then shuts it down cleanly: with a data directory, it saves its
// state and releases the directory. A clean stop returns nil. Run returns an
// error at once if the broker cannot start, for example when the port or the
// data directory is in use.
func (b *Broker) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.started {
		b.mu.Unlock()
		return errors.New("broker: Run called twice")
	}
	b.started = true
	b.mu.Unlock()
	defer close(b.done)

	select {
	case <-b.stop:
		return errors.New("broker: closed before Run")
	default:
	}

	cluster, unlock, err := b.start()
	if err != nil {
		return err
	}
	defer unlock() // after the cluster has saved its state below
	close(b.ready)

	select {
	case <-ctx.Done():
	case <-b.stop:
	}
	b.log.Info("broker stopping")
	cluster.Close()
	if b.opts.DataDir != "" {
		if err := forgetSASLUsers(b.opts.DataDir); err != nil {
			b.log.Warn("remove the SASL users kfake saved", "err", err)
		}
	}
	b.log.Info("broker stopped")
	return nil
}

// start takes the data directory, binds the listener and starts kfake. On
// success the returned cluster owns the listener, and the caller releases the
// data directory with unlock once the cluster is closed.
func (b *Broker) start() (_ *kfake.Cluster, unlock func(), err error) {
	var (
		o         = b.opts
		clusterID = o.ClusterID
		kopts     []kfake.Opt
		release   = func() {}
	)
	logDir := "(in memory)"
	if o.DataDir != "" {
		if release, err = lockDataDir(o.DataDir); err != nil {
			return nil, nil, err
		}
		defer func() {
			if err != nil {
				release()
			}
		}()
		if err = makePrivate(o.DataDir, b.log); err != nil {
			return nil, nil, err
		}
		if err = forgetSASLUsers(o.DataDir); err != nil {
			return nil, nil, err
		}
		if logDir, err = filepath.Abs(o.DataDir); err != nil {
			return nil, nil, fmt.Errorf("data dir %s: %w", o.DataDir, err)
		}
		if clusterID, err = loadClusterID(o.DataDir, o.ClusterID); err != nil {
			return nil, nil, err
		}
		if err = recoverTopics(o.DataDir, b.log); err != nil {
			return nil, nil, err
		}
		kopts = append(kopts, kfake.DataDir(o.DataDir))
		if o.SyncWrites {
			kopts = append(kopts, kfake.SyncWrites())
		}
	} else {
		if clusterID == "" {
			clusterID = newClusterID()
		}
		b.log.Warn("broker data is kept in memory only and is lost when the broker stops; set a data dir to keep it")
	}

	var (
		tlsConfig *tls.Config
		leaf      *x509.Certificate
	)
	if o.TLSCertFile != "" {
		if tlsConfig, leaf, err = loadTLS(o.TLSCertFile, o.TLSKeyFile); err != nil {
			return nil, nil, err
		}
	}
	if len(o.SASLUsers) > 0 {
		kopts = append(kopts, kfake.EnableSASL())
		for _, u := range o.SASLUsers {
			kopts = append(kopts, kfake.User(u.Mechanism, u.User, u.Password))
		}
	}

	ln, err := listen(o.Listen)
	if err != nil {
		return nil, nil, err
	}
	adv, err := advertised(ln.Addr(), o.Listen, o.Advertise)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	// We terminate TLS ourselves rather than with kfake.TLS, so that the
	// guard sees the Kafka protocol.
	served := ln
	if tlsConfig != nil {
		served = tls.NewListener(ln, tlsConfig)
	}
	served = guardListener{served, &guard{
		maxRequest: o.SocketRequestMaxBytes,
		sasl:       len(o.SASLUsers) > 0,
		logDir:     logDir,
		log:        b.log,
	}}
	kopts = append(kopts,
		kfake.NumBrokers(1),
		kfake.ListenFn(oneListener(served, adv)),
		kfake.ClusterID(clusterID),
		kfake.DefaultNumPartitions(o.DefaultPartitions),
		kfake.WithLogger(kfakeLogger{b.log}),
	)
	if o.MessageMaxBytes > 0 {
		kopts = append(kopts, kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(o.MessageMaxBytes)}))
	}
	cluster, err := kfake.NewCluster(kopts...)
	if err != nil {
		ln.Close()
		if o.DataDir != "" {
			return nil, nil, fmt.Errorf("start broker on data dir %s: %w", o.DataDir, err)
		}
		return nil, nil, fmt.Errorf("start broker: %w", err)
	}

	// kfake accepts connections before we add this; a Metadata request in
	// that instant, before Ready, finds no topic to auto-create and the
	// client retries.
	cluster.ControlKey(int16(kmsg.Metadata), autoCreateTopics(cluster, b.log))
	cluster.ControlKey(int16(kmsg.AlterUserSCRAMCredentials), refuseUserChanges(cluster))

	bound := ln.Addr().String()
	b.mu.Lock()
	b.addr = adv
	b.listenAddr = bound
	b.clusterID = clusterID
	b.leaf = leaf
	b.mu.Unlock()

	if o.Advertise == "" && bound != adv {
		b.log.Warn("broker binds every interface but advertises 127.0.0.1, so clients on other hosts cannot use it; set the advertised address",
			"listen", bound, "advertise", adv)
	}
	dataDir := o.DataDir
	if dataDir == "" {
		dataDir = "(memory)"
	}
	if h, _, _ := net.SplitHostPort(bound); len(o.SASLUsers) == 0 && !isLoopback(h) {
		b.log.Warn("broker serves other hosts without authentication: whoever reaches the port can read and write every topic, connect-configs included; give it SASL users and a TLS certificate",
			"listen", bound)
	}
	security := "PLAINTEXT"
	switch {
	case tlsConfig != nil && len(o.SASLUsers) > 0:
		security = "SASL_SSL"
	case tlsConfig != nil:
		security = "SSL"
	case len(o.SASLUsers) > 0:
		security = "SASL_PLAINTEXT"
		b.log.Warn("broker requires SASL without TLS: passwords of PLAIN users and all data cross the network in clear text; give it a TLS certificate and key")
	}
	b.log.Info("broker started", "listen", bound, "advertise", adv, "security_protocol", security,
		"sasl_users", len(o.SASLUsers), "data_dir", dataDir, "sync_writes", o.SyncWrites, "cluster_id", clusterID)
	return cluster, release, nil
}

// Close stops the broker if Run is serving and waits until Run has shut it
// down, or until ctx is done. It may be called any number of times, before,
// during or after Run; once it is called, a later Run returns at once.
func (b *Broker) Close(ctx context.Context) error {
	b.stopOnce.Do(func() { close(b.stop) })
	b.mu.Lock()
	started := b.started
	b.mu.Unlock()
	if !started {
		return nil
	}
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close broker: %w", ctx.Err())
	}
}

// Ready is closed once the broker accepts connections; Addr is set by then.
// It is never closed if Run fails to start the broker.
func (b *Broker) Ready() <-chan struct{} { return b.ready }

// Addr returns the bootstrap address clients should use, the advertised one,
// once the broker is ready; before that it returns "".
func (b *Broker) Addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addr
}

// ListenAddr returns the address the broker is bound to once it is ready,
// with the port filled in when Listen asked for port 0; before that it
// returns "".
func (b *Broker) ListenAddr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.listenAddr
}

// ClusterID returns the cluster ID the broker reports once it is ready;
// before that it returns "".
func (b *Broker) ClusterID() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.clusterID
}

// splitListen checks a Listen address and returns its port.
func splitListen(addr string) (int, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("broker: listen address %q: want host:port, such as %s: %w", addr, DefaultListen, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("broker: listen address %q: port %q is not a number from 0 to 65535", addr, port)
	}
	return int(p), nil
}

// splitAdvertise checks an Advertise address, host or host:port, and returns
// its parts; port is "" when none is given.
func splitAdvertise(addr string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(addr)
	if err != nil {
		// No port: a bare host name, IPv4 address or (bracketed) IPv6 address.
		host, port = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), ""
	}
	if host == "" || strings.ContainsAny(host, " /[]") {
		return "", "", fmt.Errorf("broker: advertised address %q: want host or host:port, such as kafka.internal:9092", addr)
	}
	if port != "" {
		if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
			return "", "", fmt.Errorf("broker: advertised address %q: port %q is not a number from 1 to 65535", addr, port)
		}
	}
	return host, port, nil
}
