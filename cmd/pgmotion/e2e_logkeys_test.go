package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// logKeys returns the keys of a slog text line (time=… level=… msg="…"
// k=v …) in order, and false if the line is not one.
func logKeys(line string) ([]string, bool) {
	if !strings.HasPrefix(line, "time=") {
		return nil, false
	}
	var keys []string
	for s := line; s != ""; {
		k, rest, found := strings.Cut(s, "=")
		if !found {
			return keys, false
		}
		keys = append(keys, k)
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return keys, false
			}
			rest = rest[len(q):]
		} else if i := strings.IndexByte(rest, ' '); i >= 0 {
			rest = rest[i:]
		} else {
			rest = ""
		}
		s = strings.TrimLeft(rest, " ")
	}
	return keys, true
}

func TestLogKeys(t *testing.T) {
	keys, ok := logKeys(`time=2026-01-01T00:00:00Z level=INFO msg="a b=c" component=pglocal dir="/x y" n=1`)
	if want := "time,level,msg,component,dir,n"; !ok || strings.Join(keys, ",") != want {
		t.Errorf("logKeys = %q, %t; want %s", keys, ok, want)
	}
	if _, ok := logKeys("starting a throwaway PostgreSQL"); ok {
		t.Error("a plain line taken for a log line")
	}
}

// TestE2ELogVocabulary runs the demo (its own PostgreSQL, broker, worker
// and a snapshot) and reads its log: no line repeats a key, keys are
// snake_case (dots only from groups), each snapshot ends in one line,
// and the captured tables are logged once when the connector starts.
func TestE2ELogVocabulary(t *testing.T) {
	if os.Getenv(pgtest.EnvDSN) != "" {
		t.Skip("the demo starts its own server; PGMOTION_TEST_PG is set")
	}
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startPgmotion(t, "demo", "--listen", broker, "--rest", "127.0.0.1:0", "--rate", "50")
	consume(t, broker, "demo.public.orders", 5, 120*time.Second)
	pgtest.WaitFor(t, 60*time.Second, func() (bool, error) {
		return strings.Contains(p.output(), `msg="snapshot done"`), nil
	})
	p.stop(t)

	snakeKey := regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)
	counts := map[string]int{}
	lines := 0
	for line := range strings.Lines(p.output()) {
		line = strings.TrimRight(line, "\n")
		keys, ok := logKeys(line)
		if !ok {
			continue
		}
		lines++
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Errorf("key %s repeated: %s", k, line)
			}
			seen[k] = true
			if !snakeKey.MatchString(k) {
				t.Errorf("key %q is not snake_case: %s", k, line)
			}
		}
		if m := regexp.MustCompile(`msg=("[^"]*"|\S+)`).FindStringSubmatch(line); m != nil {
			counts[strings.Trim(m[1], `"`)]++
		}
		if strings.Contains(line, "rows_per_sec=") {
			t.Errorf("rows_per_sec instead of rows_per_second: %s", line)
		}
	}
	if lines == 0 {
		t.Fatalf("no log line in the demo's output:\n%s", p.output())
	}
	if counts["snapshot starting"] == 0 || counts["snapshot done"] != counts["snapshot starting"] {
		t.Errorf("%d snapshots started, %d \"snapshot done\" lines; want one per snapshot", counts["snapshot starting"], counts["snapshot done"])
	}
	if counts["connector starting"] == 0 || counts["captured tables"] != counts["connector starting"] {
		t.Errorf("%d connector starts, %d \"captured tables\" lines; want one per start", counts["connector starting"], counts["captured tables"])
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", p.output())
	}
}
