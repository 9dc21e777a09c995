package pglocal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// account is the system user the server runs as when the caller is root.
type account struct {
	name     string
	uid, gid int
	runuser  string // path of runuser
}

// ensureAccount looks up the system user name, creating it if missing,
// and says so on log: it is a change to the machine that outlives the
// server. Concurrent callers (parallel test binaries) may race to create
// it; the loser finds the user on its next lookup.
func ensureAccount(ctx context.Context, name string, log *slog.Logger) (*account, error) {
	var lastErr error
	for attempt := 0; attempt < 10; attempt++ {
		a, err := lookupAccount(name)
		if err == nil {
			return a, nil
		}
		var unknown user.UnknownUserError
		if !errors.As(err, &unknown) {
			return nil, fmt.Errorf("pglocal: look up user %s: %w", name, err)
		}
		useradd, err := findSbin("useradd")
		if err != nil {
			return nil, fmt.Errorf("pglocal: PostgreSQL refuses to run as root and the user %s to run it as is missing, but useradd was not found (%w): create the user yourself, or install the passwd package", name, err)
		}
		out, err := exec.CommandContext(ctx, useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
		if err == nil {
			log.Info("created the system user "+name+" to run PostgreSQL as, since it refuses to run as root; userdel "+name+" removes it", "user", name)
			continue
		}
		// 9: the user now exists; 10: /etc/passwd is locked by another useradd.
		lastErr = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("pglocal: create user %s: %w", name, ctx.Err())
		case <-time.After(time.Duration(50*(attempt+1)) * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("pglocal: create system user %s to run PostgreSQL as (it refuses to run as root): %w; create it with: useradd --system --no-create-home --shell /usr/sbin/nologin %s", name, lastErr, name)
}

// lookupAccount returns the existing user name.
func lookupAccount(name string) (*account, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("uid %q of %s: %w", u.Uid, name, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("gid %q of %s: %w", u.Gid, name, err)
	}
	runuser, err := findSbin("runuser")
	if err != nil {
		return nil, fmt.Errorf("pglocal: PostgreSQL refuses to run as root and runuser, used to run it as %s, was not found (%w): install util-linux", name, err)
	}
	return &account{name: name, uid: uid, gid: gid, runuser: runuser}, nil
}

// findSbin looks name up in PATH, then in the sbin directories root's PATH
// has but other environments may lack.
func findSbin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not in PATH, /usr/sbin or /sbin", name)
}

// checkTraversable checks that a can reach dir: every parent of it must be
// searchable by a's uid or gid, or by others.
func checkTraversable(dir string, a *account) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pglocal: stat %s: %w", p, err)
		}
		if !searchable(fi, a) {
			return fmt.Errorf("pglocal: %s cannot be used as root: PostgreSQL refuses to run as root, so it runs as the system user %s, which cannot reach %s (mode %#o, owner uid %d): use a directory under /tmp instead, such as %s, or make %s traversable with chmod o+x",
				dir, a.name, p, fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Uid, filepath.Join("/tmp", "pgmotion-"+filepath.Base(dir)), p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func searchable(fi fs.FileInfo, a *account) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	mode := fi.Mode().Perm()
	switch {
	case int(st.Uid) == a.uid:
		return mode&0o100 != 0
	case int(st.Gid) == a.gid:
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}

// chownTree gives dir and, if dir belonged to someone else, everything in
// it to a.
func (a *account) chownTree(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("pglocal: stat %s: %w", dir, err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == a.uid && int(st.Gid) == a.gid {
		return nil
	}
	err = filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, a.uid, a.gid)
	})
	if err != nil {
		return fmt.Errorf("pglocal: give %s to user %s: %w", dir, a.name, err)
	}
	return nil
}
