package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/pgsource"
)

func TestRetriable(t *testing.T) {
	pg := func(code string) error { return &pgconn.PgError{Severity: "FATAL", Code: code, Message: "m"} }
	wrap := func(err error) error { return fmt.Errorf("connector %q: stream: %w", "c", err) }
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: &net.AddrError{Err: "x"}}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"stopping", context.Canceled, false},
		{"Kafka client closed", wrap(kgo.ErrClientClosed), false},
		{"unexpected EOF from the server", wrap(fmt.Errorf("receive message failed: %w", io.ErrUnexpectedEOF)), true},
		{"EOF", wrap(io.EOF), true},
		{"transactional producer's epoch gone after a broker restart", wrap(fmt.Errorf("exactly-once delivery: deliver to Kafka: %w", kerr.InvalidProducerEpoch)), true},
		{"transactional producer fenced", wrap(kerr.ProducerFenced), true},
		{"commit not attempted after a failed produce", wrap(fmt.Errorf("commit the producer transaction: %w", kerr.OperationNotAttempted)), true},
		{"connection refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), true},
		{"connection reset", wrap(syscall.ECONNRESET), true},
		{"a dial error", wrap(dial), true},
		{"unknown host", wrap(&net.DNSError{Err: "no such host", Name: "nohost.invalid", IsNotFound: true}), true},
		{"a Kafka request timed out", wrap(context.DeadlineExceeded), true},
		{"08006 connection failure", wrap(pg("08006")), true},
		{"08P01 protocol violation", wrap(pg("08P01")), true},
		{"57P01 admin shutdown (pg_ctl stop -m fast)", wrap(pg("57P01")), true},
		{"57P02 crash shutdown (-m immediate)", wrap(pg("57P02")), true},
		{"57P03 the server is starting up", wrap(pg("57P03")), true},
		{"53300 too many connections", wrap(pg("53300")), true},
		{"55006 slot active for a dying walsender", wrap(pg("55006")), true},
		{"slot in use", wrap(&pgsource.SlotInUseError{Slot: "s", PID: 42}), true},
		{"28P01 bad password", wrap(pg("28P01")), false},
		{"28000 refused by pg_hba.conf", wrap(pg("28000")), false},
		{"42501 missing privilege", wrap(pg("42501")), false},
		{"3D000 no such database", wrap(pg("3D000")), false},
		{"42P01 no such table", wrap(pg("42P01")), false},
		{"Kafka leader not available", wrap(kerr.LeaderNotAvailable), true},
		{"Kafka not leader", wrap(kerr.NotLeaderForPartition), true},
		{"Kafka record too large", wrap(kerr.MessageTooLarge), false},
		{"Kafka topic authorization", wrap(kerr.TopicAuthorizationFailed), false},
		{"Kafka delivery timed out", wrap(kgo.ErrRecordTimeout), true},
		{"a panic", wrap(&panicError{value: "boom"}), false},
		{"unsupported type", wrap(errors.New(`column "x" has type 12345, which pgmotion does not support`)), false},
		{"bad config", errors.New("database.port: not a number"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retriable(tt.err); got != tt.want {
				t.Errorf("retriable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestRetryPolicy(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		cap   time.Duration
		waits []time.Duration // then no more
		more  bool            // still retrying after waits
	}{
		{"never", 0, 10 * time.Second, nil, false},
		{"three", 3, 10 * time.Second, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}, false},
		{"without limit, capped", -1, 3 * time.Second, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second}, true},
		{"a cap under the first wait", -1, 100 * time.Millisecond, []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewRetryPolicy(tt.max, tt.cap)
			for i, want := range tt.waits {
				got, ok := p.next()
				if !ok || got != want {
					t.Fatalf("retry %d: %v, %v; want %v, true", i+1, got, ok, want)
				}
			}
			if _, ok := p.next(); ok != tt.more {
				t.Errorf("after %d retries: more = %v, want %v", len(tt.waits), ok, tt.more)
			}
		})
	}
	// Delivering resets the count and the backoff.
	p := NewRetryPolicy(2, 10*time.Second)
	p.next()
	p.next()
	p.reset()
	if d, ok := p.next(); !ok || d != 500*time.Millisecond {
		t.Errorf("after reset: %v, %v", d, ok)
	}
}

func TestSuperviseTask(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	t.Run("retries a retriable error, then runs", func(t *testing.T) {
		n := 0
		err := Supervise(t.Context(), log, NewRetryPolicy(-1, time.Millisecond), func(ctx context.Context) (bool, error) {
			if n++; n < 4 {
				return false, refused
			}
			return false, nil
		})
		if err != nil || n != 4 {
			t.Errorf("err %v after %d attempts, want nil after 4", err, n)
		}
	})
	t.Run("fails at once on a permanent error", func(t *testing.T) {
		n := 0
		err := Supervise(t.Context(), log, NewRetryPolicy(-1, time.Millisecond), func(ctx context.Context) (bool, error) {
			n++
			return false, &pgconn.PgError{Code: "28P01", Message: "password authentication failed"}
		})
		if err == nil || n != 1 {
			t.Errorf("err %v after %d attempts, want the error after 1", err, n)
		}
	})
	t.Run("gives up after errors.max.retries", func(t *testing.T) {
		n := 0
		err := Supervise(t.Context(), log, NewRetryPolicy(2, time.Millisecond), func(ctx context.Context) (bool, error) {
			n++
			return false, refused
		})
		if err == nil || n != 3 || !strings.Contains(err.Error(), "errors.max.retries=2") {
			t.Errorf("err %v after %d attempts, want a give-up naming errors.max.retries after 3", err, n)
		}
	})
	t.Run("progress resets the count", func(t *testing.T) {
		n := 0
		err := Supervise(t.Context(), log, NewRetryPolicy(1, time.Millisecond), func(ctx context.Context) (bool, error) {
			if n++; n < 6 {
				return true, refused // delivered, then lost the connection
			}
			return false, nil
		})
		if err != nil || n != 6 {
			t.Errorf("err %v after %d attempts, want nil after 6", err, n)
		}
	})
	t.Run("a panic fails the task with its stack", func(t *testing.T) {
		err := Supervise(t.Context(), log, NewRetryPolicy(-1, time.Millisecond), func(ctx context.Context) (bool, error) {
			return false, Guard(func() error { panic("boom") })
		})
		if err == nil || !strings.Contains(err.Error(), "panic: boom") || !strings.Contains(err.Error(), "retry_test.go") {
			t.Errorf("err %v, want the panic with its stack", err)
		}
	})
	t.Run("stops when ctx ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		err := Supervise(ctx, log, NewRetryPolicy(-1, time.Hour), func(ctx context.Context) (bool, error) {
			cancel()
			return false, refused
		})
		if err != nil {
			t.Errorf("err %v, want nil", err)
		}
	})
}
