package pipeline

import "testing"

// TestIncludeEntriesAsTyped checks that the task's source gets each
// table.include.list entry as the user typed it, for its messages, next
// to the expression it matches with.
func TestIncludeEntriesAsTyped(t *testing.T) {
	cfg := map[string]string{
		"connector.class":    "io.debezium.connector.postgresql.PostgresConnector",
		"database.hostname":  "localhost",
		"database.user":      "u",
		"database.dbname":    "app",
		"topic.prefix":       "srv",
		"table.include.list": ` public.actor , public.NoSuch\,Table,inventory\..*`,
	}
	tc, _, err := ConfigFrom("c", cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ entry, matches string }{
		{"public.actor", "PUBLIC.ACTOR"},
		{"public.NoSuch,Table", "public.nosuch,table"},
		{`inventory\..*`, "inventory.orders"},
	}
	got := tc.Source.TableInclude
	if len(got) != len(want) {
		t.Fatalf("%d include entries, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Entry != w.entry {
			t.Errorf("entry %d is %q, want %q as typed", i, got[i].Entry, w.entry)
		}
		if !got[i].Re.MatchString(w.matches) {
			t.Errorf("entry %q does not match %q", got[i].Entry, w.matches)
		}
	}
}
