package pgsource

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestIntegrationCaptureLog checks the lines Open logs about the captured
// tables: one with the list, one warning per table.include.list entry that
// matches no table, naming the entry as the user typed it, and nothing
// more when the tables are listed again.
func TestIntegrationCaptureLog(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE actor (id int PRIMARY KEY)`, `CREATE TABLE film (id int PRIMARY KEY)`)
	var logs bytes.Buffer
	var entries []IncludeEntry
	for _, e := range []string{"public.actor", "public.nosuchtable"} {
		entries = append(entries, IncludeEntry{Entry: e, Re: regexp.MustCompile(`(?i)^(?:` + e + `)$`)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	src := newTestSource(t, dsn, Config{
		PublicationMode: "filtered",
		Include:         func(schema, table string) bool { return entries[0].Re.MatchString(schema + "." + table) },
		TableInclude:    entries,
		Log:             slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Tables(ctx); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if n := strings.Count(out, `msg="captured tables"`); n != 1 {
		t.Errorf("%d captured tables lines, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, `msg="captured tables" tables=1 list=public.actor publication=pgm_pub`) {
		t.Errorf("no captured tables line naming public.actor:\n%s", out)
	}
	warn := regexp.MustCompile(`level=WARN msg="table.include.list entry matches no table: [^"]*" entry=(\S+)`).FindAllStringSubmatch(out, -1)
	if len(warn) != 1 || warn[0][1] != "public.nosuchtable" {
		t.Errorf("warnings %q, want one naming public.nosuchtable:\n%s", warn, out)
	}
	if strings.Contains(out, "(?i)") {
		t.Errorf("the log shows an internal expression:\n%s", out)
	}
}
