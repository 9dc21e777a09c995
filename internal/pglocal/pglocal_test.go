package pglocal

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// needBinaries skips the test when no PostgreSQL is installed, or fails it
// under CI=true, where a skip would hide that nothing ran. (pgtest has the
// same rule but imports this package.)
func needBinaries(t *testing.T) {
	t.Helper()
	if _, err := FindBinDir(); err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("%v (CI=true, so this fails instead of skipping)", err)
		}
		t.Skip(err)
	}
}

// testDir returns a fresh Dir the server's user can reach when the tests
// run as root: t.TempDir's parent is mode 0700.
func testDir(t *testing.T) string {
	t.Helper()
	dir, err := MkdirTemp("pglocal-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "pg")
}

func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return s
}

func queryString(t *testing.T, dsn, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, sql).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func TestStartStopRestart(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	ctx := context.Background()
	dir := testDir(t)
	s := startServer(t, Options{Dir: dir, Logical: true, Fast: true, Settings: map[string]string{"max_connections": "42"}})

	for sql, want := range map[string]string{
		"SHOW wal_level":               "logical",
		"SHOW max_replication_slots":   "20",
		"SHOW fsync":                   "off",
		"SHOW synchronous_commit":      "off",
		"SHOW max_connections":         "42",
		"SHOW listen_addresses":        "127.0.0.1",
		"SHOW unix_socket_directories": filepath.Join(dir, "run"),
		"SELECT current_user":          "postgres",
		"SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'postgres'": "UTF8",
	} {
		if got := queryString(t, s.DSN("postgres"), sql); got != want {
			t.Errorf("%s = %q, want %q", sql, got, want)
		}
	}
	if err := s.CreateDatabase(ctx, "Mixed Case"); err != nil {
		t.Fatal(err)
	}
	slot := queryString(t, s.DSN("Mixed Case"), "SELECT slot_name::text FROM pg_create_logical_replication_slot('pglocal_test', 'pgoutput')")
	if slot != "pglocal_test" {
		t.Fatalf("slot = %q", slot)
	}
	queryString(t, s.DSN("Mixed Case"), "SELECT pg_drop_replication_slot('pglocal_test')::text")
	if _, err := os.Stat(filepath.Join(s.BinDir(), "pg_recvlogical")); err != nil {
		t.Errorf("BinDir %s: %v", s.BinDir(), err)
	}
	if err := s.Remove(); err == nil || !strings.Contains(err.Error(), "Stop") {
		t.Errorf("Remove on a running server: err = %v, want one saying to call Stop", err)
	}

	port := s.Port()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	// Restarting an initialised directory keeps its data and, with Port 0,
	// its port.
	s2 := startServer(t, Options{Dir: dir, Logical: true})
	if s2.Port() != port {
		t.Errorf("restart picked port %d, want the previous %d", s2.Port(), port)
	}
	if got := queryString(t, s2.DSN("Mixed Case"), "SELECT current_database()"); got != "Mixed Case" {
		t.Errorf("database after restart = %q", got)
	}
	if got := queryString(t, s2.DSN("postgres"), "SHOW fsync"); got != "on" {
		t.Errorf("fsync after restart without Fast = %q, want on", got)
	}

	// Another process finds and stops the server through the directory.
	other, err := Attach(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if other.Port() != s2.Port() {
		t.Errorf("Attach port = %d, want %d", other.Port(), s2.Port())
	}
	if err := other.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s2.Stop(ctx); err != nil {
		t.Fatalf("Stop after another process stopped the server: %v", err)
	}
	if err := s2.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Dir still exists after Remove: %v", err)
	}
}

func TestStartAfterKilledRun(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	dir := testDir(t)
	s := startServer(t, Options{Dir: dir, Logical: true, Fast: true})

	// The process that started the server died, and the server with it.
	pid, _, ok := readPostmasterPID(filepath.Join(dir, "data"))
	if !ok {
		t.Fatal("no postmaster.pid")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for ProcessAlive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	s2 := startServer(t, Options{Dir: dir, Logical: true, Fast: true})
	if got := queryString(t, s2.DSN("postgres"), "SHOW wal_level"); got != "logical" {
		t.Errorf("wal_level = %q", got)
	}

	// The process died but the server lives on: Start takes it over.
	s3 := startServer(t, Options{Dir: dir, Port: s2.Port(), Logical: true, Fast: true})
	if s3.Port() != s2.Port() {
		t.Errorf("port = %d, want %d", s3.Port(), s2.Port())
	}
	queryString(t, s3.DSN("postgres"), "SELECT 1::text")
	_ = s
}

func TestStartCleansStalePID(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	ctx := context.Background()
	dir := testDir(t)
	s := startServer(t, Options{Dir: dir, Fast: true})
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// A pid file naming a process that is gone, as after a reboot or a
	// SIGKILL of the whole process group.
	dead := os.Getpid() + 1_000_000
	pidFile := filepath.Join(dir, "data", "postmaster.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(dead)+"\n"+filepath.Join(dir, "data")+"\n0\n5432\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := startServer(t, Options{Dir: dir, Fast: true})
	queryString(t, s2.DSN("postgres"), "SELECT 1::text")
}

func TestStartPortInUse(t *testing.T) {
	needBinaries(t)
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = Start(context.Background(), Options{Dir: testDir(t), Port: port})
	if err == nil || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("err = %v, want one naming port %d as in use", err, port)
	}
}

func TestStartUnreachableDirAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	needBinaries(t)
	parent, err := os.MkdirTemp("", "pglocal-private-") // mode 0700
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(parent)
	_, err = Start(context.Background(), Options{Dir: filepath.Join(parent, "pg")})
	if err == nil || !strings.Contains(err.Error(), parent) || !strings.Contains(err.Error(), "/tmp") {
		t.Fatalf("err = %v, want one naming %s and suggesting a directory under /tmp", err, parent)
	}
}

func TestRenderConfig(t *testing.T) {
	got := renderConfig(Options{Logical: true, Fast: true, Settings: map[string]string{"work_mem": "64MB", "application_name": "it's"}}, 5433, "/x/run")
	for _, want := range []string{
		"port = '5433'\n",
		"unix_socket_directories = '/x/run'\n",
		"wal_level = 'logical'\n",
		"max_wal_senders = '20'\n",
		"full_page_writes = 'off'\n",
		"application_name = 'it''s'\nwork_mem = '64MB'\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(renderConfig(Options{}, 1, "/x"), "wal_level") {
		t.Error("wal_level set without Logical")
	}
	if configuredPort(t.TempDir()) != 0 {
		t.Error("configuredPort of an empty dir")
	}
}

func TestValidateSettings(t *testing.T) {
	for _, tc := range []struct {
		settings map[string]string
		ok       bool
	}{
		{map[string]string{"work_mem": "1MB", "auto_explain.log_min_duration": "0"}, true},
		{map[string]string{"bad name": "1"}, false},
		{map[string]string{"x = 1\nfsync": "on"}, false},
		{map[string]string{"work_mem": "1MB\nfsync = off"}, false},
	} {
		if err := validateSettings(tc.settings); (err == nil) != tc.ok {
			t.Errorf("validateSettings(%q) = %v, want ok=%v", tc.settings, err, tc.ok)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		sign int
	}{
		{"15", "9.6", 1}, {"9.6", "10", -1}, {"16", "16", 0}, {"17", "15", 1},
	} {
		got := compareVersions(tc.a, tc.b)
		if (got > 0) != (tc.sign > 0) || (got < 0) != (tc.sign < 0) {
			t.Errorf("compareVersions(%s, %s) = %d, want sign %d", tc.a, tc.b, got, tc.sign)
		}
	}
}
