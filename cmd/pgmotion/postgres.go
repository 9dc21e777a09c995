package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pgmotion/pgmotion/internal/pglocal"
)

func init() { subcommands = append(subcommands, newPostgresCmd) }

// newPostgresCmd is `pgmotion postgres start|stop`: a throwaway PostgreSQL
// with wal_level=logical for trying pgmotion out (the README's walk-through),
// from the server binaries alone. Plain initdb and pg_ctl cannot do it from
// one command line: they refuse to run as root, and Debian keeps them off
// PATH.
func newPostgresCmd(g *globals) *cobra.Command {
	var port int
	var dir string
	cmd := &cobra.Command{
		Use:   "postgres",
		Short: "Start or stop a throwaway PostgreSQL with wal_level=logical, to try pgmotion with",
		Long: `Start (or stop) a PostgreSQL server with wal_level=logical on 127.0.0.1:--port,
in --dir, that keeps running after this command returns. It trusts every local
connection (any password works) and is meant for trying pgmotion out, not for
data you want to keep: stop removes its directory.

It needs PostgreSQL's server binaries (apt-get install postgresql). As root, it
runs the server as the system user ` + pglocal.RunAsUser + `, which it creates if missing.`,
		Example: `  pgmotion postgres start --port 5432
  psql postgres://postgres@localhost:5432/postgres
  pgmotion postgres stop --port 5432`,
	}
	dirOf := func() string {
		if dir != "" {
			return dir
		}
		return filepath.Join(os.TempDir(), "pgmotion-postgres-"+strconv.Itoa(port))
	}
	start := &cobra.Command{
		Use:   "start",
		Short: "Start the server (again, if it is running) and return",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if port < 1 || port > 65535 {
				return fmt.Errorf("--port %d: want a TCP port, 1 to 65535", port)
			}
			srv, err := pglocal.Start(cmd.Context(), pglocal.Options{Dir: dirOf(), Port: port, Logical: true, Log: g.log})
			if err != nil {
				return err
			}
			stopArgs := "--port " + strconv.Itoa(port)
			if dir != "" {
				stopArgs += " --dir " + dir
			}
			url, _, _ := strings.Cut(srv.DSN("postgres"), "?") // psql needs no sslmode=disable
			fmt.Fprintf(cmd.OutOrStdout(), "PostgreSQL is running with wal_level=logical at %s (user postgres, any password), in %s\nstop it with: pgmotion postgres stop %s\n",
				url, srv.Dir(), stopArgs)
			return nil
		},
	}
	stop := &cobra.Command{
		Use:   "stop",
		Short: "Stop the server and remove its directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d := dirOf()
			srv, err := pglocal.Attach(d, g.log)
			if err != nil {
				return fmt.Errorf("no server to stop in %s (was it started with this --port and --dir?): %w", d, err)
			}
			if err := srv.Stop(cmd.Context()); err != nil {
				return err
			}
			if err := srv.Remove(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "PostgreSQL stopped; %s removed\n", d)
			return nil
		},
	}
	cmd.PersistentFlags().IntVar(&port, "port", 5432, "TCP port on 127.0.0.1")
	cmd.PersistentFlags().StringVar(&dir, "dir", "", "directory of the server's data, socket and log (default $TMPDIR/pgmotion-postgres-PORT)")
	cmd.AddCommand(start, stop)
	return cmd
}
