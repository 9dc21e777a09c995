package pgtest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func TestServerIsLogical(t *testing.T) {
	inst := pgtest.Server(t)
	if got := pgtest.QueryValue[string](t, inst.AdminDSN(), "SHOW wal_level"); got != "logical" {
		t.Fatalf("wal_level = %q, want logical", got)
	}
	if pgtest.Server(t) != inst {
		t.Error("Server returned a different instance on the second call")
	}
}

func TestLogicalSlot(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		"CREATE TABLE item (id int PRIMARY KEY, name text)",
		"CREATE PUBLICATION pub FOR TABLE item")
	row := pgtest.QueryRow(t, dsn, "SELECT slot_name::text, lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')", "pgtest_slot")
	if row[0] != "pgtest_slot" || row[1] == "" {
		t.Fatalf("created slot = %v", row)
	}
	pgtest.Exec(t, dsn, "INSERT INTO item VALUES (1, 'one'), (2, 'two')")
	// The server runs with synchronous_commit=off: decoding sees the commit
	// only once the WAL writer has flushed it, within wal_writer_delay.
	pgtest.WaitFor(t, 10*time.Second, func() (bool, error) {
		n := pgtest.QueryValue[int64](t, dsn,
			"SELECT count(*) FROM pg_logical_slot_peek_binary_changes('pgtest_slot', NULL, NULL, 'proto_version', '1', 'publication_names', 'pub')")
		return n >= 5, nil // begin, relation, two inserts, commit
	})
	pgtest.Exec(t, dsn, "SELECT pg_drop_replication_slot('pgtest_slot')")
}

// NewDatabase's cleanup must drop a database whose slot is in use by a
// walsender: the slot blocks DROP DATABASE.
func TestNewDatabaseDropsActiveSlot(t *testing.T) {
	t.Parallel()
	inst := pgtest.Server(t)
	recvlogical := filepath.Join(inst.BinDir(), "pg_recvlogical")
	if _, err := os.Stat(recvlogical); err != nil {
		pgtest.Unavailable(t, "pg_recvlogical: %v", err)
	}
	var dbname string
	var cmd *exec.Cmd
	t.Run("db", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		dbname = pgtest.QueryValue[string](t, dsn, "SELECT current_database()::text")
		pgtest.Exec(t, dsn, "SELECT pg_create_logical_replication_slot('busy', 'test_decoding')")
		cmd = exec.Command(recvlogical, "-d", dsn, "--slot", "busy", "--start", "--no-loop", "-f", os.DevNull)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
			return pgtest.QueryValue[bool](t, dsn, "SELECT active FROM pg_replication_slots WHERE slot_name = 'busy'"), nil
		})
		_ = pgtest.Connect(t, dsn) // an idle session, closed before the drop
		pgtest.Connect(t, inst.AdminDSN()).Exec(context.Background(), "SELECT 1")
	})
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done: // its connection was terminated
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Error("pg_recvlogical still running after the database was dropped")
	}
	if n := pgtest.QueryValue[int64](t, inst.AdminDSN(), "SELECT count(*) FROM pg_database WHERE datname = $1", dbname); n != 0 {
		t.Errorf("database %s still exists", dbname)
	}
	if n := pgtest.QueryValue[int64](t, inst.AdminDSN(), "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'busy'"); n != 0 {
		t.Errorf("slot busy still exists")
	}
}

func TestLoadSakila(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	start := time.Now()
	pgtest.LoadSakila(t, dsn)
	t.Logf("loaded Sakila in %s", time.Since(start).Round(time.Millisecond))
	for table, want := range map[string]int64{"payment": 16049, "rental": 16044, "film": 1000, "actor": 200} {
		if got := pgtest.QueryValue[int64](t, dsn, "SELECT count(*) FROM "+table); got != want {
			t.Errorf("%s has %d rows, want %d", table, got, want)
		}
	}
}

func TestWaitFor(t *testing.T) {
	calls := 0
	pgtest.WaitFor(t, 5*time.Second, func() (bool, error) {
		calls++
		return calls == 3, nil
	})
	if calls != 3 {
		t.Errorf("cond called %d times, want 3", calls)
	}
	ft := &fakeTB{TB: t}
	pgtest.WaitFor(ft, 10*time.Millisecond, func() (bool, error) { return false, nil })
	if ft.fatal == "" {
		t.Error("WaitFor did not fail on timeout")
	}
	ft = &fakeTB{TB: t}
	pgtest.WaitFor(ft, time.Second, func() (bool, error) { return false, errors.New("boom") })
	if ft.fatal == "" {
		t.Error("WaitFor did not fail on an error")
	}
}

func TestUnavailable(t *testing.T) {
	t.Setenv("CI", "true")
	ft := &fakeTB{TB: t}
	pgtest.Unavailable(ft, "no %s", "thing")
	if ft.fatal == "" || ft.skip != "" {
		t.Errorf("under CI=true: fatal=%q skip=%q, want a failure", ft.fatal, ft.skip)
	}
	t.Setenv("CI", "")
	ft = &fakeTB{TB: t}
	pgtest.Unavailable(ft, "no %s", "thing")
	if ft.skip == "" || ft.fatal != "" {
		t.Errorf("without CI: fatal=%q skip=%q, want a skip", ft.fatal, ft.skip)
	}
}

// fakeTB records failures and skips instead of stopping the test.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skip = fmt.Sprintf(format, args...)
}
