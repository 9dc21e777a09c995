package pgsource

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"

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
	return fmt.Sprintf("replication slot %q was not dropped%s and keeps WAL on the server until it is: once nothing streams from it, run %s: %v",
		e.Slot, by, e.Fix(), e.Err)
}

// Fix returns the statement that drops the slot, to show a user.
func (e *SlotDropError) Fix() string {
	return "SELECT pg_drop_replication_slot('" + strings.ReplaceAll(e.Slot, "'", "''") + "')"
}

func (e *SlotDropError) Unwrap() error { return e.Err }

// explain turns the PostgreSQL errors a user can fix into one line that
// names the cause and says how to fix it. Other errors pass through
// unchanged. Passwords never appear: pgconn keeps them out of its messages.
//
// A failed connect is a *pgconn.ConnectError joining the error of every
// attempt, one per address and TLS mode (sslmode=prefer tries TLS, then
// plain), each on a line of its own. Only the decisive attempt is shown:
// the server's own answer (a wrong password, SQLSTATE 28P01) over a
// refused TLS upgrade or a refused dial, and one of several attempts that
// failed alike. The original error stays reachable with errors.As.
func explain(err error, user, db string) error {
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return &explained{msg: explainConnect(connErr, user, db), err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if cause, fix := explainPg(pgErr, user, db); cause != "" {
			if pgErr.Code == "55006" {
				return fmt.Errorf("%w", &SlotInUseError{Slot: slotFromMessage(pgErr.Message), PID: pidFromMessage(pgErr.Message)})
			}
			return fmt.Errorf("%s: %s: %w", cause, fix, err)
		}
	}
	return err
}

// explained is an error rewritten for the user; Unwrap reaches the
// original.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// explainPg returns the cause and the fix of a server error a user can
// fix, or "" for others.
func explainPg(pgErr *pgconn.PgError, user, db string) (cause, fix string) {
	switch pgErr.Code {
	case "28P01":
		return fmt.Sprintf("password authentication failed for user %q", user), "check database.user and database.password"
	case "28000":
		return fmt.Sprintf("the server refused user %q (%s)", user, pgErr.Message),
			fmt.Sprintf("allow it a connection to database %q in pg_hba.conf (and LOGIN in its role), then reload PostgreSQL", db)
	case "3D000":
		return fmt.Sprintf("database %q does not exist", db), "check database.dbname"
	case "42501":
		if strings.Contains(pgErr.Message, "replication") || strings.Contains(pgErr.Message, "REPLICATION") {
			return fmt.Sprintf("user %q may not use replication", user), fmt.Sprintf("run ALTER ROLE %s WITH REPLICATION (or use a superuser)", user)
		}
		return fmt.Sprintf("user %q lacks a privilege pgmotion needs", user), "grant it, or use a superuser"
	case "55006":
		return "slot in use", ""
	}
	return "", ""
}

// explainConnect is the one line for a failed connect.
func explainConnect(ce *pgconn.ConnectError, user, db string) string {
	where := "PostgreSQL"
	if ce.Config != nil {
		where = fmt.Sprintf("PostgreSQL at %s", net.JoinHostPort(ce.Config.Host, strconv.Itoa(int(ce.Config.Port))))
	}
	attempt := decisiveAttempt(ce)
	var pgErr *pgconn.PgError
	if errors.As(attempt, &pgErr) {
		if cause, fix := explainPg(pgErr, user, db); fix != "" {
			return fmt.Sprintf("%s (%s, SQLSTATE %s): %s", cause, where, pgErr.Code, fix)
		}
		return fmt.Sprintf("%s refused the connection: %s: %s (SQLSTATE %s)", where, pgErr.Severity, pgErr.Message, pgErr.Code)
	}
	var dnsErr *net.DNSError
	if errors.As(attempt, &dnsErr) {
		return fmt.Sprintf("cannot resolve database.hostname %q: %s: check database.hostname", dnsErr.Name, dnsErr.Err)
	}
	var opErr *net.OpError
	if errors.As(attempt, &opErr) {
		reason := opErr.Err.Error()
		var errno syscall.Errno
		if errors.As(opErr, &errno) {
			reason = errno.Error()
		} else if opErr.Timeout() {
			reason = "timed out"
		}
		return fmt.Sprintf("cannot reach %s: %s: check database.hostname and database.port, and that the server is running and accepts TCP connections there", where, reason)
	}
	detail := attemptText(attempt)
	if strings.Contains(detail, "server refused TLS") {
		return fmt.Sprintf("%s does not accept TLS, which database.sslmode asks for: enable ssl on the server, or set database.sslmode=prefer (or disable)", where)
	}
	return fmt.Sprintf("cannot connect to %s: %s", where, detail)
}

// decisiveAttempt picks, among the attempts a ConnectError joins, the one
// that tells the user what to fix: one the server answered with an error,
// else one that is not a refused TLS upgrade, else the first.
func decisiveAttempt(ce *pgconn.ConnectError) error {
	attempts := flatten(ce.Unwrap())
	if len(attempts) == 0 {
		return ce.Unwrap()
	}
	for _, a := range attempts {
		var pgErr *pgconn.PgError
		if errors.As(a, &pgErr) {
			return a
		}
	}
	for _, a := range attempts {
		if !strings.Contains(a.Error(), "tls error") {
			return a
		}
	}
	return attempts[0]
}

// flatten returns the leaves of a tree of joined errors.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// attemptText is an attempt's message without pgconn's address prefix
// ("127.0.0.1:5432 (localhost): "), which explainConnect says once.
func attemptText(err error) string {
	if inner := errors.Unwrap(err); inner != nil {
		return inner.Error()
	}
	return err.Error()
}

func pidFromMessage(msg string) int32 {
	var pid int32
	if i := strings.LastIndex(msg, "PID"); i >= 0 {
		fmt.Sscanf(msg[i+3:], "%d", &pid)
	}
	return pid
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

// FromPostgres reports whether err came from talking to PostgreSQL: a
// server error, a failed connect, or a failure of an open connection
// (pgconn's errors, which all say whether they are safe to retry). Callers
// use it to keep hints about other systems (Kafka's security settings,
// say) off PostgreSQL's failures.
func FromPostgres(err error) bool {
	var pgErr *pgconn.PgError
	var connErr *pgconn.ConnectError
	var retry interface{ SafeToRetry() bool }
	return errors.As(err, &pgErr) || errors.As(err, &connErr) || errors.As(err, &retry)
}
