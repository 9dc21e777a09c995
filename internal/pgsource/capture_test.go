package pgsource

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestSelectTables(t *testing.T) {
	all := []TableName{{"inventory", "orders"}, {"public", "actor"}, {"public", "film"}, {"public", "film_actor"}}
	entry := func(e string) IncludeEntry {
		return IncludeEntry{Entry: e, Re: regexp.MustCompile(`(?i)^(?:` + e + `)$`)}
	}
	// includeOf is what the connector's filters say for an include list
	// alone.
	includeOf := func(entries ...IncludeEntry) func(string, string) bool {
		return func(schema, table string) bool {
			for _, e := range entries {
				if e.Re.MatchString(schema + "." + table) {
					return true
				}
			}
			return false
		}
	}
	for _, tc := range []struct {
		name          string
		entries       []IncludeEntry
		include       func(string, string) bool
		wantCaptured  []string
		wantUnmatched []string
	}{
		{name: "no include list captures all", include: func(string, string) bool { return true },
			wantCaptured: []string{"inventory.orders", "public.actor", "public.film", "public.film_actor"}},
		{name: "every entry matches",
			entries:      []IncludeEntry{entry("public.actor"), entry(`public\.film.*`)},
			wantCaptured: []string{"public.actor", "public.film", "public.film_actor"}},
		{name: "a misspelt entry is reported as typed",
			entries:       []IncludeEntry{entry("public.actor"), entry("public.nosuchtable")},
			wantCaptured:  []string{"public.actor"},
			wantUnmatched: []string{"public.nosuchtable"}},
		{name: "matching is case-insensitive and anchored",
			entries:       []IncludeEntry{entry("PUBLIC.ACTOR"), entry("public.fil")},
			wantCaptured:  []string{"public.actor"},
			wantUnmatched: []string{"public.fil"}},
		{name: "an entry matching a table that another filter excludes is not unmatched",
			entries: []IncludeEntry{entry("inventory.orders"), entry("public.actor")},
			include: func(schema, table string) bool {
				return schema == "public" && includeOf(entry("inventory.orders"), entry("public.actor"))(schema, table)
			},
			wantCaptured: []string{"public.actor"}},
		{name: "nothing matches",
			entries:       []IncludeEntry{entry("a.b"), entry("c.d")},
			wantUnmatched: []string{"a.b", "c.d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			include := tc.include
			if include == nil {
				include = includeOf(tc.entries...)
			}
			captured, unmatched := selectTables(all, include, tc.entries)
			var got []string
			for _, c := range captured {
				got = append(got, c.String())
			}
			if !slices.Equal(got, tc.wantCaptured) {
				t.Errorf("captured %v, want %v", got, tc.wantCaptured)
			}
			if !slices.Equal(unmatched, tc.wantUnmatched) {
				t.Errorf("unmatched %v, want %v", unmatched, tc.wantUnmatched)
			}
			for _, u := range unmatched {
				if strings.Contains(u, "(?i)") {
					t.Errorf("unmatched entry %q shows the internal expression", u)
				}
			}
		})
	}
}
