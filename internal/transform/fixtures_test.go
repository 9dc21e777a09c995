package transform

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/debezium"
	"github.com/pgmotion/pgmotion/internal/record"
)

// The input records of the golden tests are real encoder output
// (internal/debezium), with schemas, kept under testdata/input so that
// these tests do not move with every encoder change. Regenerate them with
//
//	go test ./internal/transform -run TestGenerateInputs -update-inputs
var updateInputs = flag.Bool("update-inputs", false, "regenerate testdata/input/*.json from internal/debezium's encoder")

// The clock of the fixtures: §1.6's envelope and commit times.
const (
	fixtureTsMs = 1742741275319
	fixtureTsUs = 1742741275319425
	fixtureTsNs = 1742741275319425296
)

func txt(s string) change.Value { return change.Value{Kind: change.KindText, Data: []byte(s)} }

var null = change.Value{Kind: change.KindNull}

func outboxRel(id uint32, name string, payloadType uint32, payloadName string) *change.Relation {
	return &change.Relation{
		ID: id, Namespace: "public", Name: name,
		Columns: []change.Column{
			{Name: "id", TypeOID: 2950, TypeMod: -1, TypeName: "uuid", NotNull: true},
			{Name: "aggregatetype", TypeOID: 1043, TypeMod: 259, TypeName: "varchar", NotNull: true},
			{Name: "aggregateid", TypeOID: 1043, TypeMod: 259, TypeName: "varchar", NotNull: true},
			{Name: "type", TypeOID: 1043, TypeMod: 259, TypeName: "varchar", NotNull: true},
			{Name: "payload", TypeOID: payloadType, TypeMod: -1, TypeName: payloadName},
			{Name: "created", TypeOID: 1114, TypeMod: -1, TypeName: "timestamp"},
			{Name: "tenant", TypeOID: 23, TypeMod: -1, TypeName: "int4"},
			{Name: "version", TypeOID: 23, TypeMod: -1, TypeName: "int4"},
		},
		Key: []int{0}, ReplicaIdentity: 'd',
	}
}

func customersRel(id uint32, name string) *change.Relation {
	return &change.Relation{
		ID: id, Namespace: "public", Name: name,
		Columns: []change.Column{
			{Name: "id", TypeOID: 23, TypeMod: -1, TypeName: "int4", NotNull: true},
			{Name: "name", TypeOID: 1043, TypeMod: -1, TypeName: "varchar"},
			{Name: "email", TypeOID: 1043, TypeMod: -1, TypeName: "varchar"},
			{Name: "score", TypeOID: 1700, TypeMod: int32(10<<16|2) + 4, TypeName: "numeric"},
			{Name: "born", TypeOID: 1082, TypeMod: -1, TypeName: "date"},
			{Name: "active", TypeOID: 16, TypeMod: -1, TypeName: "bool", NotNull: true, Default: "true"},
		},
		Key: []int{0}, ReplicaIdentity: 'd',
	}
}

func streamedChange(op change.Op, rel *change.Relation, before, after change.Tuple, lsn change.LSN) *change.Change {
	return &change.Change{Op: op, Rel: rel, Before: before, After: after,
		LSN: lsn, LastCommitLSN: 26737640, Xid: 752, HasXid: true, TsMicros: 1742741274875866}
}

func snapshotChange(rel *change.Relation, after change.Tuple, m change.SnapshotMarker) *change.Change {
	return &change.Change{Op: change.OpRead, Rel: rel, After: after, LSN: 26737000, Xid: 750, HasXid: true,
		TsMicros: 1742741270000000, Snapshot: m}
}

func fixtureChanges() map[string][]*change.Change {
	outbox := outboxRel(16400, "outbox", 3802, "jsonb")
	text := outboxRel(16401, "outbox_text", 25, "text")
	cust := customersRel(16384, "customers")
	eu := customersRel(16385, "customers_eu")
	nokey := &change.Relation{ID: 16386, Namespace: "public", Name: "notes",
		Columns: []change.Column{{Name: "note", TypeOID: 25, TypeMod: -1, TypeName: "text"}}, ReplicaIdentity: 'd'}
	id1 := "0195c4a5-0001-7000-8000-000000000001"
	payload1 := `{"id": 1, "lines": [{"qty": 2, "sku": "a"}, {"qty": 1, "sku": "b", "note": null}], "meta": {"x": null, "y": "z"}, "tags": [], "total": 12.5, "big": 12345678901, "ok": true}`
	return map[string][]*change.Change{
		"outbox": {
			streamedChange(change.OpCreate, outbox, nil, change.Tuple{txt(id1), txt("order"), txt("1"), txt("OrderCreated"), txt(payload1), txt("2025-03-23 14:47:54.875123"), txt("3"), txt("2")}, 26738904),
			snapshotChange(outbox, change.Tuple{txt("0195c4a5-0001-7000-8000-000000000002"), txt("customer"), txt("c7"), txt("CustomerCreated"), txt(`{"name": "Ann"}`), null, null, txt("1")}, change.SnapshotLast),
			streamedChange(change.OpCreate, outbox, nil, change.Tuple{txt("0195c4a5-0001-7000-8000-000000000003"), txt("order"), txt("2"), txt("OrderCanceled"), null, null, txt("0"), null}, 26739000),
			streamedChange(change.OpUpdate, outbox, nil, change.Tuple{txt(id1), txt("order"), txt("1"), txt("OrderCreated"), txt(`{}`), null, null, null}, 26739100),
			streamedChange(change.OpDelete, outbox, change.Tuple{txt(id1), null, null, null, null, null, null, null}, nil, 26739200),
			streamedChange(change.OpCreate, outbox, nil, change.Tuple{txt("0195c4a5-0001-7000-8000-000000000004"), txt("order"), txt("3"), txt("Odd"), txt(`"just a string"`), null, null, null}, 26739300),
			streamedChange(change.OpCreate, outbox, nil, change.Tuple{txt("0195c4a5-0001-7000-8000-000000000005"), txt("Order.Line"), txt("4"), txt("Lines"), txt(`[{"n": 1}, {"n": 2, "m": "x"}]`), null, null, null}, 26739400),
			streamedChange(change.OpCreate, text, nil, change.Tuple{txt("0195c4a5-0001-7000-8000-000000000006"), txt("note"), txt("5"), txt("Blank"), txt("  "), null, null, null}, 26739500),
			streamedChange(change.OpCreate, text, nil, change.Tuple{txt("0195c4a5-0001-7000-8000-000000000007"), txt("note"), txt("6"), txt("Text"), txt("hello"), null, null, null}, 26739600),
		},
		"customers": {
			snapshotChange(cust, change.Tuple{txt("1"), txt("Ann"), null, txt("12.50"), txt("1990-05-17"), txt("t")}, change.SnapshotFirst),
			streamedChange(change.OpCreate, cust, nil, change.Tuple{txt("2"), txt("Bob"), txt("bob@example.com"), txt("-3.25"), null, txt("f")}, 26738904),
			streamedChange(change.OpUpdate, cust, nil, change.Tuple{txt("2"), txt("Robert"), txt("bob@example.com"), null, null, txt("t")}, 26739000),
			streamedChange(change.OpDelete, cust, change.Tuple{txt("2"), null, null, null, null, null}, nil, 26739100),
			streamedChange(change.OpUpdate, cust, change.Tuple{txt("1"), null, null, null, null, null}, change.Tuple{txt("10"), txt("Ann"), null, txt("12.50"), txt("1990-05-17"), txt("t")}, 26739200),
			streamedChange(change.OpTruncate, cust, nil, nil, 26739300),
			streamedChange(change.OpCreate, eu, nil, change.Tuple{txt("2"), txt("Eva"), null, null, null, txt("t")}, 26739400),
			streamedChange(change.OpCreate, nokey, nil, change.Tuple{txt("a note")}, 26739500),
		},
	}
}

// TestGenerateInputs writes testdata/input/<name>.json: the encoder's
// records for fixtureChanges, envelope times pinned, plus a heartbeat in
// customers.json.
func TestGenerateInputs(t *testing.T) {
	if !*updateInputs {
		t.Skip("run with -update-inputs to regenerate testdata/input")
	}
	for name, changes := range fixtureChanges() {
		opts := debezium.DefaultOptions()
		opts.ConnectorName, opts.TopicPrefix, opts.Database = "inventory-connector", "srv", "app"
		opts.RunID = "0195c4a5-0000-7000-8000-000000000000"
		opts.Skipped = nil
		enc, err := debezium.NewEncoder(opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		var recs []record.Record
		for _, c := range changes {
			if recs, err = enc.Encode(recs, c); err != nil {
				t.Fatal(err)
			}
		}
		if name == "customers" {
			if recs, err = enc.Heartbeat(recs, enc.HeartbeatTopic("", ""), fixtureTsMs); err != nil {
				t.Fatal(err)
			}
		}
		for i := range recs {
			recs[i].Value = pinClock(t, recs[i].Value)
		}
		path := filepath.Join("testdata", "input", name+".json")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, renderRecords(t, recs, nil), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// pinClock sets the envelope's ts_ms, ts_us and ts_ns to the fixture clock.
func pinClock(t *testing.T, value []byte) []byte {
	c := cd.NewJSONConverter(true)
	s, v, err := c.ToConnect(value)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := v.(*cd.Struct)
	if !ok || !isEnvelope(s) {
		return value
	}
	for name, ts := range map[string]int64{"ts_ms": fixtureTsMs, "ts_us": fixtureTsUs, "ts_ns": fixtureTsNs} {
		if f, ok := s.Field(name); ok {
			st.Set(f.Index, ts)
		}
	}
	out, err := c.FromConnect(s, st)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// goldenLine is one record of a testdata file; key and value hold the
// exact bytes.
type goldenLine struct {
	Topic     string          `json:"topic"`
	Partition *int32          `json:"partition,omitempty"`
	Timestamp *int64          `json:"timestamp,omitempty"`
	Headers   [][2]*string    `json:"headers"`
	Key       json.RawMessage `json:"key,omitempty"`
	Value     json.RawMessage `json:"value,omitempty"`
}

// renderRecords writes one JSON line per record: topic, the partition and
// timestamp when set, headers, and key and value embedded verbatim.
func renderRecords(t testing.TB, recs []record.Record, timestamps []*int64) []byte {
	var out bytes.Buffer
	for i, r := range recs {
		for _, b := range [][]byte{r.Key, r.Value} {
			if b != nil && !json.Valid(b) {
				t.Errorf("record on %s has invalid JSON: %s", r.Topic, b)
			}
		}
		out.WriteString(`{"topic":`)
		js, _ := json.Marshal(r.Topic)
		out.Write(js)
		if r.Partition >= 0 {
			out.WriteString(`,"partition":`)
			js, _ = json.Marshal(r.Partition)
			out.Write(js)
		}
		if i < len(timestamps) && timestamps[i] != nil {
			out.WriteString(`,"timestamp":`)
			js, _ = json.Marshal(*timestamps[i])
			out.Write(js)
		}
		out.WriteString(`,"headers":[`)
		for j, h := range r.Headers {
			if j > 0 {
				out.WriteByte(',')
			}
			k, _ := json.Marshal(h.Key)
			v := []byte("null")
			if h.Value != nil {
				v, _ = json.Marshal(string(h.Value))
			}
			out.WriteByte('[')
			out.Write(k)
			out.WriteByte(',')
			out.Write(v)
			out.WriteByte(']')
		}
		out.WriteByte(']')
		// A nil key or value (a null key, a tombstone) has no member; the
		// bytes "null" are a JSON null.
		if r.Key != nil {
			out.WriteString(`,"key":`)
			out.Write(r.Key)
		}
		if r.Value != nil {
			out.WriteString(`,"value":`)
			out.Write(r.Value)
		}
		out.WriteString("}\n")
	}
	return out.Bytes()
}

// readRecords reads a testdata file back.
func readRecords(t testing.TB, path string) []record.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/transform -run TestGenerateInputs -update-inputs)", err)
	}
	defer f.Close()
	var out []record.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var l goldenLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		r := record.Record{Topic: l.Topic, Partition: -1}
		if l.Partition != nil {
			r.Partition = *l.Partition
		}
		for _, h := range l.Headers {
			var v []byte
			if h[1] != nil {
				v = []byte(*h[1])
			}
			r.Headers = append(r.Headers, record.Header{Key: *h[0], Value: v})
		}
		if l.Key != nil {
			r.Key = []byte(l.Key)
		}
		if l.Value != nil {
			r.Value = []byte(l.Value)
		}
		out = append(out, r)
	}
	return out
}
