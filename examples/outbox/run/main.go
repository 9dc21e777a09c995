// Command run is `make outbox-example`: the outbox example from a fresh
// clone, with nothing installed but Go and PostgreSQL's server binaries.
// It starts a throwaway PostgreSQL (internal/pglocal), then pgmotion with
// its embedded broker and the connector of examples/outbox/connector.json,
// runs the order service twice (events through the outbox table, then
// through pg_logical_emit_message), and the consumer until it has printed
// every event. It exits 0 when all came through, and removes what it made.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/pglocal"
)

// ordersPerRoute is how many orders the service creates per outbox route.
const ordersPerRoute = 2

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, "."); err != nil {
		fmt.Fprintln(os.Stderr, "outbox example:", err)
		os.Exit(1)
	}
}

// run runs the example from the repository root root, writing what the
// programs print to out.
func run(ctx context.Context, out io.Writer, root string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	tmp, err := pglocal.MkdirTemp("pgmotion-outbox-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Fprintln(out, "building pgmotion, the order service and the consumer ...")
	bin := filepath.Join(tmp, "bin")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin+string(filepath.Separator),
		"./cmd/pgmotion", "./examples/outbox/orderservice", "./examples/outbox/consumer")
	build.Dir, build.Stdout, build.Stderr = root, out, out
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}

	fmt.Fprintln(out, "starting a throwaway PostgreSQL (wal_level=logical) ...")
	srv, err := pglocal.Start(ctx, pglocal.Options{Dir: filepath.Join(tmp, "postgres"), Logical: true})
	if err != nil {
		return err
	}
	defer srv.Stop(context.WithoutCancel(ctx))
	if err := srv.CreateDatabase(ctx, "shop"); err != nil {
		return err
	}
	dsn := srv.DSN("shop")

	connector, err := connectorFile(root, tmp, dsn)
	if err != nil {
		return err
	}
	broker, err := freeAddr()
	if err != nil {
		return err
	}
	rest, err := freeAddr()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "starting pgmotion: embedded broker %s, connector %s ...\n", broker, filepath.Join("examples", "outbox", "connector.json"))
	var logs strings.Builder
	pgm := exec.Command(filepath.Join(bin, "pgmotion"), "connect", "--embedded-broker", broker, "--rest", rest,
		"--data-dir", filepath.Join(tmp, "pgmotion"), connector)
	pgm.Stdout, pgm.Stderr = &logs, &logs
	if err := pgm.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- pgm.Wait() }()
	defer func() {
		pgm.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			pgm.Process.Kill()
			<-exited
		}
	}()
	if err := waitSlot(ctx, dsn, "orders_outbox", exited); err != nil {
		return fmt.Errorf("%w\npgmotion's log:\n%s", err, logs.String())
	}

	for _, via := range []string{"table", "message"} {
		svc := exec.CommandContext(ctx, filepath.Join(bin, "orderservice"), "-dsn", dsn, "-orders", strconv.Itoa(ordersPerRoute), "-outbox", via)
		svc.Stdout, svc.Stderr = out, out
		if err := svc.Run(); err != nil {
			return fmt.Errorf("orderservice -outbox %s: %w", via, err)
		}
	}
	cons := exec.CommandContext(ctx, filepath.Join(bin, "consumer"), "-brokers", broker, "-topic", "outbox.event.order",
		"-count", strconv.Itoa(2*ordersPerRoute), "-timeout", "90s")
	cons.Stdout, cons.Stderr = out, out
	if err := cons.Run(); err != nil {
		return fmt.Errorf("consumer: %w\npgmotion's log:\n%s", err, logs.String())
	}
	fmt.Fprintf(out, "done: %d OrderCreated events, half through the outbox table and half through pg_logical_emit_message, alike on outbox.event.order\n", 2*ordersPerRoute)
	return nil
}

// connectorFile writes examples/outbox/connector.json with the throwaway
// server's connection settings.
func connectorFile(root, tmp, dsn string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "examples", "outbox", "connector.json"))
	if err != nil {
		return "", err
	}
	var body struct {
		Name   string            `json:"name"`
		Config map[string]string `json:"config"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return "", fmt.Errorf("examples/outbox/connector.json: %w", err)
	}
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "", err
	}
	body.Config["database.hostname"] = pc.Host
	body.Config["database.port"] = strconv.Itoa(int(pc.Port))
	body.Config["database.user"] = pc.User
	body.Config["database.password"] = pc.Password
	body.Config["database.dbname"] = pc.Database
	if b, err = json.Marshal(body); err != nil {
		return "", err
	}
	path := filepath.Join(tmp, "connector.json")
	return path, os.WriteFile(path, b, 0o644)
}

// waitSlot waits until pgmotion has created the replication slot: events
// written before it would not be captured.
func waitSlot(ctx context.Context, dsn, slot string, exited <-chan error) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("pgmotion exited before creating slot %q: %v", slot, err)
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("waiting for slot %q", slot), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
