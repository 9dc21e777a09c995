package pgtest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// EnvSakilaDir names the environment variable that overrides where
// LoadSakila looks for the dataset.
const EnvSakilaDir = "PGMOTION_SAKILA_DIR"

// The dataset's files, loaded in this order. They are pg_dump output with
// COPY ... FROM stdin blocks, so psql loads them.
var sakilaFiles = []string{
	"postgres-sakila-schema.sql",
	"postgres-sakila-insert-data-using-copy.sql",
}

// SakilaDir returns the directory of the Sakila dataset: $PGMOTION_SAKILA_DIR,
// or else ../shared/datasets/sakila next to the repository (the directory of
// go.mod, found by walking up from the working directory).
func SakilaDir() (string, error) {
	dir := os.Getenv(EnvSakilaDir)
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("find the Sakila dataset: %w", err)
		}
		root := wd
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				return "", fmt.Errorf("find the Sakila dataset: no go.mod above %s to locate ../shared/datasets/sakila from; set %s to the dataset's directory", wd, EnvSakilaDir)
			}
			root = parent
		}
		dir = filepath.Join(filepath.Dir(root), "shared", "datasets", "sakila")
	}
	for _, f := range sakilaFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return "", fmt.Errorf("find the Sakila dataset: looked for %s: %w; put the dataset there or set %s to its directory",
				filepath.Join(dir, f), errors.Unwrap(err), EnvSakilaDir)
		}
	}
	return dir, nil
}

// LoadSakila loads the Sakila sample database (schema, then data) into the
// database dsn points at, through psql. Without the dataset or psql the test
// is skipped, or fails under CI=true.
func LoadSakila(t testing.TB, dsn string) {
	t.Helper()
	dir, err := SakilaDir()
	if err != nil {
		Unavailable(t, "%v", err)
		return
	}
	psql, err := findPsql(Server(t).BinDir())
	if err != nil {
		Unavailable(t, "%v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, f := range sakilaFiles {
		path := filepath.Join(dir, f)
		cmd := exec.CommandContext(ctx, psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", dsn, "-f", path)
		cmd.Env = append(os.Environ(), "PGAPPNAME=pgtest-sakila")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("pgtest: load %s into %s with psql: %v\n%s", path, describe(dsn), err, lastLines(string(out), 15))
			return
		}
	}
}

// findPsql returns psql from binDir, or else from PATH.
func findPsql(binDir string) (string, error) {
	if binDir != "" {
		p := filepath.Join(binDir, "psql")
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath("psql")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, exec.ErrNotFound) {
			return "", errors.New("psql not found next to the server binaries or in PATH: install it with apt-get install postgresql-client")
		}
		return "", fmt.Errorf("find psql: %w", err)
	}
	return p, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
