package debezium

import (
	"bytes"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/record"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/events")

// testNow is the envelope clock of every test encoder (the §1.6 value).
var testNow = time.Unix(0, 1742741275319425296)

func testOptions() Options {
	o := DefaultOptions()
	o.ConnectorName = "inventory-connector"
	o.TopicPrefix = "srv"
	o.Database = "app"
	o.RunID = "0195c4a5-0000-7000-8000-000000000000"
	return o
}

func newTestEncoder(t testing.TB, mutate func(*Options)) *Encoder {
	t.Helper()
	o := testOptions()
	if mutate != nil {
		mutate(&o)
	}
	e, err := NewEncoder(o, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("NewEncoder: %v", err)
	}
	e.now = func() time.Time { return testNow }
	return e
}

func txt(s string) change.Value { return change.Value{Kind: change.KindText, Data: []byte(s)} }

var (
	null  = change.Value{Kind: change.KindNull}
	toast = change.Value{Kind: change.KindUnchangedToast}
)

// customers is the table of reference §1.6.
func customers() *change.Relation {
	return &change.Relation{
		ID: 16384, Namespace: "public", Name: "customers",
		Columns: []change.Column{
			{Name: "id", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true},
			{Name: "name", TypeOID: oidVarchar, TypeMod: -1, TypeName: "varchar"},
		},
		Key: []int{0}, ReplicaIdentity: 'd',
	}
}

// streamed fills the position fields of the §1.6 event.
func streamed(op change.Op, rel *change.Relation, before, after change.Tuple) *change.Change {
	return &change.Change{
		Op: op, Rel: rel, Before: before, After: after,
		LSN: 26738904, LastCommitLSN: 26737640, Xid: 752, HasXid: true,
		TsMicros: 1742741274875866,
	}
}

// TestReferenceCreate checks the create event of reference §1.6 and the
// key of §1.2 byte for byte.
func TestReferenceCreate(t *testing.T) {
	e := newTestEncoder(t, func(o *Options) { o.Version = "3.1.0.Final" })
	recs, err := e.Encode(nil, streamed(change.OpCreate, customers(), nil, change.Tuple{txt("1"), txt("a")}))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	wantValue := `{"schema":{"type":"struct","fields":[` +
		`{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"}],"optional":true,"name":"srv.public.customers.Value","field":"before"},` +
		`{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"}],"optional":true,"name":"srv.public.customers.Value","field":"after"},` +
		`{"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},{"type":"string","optional":false,"field":"connector"},{"type":"string","optional":false,"field":"name"},{"type":"int64","optional":false,"field":"ts_ms"},{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false","field":"snapshot"},{"type":"string","optional":false,"field":"db"},{"type":"string","optional":true,"field":"sequence"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"},{"type":"string","optional":false,"field":"schema"},{"type":"string","optional":false,"field":"table"},{"type":"int64","optional":true,"field":"txId"},{"type":"int64","optional":true,"field":"lsn"},{"type":"int64","optional":true,"field":"xmin"}],"optional":false,"name":"io.debezium.connector.postgresql.Source","version":1,"field":"source"},` +
		`{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":false,"field":"total_order"},{"type":"int64","optional":false,"field":"data_collection_order"}],"optional":true,"name":"event.block","version":1,"field":"transaction"},` +
		`{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"}],` +
		`"optional":false,"name":"srv.public.customers.Envelope","version":2},` +
		`"payload":{"before":null,"after":{"id":1,"name":"a"},` +
		`"source":{"version":"3.1.0.Final","connector":"postgresql","name":"srv","ts_ms":1742741274875,"snapshot":"false","db":"app","sequence":"[\"26737640\",\"26738904\"]","ts_us":1742741274875866,"ts_ns":1742741274875866000,"schema":"public","table":"customers","txId":752,"lsn":26738904,"xmin":null},` +
		`"transaction":null,"op":"c","ts_ms":1742741275319,"ts_us":1742741275319425,"ts_ns":1742741275319425296}}`
	if got := string(recs[0].Value); got != wantValue {
		t.Errorf("value differs from reference §1.6\n got: %s\nwant: %s", got, wantValue)
	}
	wantKey := `{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"srv.public.customers.Key"},"payload":{"id":1}}`
	if got := string(recs[0].Key); got != wantKey {
		t.Errorf("key differs from reference §1.2\n got: %s\nwant: %s", got, wantKey)
	}
	if recs[0].Topic != "srv.public.customers" || recs[0].Partition != -1 {
		t.Errorf("topic/partition = %q/%d", recs[0].Topic, recs[0].Partition)
	}
	wantHeaders := []record.Header{
		{Key: HeaderConnectorLogicalName, Value: []byte("srv")},
		{Key: HeaderTaskID, Value: []byte("0")},
		{Key: HeaderConnectorName, Value: []byte("postgresql")},
		{Key: HeaderRunID, Value: []byte("0195c4a5-0000-7000-8000-000000000000")},
	}
	if len(recs[0].Headers) != len(wantHeaders) {
		t.Fatalf("headers = %v", recs[0].Headers)
	}
	for i, h := range wantHeaders {
		if recs[0].Headers[i].Key != h.Key || !bytes.Equal(recs[0].Headers[i].Value, h.Value) {
			t.Errorf("header %d = %s=%s, want %s=%s", i, recs[0].Headers[i].Key, recs[0].Headers[i].Value, h.Key, h.Value)
		}
	}
}

// goldenCase is one scenario rendered into testdata/events/<name>.json.
type goldenCase struct {
	name    string
	opts    func(*Options)
	changes []*change.Change
}

// renderRecords writes one JSON line per record; key and value bytes are
// embedded verbatim, so the golden file holds the exact wire bytes.
func renderRecords(t *testing.T, recs []record.Record) []byte {
	var out []byte
	for _, r := range recs {
		for _, b := range [][]byte{r.Key, r.Value} {
			if b != nil && !json.Valid(b) {
				t.Errorf("record on %s has invalid JSON: %s", r.Topic, b)
			}
		}
		out = append(out, `{"topic":`...)
		out = appendJSONStr(out, r.Topic)
		out = append(out, `,"headers":[`...)
		for i, h := range r.Headers {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, '[')
			out = appendJSONStr(out, h.Key)
			out = append(out, ',')
			out = appendJSONString(out, h.Value)
			out = append(out, ']')
		}
		out = append(out, `],"key":`...)
		out = appendRaw(out, r.Key)
		out = append(out, `,"value":`...)
		out = appendRaw(out, r.Value)
		out = append(out, "}\n"...)
	}
	return out
}

func appendRaw(dst, b []byte) []byte {
	if b == nil {
		return append(dst, "null"...)
	}
	return append(dst, b...)
}

func runGolden(t *testing.T, gc goldenCase) {
	t.Helper()
	e := newTestEncoder(t, gc.opts)
	var recs []record.Record
	for _, c := range gc.changes {
		var err error
		recs, err = e.Encode(recs, c)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
	}
	got := renderRecords(t, recs)
	checkGolden(t, filepath.Join("testdata", "events", gc.name+".json"), got, "go test ./internal/debezium -update")
}

// checkGolden compares got with the golden file at path, or with -update
// writes it; hint is the command that creates the file.
func checkGolden(t *testing.T, path string, got []byte, hint string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run %s to create it, then check it by hand)", err, hint)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs at line %d\n got: %s\nwant: %s", path, i+1, g, w)
		}
	}
}

func TestGolden(t *testing.T) {
	for _, gc := range goldenCases() {
		t.Run(gc.name, func(t *testing.T) { runGolden(t, gc) })
	}
}
