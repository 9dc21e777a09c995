package snapshot

import (
	"errors"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
)

func signalRel(cols ...string) *change.Relation {
	rel := &change.Relation{Namespace: "public", Name: "debezium_signal"}
	for _, c := range cols {
		rel.Columns = append(rel.Columns, change.Column{Name: c})
	}
	return rel
}

func text(s string) change.Value { return change.Value{Kind: change.KindText, Data: []byte(s)} }

var null = change.Value{Kind: change.KindNull}

func TestSignalFromRow(t *testing.T) {
	std := signalRel("id", "type", "data")
	for _, tc := range []struct {
		name     string
		rel      *change.Relation
		row      change.Tuple
		want     signal
		wantData string
		err      string
	}{
		{name: "execute", rel: std, row: change.Tuple{text("a1"), text("execute-snapshot"), text(`{"data-collections":["public.t"]}`)},
			want: signal{ID: "a1", Type: "execute-snapshot", Channel: "source"}, wantData: `{"data-collections":["public.t"]}`},
		{name: "null data", rel: std, row: change.Tuple{text("a2"), text("pause-snapshot"), null},
			want: signal{ID: "a2", Type: "pause-snapshot", Channel: "source"}},
		{name: "blank data", rel: std, row: change.Tuple{text("a3"), text("resume-snapshot"), text("  ")},
			want: signal{ID: "a3", Type: "resume-snapshot", Channel: "source"}},
		{name: "columns by name in another order", rel: signalRel("data", "id", "type"),
			row:  change.Tuple{text(`{}`), text("b"), text("log")},
			want: signal{ID: "b", Type: "log", Channel: "source"}, wantData: `{}`},
		{name: "other names, three columns", rel: signalRel("sid", "kind", "payload"),
			row:  change.Tuple{text("c"), text("log"), null},
			want: signal{ID: "c", Type: "log", Channel: "source"}},
		{name: "no type", rel: std, row: change.Tuple{text("d"), null, null}, err: `signal "d" has no type`},
		{name: "empty type", rel: std, row: change.Tuple{text("d"), text(""), null}, err: "has no type"},
		{name: "four unnamed columns", rel: signalRel("a", "b", "c", "d"), row: change.Tuple{text("1"), text("2"), text("3"), text("4")},
			err: "has 4 columns; it needs id, type and data"},
		{name: "short row", rel: std, row: change.Tuple{text("x")}, err: "1 values for 3 columns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := signalFromRow(tc.rel, tc.row)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tc.want.ID || got.Type != tc.want.Type || got.Channel != tc.want.Channel || string(got.Data) != tc.wantData {
				t.Errorf("got %+v data %q, want %+v data %q", got, got.Data, tc.want, tc.wantData)
			}
		})
	}
}

func TestSignalRowID(t *testing.T) {
	// A delete under REPLICA IDENTITY DEFAULT carries only the key.
	id, ok := signalRowID(signalRel("id", "type", "data"), change.Tuple{text("x-open"), null, null})
	if !ok || id != "x-open" {
		t.Errorf("got %q %v", id, ok)
	}
	if _, ok := signalRowID(signalRel("a", "b"), change.Tuple{text("x"), null}); ok {
		t.Error("a two-column table gave an id")
	}
}

func TestParseKafkaSignal(t *testing.T) {
	for _, tc := range []struct {
		name, key, value string
		wantType, wantID string
		wantData         string
		err              string
		errIs            error
	}{
		{name: "execute", key: "srv", value: `{"type":"execute-snapshot","data":{"data-collections":["public.t"],"type":"INCREMENTAL"}}`,
			wantType: "execute-snapshot", wantData: `{"data-collections":["public.t"],"type":"INCREMENTAL"}`},
		{name: "with id", key: "srv", value: `{"id":"s1","type":"log","data":{"message":"at {}"}}`,
			wantType: "log", wantID: "s1", wantData: `{"message":"at {}"}`},
		{name: "no data", key: "srv", value: `{"type":"pause-snapshot"}`, wantType: "pause-snapshot"},
		{name: "null data", key: "srv", value: `{"type":"resume-snapshot","data":null}`, wantType: "resume-snapshot"},
		{name: "other connector", key: "other", value: `{"type":"log"}`, errIs: errSignalKey, err: `key "other", topic.prefix "srv"`},
		{name: "no key", key: "", value: `{"type":"log"}`, errIs: errSignalKey},
		{name: "empty value", key: "srv", value: ``, err: "has no value"},
		{name: "not JSON", key: "srv", value: `execute-snapshot`, err: "not a JSON object"},
		{name: "JSON list", key: "srv", value: `[1]`, err: "not a JSON object"},
		{name: "no type", key: "srv", value: `{"data":{}}`, err: `has no "type"`},
		{name: "type not a string", key: "srv", value: `{"type":5}`, err: "not a JSON object"},
		{name: "data not an object", key: "srv", value: `{"type":"log","data":"x"}`, err: `"data" must be a JSON object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseKafkaSignal([]byte(tc.key), []byte(tc.value), "srv")
			if tc.err != "" || tc.errIs != nil {
				if err == nil || (tc.err != "" && !strings.Contains(err.Error(), tc.err)) || (tc.errIs != nil && !errors.Is(err, tc.errIs)) {
					t.Fatalf("err = %v, want %q / %v", err, tc.err, tc.errIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != tc.wantType || got.ID != tc.wantID || string(got.Data) != tc.wantData || got.Channel != "kafka" {
				t.Errorf("got %+v data %q", got, got.Data)
			}
		})
	}
}

func TestParseExecuteSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name      string
		data      string
		want      snapshotRequest
		conds     map[string]string // table -> the condition it gets
		warnings  int
		err       string
		errSubstr string
	}{
		{name: "names", data: `{"data-collections":["public.a"," public.b "]}`,
			want: snapshotRequest{Collections: []string{"public.a", "public.b"}, Type: "incremental"}},
		{name: "type case-insensitive", data: `{"data-collections":["public.a"],"type":"INCREMENTAL"}`,
			want: snapshotRequest{Collections: []string{"public.a"}, Type: "incremental"}},
		{name: "blocking", data: `{"data-collections":["public.a"],"type":"Blocking"}`,
			want: snapshotRequest{Collections: []string{"public.a"}, Type: "blocking"}},
		{name: "conditions and surrogate key", data: `{"data-collections":["public\\..*"],"additional-conditions":[{"data-collection":"public.colors","filter":"color='blue'"},{"data-collection":"PUBLIC.S.*","filter":"id > 5"}],"surrogate-key":" code "}`,
			want:  snapshotRequest{Collections: []string{`public\..*`}, Type: "incremental", SurrogateKey: "code"},
			conds: map[string]string{"public.colors": "color='blue'", "public.sizes": "id > 5", "public.other": "", "public.colorsx": ""}},
		{name: "legacy additional-condition ignored", data: `{"data-collections":["public.a"],"additional-condition":"id > 1"}`,
			want: snapshotRequest{Collections: []string{"public.a"}, Type: "incremental"}, warnings: 1,
			conds: map[string]string{"public.a": ""}},
		{name: "no data", data: ``, err: `"data-collections" is missing or empty`},
		{name: "empty list", data: `{"data-collections":[]}`, err: `"data-collections" is missing or empty`},
		{name: "not a list", data: `{"data-collections":"public.a"}`, err: `must be a list`},
		{name: "not strings", data: `{"data-collections":["public.a",5]}`, err: `holds 5, which is not a string`},
		{name: "bad type", data: `{"data-collections":["public.a"],"type":"full"}`, err: `unexpected snapshot type "full": want incremental or blocking`},
		{name: "type not a string", data: `{"data-collections":["public.a"],"type":1}`, err: `"type" must be a string`},
		{name: "bad JSON", data: `{"data-collections":`, err: "not a JSON object"},
		{name: "condition without filter", data: `{"data-collections":["public.a"],"additional-conditions":[{"data-collection":"public.a"}]}`, err: `entry 1 needs both`},
		{name: "condition bad regex", data: `{"data-collections":["public.a"],"additional-conditions":[{"data-collection":"public.(a","filter":"x"}]}`, err: `not a valid regular expression`},
		{name: "conditions not a list", data: `{"data-collections":["public.a"],"additional-conditions":{"data-collection":"a"}}`, err: `must be a list`},
		{name: "surrogate key not a string", data: `{"data-collections":["public.a"],"surrogate-key":["a"]}`, err: `"surrogate-key" must be a column name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseExecuteSnapshot([]byte(tc.data))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.Collections, "|") != strings.Join(tc.want.Collections, "|") || got.Type != tc.want.Type || got.SurrogateKey != tc.want.SurrogateKey {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if len(got.Warnings) != tc.warnings {
				t.Errorf("warnings %q, want %d", got.Warnings, tc.warnings)
			}
			for table, want := range tc.conds {
				if c := got.conditionFor(table); c != want {
					t.Errorf("condition of %s = %q, want %q", table, c, want)
				}
			}
		})
	}
}

func TestParseStopSnapshot(t *testing.T) {
	r, err := parseStopSnapshot(nil)
	if err != nil || len(r.Collections) != 0 || r.Type != "incremental" {
		t.Errorf("no data: %+v %v", r, err)
	}
	r, err = parseStopSnapshot([]byte(`{"type":"incremental","data-collections":["public.a"]}`))
	if err != nil || len(r.Collections) != 1 || r.Collections[0] != "public.a" {
		t.Errorf("list: %+v %v", r, err)
	}
	r, err = parseStopSnapshot([]byte(`{"type":"BLOCKING"}`))
	if err != nil || r.Type != "blocking" {
		t.Errorf("blocking: %+v %v", r, err)
	}
	if _, err := parseStopSnapshot([]byte(`{"data-collections":[true]}`)); err == nil {
		t.Error("a non-string collection was accepted")
	}
}

func TestParseLogSignal(t *testing.T) {
	if m, err := parseLogSignal([]byte(`{"message":"hello {}"}`)); err != nil || m != "hello {}" {
		t.Errorf("got %q %v", m, err)
	}
	for _, bad := range []string{``, `{}`, `{"message":""}`, `{"message":3}`, `nope`} {
		if _, err := parseLogSignal([]byte(bad)); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

// FuzzParseSignal feeds untrusted bytes to every signal decoder: none may
// panic, and what parses must be usable.
func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{
		`{"type":"execute-snapshot","data":{"data-collections":["public.t"],"type":"incremental","additional-conditions":[{"data-collection":"public.t","filter":"a=1"}],"surrogate-key":"k"}}`,
		`{"id":"x","type":"stop-snapshot","data":{"data-collections":["public\\..*"]}}`,
		`{"type":"log","data":{"message":"{}"}}`,
		`{"type":"pause-snapshot","data":null}`,
		`{"data-collections":["a.b"],"additional-condition":"x"}`,
		``, `null`, `[`, `{"type":1}`,
	} {
		f.Add([]byte("srv"), []byte(s))
	}
	f.Fuzz(func(t *testing.T, key, value []byte) {
		if sig, err := parseKafkaSignal(key, value, "srv"); err == nil {
			if sig.Type == "" {
				t.Fatalf("a signal without type parsed from %q", value)
			}
			if sig.Data != nil && sig.Data[0] != '{' {
				t.Fatalf("data %q is not an object", sig.Data)
			}
		}
		if r, err := parseExecuteSnapshot(value); err == nil {
			if len(r.Collections) == 0 || (r.Type != snapshotIncremental && r.Type != snapshotBlocking) {
				t.Fatalf("execute-snapshot parsed into %+v", r)
			}
			for _, c := range r.Collections {
				r.conditionFor(c)
			}
		}
		if r, err := parseStopSnapshot(value); err == nil && r.Type != snapshotIncremental && r.Type != snapshotBlocking {
			t.Fatalf("stop-snapshot type %q", r.Type)
		}
		parseLogSignal(value)
		rel := signalRel("id", "type", "data")
		row := change.Tuple{{Kind: change.KindText, Data: key}, {Kind: change.KindText, Data: value}, {Kind: change.KindText, Data: value}}
		if sig, err := signalFromRow(rel, row); err == nil && sig.Type == "" {
			t.Fatal("a row signal without type")
		}
	})
}
