// Package pglocal runs a throwaway PostgreSQL server for `pgmotion demo`,
// tests and benchmarks.
//
// Everything a server needs lives in one directory, so another process can
// find and stop it (see Attach) and nothing global is written:
//
//	Dir/data/                 PGDATA; pgmotion.conf holds the settings of the last Start
//	Dir/run/                  unix socket directory
//	Dir/log/postgresql.log    server log (appended across restarts)
//
// PostgreSQL refuses to run as root. When the caller is root, the server runs
// as the system user pgmotion-pg (created on first use), through runuser.
package pglocal

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// RunAsUser is the system user the server runs as when the caller is root.
const RunAsUser = "pgmotion-pg"

const (
	dataSubdir   = "data"
	socketSubdir = "run"
	logSubdir    = "log"
	logName      = "postgresql.log"
	confName     = "pgmotion.conf" // inside the data dir, included from postgresql.conf
	includeLine  = "include_if_exists = '" + confName + "'"

	defaultWait = 60 * time.Second
	// startAttempts bounds retries when a picked port is taken between the
	// check and the server's bind, or an old server's memory is still held.
	startAttempts = 4
)

// Options configures Start.
type Options struct {
	// Dir holds the data directory, socket and log. It is created if missing.
	// As root, Dir is made mode 0755 and every parent of it must be
	// traversable by RunAsUser: a directory under /tmp is simplest.
	Dir string
	// Port to listen on at 127.0.0.1; 0 reuses the port of the previous start
	// if it is free, or else picks a free one.
	Port int
	// Logical sets wal_level=logical, max_replication_slots=20 and
	// max_wal_senders=20.
	Logical bool
	// Fast sets fsync=off, synchronous_commit=off and full_page_writes=off: a
	// crash can lose or corrupt data. Tests and benchmarks only. Logical
	// decoding then sees a commit only once the WAL writer has flushed it,
	// up to wal_writer_delay (200ms) later.
	Fast bool
	// Settings are extra postgresql.conf settings, written last so they
	// override the ones above.
	Settings map[string]string
	// Log receives progress messages, which carry component=pglocal: pass
	// it unscoped. Nil discards them.
	Log *slog.Logger
}

// Server is a PostgreSQL server running from a directory. It is safe for
// concurrent use.
type Server struct {
	dir     string // absolute
	binDir  string
	port    int
	runAs   *account // nil unless the caller is root
	log     *slog.Logger
	mu      sync.Mutex
	stopped bool
}

// Start starts a server in opts.Dir, initialising the directory first if it
// holds no initialised server. A server left running in Dir by an earlier,
// killed run is stopped first; a stale postmaster.pid is removed. Start
// returns once the server accepts connections.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("pglocal: Options.Dir is empty")
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("pglocal: Options.Port %d is out of range: use 1-65535, or 0 to pick a free port", opts.Port)
	}
	if err := validateSettings(opts.Settings); err != nil {
		return nil, err
	}
	if opts.Port != 0 && !portFree(opts.Port) && !heldByOwnServer(opts.Dir, opts.Port) {
		return nil, fmt.Errorf("pglocal: port %d on 127.0.0.1 is in use: stop whatever listens there, or choose another Options.Port (0 picks a free one)", opts.Port)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pglocal: resolve %q: %w", opts.Dir, err)
	}
	s := &Server{dir: dir, log: log.With("component", "pglocal", "dir", dir)}
	if s.binDir, err = findBinDir(dataVersion(s.dataDir())); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if s.runAs, err = ensureAccount(ctx, RunAsUser, s.log); err != nil {
			return nil, err
		}
	}
	if err := s.prepareDirs(); err != nil {
		return nil, err
	}
	if err := s.checkVersion(); err != nil {
		return nil, err
	}
	if err := s.clearStale(ctx); err != nil {
		return nil, err
	}
	if !initialised(s.dataDir()) {
		if err := s.initdb(ctx, opts.Fast); err != nil {
			return nil, err
		}
	}
	if err := s.start(ctx, opts); err != nil {
		return nil, err
	}
	return s, nil
}

// Attach returns the server that lives in dir, running or not, so that a
// process other than the one that started it can use or stop it. It does not
// start anything.
func Attach(dir string, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("pglocal: resolve %q: %w", dir, err)
	}
	s := &Server{dir: abs, log: log.With("component", "pglocal", "dir", abs)}
	if !initialised(s.dataDir()) {
		return nil, fmt.Errorf("pglocal: %s holds no initialised server: start one with pglocal.Start", abs)
	}
	if os.Geteuid() == 0 {
		if s.runAs, err = lookupAccount(RunAsUser); err != nil {
			return nil, fmt.Errorf("pglocal: look up user %s: %w", RunAsUser, err)
		}
	}
	if s.binDir, err = findBinDir(dataVersion(s.dataDir())); err != nil {
		return nil, err
	}
	if pid, port, ok := readPostmasterPID(s.dataDir()); ok && ProcessAlive(pid) && port > 0 {
		s.port = port
	} else {
		s.port = configuredPort(s.dataDir())
		s.stopped = true
	}
	return s, nil
}

// MkdirTemp creates a new directory under os.TempDir (see os.MkdirTemp for
// pattern) to hold a server's Dir, or be one. Unlike os.MkdirTemp's, its
// mode is 0755, so that when the caller is root the server's user can reach
// what is inside it.
func MkdirTemp(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", fmt.Errorf("pglocal: create a temporary directory: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("pglocal: chmod %s: %w", dir, err)
	}
	return dir, nil
}

// DSN returns a URL to connect as the superuser postgres to dbname.
func (s *Server) DSN(dbname string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, url.PathEscape(dbname))
}

// Port returns the TCP port the server listens on at 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Dir returns the absolute directory that holds the server.
func (s *Server) Dir() string { return s.dir }

// BinDir returns the directory of the PostgreSQL binaries the server runs
// with; pg_recvlogical, pgbench and psql usually sit there too.
func (s *Server) BinDir() string { return s.binDir }

// LogPath returns the server's log file.
func (s *Server) LogPath() string { return filepath.Join(s.dir, logSubdir, logName) }

// CreateDatabase creates the database name.
func (s *Server) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("pglocal: connect to create database %q: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("pglocal: create database %q: %w", name, err)
	}
	return nil
}

// Stop stops the server running in Dir with a fast shutdown (open transactions are rolled
// back), falling back to an immediate one if that fails or ctx's deadline
// (60s if it has none) passes. Stopping a stopped server returns nil.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	if err := s.stop(ctx); err != nil {
		return err
	}
	s.stopped = true
	return nil
}

// Restart restarts the server as `pg_ctl restart -m mode` does (mode is
// smart, fast or immediate), for fault tests, and waits until it accepts
// connections again.
func (s *Server) Restart(ctx context.Context, mode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := s.command(ctx, "pg_ctl", "restart", "-D", s.dataDir(), "-m", mode, "-l", s.LogPath(), "-w", "-t", waitSeconds(ctx), "-s").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl restart -m %s: %w: %s", mode, err, oneLine(out))
	}
	return s.waitReady(ctx)
}

// StopMode stops the server as `pg_ctl stop -m mode` does, for fault
// tests; Start with the same Dir starts it again.
func (s *Server) StopMode(ctx context.Context, mode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := s.command(ctx, "pg_ctl", "stop", "-D", s.dataDir(), "-m", mode, "-w", "-t", waitSeconds(ctx), "-s").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop -m %s: %w: %s", mode, err, oneLine(out))
	}
	return nil
}

// Remove deletes Dir. The server must be stopped first.
func (s *Server) Remove() error {
	if pid, _, ok := readPostmasterPID(s.dataDir()); ok && ProcessAlive(pid) {
		return fmt.Errorf("pglocal: remove %s: the server (pid %d) is still running: call Stop first", s.dir, pid)
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("pglocal: remove %s: %w", s.dir, err)
	}
	return nil
}

func (s *Server) dataDir() string   { return filepath.Join(s.dir, dataSubdir) }
func (s *Server) socketDir() string { return filepath.Join(s.dir, socketSubdir) }

// prepareDirs creates Dir and its subdirectories and, as root, hands them to
// the server's user.
func (s *Server) prepareDirs() error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("pglocal: create %s: %w", s.dir, err)
	}
	if s.runAs != nil {
		real, err := filepath.EvalSymlinks(s.dir)
		if err != nil {
			return fmt.Errorf("pglocal: resolve %s: %w", s.dir, err)
		}
		if err := checkTraversable(real, s.runAs); err != nil {
			return err
		}
		// The server's user must reach the subdirectories, and runs its
		// commands from Dir itself.
		fi, err := os.Stat(s.dir)
		if err != nil {
			return fmt.Errorf("pglocal: stat %s: %w", s.dir, err)
		}
		if fi.Mode().Perm()&0o005 != 0o005 {
			if err := os.Chmod(s.dir, fi.Mode().Perm()|0o755); err != nil {
				return fmt.Errorf("pglocal: make %s readable by %s: %w", s.dir, s.runAs.name, err)
			}
		}
	}
	for _, d := range []struct {
		path string
		mode fs.FileMode
	}{
		{s.dataDir(), 0o700},
		{s.socketDir(), 0o755},
		{filepath.Join(s.dir, logSubdir), 0o755},
	} {
		if err := os.MkdirAll(d.path, d.mode); err != nil {
			return fmt.Errorf("pglocal: create %s: %w", d.path, err)
		}
		if s.runAs != nil {
			if err := s.runAs.chownTree(d.path); err != nil {
				return err
			}
		}
		// PostgreSQL requires 0700 (or 0750) on the data directory.
		if err := os.Chmod(d.path, d.mode); err != nil {
			return fmt.Errorf("pglocal: chmod %s: %w", d.path, err)
		}
	}
	return nil
}

// checkVersion refuses a data directory written by a PostgreSQL major version
// other than the binaries found.
func (s *Server) checkVersion() error {
	have := dataVersion(s.dataDir())
	if have == "" || !initialised(s.dataDir()) {
		return nil
	}
	want := binVersion(s.binDir)
	if want != "" && want != have {
		return fmt.Errorf("pglocal: %s was initialised by PostgreSQL %s but the binaries in %s are version %s: install PostgreSQL %s (apt-get install postgresql-%s) or remove %s to start afresh",
			s.dataDir(), have, s.binDir, want, have, have, s.dir)
	}
	return nil
}

// clearStale stops a server left running in Dir and removes the lock files
// of one that died.
func (s *Server) clearStale(ctx context.Context) error {
	pid, _, ok := readPostmasterPID(s.dataDir())
	if !ok {
		return nil
	}
	if ProcessAlive(pid) {
		cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if err != nil {
			return fmt.Errorf("pglocal: %s names process %d, which is alive but cannot be inspected (%w): stop it, or remove the file if it is not a PostgreSQL server",
				filepath.Join(s.dataDir(), "postmaster.pid"), pid, err)
		}
		if real, err := filepath.EvalSymlinks(s.dataDir()); err == nil && cwd == real {
			s.log.Info("stopping a server left running by an earlier run", "pid", pid)
			return s.stop(ctx)
		}
		// The pid was reused by an unrelated process.
	}
	s.log.Info("removing the lock files of a server that died", "pid", pid)
	if err := os.Remove(filepath.Join(s.dataDir(), "postmaster.pid")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pglocal: remove stale postmaster.pid: %w", err)
	}
	locks, _ := filepath.Glob(filepath.Join(s.socketDir(), ".s.PGSQL.*"))
	for _, l := range locks {
		if err := os.Remove(l); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pglocal: remove stale socket file: %w", err)
		}
	}
	return nil
}

// initdb initialises the data directory, replacing anything a killed initdb
// left behind.
func (s *Server) initdb(ctx context.Context, fast bool) error {
	data := s.dataDir()
	entries, err := os.ReadDir(data)
	if err != nil {
		return fmt.Errorf("pglocal: read %s: %w", data, err)
	}
	if len(entries) > 0 {
		s.log.Warn("removing an incompletely initialised data directory")
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(data, e.Name())); err != nil {
				return fmt.Errorf("pglocal: clear %s: %w", data, err)
			}
		}
	}
	args := []string{"-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"}
	if fast {
		args = append(args, "--no-sync")
	}
	start := time.Now()
	out, err := s.command(ctx, "initdb", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pglocal: initdb %s failed: %w; last lines of its output:\n%s\nfix the cause above, or remove %s and try again",
			data, err, tail(out, 15), s.dir)
	}
	conf := filepath.Join(data, "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pglocal: open %s: %w", conf, err)
	}
	_, err = fmt.Fprintf(f, "\n# Added by pgmotion (internal/pglocal): the settings below are rewritten at each start.\n%s\n", includeLine)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pglocal: write %s: %w", conf, err)
	}
	s.log.Info("initialised data directory", "version", dataVersion(data), "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// start writes the configuration and starts the server, retrying on another
// port when an automatically picked one turns out to be taken.
func (s *Server) start(ctx context.Context, opts Options) error {
	for attempt := 1; ; attempt++ {
		port, err := s.choosePort(opts.Port, attempt > 1)
		if err != nil {
			return err
		}
		if err := s.writeConfig(opts, port); err != nil {
			return err
		}
		s.port = port
		logTail, err := s.pgctlStart(ctx)
		if err == nil {
			break
		}
		switch {
		case strings.Contains(logTail, "Address already in use") && opts.Port == 0 && attempt < startAttempts:
			s.log.Info("port taken before the server could bind it; trying another", "port", port)
			continue
		case strings.Contains(logTail, "Address already in use"):
			return fmt.Errorf("pglocal: start PostgreSQL: port %d on 127.0.0.1 is in use: stop whatever listens there, or choose another Options.Port (0 picks a free one); last lines of %s:\n%s",
				port, s.LogPath(), logTail)
		case strings.Contains(logTail, "is still in use") && attempt < startAttempts:
			// Processes of a killed server have not exited yet.
			s.log.Info("shared memory of an earlier server still in use; retrying")
			select {
			case <-ctx.Done():
				return fmt.Errorf("pglocal: start PostgreSQL: %w", ctx.Err())
			case <-time.After(time.Duration(attempt) * time.Second):
			}
			continue
		}
		return fmt.Errorf("pglocal: PostgreSQL failed to start in %s: %w; last lines of %s:\n%s", s.dir, err, s.LogPath(), logTail)
	}
	if err := s.waitReady(ctx); err != nil {
		return err
	}
	s.log.Info("PostgreSQL started", "port", s.port, "version", dataVersion(s.dataDir()), "bin_dir", s.binDir)
	return nil
}

// choosePort returns the explicit port if it is free, or else the previous
// port if free, or else a free one.
func (s *Server) choosePort(explicit int, avoidPrevious bool) (int, error) {
	if explicit != 0 {
		if !portFree(explicit) {
			return 0, fmt.Errorf("pglocal: port %d on 127.0.0.1 is in use: stop whatever listens there, or choose another Options.Port (0 picks a free one)", explicit)
		}
		return explicit, nil
	}
	if prev := configuredPort(s.dataDir()); prev > 0 && !avoidPrevious && portFree(prev) {
		return prev, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pglocal: find a free port on 127.0.0.1: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return port, nil
}

// writeConfig rewrites pgmotion.conf in the data directory.
func (s *Server) writeConfig(opts Options, port int) error {
	path := filepath.Join(s.dataDir(), confName)
	if err := os.WriteFile(path, []byte(renderConfig(opts, port, s.socketDir())), 0o600); err != nil {
		return fmt.Errorf("pglocal: write %s: %w", path, err)
	}
	if s.runAs != nil {
		if err := os.Chown(path, s.runAs.uid, s.runAs.gid); err != nil {
			return fmt.Errorf("pglocal: chown %s: %w", path, err)
		}
	}
	return nil
}

// pgctlStart runs pg_ctl start and, when it fails, returns the log lines the
// server wrote meanwhile.
func (s *Server) pgctlStart(ctx context.Context) (logTail string, err error) {
	var offset int64
	if fi, err := os.Stat(s.LogPath()); err == nil {
		offset = fi.Size()
	}
	wait := waitSeconds(ctx)
	out, err := s.command(ctx, "pg_ctl", "start", "-D", s.dataDir(), "-l", s.LogPath(), "-w", "-t", wait, "-s").CombinedOutput()
	if err == nil {
		return "", nil
	}
	logged := readFrom(s.LogPath(), offset)
	if len(bytes.TrimSpace(logged)) == 0 {
		logged = out
	}
	s.stopAfterFailedStart()
	return tail(logged, 20), fmt.Errorf("pg_ctl start: %w: %s", err, oneLine(out))
}

// stopAfterFailedStart stops a postmaster that pg_ctl gave up waiting for.
func (s *Server) stopAfterFailedStart() {
	if pid, _, ok := readPostmasterPID(s.dataDir()); ok && ProcessAlive(pid) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.command(ctx, "pg_ctl", "stop", "-D", s.dataDir(), "-m", "immediate", "-w", "-s").Run()
	}
}

// waitReady waits until the server accepts connections over TCP.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pglocal: server started but does not accept connections on port %d: %w; last lines of %s:\n%s",
				s.port, err, s.LogPath(), tail(readFrom(s.LogPath(), 0), 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop runs pg_ctl stop, fast first and then immediate.
func (s *Server) stop(ctx context.Context) error {
	if !s.running() {
		return nil
	}
	wait := waitSeconds(ctx)
	out, err := s.command(ctx, "pg_ctl", "stop", "-D", s.dataDir(), "-m", "fast", "-w", "-t", wait, "-s").CombinedOutput()
	if err == nil || !s.running() {
		s.log.Info("PostgreSQL stopped", "port", s.port)
		return nil
	}
	s.log.Warn("fast shutdown failed; trying immediate", "err", err, "output", oneLine(out))
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	out2, err2 := s.command(hard, "pg_ctl", "stop", "-D", s.dataDir(), "-m", "immediate", "-w", "-t", "30", "-s").CombinedOutput()
	if err2 == nil || !s.running() {
		return nil
	}
	return fmt.Errorf("pglocal: stop PostgreSQL in %s: %w: %s; immediate shutdown: %s; stop it by hand with kill -QUIT on the pid in postmaster.pid",
		s.dir, err, oneLine(out), oneLine(out2))
}

// running reports whether the postmaster named in postmaster.pid is alive.
func (s *Server) running() bool {
	pid, _, ok := readPostmasterPID(s.dataDir())
	return ok && ProcessAlive(pid)
}

// command builds a command for one of the server binaries, run as the
// server's user when the caller is root.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	bin := filepath.Join(s.binDir, name)
	var cmd *exec.Cmd
	if s.runAs != nil {
		cmd = exec.CommandContext(ctx, s.runAs.runuser, append([]string{"-u", s.runAs.name, "--", bin}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, args...)
	}
	// pg_ctl fails with "could not change directory" unless the server's
	// user can read the working directory; Dir is made readable for it.
	cmd.Dir = s.dir
	cmd.Env = serverEnv()
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// serverEnv is the environment without PG* variables, which could point the
// tools elsewhere, and with messages in English, which Start parses.
func serverEnv() []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=")
	})
	return append(env, "LC_ALL=C")
}

var settingName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

func validateSettings(settings map[string]string) error {
	for k, v := range settings {
		if !settingName.MatchString(k) {
			return fmt.Errorf("pglocal: setting name %q is not a valid postgresql.conf name", k)
		}
		if strings.ContainsAny(v, "\n\r\x00") {
			return fmt.Errorf("pglocal: setting %s: value must be on one line", k)
		}
	}
	return nil
}

// renderConfig returns the contents of pgmotion.conf.
func renderConfig(opts Options, port int, socketDir string) string {
	var b strings.Builder
	b.WriteString("# Written by pgmotion (internal/pglocal) at each start; edits are lost.\n")
	set := func(k, v string) {
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(v, "'", "''"))
	}
	set("listen_addresses", "127.0.0.1")
	set("port", strconv.Itoa(port))
	set("unix_socket_directories", socketDir)
	set("logging_collector", "off")
	set("log_destination", "stderr")
	if opts.Logical {
		set("wal_level", "logical")
		set("max_replication_slots", "20")
		set("max_wal_senders", "20")
	}
	if opts.Fast {
		set("fsync", "off")
		set("synchronous_commit", "off")
		set("full_page_writes", "off")
	}
	keys := make([]string, 0, len(opts.Settings))
	for k := range opts.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		set(k, opts.Settings[k])
	}
	return b.String()
}

var portLine = regexp.MustCompile(`(?m)^port = '(\d+)'$`)

// configuredPort returns the port of the last start, or 0.
func configuredPort(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, confName))
	if err != nil {
		return 0
	}
	m := portLine.FindSubmatch(b)
	if m == nil {
		return 0
	}
	p, _ := strconv.Atoi(string(m[1]))
	return p
}

// heldByOwnServer reports whether port belongs to a server left running in
// dir, which Start stops first.
func heldByOwnServer(dir string, port int) bool {
	pid, p, ok := readPostmasterPID(filepath.Join(dir, dataSubdir))
	return ok && p == port && ProcessAlive(pid)
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// initialised reports whether initdb completed in dataDir and pglocal's
// include line was added after it.
func initialised(dataDir string) bool {
	if _, err := os.Stat(filepath.Join(dataDir, "global", "pg_control")); err != nil {
		return false
	}
	conf, err := os.ReadFile(filepath.Join(dataDir, "postgresql.conf"))
	return err == nil && bytes.Contains(conf, []byte(includeLine))
}

// dataVersion returns the major version in dataDir/PG_VERSION, or "".
func dataVersion(dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// readPostmasterPID returns the pid and port in dataDir/postmaster.pid.
func readPostmasterPID(dataDir string) (pid, port int, ok bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, 0, false
	}
	lines := strings.Split(string(b), "\n")
	pid, err = strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 {
		// A file cut short by a crash: treat it as naming a dead process.
		return 0, 0, true
	}
	if len(lines) > 3 {
		port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	return pid, port, true
}

// ProcessAlive reports whether pid runs. A zombie, killed but not yet
// reaped by its parent (often init, which may take seconds), counts as dead.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	// The state follows the command name, which is in parentheses.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// waitSeconds turns ctx's deadline into pg_ctl's -t argument.
func waitSeconds(ctx context.Context) string {
	d := defaultWait
	if dl, ok := ctx.Deadline(); ok {
		d = max(time.Until(dl), time.Second)
	}
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// readFrom returns the contents of path from offset, at most the last 64 KiB.
func readFrom(path string, offset int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size()-offset > 64<<10 {
		offset = fi.Size() - 64<<10
	}
	if _, err := f.Seek(offset, 0); err != nil {
		return nil
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(f)
	return b.Bytes()
}

// tail returns the last n non-empty lines of out, indented.
func tail(out []byte, n int) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if l := strings.TrimRight(sc.Text(), " \t"); l != "" {
			lines = append(lines, "    "+l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return "    (no output)"
	}
	return strings.Join(lines, "\n")
}

// oneLine joins a command's output into one line.
func oneLine(out []byte) string {
	return strings.Join(strings.Fields(string(out)), " ")
}
