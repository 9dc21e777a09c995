package main

import (
	"regexp"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestVersionLine(t *testing.T) {
	main := debug.Module{Path: "github.com/pgmotion/pgmotion", Version: "(devel)"}
	tagged := debug.Module{Path: "github.com/pgmotion/pgmotion", Version: "v1.4.0"}
	vcs := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.modified", Value: "false"}}
	dirty := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.modified", Value: "true"}}
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"make build in a clone", &debug.BuildInfo{GoVersion: "go1.26.0", Main: main, Settings: vcs}, true,
			"pgmotion devel commit 0123456789abcdef0123456789abcdef01234567 go1.26.0\n"},
		{"uncommitted changes", &debug.BuildInfo{GoVersion: "go1.26.0", Main: main, Settings: dirty}, true,
			"pgmotion devel commit 0123456789abcdef0123456789abcdef01234567 (modified) go1.26.0\n"},
		{"go install @v1.4.0", &debug.BuildInfo{GoVersion: "go1.26.1", Main: tagged}, true,
			"pgmotion v1.4.0 commit unknown go1.26.1\n"},
		{"no build info", nil, false, "pgmotion devel commit unknown unknown\n"},
	} {
		if got := versionLine(buildInfoFrom(tc.info, tc.ok)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestE2EVersion runs `pgmotion --version` and `pgmotion version`: the same
// one line, with this binary's Go version.
func TestE2EVersion(t *testing.T) {
	var lines []string
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out := runOnce(t, 30*time.Second, args...)
		if code != 0 {
			t.Fatalf("pgmotion %s: exit %d:\n%s", args[0], code, out)
		}
		lines = append(lines, out)
	}
	if lines[0] != lines[1] {
		t.Errorf("--version says %q, version says %q", lines[0], lines[1])
	}
	want := regexp.MustCompile(`^pgmotion (devel|v\S+) commit (unknown|[0-9a-f]{40}( \(modified\))?) ` + regexp.QuoteMeta(runtime.Version()) + "\n$")
	if !want.MatchString(lines[0]) {
		t.Errorf("version line %q does not match %s", lines[0], want)
	}
}
