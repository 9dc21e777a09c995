package pgsource

import "testing"

func TestPreflightFormatting(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"app", "app"},
		{"pf_user_1", "pf_user_1"},
		{"App", `"App"`},
		{"user", `"user"`},
		{"order", `"order"`},
		{"my-table", `"my-table"`},
		{`a"b`, `"a""b"`},
		{"1abc", `"1abc"`},
	} {
		if got := sqlIdent(tc.in); got != tc.want {
			t.Errorf("sqlIdent(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"},
		{1023, "1023 bytes"},
		{1024, "1.0 KiB"},
		{449_434, "438.9 KiB"},
		{5 << 30, "5.0 GiB"},
		{3 << 50, "3.0 PiB"},
	} {
		if got := formatBytes(tc.n); got != tc.want {
			t.Errorf("formatBytes(%d) = %s, want %s", tc.n, got, tc.want)
		}
	}
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}
	if got, want := named(names), "a, b, c, d, e, f, g, h, i, j and 2 more"; got != want {
		t.Errorf("named = %q, want %q", got, want)
	}
	if got := tablesN(1); got != "1 captured table" {
		t.Errorf("tablesN(1) = %q", got)
	}
}
