package pglocal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// serverBinaries must all sit in one directory for it to count as a bin dir.
var serverBinaries = []string{"initdb", "pg_ctl", "postgres"}

// FindBinDir returns the directory of the PostgreSQL server binaries: the
// one `pg_config --bindir` names if it holds initdb, pg_ctl and postgres,
// else the newest /usr/lib/postgresql/*/bin, else the directory of initdb on
// PATH.
func FindBinDir() (string, error) {
	return findBinDir("")
}

// findBinDir is FindBinDir, preferring /usr/lib/postgresql/<version>/bin
// when version (the major version of an existing data dir) is set.
func findBinDir(version string) (string, error) {
	if version != "" {
		if d := filepath.Join("/usr/lib/postgresql", version, "bin"); hasServerBinaries(d) {
			return d, nil
		}
	}
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(pgConfig, "--bindir").Output(); err == nil {
			if d := strings.TrimSpace(string(out)); hasServerBinaries(d) {
				return d, nil
			}
		}
	}
	if d := newestDebianBinDir(); d != "" {
		return d, nil
	}
	if initdb, err := exec.LookPath("initdb"); err == nil {
		if d := filepath.Dir(initdb); hasServerBinaries(d) {
			return d, nil
		}
	}
	return "", errors.New("pglocal: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in `pg_config --bindir`, /usr/lib/postgresql/*/bin or PATH: install Debian's postgresql package: apt-get install postgresql")
}

func hasServerBinaries(dir string) bool {
	if dir == "" {
		return false
	}
	for _, b := range serverBinaries {
		fi, err := os.Stat(filepath.Join(dir, b))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// newestDebianBinDir returns the /usr/lib/postgresql/<version>/bin with the
// highest version that holds the server binaries, or "".
func newestDebianBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	dirs = slices.DeleteFunc(dirs, func(d string) bool { return !hasServerBinaries(d) })
	slices.SortFunc(dirs, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
	})
	if len(dirs) == 0 {
		return ""
	}
	return dirs[0]
}

// compareVersions compares dotted numeric versions such as "9.6" and "15".
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

var versionOutput = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// binVersion returns the major version of the server in binDir ("15", or
// "9.6" before 10), or "" if it cannot tell.
func binVersion(binDir string) string {
	out, err := exec.Command(filepath.Join(binDir, "postgres"), "--version").Output()
	if err != nil {
		return ""
	}
	m := versionOutput.FindSubmatch(out)
	if m == nil {
		return ""
	}
	if major, _ := strconv.Atoi(string(m[1])); major < 10 && len(m[2]) > 0 {
		return fmt.Sprintf("%s.%s", m[1], m[2])
	}
	return string(m[1])
}
