//go:build !unix

package broker

import (
	"fmt"
	"os"
)

// lockDataDir creates dir if needed. Without flock, nothing stops a second
// broker on the same directory on this platform.
func lockDataDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	return func() {}, nil
}
