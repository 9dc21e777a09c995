// Package pgtest gives tests a real PostgreSQL server with wal_level=logical.
//
// If PGMOTION_TEST_PG holds a DSN, tests use that server. Otherwise the first
// test that asks starts one throwaway server (internal/pglocal) for the whole
// test binary, which Run stops at the end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.NewDatabase(t) // dropped when the test ends
//		pgtest.Exec(t, dsn, "CREATE TABLE t (id int PRIMARY KEY)")
//	}
//
// When no server can be had, tests are skipped, except under CI=true, where
// they fail: CI must never pass by skipping.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/pglocal"
)

// EnvDSN names the environment variable holding the DSN of a server to test
// against instead of a throwaway one. The server needs wal_level=logical and
// a user allowed to create databases and replication slots.
const EnvDSN = "PGMOTION_TEST_PG"

// tempPrefix prefixes the temporary directories of throwaway servers; a
// later test binary removes those whose owner died (see sweepStale).
const tempPrefix = "pgmotion-pgtest-"

// opTimeout bounds each helper's work against the server.
const opTimeout = 2 * time.Minute

// Instance is the server tests run against. It is safe for concurrent use.
type Instance struct {
	adminDSN string
	binDir   string
	local    *pglocal.Server
}

// AdminDSN returns the DSN tests use to create and drop databases: the
// "postgres" database of a throwaway server, or PGMOTION_TEST_PG.
func (i *Instance) AdminDSN() string { return i.adminDSN }

// DSN returns the admin DSN with its database replaced by dbname.
func (i *Instance) DSN(dbname string) string {
	dsn, err := withDatabase(i.adminDSN, dbname)
	if err != nil {
		// open checked that the admin DSN can be rewritten.
		panic(err)
	}
	return dsn
}

// BinDir returns the directory of the PostgreSQL binaries (psql,
// pg_recvlogical, pgbench), or "" when the server is external and no local
// installation was found.
func (i *Instance) BinDir() string { return i.binDir }

// Local returns the throwaway server, or nil when PGMOTION_TEST_PG is used.
func (i *Instance) Local() *pglocal.Server { return i.local }

// shared is the one server of the test binary.
var shared struct {
	mu     sync.Mutex
	inRun  bool // Run is running the tests
	tried  bool
	inst   *Instance
	err    error // why there is no server
	fatal  bool  // err is a mistake to fix, not a missing PostgreSQL
	tmpDir string
}

// Run runs the tests and then stops the throwaway server, if one was
// started. Call it from TestMain: os.Exit(pgtest.Run(m)).
func Run(m *testing.M) int {
	shared.mu.Lock()
	shared.inRun = true
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.inst != nil && shared.inst.local != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := shared.inst.local.Stop(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	if shared.tmpDir != "" {
		_ = os.RemoveAll(shared.tmpDir)
	}
	shared.inst, shared.tmpDir = nil, ""
	return code
}

// Server returns the server of the test binary, starting it on first use.
// Without one, the test is skipped, or fails under CI=true.
func Server(t testing.TB) *Instance {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.tried {
		shared.tried = true
		shared.inst, shared.fatal, shared.err = open()
	}
	if shared.err != nil {
		if shared.fatal {
			t.Fatalf("pgtest: %v", shared.err)
		}
		Unavailable(t, "%v", shared.err)
	}
	return shared.inst
}

// Unavailable skips the test because something it needs is missing, or
// fails it when the environment variable CI is true, so that CI never passes
// by skipping.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("%s (CI=true, so this fails instead of skipping)", msg)
		return
	}
	t.Skipf("skipped: %s", msg)
}

// open finds or starts the server. fatal reports an error that a skip must
// not hide: a misconfigured PGMOTION_TEST_PG or a missing TestMain.
func open() (inst *Instance, fatal bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		inst, err := openExternal(ctx, dsn)
		return inst, true, err
	}
	if !shared.inRun {
		return nil, true, errors.New("the package has no TestMain calling pgtest.Run, which stops the server the tests share: add func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }")
	}
	sweepStale()
	dir, err := pglocal.MkdirTemp(tempPrefix)
	if err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return nil, false, fmt.Errorf("write the owner of %s: %w", dir, err)
	}
	srv, err := pglocal.Start(ctx, pglocal.Options{Dir: filepath.Join(dir, "pg"), Logical: true, Fast: true})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, false, fmt.Errorf("no PostgreSQL to test against: set %s to the DSN of a server with wal_level=logical, or make a local one startable: %w", EnvDSN, err)
	}
	shared.tmpDir = dir
	return &Instance{adminDSN: srv.DSN("postgres"), binDir: srv.BinDir(), local: srv}, false, nil
}

// openExternal checks the server PGMOTION_TEST_PG names.
func openExternal(ctx context.Context, dsn string) (*Instance, error) {
	where := describe(dsn)
	if _, err := withDatabase(dsn, "x"); err != nil {
		return nil, fmt.Errorf("%s: %w", EnvDSN, err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("%s (%s): connect: %w; fix or unset it to test against a throwaway server", EnvDSN, where, err)
	}
	defer conn.Close(ctx)
	var walLevel string
	if err := conn.QueryRow(ctx, "SHOW wal_level").Scan(&walLevel); err != nil {
		return nil, fmt.Errorf("%s (%s): SHOW wal_level: %w", EnvDSN, where, err)
	}
	if walLevel != "logical" {
		return nil, fmt.Errorf("%s (%s): wal_level is %q: set wal_level=logical in postgresql.conf and restart the server", EnvDSN, where, walLevel)
	}
	binDir, _ := pglocal.FindBinDir()
	return &Instance{adminDSN: dsn, binDir: binDir}, nil
}

// describe names the server a DSN points at, without its password.
func describe(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "unparsable DSN"
	}
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s", cfg.Host, cfg.Port, cfg.User, cfg.Database)
}

// withDatabase returns dsn, a URL or keyword/value DSN, with its database
// replaced by dbname.
func withDatabase(dsn, dbname string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", errors.New("the DSN is not a valid URL")
		}
		u.Path, u.RawPath = "/"+dbname, ""
		return u.String(), nil
	}
	// In keyword/value form the last occurrence of a keyword wins.
	q := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(dbname)
	return strings.TrimSpace(dsn) + " dbname='" + q + "'", nil
}

// sweepStale stops and removes the servers of earlier test binaries that
// died without running Run's cleanup (a timeout panic, a SIGKILL).
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue // being created, or not ours
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pglocal.ProcessAlive(pid) {
			continue
		}
		if srv, err := pglocal.Attach(filepath.Join(dir, "pg"), nil); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err = srv.Stop(ctx)
			cancel()
			if err != nil {
				continue
			}
		}
		_ = os.RemoveAll(dir)
	}
}

var dbSeq atomic.Int64

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

// databaseName derives a unique database name from a test name.
func databaseName(testName string) string {
	base := strings.Trim(nonIdent.ReplaceAllString(strings.ToLower(testName), "_"), "_")
	if len(base) > 30 {
		base = base[:30]
	}
	return fmt.Sprintf("pgtest_%s_%d_%d", base, os.Getpid(), dbSeq.Add(1))
}

// NewDatabase creates a database for the test and returns its DSN. The
// database is dropped when the test ends, after its connections are
// terminated and the replication slots in it dropped.
func NewDatabase(t testing.TB) string {
	t.Helper()
	inst := Server(t)
	name := databaseName(t.Name())
	Exec(t, inst.AdminDSN(), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		if err := dropDatabase(inst.AdminDSN(), name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return inst.DSN(name)
}

// dropDatabase drops name, retrying while walsenders and backends that were
// just terminated still hold its slots.
func dropDatabase(adminDSN, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return fmt.Errorf("drop database %q: connect: %w", name, err)
	}
	defer conn.Close(context.Background())
	for {
		err = tryDropDatabase(ctx, conn, name)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("drop database %q: %w", name, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func tryDropDatabase(ctx context.Context, conn *pgx.Conn, name string) error {
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name); err != nil {
		return fmt.Errorf("terminate its connections: %w", err)
	}
	rows, _ := conn.Query(ctx, "SELECT slot_name::text FROM pg_replication_slots WHERE database = $1", name)
	slots, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list its replication slots: %w", err)
	}
	for _, slot := range slots {
		if _, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot($1)", slot); err != nil {
			return fmt.Errorf("drop replication slot %q: %w", slot, err)
		}
	}
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
		return err
	}
	return nil
}

// Connect opens a connection that is closed when the test ends.
func Connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", describe(dsn), err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// dial connects for one helper call, bounded by opTimeout; done closes
// the connection and releases the deadline.
func dial(t testing.TB, dsn string) (context.Context, *pgx.Conn, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		cancel()
		t.Fatalf("pgtest: connect to %s: %v", describe(dsn), err)
	}
	return ctx, conn, func() {
		conn.Close(context.Background())
		cancel()
	}
}

// Exec runs each statement (each may hold several, separated by semicolons,
// when it has no parameters) on a new connection and fails the test on the
// first error.
func Exec(t testing.TB, dsn string, sql ...string) {
	t.Helper()
	ctx, conn, done := dial(t, dsn)
	defer done()
	for _, s := range sql {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("pgtest: exec %s: %v", abbreviate(s), err)
		}
	}
}

// QueryRow runs a query that must return exactly one row and returns its
// values, decoded by pgx.
func QueryRow(t testing.TB, dsn, sql string, args ...any) []any {
	t.Helper()
	ctx, conn, done := dial(t, dsn)
	defer done()
	rows, _ := conn.Query(ctx, sql, args...)
	values, err := pgx.CollectExactlyOneRow(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
	if err != nil {
		t.Fatalf("pgtest: query %s: %v", abbreviate(sql), err)
	}
	return values
}

// QueryValue runs a query that must return exactly one row and scans its
// only column into a T.
func QueryValue[T any](t testing.TB, dsn, sql string, args ...any) T {
	t.Helper()
	ctx, conn, done := dial(t, dsn)
	defer done()
	rows, _ := conn.Query(ctx, sql, args...)
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[T])
	if err != nil {
		t.Fatalf("pgtest: query %s: %v", abbreviate(sql), err)
	}
	return v
}

// WaitFor calls cond until it returns true, failing the test when timeout
// passes first or cond returns an error. Return (false, nil) to keep waiting.
func WaitFor(t testing.TB, timeout time.Duration, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	delay := 5 * time.Millisecond
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("pgtest: WaitFor: %v", err)
			return
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgtest: WaitFor: condition not met within %s", timeout)
			return
		}
		time.Sleep(delay)
		delay = min(delay*2, 200*time.Millisecond)
	}
}

func abbreviate(sql string) string {
	s := strings.Join(strings.Fields(sql), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strconv.Quote(s)
}
