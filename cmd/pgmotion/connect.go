package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgmotion/pgmotion/internal/broker"
	"github.com/pgmotion/pgmotion/internal/connect"
	"github.com/pgmotion/pgmotion/internal/kafkasink"
	"github.com/pgmotion/pgmotion/internal/spec"
)

func init() { subcommands = append(subcommands, newConnectCmd) }

type connectFlags struct {
	bootstrap     string
	embedded      string
	dataDir       string
	flushInterval time.Duration
	compression   string
}

// newConnectCmd is `pgmotion connect`: a worker running the connectors
// given as Kafka Connect request bodies.
func newConnectCmd(g *globals) *cobra.Command {
	var f connectFlags
	cmd := &cobra.Command{
		Use:   "connect [flags] [CONNECTOR.json ...]",
		Short: "Run a worker with the given connectors",
		Long: `Run a worker that streams PostgreSQL changes into Kafka as Debezium events.

Each CONNECTOR.json is a Kafka Connect request body, {"name": ..., "config": {...}},
with Debezium PostgreSQL property names; those connectors start at once. Kafka is
an existing cluster (--bootstrap-servers) or the embedded broker started in this
process (--embedded-broker). Source offsets live in the connect-offsets topic,
as Kafka Connect keeps them.`,
		Example: `  pgmotion connect --embedded-broker 127.0.0.1:9092 sakila.json
  pgmotion connect --bootstrap-servers kafka1:9092,kafka2:9092 inventory.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConnect(cmd.Context(), g, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.bootstrap, "bootstrap-servers", "", "Kafka bootstrap servers, host:port[,host:port]")
	fl.StringVar(&f.embedded, "embedded-broker", "", "start the embedded Kafka-protocol broker in this process on host:port")
	fl.StringVar(&f.dataDir, "data-dir", "./pgmotion-data", "directory for the embedded broker's log and other worker state")
	fl.DurationVar(&f.flushInterval, "offset-flush-interval", time.Second, "how often acknowledged positions are written to connect-offsets and confirmed to the slot")
	fl.StringVar(&f.compression, "compression", "snappy", "producer compression: none, gzip, snappy, lz4 or zstd")
	return cmd
}

type fileConnector struct {
	name   string
	config map[string]string
}

func runConnect(ctx context.Context, g *globals, f connectFlags, files []string) error {
	tuneGC()
	if (f.bootstrap == "") == (f.embedded == "") {
		return errors.New("give exactly one of --bootstrap-servers (an existing Kafka cluster) and --embedded-broker (start one in this process)")
	}
	// Read and check every connector before starting anything, so a bad
	// file stops the worker with its reason instead of half-starting it.
	var conns []fileConnector
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read connector file: %w", err)
		}
		name, cfg, err := spec.ParseConnectorJSON(data)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if _, err := connect.ValidateConfig(name, cfg); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		conns = append(conns, fileConnector{name: name, config: cfg})
	}

	brokers := kafkasink.ParseBrokers(f.bootstrap)
	if f.embedded != "" {
		// The broker outlives the connectors: they write their final
		// offsets to it while stopping.
		bctx, stopBroker := context.WithCancel(context.WithoutCancel(ctx))
		addr, wait, err := startEmbeddedBroker(bctx, g, f)
		if err != nil {
			stopBroker()
			return err
		}
		defer func() {
			stopBroker()
			if err := wait(); err != nil {
				g.log.Error("embedded broker", "err", err)
			}
		}()
		brokers = []string{addr}
	}
	fatal := make(chan error, 1)
	w, err := connect.NewWorker(connect.WorkerConfig{
		Brokers: brokers, FlushInterval: f.flushInterval, Compression: f.compression, Log: g.log,
		StartupFailed: func(name string, err error) {
			select {
			case fatal <- err:
			default:
			}
		},
	})
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.Start(ctx); err != nil {
		return err
	}
	for _, c := range conns {
		if _, _, err := w.PutConnectorConfig(ctx, c.name, c.config, true, connect.TargetStarted); err != nil {
			return fmt.Errorf("connector %q: %w", c.name, err)
		}
	}
	if len(conns) == 0 {
		g.log.Info("worker running with no connectors")
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-fatal:
		return err
	}
}

// startEmbeddedBroker runs the broker until ctx ends and returns its
// address and a function that waits for it to stop.
func startEmbeddedBroker(ctx context.Context, g *globals, f connectFlags) (string, func() error, error) {
	dir := filepath.Join(f.dataDir, "broker")
	b, err := broker.New(broker.Options{Listen: f.embedded, DataDir: dir, Log: g.log.With("component", "broker")})
	if err != nil {
		return "", nil, err
	}
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx) }()
	select {
	case <-b.Ready():
	case err := <-errc:
		return "", nil, err
	}
	g.log.Info("embedded broker ready", "addr", b.Addr(), "data_dir", dir)
	return b.Addr(), func() error { return <-errc }, nil
}
