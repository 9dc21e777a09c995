package broker

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// recoverTopics repairs a data directory left by a crash of a kfake broker
// that auto-created topics (see autocreate.go): partition directories with
// segments but no entry in topics.json. kfake ignores them on load, so their
// records vanish, and a topic created again under that name appends to the
// old files. We add each such topic to topics.json, with a new topic ID and
// as many partitions as it has directories, so kfake loads its records.
//
// This writes kfake's private format, so it acts only on the version we know
// (1, as of v0.0.0-20260918054303-01f206a7e32c) and otherwise leaves the
// directory alone. It must run before kfake opens the directory.
func recoverTopics(dir string, log *slog.Logger) error {
	var meta struct {
		Version int `json:"version"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, kfakeMetaFile)); err != nil {
		return nil // a new data directory, or kfake reports the problem
	} else if json.Unmarshal(b, &meta) != nil || meta.Version != 1 {
		return nil
	}

	topicsPath := filepath.Join(dir, "topics.json")
	var topics struct {
		Version int              `json:"version"`
		Topics  []map[string]any `json:"topics"`
	}
	b, err := os.ReadFile(topicsPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		topics.Version = 1
	case err != nil:
		return fmt.Errorf("recover topics: %w", err)
	default:
		if err := json.Unmarshal(b, &topics); err != nil || topics.Version != 1 {
			return nil // kfake reports a damaged file itself
		}
	}
	known := map[string]bool{}
	for _, t := range topics.Topics {
		if name, ok := t["name"].(string); ok {
			known[name] = true
		}
	}

	entries, err := os.ReadDir(filepath.Join(dir, "partitions"))
	if err != nil {
		return nil // no records yet
	}
	orphans := map[string]int{} // topic -> partitions
	for _, e := range entries {
		i := strings.LastIndexByte(e.Name(), '-')
		if !e.IsDir() || i <= 0 {
			continue
		}
		p, err := strconv.Atoi(e.Name()[i+1:])
		name, uerr := url.PathUnescape(e.Name()[:i])
		if err != nil || uerr != nil || p < 0 || known[name] || !hasSegments(filepath.Join(dir, "partitions", e.Name())) {
			continue
		}
		orphans[name] = max(orphans[name], p+1)
	}
	if len(orphans) == 0 {
		return nil
	}
	for name, n := range orphans {
		var id [16]byte
		rand.Read(id[:]) // never fails, see crypto/rand.Read
		topics.Topics = append(topics.Topics, map[string]any{
			"name":       name,
			"id":         base64.StdEncoding.EncodeToString(id[:]),
			"partitions": n,
			"replicas":   1,
		})
		log.Warn("recovered a topic missing from the data dir's topic list after a crash; its configs are lost, its records are kept",
			"topic", name, "partitions", n)
	}
	out, err := json.Marshal(topics)
	if err != nil {
		return fmt.Errorf("recover topics: %w", err)
	}
	if err := writeFileSync(topicsPath, out); err != nil {
		return fmt.Errorf("recover topics: %w", err)
	}
	return nil
}

// hasSegments reports whether a partition directory holds a non-empty
// segment file.
func hasSegments(pdir string) bool {
	entries, err := os.ReadDir(pdir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".dat") {
			if info, err := e.Info(); err == nil && info.Size() > 0 {
				return true
			}
		}
	}
	return false
}
