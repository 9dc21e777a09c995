package pgsource

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/pglocal"
	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// preflightConfig is a Config for Preflight against dsn as user (empty:
// the DSN's own), capturing the tables include selects (nil: all).
func preflightConfig(t *testing.T, dsn, user string, cfg Config) Config {
	t.Helper()
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		pc.User, pc.Password = user, ""
	}
	cfg.Conn = pc
	if cfg.Slot == "" {
		cfg.Slot = "pf_slot"
	}
	if cfg.Publication == "" {
		cfg.Publication = "pf_pub"
	}
	if cfg.PublicationMode == "" {
		cfg.PublicationMode = "filtered"
	}
	return cfg
}

func runPreflight(t *testing.T, cfg Config, opts PreflightOptions) *PreflightResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Preflight(ctx, cfg, opts)
	if err != nil {
		t.Fatalf("Preflight: %v", err)
	}
	for _, f := range res.Findings {
		t.Logf("%s %s: %s", f.Severity, f.What, f.Fix)
	}
	return res
}

// wantFinding checks that res holds a finding of check with severity sev
// whose text and fix match the patterns.
func wantFinding(t *testing.T, res *PreflightResult, check string, sev Severity, what, fix string) {
	t.Helper()
	for _, f := range res.Findings {
		if f.Check != check || f.Severity != sev {
			continue
		}
		if regexp.MustCompile(what).MatchString(f.What) && regexp.MustCompile(fix).MatchString(f.Fix) {
			if sev != OK && f.Fix == "" {
				t.Errorf("%s %s has no fix", sev, f.What)
			}
			return
		}
	}
	t.Errorf("no %s %s finding matching %q with fix %q", sev, check, what, fix)
}

// noProblems fails the test on each WARN or PROBLEM in res but those of
// the checks allowed.
func noProblems(t *testing.T, res *PreflightResult, allowed ...string) {
	t.Helper()
	for _, f := range res.Findings {
		if f.Severity != OK && !contains(allowed, f.Check) {
			t.Errorf("healthy setup, but %s %s: %s", f.Severity, f.What, f.Fix)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// boundSlotWAL sets max_slot_wal_keep_size on the throwaway server until
// the test ends, and returns the checks a server that cannot be changed
// (PGMOTION_TEST_PG) may still warn about.
func boundSlotWAL(t *testing.T) []string {
	t.Helper()
	if !pgtest.BoundSlotWAL(t) {
		return []string{"max_slot_wal_keep_size", "inactive_slot"}
	}
	return nil
}

// TestIntegrationPreflightHealthy: a setup the connector can run on gets
// no warning and no problem, before the connector first ran and after.
func TestIntegrationPreflightHealthy(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	allowed := boundSlotWAL(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE orders (id int PRIMARY KEY, qty int)`,
		`CREATE TABLE docs (id int PRIMARY KEY, body text)`,
		`ALTER TABLE docs REPLICA IDENTITY FULL`,
		`CREATE TABLE notes (id int PRIMARY KEY, body jsonb)`)
	cfg := preflightConfig(t, dsn, "", Config{})

	res := runPreflight(t, cfg, PreflightOptions{ToastFilled: true})
	noProblems(t, res, allowed...)
	wantFinding(t, res, "wal_level", OK, "logical", "")
	wantFinding(t, res, "slot", OK, "does not exist yet; the connector creates it", "")
	wantFinding(t, res, "publication", OK, "does not exist yet; the connector creates it", "")
	wantFinding(t, res, "captured_tables", OK, "^3 captured tables$", "")
	wantFinding(t, res, "toast", OK, "^1 captured table with TOAST-able columns", "")
	if len(res.Captured) != 3 {
		t.Errorf("captured %v, want 3 tables", res.Captured)
	}

	// The connector ran once: its slot and publication exist, and it is
	// stopped, so its slot is inactive.
	src := newTestSource(t, dsn, Config{Slot: cfg.Slot, Publication: cfg.Publication, PublicationMode: cfg.PublicationMode})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(ctx); err != nil {
		t.Fatal(err)
	}
	res = runPreflight(t, cfg, PreflightOptions{ToastFilled: true})
	noProblems(t, res, allowed...)
	wantFinding(t, res, "slot", OK, "exists .*resumes from it", "")
	wantFinding(t, res, "publication", OK, "exists, owned by", "")
}

// TestIntegrationPreflightProblems: each problem a connector's user,
// tables, publication and slots can have is reported with its fix.
func TestIntegrationPreflightProblems(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	admin := pgtest.Server(t).AdminDSN()
	superuser := pgtest.QueryValue[string](t, dsn, `SELECT current_user::text`)
	user := fmt.Sprintf("pf_user_%d", os.Getpid())
	idle := fmt.Sprintf("pf_idle_%d", os.Getpid())
	physical := fmt.Sprintf("pf_physical_%d", os.Getpid())
	pgtest.Exec(t, admin, `CREATE ROLE `+user+` LOGIN`)
	t.Cleanup(func() {
		pgtest.Exec(t, dsn, `DROP OWNED BY `+user)
		pgtest.Exec(t, admin, `DROP ROLE `+user)
	})
	pgtest.Exec(t, dsn,
		`CREATE TABLE nokey (a int, b int)`,
		`CREATE TABLE secret (id int PRIMARY KEY)`,
		`CREATE TABLE docs (id int PRIMARY KEY, body text)`,
		`GRANT SELECT ON nokey, docs TO `+user,
		`CREATE PUBLICATION other_pub FOR TABLE docs`,
		`SELECT pg_create_logical_replication_slot('`+idle+`', 'pgoutput')`,
		`INSERT INTO docs SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g`,
		`SELECT pg_create_physical_replication_slot('`+physical+`')`)
	t.Cleanup(func() { pgtest.Exec(t, admin, `SELECT pg_drop_replication_slot('`+physical+`')`) })
	keepUnlimited := pgtest.QueryValue[string](t, dsn, `SHOW max_slot_wal_keep_size`) == "-1"

	cfg := preflightConfig(t, dsn, user, Config{Slot: physical, Publication: "other_pub"})
	res := runPreflight(t, cfg, PreflightOptions{})
	wantFinding(t, res, "replication_privilege", Problem, "has no REPLICATION attribute", "ALTER ROLE "+user+" WITH REPLICATION")
	wantFinding(t, res, "select_privilege", Problem, `may not SELECT from 1 captured table: public.secret`, `GRANT SELECT ON public.secret TO `+user)
	wantFinding(t, res, "replica_identity", Problem, `1 captured table without a primary key .*: public.nokey$`, "REPLICA IDENTITY FULL")
	wantFinding(t, res, "toast", Warn, `^1 captured table with TOAST-able columns .*unavailable_value.*public.docs \(body\)`, "pgmotion.toast.fill=cache or refetch")
	wantFinding(t, res, "publication", Problem, "publication other_pub is owned by "+superuser, "ALTER PUBLICATION other_pub OWNER TO "+user)
	wantFinding(t, res, "slot", Problem, "slot "+physical+" is a physical slot", "pg_drop_replication_slot")
	wantFinding(t, res, "inactive_slot", Warn, "slot "+idle+` \(pgoutput, database \S+\) is inactive and holds \d+\.\d [KM]iB of WAL`, "pg_drop_replication_slot\\('"+idle+"'\\)")
	if keepUnlimited {
		wantFinding(t, res, "max_slot_wal_keep_size", Warn, "-1 \\(unlimited\\)", "ALTER SYSTEM SET max_slot_wal_keep_size")
	}
	for _, f := range res.Findings {
		if f.Check == "replica_identity" && f.Severity == Problem && strings.Contains(f.What, "docs") {
			t.Errorf("docs has a primary key, but: %s", f.What)
		}
	}

	// The publication, as each publication.autocreate.mode sees it.
	for _, tc := range []struct {
		name      string
		cfg       Config
		what, fix string
	}{
		{"all_tables without superuser", Config{Publication: "nopub", PublicationMode: "all_tables"},
			"creating it FOR ALL TABLES .* takes a superuser", "CREATE PUBLICATION nopub FOR ALL TABLES"},
		{"disabled and missing", Config{Publication: "nopub", PublicationMode: "disabled"},
			"does not exist and publication.autocreate.mode is disabled", "CREATE PUBLICATION nopub"},
		{"disabled and incomplete", Config{Publication: "other_pub", PublicationMode: "disabled"},
			`does not publish 2 captured tables.*public.nokey, public.secret`, `ALTER PUBLICATION other_pub ADD TABLE public.nokey, public.secret`},
		{"filtered without CREATE", Config{Publication: "nopub", PublicationMode: "filtered"},
			"may not create it \\(no CREATE privilege", "GRANT CREATE ON DATABASE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runPreflight(t, preflightConfig(t, dsn, user, tc.cfg), PreflightOptions{})
			wantFinding(t, res, "publication", Problem, tc.what, tc.fix)
		})
	}

	t.Run("slot in use", func(t *testing.T) {
		busy := fmt.Sprintf("pf_busy_%d", os.Getpid())
		pgtest.Exec(t, dsn, `SELECT pg_create_logical_replication_slot('`+busy+`', 'pgoutput')`)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		holder := pgtest.StreamSlot(t, ctx, dsn, busy, "other_pub")
		res := runPreflight(t, preflightConfig(t, dsn, "", Config{Slot: busy, Publication: "other_pub", PublicationMode: "disabled"}), PreflightOptions{})
		wantFinding(t, res, "slot", Problem, fmt.Sprintf("slot %s is in use by the process with PID %d", busy, holder.PID()), "stop that process, or give this connector its own slot.name")
	})

	t.Run("include list and DDL capture", func(t *testing.T) {
		entries := []IncludeEntry{{Entry: "public.docs", Re: regexp.MustCompile(`(?i)^public\.docs$`)}, {Entry: "public.dosc", Re: regexp.MustCompile(`(?i)^public\.dosc$`)}}
		cfg := preflightConfig(t, dsn, user, Config{Publication: "other_pub", PublicationMode: "disabled", DDLCapture: true,
			Include: func(schema, table string) bool { return schema == "public" && table == "docs" }, TableInclude: entries})
		res := runPreflight(t, cfg, PreflightOptions{ToastFilled: true})
		wantFinding(t, res, "table_include_list", Warn, `entry "public.dosc" matches no table`, "fix its spelling")
		wantFinding(t, res, "ddl_capture", Problem, "not a superuser", "ddlcapture.sql")
		wantFinding(t, res, "publication", OK, "publishes every captured table", "")
		wantFinding(t, res, "toast", OK, "pgmotion.toast.fill fills", "")
	})
}

// TestIntegrationPreflightServerLimits runs against a server of its own
// with wal_level=replica and one replication slot and WAL sender, both
// taken.
func TestIntegrationPreflightServerLimits(t *testing.T) {
	if os.Getenv(pgtest.EnvDSN) != "" {
		t.Skip("needs a throwaway server of its own; PGMOTION_TEST_PG is set")
	}
	dir, err := pglocal.MkdirTemp("pgmotion-preflight-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := pglocal.Start(ctx, pglocal.Options{Dir: filepath.Join(dir, "pg"), Fast: true,
		Settings: map[string]string{"wal_level": "replica", "max_replication_slots": "1", "max_wal_senders": "1"}})
	if err != nil {
		pgtest.Unavailable(t, "start a second PostgreSQL: %v", err)
	}
	defer srv.Stop(context.Background())
	dsn := srv.DSN("postgres")
	pgtest.Exec(t, dsn, `SELECT pg_create_physical_replication_slot('standby')`, `CREATE TABLE t (id int PRIMARY KEY)`)
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pc.RuntimeParams["replication"] = "database"
	sender, err := pgconn.ConnectConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close(context.Background())
	if _, err := pglogrepl.IdentifySystem(ctx, sender); err != nil {
		t.Fatal(err)
	}

	res := runPreflight(t, preflightConfig(t, dsn, "", Config{}), PreflightOptions{})
	wantFinding(t, res, "wal_level", Problem, "wal_level is replica", "wal_level = logical .*restart PostgreSQL")
	wantFinding(t, res, "replication_slots", Problem, `all 1 replication slots are in use \(max_replication_slots=1\)`, "pg_drop_replication_slot|raise max_replication_slots")
	wantFinding(t, res, "max_wal_senders", Problem, `all 1 WAL senders are in use \(max_wal_senders=1\)`, "raise max_wal_senders")
	wantFinding(t, res, "inactive_slot", Warn, "slot standby \\(physical\\)", "pg_drop_replication_slot\\('standby'\\)")
}
