package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pgmotion/pgmotion/internal/broker"
)

func init() { subcommands = append(subcommands, newBrokerCmd) }

// newBrokerCmd is `pgmotion broker`: the embedded Kafka-protocol broker on
// its own, until SIGINT or SIGTERM.
func newBrokerCmd(g *globals) *cobra.Command {
	var (
		o         broker.Options
		usersFile string
	)
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the embedded Kafka-protocol broker",
		Long: `Run the embedded single-node Kafka-protocol broker (franz-go's kfake) until
SIGINT or SIGTERM. Any Kafka client can use it: kcat, kgo, the Java client.

Topics, records, consumer group offsets and producer state are kept in
--data-dir and survive a restart or a crash of the process; --sync-writes also
makes each acknowledged batch survive a crash of the machine. With
--data-dir "" everything stays in memory. Topics are created on first use
with --partitions partitions, or explicitly with CreateTopics.

Binding 0.0.0.0 serves other hosts; the broker then advertises 127.0.0.1
unless --advertise names the host clients should dial.

--tls-cert and --tls-key (PEM) make it serve TLS only. --sasl-users-file, or
the environment variable PGMOTION_BROKER_SASL_USERS, lists the SASL users, one
MECHANISM:USER:PASSWORD a line (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512); every
client must then authenticate as one of them. With both, clients connect with
security.protocol=SASL_SSL.`,
		Example: `  pgmotion broker
  pgmotion broker --listen 0.0.0.0:9092 --advertise kafka.internal:9092 --data-dir /var/lib/pgmotion/broker
  pgmotion broker --listen 0.0.0.0:9092 --tls-cert broker.pem --tls-key broker-key.pem --sasl-users-file users.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Log = g.log.With("component", "broker")
			users, err := broker.LoadSASLUsers(usersFile, os.Getenv)
			if err != nil {
				return err
			}
			o.SASLUsers = users
			b, err := broker.New(o)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			errc := make(chan error, 1)
			go func() { errc <- b.Run(ctx) }()
			select {
			case <-b.Ready():
			case err := <-errc:
				return err
			}
			where := "data dir " + o.DataDir
			if o.DataDir == "" {
				where = "in memory: records are lost when it stops"
			}
			adv := ""
			if b.Addr() != b.ListenAddr() {
				adv = ", advertised as " + b.Addr()
			}
			fmt.Fprintf(cmd.OutOrStdout(), "broker listening on %s%s (%s)\n", b.ListenAddr(), adv, where)
			return <-errc
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", broker.DefaultListen, "host:port to bind; 0.0.0.0 serves every interface, port 0 picks a free port")
	f.StringVar(&o.Advertise, "advertise", "", "host[:port] clients should dial (default: the --listen address, 127.0.0.1 for 0.0.0.0)")
	f.StringVar(&o.DataDir, "data-dir", "./pgmotion-data/broker", `directory for topics, records and offsets; "" keeps them in memory`)
	f.BoolVar(&o.SyncWrites, "sync-writes", false, "fsync every produced batch before acknowledging it")
	f.IntVar(&o.DefaultPartitions, "partitions", 1, "partitions of topics created on first use or with the broker default")
	f.StringVar(&o.ClusterID, "cluster-id", "", "cluster ID to report (default: the one stored in --data-dir, or a new one)")
	f.IntVar(&o.MessageMaxBytes, "message-max-bytes", broker.DefaultMessageMaxBytes, "message.max.bytes: the largest record batch accepted (Kafka's default)")
	f.IntVar(&o.SocketRequestMaxBytes, "socket-request-max-bytes", broker.DefaultSocketRequestMaxBytes, "socket.request.max.bytes: a connection announcing a larger request is closed (Kafka's default)")
	f.StringVar(&o.TLSCertFile, "tls-cert", "", "serve TLS only, with this PEM certificate (chain) file")
	f.StringVar(&o.TLSKeyFile, "tls-key", "", "the PEM private key file for --tls-cert")
	f.StringVar(&usersFile, "sasl-users-file", "", "require SASL: file of MECHANISM:USER:PASSWORD lines (or set "+broker.EnvSASLUsers+")")
	return cmd
}
