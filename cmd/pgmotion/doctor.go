package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/doctor"
	"github.com/pgmotion/pgmotion/internal/kafkaclient"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/workerconfig"
)

func init() { subcommands = append(subcommands, newDoctorCmd) }

type doctorFlags struct {
	workerConfig string
	bootstrap    string
	jsonOut      bool
	quiet        bool
	strict       bool
	skipKafka    bool
	timeout      time.Duration
}

// errProblems makes the process exit 1 after the report said why.
var errProblems = errors.New("doctor: the connector is not ready to run; see the PROBLEM (and, with --strict, WARN) lines")

// newDoctorCmd is `pgmotion doctor`: a preflight of one connector.
func newDoctorCmd(g *globals) *cobra.Command {
	var f doctorFlags
	cmd := &cobra.Command{
		Use:   "doctor [flags] CONNECTOR.json",
		Short: "Check what a connector needs from PostgreSQL and Kafka before it runs",
		Long: `Check, without changing anything, what the connector in CONNECTOR.json (the
format of 'pgmotion connect' files) needs before it runs, and print each problem
on one line with its fix:

PostgreSQL: wal_level, free max_replication_slots and max_wal_senders, the
REPLICATION attribute, SELECT on the captured tables, the publication and who
may create or alter it, REPLICA IDENTITY and TOAST-able columns of each
captured table, the connector's slot, inactive slots and the WAL they hold,
max_slot_wal_keep_size, and DDL capture's event triggers.

Kafka (the worker's settings, as 'pgmotion connect' reads them): that the
worker reaches and authenticates to the cluster, that its storage topics exist
with cleanup.policy=compact or may be created, and that the data topics may be
created (validated only) or written.

Lines start with OK, WARN (a risk the connector runs with) or PROBLEM
(something that stops it or loses data). The exit code is 1 when there is a
PROBLEM (or, with --strict, a WARN), 0 otherwise.`,
		Example: `  pgmotion doctor --bootstrap-servers kafka:9092 inventory.json
  pgmotion doctor --worker-config connect-distributed.properties --json inventory.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDoctor(cmd, g, f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.workerConfig, "worker-config", "", "Kafka Connect worker properties file (connect-distributed.properties)")
	fl.StringVar(&f.bootstrap, "bootstrap-servers", "", "Kafka bootstrap servers, host:port[,host:port] (bootstrap.servers)")
	fl.BoolVar(&f.jsonOut, "json", false, "print the findings as JSON")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only warnings, problems and the summary, not the checks that passed")
	fl.BoolVar(&f.strict, "strict", false, "exit 1 on warnings too")
	fl.BoolVar(&f.skipKafka, "skip-kafka", false, "check PostgreSQL only")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long each of the PostgreSQL and Kafka checks may take")
	return cmd
}

func runDoctor(cmd *cobra.Command, g *globals, f doctorFlags, path string) error {
	wc, err := workerSettings(cmd, connectFlags{workerConfig: f.workerConfig, bootstrap: f.bootstrap})
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read connector file: %w", err)
	}
	name, cfg, err := options.ParseConnectorJSON(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	resolver, err := workerconfig.NewResolver(wc, os.Environ())
	if err != nil {
		return err
	}
	resolved, err := resolver.Resolve(cfg)
	if err != nil {
		return fmt.Errorf("connector %q: %w", name, err)
	}
	kafkaOpts, sec, err := kafkaClientOpts(wc)
	if err != nil {
		return err
	}
	report, err := doctor.Run(cmd.Context(), doctor.Options{
		Name: name, Config: resolved,
		SkipKafka: f.skipKafka,
		Brokers:   wc.BootstrapServers, KafkaOpts: kafkaOpts, KafkaSecurity: sec.String(), ExplainKafka: sec.Explain,
		ConfigTopic: wc.ConfigTopic, OffsetTopic: wc.OffsetTopic, StatusTopic: wc.StatusTopic,
		OffsetPartitions: wc.OffsetPartitions, StatusPartitions: wc.StatusPartitions,
		ConfigReplication: wc.ConfigReplication, OffsetReplication: wc.OffsetReplication, StatusReplication: wc.StatusReplication,
		Timeout: f.timeout,
		Log:     g.log,
	})
	if err != nil {
		return fmt.Errorf("connector %q: %w", name, err)
	}
	out := cmd.OutOrStdout()
	if f.jsonOut {
		err = report.WriteJSON(out)
	} else {
		err = report.WriteText(out, !f.quiet)
	}
	if err != nil {
		return err
	}
	if report.Count(doctor.Problem) > 0 || (f.strict && report.Count(doctor.Warn) > 0) {
		return errProblems
	}
	return nil
}

// kafkaClientOpts turns the worker's settings into the options of its own
// Kafka clients beyond bootstrap.servers (security.protocol, sasl.*,
// ssl.*), as the worker's own clients use them, and returns the settings
// too, which explain a failed connection.
func kafkaClientOpts(wc *workerconfig.Worker) ([]kgo.Opt, *kafkaclient.Security, error) {
	sec, err := kafkaclient.Parse(wc.KafkaClients().Worker, "")
	if err != nil {
		return nil, nil, err
	}
	return sec.Opts(), sec, nil
}
