package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/pgmotion/pgmotion/internal/connect"
	"github.com/pgmotion/pgmotion/internal/demo"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/pglocal"
	"github.com/pgmotion/pgmotion/internal/workerconfig"
)

func init() { subcommands = append(subcommands, newDemoCmd) }

type demoFlags struct {
	pgURL  string
	listen string
	rest   string
	rate   float64
}

// newDemoCmd is `pgmotion demo`: the whole system on one machine, with
// nothing installed but the PostgreSQL server binaries.
func newDemoCmd(g *globals) *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole pipeline with a throwaway PostgreSQL, the embedded broker and a demo workload",
		Long: `Start a throwaway PostgreSQL with wal_level=logical (or use --pg-url), the
embedded Kafka-protocol broker, a small shop schema (customers, products,
orders) with a workload that keeps writing, and a connector that streams it
all into Kafka as Debezium events. Ctrl-C stops everything and removes the
throwaway data.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), g, f, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.pgURL, "pg-url", "", "use this database (postgres://user:pass@host:port/db, wal_level=logical) instead of a throwaway server")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:9092", "address of the embedded Kafka broker")
	fl.StringVar(&f.rest, "rest", workerconfig.PgmotionListener, "address of the Kafka Connect REST API")
	fl.Float64Var(&f.rate, "rate", 5, "demo transactions per second")
	return cmd
}

func runDemo(ctx context.Context, g *globals, f demoFlags, out io.Writer) error {
	tuneGC()
	tmp, err := pglocal.MkdirTemp("pgmotion-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	dsn := f.pgURL
	if dsn == "" {
		fmt.Fprintln(out, "starting a throwaway PostgreSQL (wal_level=logical) ...")
		srv, err := pglocal.Start(ctx, pglocal.Options{Dir: filepath.Join(tmp, "postgres"), Logical: true, Log: g.log})
		if err != nil {
			return err
		}
		defer srv.Stop(context.WithoutCancel(ctx))
		if err := srv.CreateDatabase(ctx, "demo"); err != nil {
			return err
		}
		dsn = srv.DSN("demo")
	}
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("--pg-url: %w", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect to the demo database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := demo.Setup(ctx, conn); err != nil {
		return err
	}

	// The broker, the worker, the console and the REST API stop as one
	// group, in reverse order: the worker within shutdownTimeout, the
	// others once they have stopped.
	grp := newGroup(ctx, g.log, context.Background)
	defer grp.stop()
	addr, _, err := startEmbeddedBroker(grp, g, connectFlags{embedded: f.listen, embeddedFlag: "--listen", dataDir: tmp}, 0)
	if err != nil {
		return err
	}

	cfg := map[string]string{
		options.PropConnectorClass: options.PostgresClass,
		options.PropPluginName:     "pgoutput",
		options.PropHostname:       pc.Host,
		options.PropPort:           strconv.Itoa(int(pc.Port)),
		options.PropUser:           pc.User,
		options.PropPassword:       pc.Password,
		options.PropDBName:         pc.Database,
		options.PropTopicPrefix:    "demo",
		options.PropSlotName:       "pgmotion_demo",
		options.PropTableInclude:   "public.customers,public.products,public.orders",
		// The transactional outbox without a table: each order's
		// OrderCreated event is a pg_logical_emit_message routed by
		// Debezium's EventRouter to outbox.event.order.
		options.PropOutboxSource:      options.OutboxSourceMessage,
		options.PropTransforms:        "outbox",
		"transforms.outbox.type":      "io.debezium.transforms.outbox.EventRouter",
		"transforms.outbox.predicate": "isOutbox",
		"predicates":                  "isOutbox",
		"predicates.isOutbox.type":    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
		"predicates.isOutbox.pattern": `demo\.message`,
	}
	ln, err := listenREST(f.rest, connectFlags{})
	if err != nil {
		return err
	}
	grp.onStop(func(context.Context) { ln.Close() })
	reg := newRegistry()
	w, err := connect.NewWorker(connect.WorkerConfig{Brokers: []string{addr}, WorkerID: ln.Addr().String(), Metrics: reg, ReserveMemory: reserveMemory, Log: g.log, Loggers: g.levels})
	if err != nil {
		return err
	}
	grp.onStop(func(ctx context.Context) {
		sctx, cancel := context.WithTimeout(ctx, shutdownTimeout)
		defer cancel()
		w.Close(sctx)
	})
	ui, err := startConsole(grp, []string{addr}, nil, reg, "", g)
	if err != nil {
		return err
	}
	if err := serveREST(grp, ln, w, reg, restAuth{}, ui, connectFlags{}, g); err != nil {
		return err
	}
	if err := w.Start(ctx); err != nil {
		return err
	}

	fmt.Fprintf(out, `
pgmotion demo is running.
  PostgreSQL: %s  (tables customers, products, orders; %.0f transactions/s)
  Kafka:      %s  (embedded broker; topics demo.public.customers, demo.public.products, demo.public.orders,
              and outbox.event.order: each new order's OrderCreated event, written with pg_logical_emit_message
              in the order's transaction and routed by Debezium's outbox EventRouter; no outbox table)
  REST API:   http://%s  (Kafka Connect's, with the connector demo-connector)
  Console:    http://%s/ui/  (topics, Debezium events decoded, consumer groups, connectors, slot lag)

Look at it with any Kafka client, for example:
  kcat -b %s -L
  kcat -b %s -C -t demo.public.orders -o beginning -f '%%k\n%%s\n\n'
  kcat -b %s -C -t demo.public.orders -o end -u -f '%%s\n' | jq .payload
  kcat -b %s -C -t outbox.event.order -o beginning -J | jq -c '{key: (.key | fromjson).payload, event: ((.payload | fromjson).payload | fromjson)}'
  curl -s %s/connectors/demo-connector/status
Press Ctrl-C to stop.

`, redactDSN(pc), f.rate, addr, ln.Addr(), ln.Addr(), addr, addr, addr, addr, "http://"+ln.Addr().String())

	if _, _, err := w.PutConnectorConfig(ctx, "demo-connector", cfg, true, connect.TargetStarted); err != nil {
		return err
	}
	eg, ctx := errgroup.WithContext(ctx)
	var stats demo.Stats
	eg.Go(func() error { return demo.Run(ctx, conn, f.rate, g.log, &stats) })
	eg.Go(func() error { return reportDemo(ctx, addr, out, &stats) })
	err = eg.Wait()
	fmt.Fprintln(out, "\nstopped.")
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func redactDSN(pc *pgconn.Config) string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s", pc.User, pc.Host, pc.Port, pc.Database)
}

// reportDemo prints, every five seconds, how many events each demo topic
// holds.
func reportDemo(ctx context.Context, addr string, out io.Writer, st *demo.Stats) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		ends, err := adm.ListEndOffsets(ctx, "demo.public.customers", "demo.public.products", "demo.public.orders", "outbox.event.order")
		if err != nil {
			continue
		}
		counts := map[string]int64{}
		ends.Each(func(o kadm.ListedOffset) {
			if o.Err == nil {
				counts[strings.TrimPrefix(o.Topic, "demo.public.")] += o.Offset
			}
		})
		names := make([]string, 0, len(counts))
		for n := range counts {
			names = append(names, n)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = fmt.Sprintf("%s %d", n, counts[n])
		}
		fmt.Fprintf(out, "%s  workload: %d transactions | events in Kafka: %s\n", time.Now().Format("15:04:05"), st.Transactions.Load(), strings.Join(parts, ", "))
	}
}
