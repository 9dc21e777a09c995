package pgtest

import (
	"strings"
	"testing"
)

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ dsn, db, want string }{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "other", "postgres://postgres@127.0.0.1:5432/other?sslmode=disable"},
		{"postgresql://u:p@h/db", "a b", "postgresql://u:p@h/a%20b"},
		{"host=h user=u dbname=postgres", "o'k", `host=h user=u dbname=postgres dbname='o\'k'`},
	} {
		got, err := withDatabase(tc.dsn, tc.db)
		if err != nil || got != tc.want {
			t.Errorf("withDatabase(%q, %q) = %q, %v; want %q", tc.dsn, tc.db, got, err, tc.want)
		}
	}
}

func TestDatabaseName(t *testing.T) {
	a, b := databaseName("TestX/Sub_Case#01"), databaseName("TestX/Sub_Case#01")
	if a == b {
		t.Errorf("names repeat: %s", a)
	}
	if !strings.HasPrefix(a, "pgtest_testx_sub_case_01_") {
		t.Errorf("name = %s", a)
	}
	if long := databaseName(strings.Repeat("TestVeryLong", 20)); len(long) > 63 {
		t.Errorf("name %s is %d bytes, over PostgreSQL's 63", long, len(long))
	}
}

func TestDescribeHidesPassword(t *testing.T) {
	if d := describe("postgres://u:secret@h:5433/db"); strings.Contains(d, "secret") || !strings.Contains(d, "port=5433") {
		t.Errorf("describe = %q", d)
	}
}
