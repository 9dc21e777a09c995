package broker

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Files we keep in the data directory beside kfake's own (meta.json,
// topics.json, partitions/, groups.log, pids.log, ...).
const (
	lockFile      = "broker.lock"
	clusterIDFile = "cluster.id"
	kfakeMetaFile = "meta.json" // kfake's; holds the cluster ID it loads on start
)

// loadClusterID returns the cluster ID kept in dir, storing one the first
// time: want if it is set, else kfake's from an existing meta.json (kfake
// reloads that one whatever we pass it), else a new random one. A non-empty
// want that differs from the stored ID is an error.
func loadClusterID(dir, want string) (string, error) {
	path := filepath.Join(dir, clusterIDFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		id := string(bytes.TrimSpace(b))
		if id == "" {
			return "", fmt.Errorf("read cluster ID: %s is empty; delete it to adopt a new ID", path)
		}
		if want != "" && want != id {
			return "", fmt.Errorf("data dir %s belongs to cluster %q, not %q: drop the cluster ID option or use another data dir", dir, id, want)
		}
		if prev := kfakeClusterID(dir); prev != "" && prev != id {
			return "", fmt.Errorf("data dir %s: %s says cluster %q but %s says %q; put one ID in both", dir, clusterIDFile, id, kfakeMetaFile, prev)
		}
		return id, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read cluster ID: %w", err)
	}

	id := want
	if prev := kfakeClusterID(dir); prev != "" {
		if want != "" && want != prev {
			return "", fmt.Errorf("data dir %s belongs to cluster %q, not %q: drop the cluster ID option or use another data dir", dir, prev, want)
		}
		id = prev
	}
	if id == "" {
		id = newClusterID()
	}
	if err := writeFileSync(path, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("store cluster ID: %w", err)
	}
	return id, nil
}

// kfakeClusterID returns the cluster ID in kfake's meta.json in dir, or ""
// if there is none to read.
func kfakeClusterID(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, kfakeMetaFile))
	if err != nil {
		return ""
	}
	var meta struct {
		ClusterID string `json:"cluster_id"`
	}
	if json.Unmarshal(b, &meta) != nil {
		return ""
	}
	return meta.ClusterID
}

// newClusterID returns a random ID in Kafka's form: a UUID's 16 bytes in
// unpadded URL-safe base64, 22 characters.
func newClusterID() string {
	var u [16]byte
	rand.Read(u[:])         // never fails, see crypto/rand.Read
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return base64.RawURLEncoding.EncodeToString(u[:])
}

// writeFileSync writes a file atomically and durably: a temporary file,
// fsynced, renamed over path. The temporary name avoids ".tmp", which kfake
// deletes from the data directory on start.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// lockedError reports a data directory that another broker holds.
func lockedError(dir, pidText string) error {
	pid := strings.TrimSpace(pidText)
	if pid == "" {
		pid = "unknown"
	}
	return fmt.Errorf("data dir %s is in use by another pgmotion broker (pid %s): stop it, or pick another data dir", dir, pid)
}
