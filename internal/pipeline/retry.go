package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Faults and recovery, the way Debezium's PostgreSQL connector behaves
// under Kafka Connect: a task that fails with a retriable error (see
// retriable) is restarted inside the same runner, and its status stays
// RUNNING meanwhile; any other error fails it at once. Each restart
// reads the stored offset again, so the new attempt resumes from what
// Kafka holds and the slot has confirmed; nothing is skipped, and at
// most what was in flight comes again.

// firstRetryWait is the wait before the first retry; each retry doubles
// it, up to retriable.restart.connector.wait.ms (Debezium waits that
// cap every time). A PostgreSQL restart of a few seconds then costs a
// few seconds, and a long outage one attempt per cap.
const firstRetryWait = 500 * time.Millisecond

// retriable reports whether a task that failed with err may succeed if
// it starts again. It is the one place that decides, by what the error
// is rather than by where it came from: the connection to PostgreSQL or
// Kafka was lost or refused, the server is restarting, shutting down or
// failing over, a slot is still held by a walsender that is going away,
// Kafka has no leader or cannot be reached. Bad configuration,
// authentication, privileges, unsupported data and panics are not
// retriable.
func retriable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
		return false
	}
	var p *panicError
	if errors.As(err, &p) {
		return false
	}
	// A server's answer decides first: an authentication failure comes
	// wrapped in a connection error, and must not be retried.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return retriableSQLState(pgErr.Code)
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Retriable || transactionalRetriable(ke)
	}
	// Errors that say so themselves (pgsource.SlotInUseError).
	var tmp interface{ Temporary() bool }
	if errors.As(err, &tmp) && tmp.Temporary() {
		return true
	}
	for _, e := range []error{io.EOF, io.ErrUnexpectedEOF, net.ErrClosed, context.DeadlineExceeded,
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE, syscall.ETIMEDOUT,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.ENETDOWN,
		kgo.ErrRecordTimeout, kgo.ErrRecordRetries} {
		if errors.Is(err, e) {
			return true
		}
	}
	// Any network failure: a dial, a name lookup, a read or write.
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	// pgconn's own word that nothing reached the server, or a timeout.
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// transactionalRetriable tells the Kafka errors that end an exactly-once
// task's transactional producer without anything being wrong with the
// task: a broker that restarted and lost or moved on from the producer's
// epoch, a coordinator that changed. The next attempt makes a new
// producer, which fences any older one (InitProducerID), and resumes from
// the offset committed with the last transaction, so a read_committed
// consumer still sees each change once. A task that lost its connector to
// another worker is stopped by the reassignment, not by this.
func transactionalRetriable(ke *kerr.Error) bool {
	switch ke {
	case kerr.InvalidProducerEpoch, kerr.ProducerFenced, kerr.UnknownProducerID,
		kerr.InvalidProducerIDMapping, kerr.TransactionCoordinatorFenced, kerr.InvalidTxnState,
		kerr.OperationNotAttempted: // a commit refused because a produce of the transaction failed
		return true
	}
	return false
}

// retriableSQLState reports whether a PostgreSQL error code is one that
// waiting clears: the connection failed (class 08), the server is
// shutting down, crashed or not yet accepting connections (57P01,
// 57P02, 57P03), it lacks resources for now (class 53, such as too many
// connections), or a replication slot is still active for a walsender
// that is going away (55006).
func retriableSQLState(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"):
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03", "55006":
		return true
	}
	return false
}

// panicError is a panic in a task, turned into its failure: the task is
// FAILED with the value and the stack in its trace, and the process and
// the other connectors go on.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("panic: %v (a bug in pgmotion; please report it with this trace)\n%s", e.value, e.stack)
}

// guard runs fn and turns a panic in it into a *panicError.
func Guard(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{value: p, stack: debug.Stack()}
		}
	}()
	return fn()
}

// RetryPolicy is errors.max.retries and retriable.restart.connector.wait.ms.
type RetryPolicy struct {
	max     int // -1: without limit
	maxWait time.Duration

	retries int
	wait    time.Duration
}

func NewRetryPolicy(maxRetries int, maxWait time.Duration) *RetryPolicy {
	if maxWait <= 0 {
		maxWait = 10 * time.Second
	}
	p := &RetryPolicy{max: maxRetries, maxWait: maxWait}
	p.reset()
	return p
}

// reset starts the count and the backoff again, after an attempt that
// delivered to Kafka (as Debezium resets after a poll that returned
// records).
func (p *RetryPolicy) reset() {
	p.retries, p.wait = 0, min(firstRetryWait, p.maxWait)
}

// next returns how long to wait before the next attempt, or false when
// the retries are spent.
func (p *RetryPolicy) next() (time.Duration, bool) {
	if p.max != -1 && p.retries >= p.max {
		return 0, false
	}
	p.retries++
	d := p.wait
	p.wait = min(p.wait*2, p.maxWait)
	return d, true
}

// Supervise runs attempt until ctx ends, restarting it after
// retriable errors as the policy allows. Each restart is logged once,
// with its number, cause and wait. It returns the error that failed the
// task for good, or nil when ctx ended.
func Supervise(ctx context.Context, log *slog.Logger, p *RetryPolicy, attempt func(context.Context) (progressed bool, err error)) error {
	for {
		progressed, err := attempt(ctx)
		if ctx.Err() != nil || err == nil {
			return nil
		}
		if !retriable(err) {
			return err
		}
		if progressed {
			p.reset()
		}
		wait, ok := p.next()
		if !ok {
			return fmt.Errorf("%w (gave up after %d retries, errors.max.retries=%d: set it to -1 to retry without limit)", err, p.retries, p.max)
		}
		log.Warn("connector task failed with a retriable error; restarting it", "retry", p.retries, "err", err, "wait", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}
