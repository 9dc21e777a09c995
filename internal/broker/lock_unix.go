//go:build unix

package broker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// lockDataDir creates dir if needed and takes an exclusive flock on its lock
// file, writing our pid into it, so a second broker on the same directory is
// refused instead of corrupting it. The kernel drops the lock when the
// process dies, so a crash leaves nothing to clean up. flock locks belong to
// the open file, so a second broker in the same process is refused too.
func lockDataDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid, _ := os.ReadFile(path)
			return nil, lockedError(dir, string(pid))
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dir, err)
	}
	// Truncate and write after locking: the pid is read by whoever is
	// refused, and only the holder writes.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		// Closing the file releases the lock. The file stays: removing
		// it would race with a broker that has just opened it.
		f.Close()
	}, nil
}
