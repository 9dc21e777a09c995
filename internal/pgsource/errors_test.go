package pgsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestExplainConnectRefused connects to a port nobody listens on with
// sslmode=prefer, so pgx makes two attempts (TLS, then plain) that fail
// alike: the line says the cause once, with the fix, and the original
// error is still reachable.
func TestExplainConnectRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, cerr := pgconn.Connect(ctx, "postgres://app:pw-secret@127.0.0.1:"+port+"/shop?sslmode=prefer")
	if cerr == nil {
		t.Fatal("connected to a closed port")
	}
	if strings.Count(cerr.Error(), "connection refused") < 2 {
		t.Logf("pgx no longer reports each attempt: %v", cerr)
	}
	err = explain(cerr, "app", "shop")
	want := "cannot reach PostgreSQL at 127.0.0.1:" + port + ": connection refused: check database.hostname and database.port, and that the server is running and accepts TCP connections there"
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		t.Error("the ConnectError is not reachable with errors.As")
	}
}

func TestFromPostgres(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"server error", fmt.Errorf("stream: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"connect error", &pgconn.ConnectError{}, true},
		{"open connection failed", fmt.Errorf("x: %w", safeToRetry{io.ErrUnexpectedEOF}), true},
		{"kafka EOF", fmt.Errorf("produce: %w", io.EOF), false},
		{"plain", errors.New("boom"), false},
	} {
		if got := FromPostgres(tc.err); got != tc.want {
			t.Errorf("%s: FromPostgres = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// safeToRetry stands in for pgconn's unexported connection errors.
type safeToRetry struct{ error }

func (safeToRetry) SafeToRetry() bool { return true }

// TestSlotDropErrorFix checks the statement a SlotDropError gives to drop
// the slot: the name quoted as a SQL literal, and the same in the message.
func TestSlotDropErrorFix(t *testing.T) {
	for _, tc := range []struct{ slot, want string }{
		{"plain", "SELECT pg_drop_replication_slot('plain')"},
		{"it's", "SELECT pg_drop_replication_slot('it''s')"},
	} {
		e := &SlotDropError{Slot: tc.slot, PID: 42, Err: errors.New("still active")}
		if got := e.Fix(); got != tc.want {
			t.Errorf("Fix() for %q = %q, want %q", tc.slot, got, tc.want)
		}
		if msg := e.Error(); !strings.Contains(msg, "run "+tc.want+": still active") || !strings.Contains(msg, "(held by PID 42)") {
			t.Errorf("Error() for %q = %q", tc.slot, msg)
		}
	}
}
