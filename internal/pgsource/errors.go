package pgsource

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// SlotInUseError reports a replication slot that another process is
// streaming from. Callers retry with backoff: the old owner may be a
// worker that is shutting down.
type SlotInUseError struct {
	Slot string
	PID  int32
}

func (e *SlotInUseError) Error() string {
	pid := "another process"
	if e.PID != 0 {
		pid = fmt.Sprintf("PID %d", e.PID)
	}
	return fmt.Sprintf("replication slot %q is active for %s: another connector or pgmotion worker is streaming from it; stop that one, or give this connector its own slot.name", e.Slot, pid)
}

// Temporary reports that waiting may clear the error.
func (e *SlotInUseError) Temporary() bool { return true }

// SlotDropError reports a replication slot that slot.drop.on.stop should
// have dropped and that is still there: it keeps WAL on the server until
// someone drops it. It shows up from Source.Close.
type SlotDropError struct {
	Slot string
	// PID is the backend that held the slot at the last attempt, 0 if
	// none was named.
	PID int32
	Err error
}

func (e *SlotDropError) Error() string {
	by := ""
	if e.PID != 0 {
		by = fmt.Sprintf(" (held by PID %d)", e.PID)
	}
	return fmt.Sprintf("replication slot %q was not dropped%s and keeps WAL on the server until it is: once nothing streams from it, run SELECT pg_drop_replication_slot('%s'): %v",
		e.Slot, by, strings.ReplaceAll(e.Slot, "'", "''"), e.Err)
}

func (e *SlotDropError) Unwrap() error { return e.Err }

// explain turns the PostgreSQL errors a user can fix into one line that
// says how. Other errors pass through unchanged. Passwords never appear:
// pgconn keeps them out of its messages.
func explain(err error, user, db string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01":
			return fmt.Errorf("password authentication failed for user %q: check database.user and database.password: %w", user, err)
		case "28000":
			return fmt.Errorf("the server refused user %q (pg_hba.conf or role settings): allow it a %s connection to database %q: %w", user, "replication", db, err)
		case "3D000":
			return fmt.Errorf("database %q does not exist: check database.dbname: %w", db, err)
		case "42501":
			if strings.Contains(pgErr.Message, "replication") || strings.Contains(pgErr.Message, "REPLICATION") {
				return fmt.Errorf("user %q may not use replication: run ALTER ROLE %s WITH REPLICATION (or use a superuser): %w", user, user, err)
			}
			return fmt.Errorf("user %q lacks a privilege pgmotion needs: %w", user, err)
		case "55006":
			return fmt.Errorf("%w", &SlotInUseError{Slot: slotFromMessage(pgErr.Message), PID: activePID(pgErr.Message)})
		}
		return err
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) && strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("cannot reach PostgreSQL: check database.hostname and database.port, and that the server is running: %w", err)
	}
	return err
}

func slotFromMessage(msg string) string {
	// replication slot "name" is active for PID 123
	if i := strings.IndexByte(msg, '"'); i >= 0 {
		if j := strings.IndexByte(msg[i+1:], '"'); j >= 0 {
			return msg[i+1 : i+1+j]
		}
	}
	return ""
}
