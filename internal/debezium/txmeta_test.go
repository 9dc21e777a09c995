package debezium

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/record"
)

// txStep is one handler call of a transaction scenario: BEGIN (begin
// set), END (end set) or a change.
type txStep struct {
	begin, end bool
	xid        uint32
	lsn        change.LSN
	ts         int64
	c          *change.Change
}

func orders() *change.Relation {
	return &change.Relation{
		ID: 16400, Namespace: "inventory", Name: "orders",
		Columns: []change.Column{
			{Name: "id", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true},
			{Name: "customer", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4"},
		},
		Key: []int{0}, ReplicaIdentity: 'd',
	}
}

// txScenario is transaction 752 of §1.6 touching two tables, with a key
// change (two events and a tombstone), a skipped truncate, a
// transactional message, then an empty transaction, a snapshot row and a
// non-transactional message, which stay outside any transaction.
func txScenario() []txStep {
	cust, ord := customers(), orders()
	at := func(c *change.Change, lsn change.LSN) *change.Change { c.LSN = lsn; return c }
	snap := streamed(change.OpRead, cust, nil, change.Tuple{txt("9"), txt("snap")})
	snap.Snapshot, snap.LastCommitLSN, snap.Xid = change.SnapshotTrue, 0, 700
	nonTx := message("audit", "outside", false)
	nonTx.LSN = 26800000
	const ts = 1742741274875866
	return []txStep{
		{begin: true, xid: 752, lsn: 26738800, ts: ts},
		{c: at(streamed(change.OpCreate, cust, nil, change.Tuple{txt("1"), txt("a")}), 26738904)},
		{c: at(streamed(change.OpCreate, ord, nil, change.Tuple{txt("10"), txt("1")}), 26739000)},
		{c: at(streamed(change.OpUpdate, cust, change.Tuple{txt("1"), null}, change.Tuple{txt("2"), txt("b")}), 26739100)},
		{c: at(streamed(change.OpTruncate, ord, nil, nil), 26739200)},
		{c: at(message("audit", `{"user":"John"}`, true), 26739300)},
		{c: at(streamed(change.OpDelete, ord, change.Tuple{txt("10"), null}, nil), 26739400)},
		{end: true, lsn: 26739500, ts: ts},
		{begin: true, xid: 753, lsn: 26739600, ts: ts + 1000},
		{end: true, lsn: 26739700, ts: ts + 1000},
		{c: snap},
		{c: nonTx},
	}
}

func runTxGolden(t *testing.T, name string, mutate func(*Options), steps []txStep) []record.Record {
	t.Helper()
	e := newTestEncoder(t, mutate)
	var recs []record.Record
	for _, s := range steps {
		switch {
		case s.begin:
			recs = beginTx(t, e, recs, s.xid, s.lsn, s.ts)
		case s.end:
			recs = endTx(t, e, recs, s.lsn, s.ts)
		default:
			var err error
			if recs, err = e.Encode(recs, s.c); err != nil {
				t.Fatalf("Encode: %v", err)
			}
		}
	}
	got := renderRecords(t, recs)
	checkGolden(t, filepath.Join("testdata", "events", name+".json"), got, "go test ./internal/debezium -run TestTxMeta -update")
	return recs
}

func TestTxMetaGolden(t *testing.T) {
	on := func(o *Options) { o.TransactionMetadata = true }
	cases := []struct {
		name   string
		mutate func(*Options)
	}{
		{"transaction_metadata", on},
		{"transaction_metadata_schemas_disabled", func(o *Options) { on(o); o.KeySchemas, o.ValueSchemas = false, false }},
		{"transaction_metadata_topic", func(o *Options) { on(o); o.TransactionTopic = "tx"; o.TopicDelimiter = "_" }},
		{"transaction_metadata_off", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runTxGolden(t, tc.name, tc.mutate, txScenario()) })
	}
}

// TestTxMetaPayloads checks the scenario's payloads field by field, so that
// the golden files are known to say what Debezium says.
func TestTxMetaPayloads(t *testing.T) {
	recs := runTxGolden(t, "transaction_metadata_schemas_disabled", func(o *Options) {
		o.TransactionMetadata = true
		o.KeySchemas, o.ValueSchemas = false, false
	}, txScenario())
	var got []string
	for _, r := range recs {
		v := string(r.Value)
		if i := strings.Index(v, `"transaction":`); i >= 0 && r.Topic != "srv.transaction" {
			v = v[i:]
			if j := strings.Index(v, `,"op"`); j >= 0 {
				v = v[:j]
			} else {
				v = v[:strings.Index(v, `,"message"`)]
			}
		}
		got = append(got, r.Topic+" "+string(r.Key)+" "+v)
	}
	want := []string{
		`srv.transaction {"id":"752:26738800"} {"status":"BEGIN","id":"752:26738800","event_count":null,"data_collections":null,"ts_ms":1742741274875}`,
		`srv.public.customers {"id":1} "transaction":{"id":"752:26738904","total_order":1,"data_collection_order":1}`,
		`srv.inventory.orders {"id":10} "transaction":{"id":"752:26739000","total_order":2,"data_collection_order":1}`,
		// The key change: delete, tombstone, create, one LSN.
		`srv.public.customers {"id":1} "transaction":{"id":"752:26739100","total_order":3,"data_collection_order":2}`,
		`srv.public.customers {"id":1} `,
		`srv.public.customers {"id":2} "transaction":{"id":"752:26739100","total_order":4,"data_collection_order":3}`,
		`srv.message {"prefix":"audit"} "transaction":{"id":"752:26739300","total_order":5,"data_collection_order":1}`,
		`srv.inventory.orders {"id":10} "transaction":{"id":"752:26739400","total_order":6,"data_collection_order":2}`,
		`srv.inventory.orders {"id":10} `,
		`srv.transaction {"id":"752:26739500"} {"status":"END","id":"752:26739500","event_count":6,"data_collections":[` +
			`{"data_collection":"public.customers","event_count":3},{"data_collection":"inventory.orders","event_count":2},` +
			`{"data_collection":"LOGICAL_DECODING_MESSAGE","event_count":1}],"ts_ms":1742741274875}`,
		`srv.transaction {"id":"753:26739600"} {"status":"BEGIN","id":"753:26739600","event_count":null,"data_collections":null,"ts_ms":1742741274876}`,
		`srv.transaction {"id":"753:26739700"} {"status":"END","id":"753:26739700","event_count":0,"data_collections":[],"ts_ms":1742741274876}`,
		`srv.public.customers {"id":9} "transaction":null`,
		`srv.message {"prefix":"audit"} "transaction":null`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d\n got: %s\nwant: %s", i, got[i], want[i])
		}
	}
	for _, r := range recs {
		if r.Topic == "srv.transaction" && (r.Partition != -1 || len(r.Headers) != 0) {
			t.Errorf("transaction record: partition %d, headers %v; want -1 and none", r.Partition, r.Headers)
		}
	}
}

// TestTxMetaResume checks that a transaction restored from an offset goes
// on counting without a BEGIN, and that TxCounts reports the counts.
func TestTxMetaResume(t *testing.T) {
	e := newTestEncoder(t, func(o *Options) { o.TransactionMetadata = true; o.KeySchemas, o.ValueSchemas = false, false })
	if _, _, ok := e.TxCounts(nil); ok {
		t.Fatal("TxCounts: a transaction is open before any")
	}
	e.ResumeTx(752, []TxCount{{"public.customers", 2}, {"inventory.orders", 1}})
	recs, err := e.Encode(nil, streamed(change.OpCreate, customers(), nil, change.Tuple{txt("3"), txt("c")}))
	if err != nil {
		t.Fatal(err)
	}
	if v := string(recs[0].Value); !strings.Contains(v, `"transaction":{"id":"752:26738904","total_order":4,"data_collection_order":3}`) {
		t.Errorf("resumed block: %s", v)
	}
	counts, xid, ok := e.TxCounts(nil)
	if !ok || xid != 752 || len(counts) != 2 || counts[0] != (TxCount{"public.customers", 3}) || counts[1] != (TxCount{"inventory.orders", 1}) {
		t.Errorf("TxCounts = %v, %d, %v", counts, xid, ok)
	}
	recs = endTx(t, e, nil, 26739500, 1742741274875866)
	if len(recs) != 1 || !strings.Contains(string(recs[0].Value), `"event_count":4`) {
		t.Errorf("END after resume: %v", recs)
	}
	if recs = endTx(t, e, nil, 26739600, 0); len(recs) != 0 {
		t.Errorf("END with no transaction open: %v", recs)
	}
	// Off: nothing opens.
	off := newTestEncoder(t, nil)
	if recs := beginTx(t, off, nil, 1, 1, 1); len(recs) != 0 {
		t.Errorf("BeginTx with the option off: %v", recs)
	}
	off.ResumeTx(1, []TxCount{{"a.b", 1}})
	if _, _, ok := off.TxCounts(nil); ok {
		t.Error("ResumeTx opened a transaction with the option off")
	}
}

// TestTxMetaJavaOrder checks that END lists the data collections as
// Debezium's HashMap iterates them, including after the map grew in an
// earlier transaction (HashMap.clear keeps the table). The orders are what
// java.util.HashMap.keySet() printed on OpenJDK.
func TestTxMetaJavaOrder(t *testing.T) {
	e := newTestEncoder(t, func(o *Options) { o.TransactionMetadata = true; o.KeySchemas, o.ValueSchemas = false, false })
	run := func(xid uint32, tables ...string) string {
		beginTx(t, e, nil, xid, 1, 0)
		for _, n := range tables {
			e.txCollection(n)
		}
		v := string(endTx(t, e, nil, 2, 0)[0].Value)
		v = strings.ReplaceAll(v, `{"data_collection":"`, "")
		v = strings.ReplaceAll(v, `","event_count":0}`, "")
		return v[strings.Index(v, "[") : strings.Index(v, "]")+1]
	}
	if got, want := run(1, "s.ta", "s.tb", "inventory.orders"), "[s.tb,inventory.orders,s.ta]"; got != want {
		t.Errorf("16-bucket table: %s, want %s", got, want)
	}
	if got, want := run(2, "public.customers", "inventory.orders", "LOGICAL_DECODING_MESSAGE"), "[public.customers,inventory.orders,LOGICAL_DECODING_MESSAGE]"; got != want {
		t.Errorf("16-bucket table: %s, want %s", got, want)
	}
	var many []string
	for i := range 13 {
		many = append(many, "s.t"+string(rune('a'+i)))
	}
	if got, want := run(3, many...), "[s.tm,s.tj,s.ti,s.tl,s.tk,s.tf,s.te,s.th,s.tg,s.tb,s.ta,s.td,s.tc]"; got != want {
		t.Errorf("13 tables: %s, want %s", got, want)
	}
	if got, want := run(4, "s.ta", "s.tb", "inventory.orders"), "[inventory.orders,s.tb,s.ta]"; got != want {
		t.Errorf("after growth to 32 buckets: %s, want %s", got, want)
	}
}

func TestTxMetaTopic(t *testing.T) {
	for _, tc := range []struct {
		mutate func(*Options)
		want   string
	}{
		{nil, "srv.transaction"},
		{func(o *Options) { o.TransactionTopic = "txn" }, "srv.txn"},
		{func(o *Options) { o.TopicDelimiter = "_" }, "srv_transaction"},
	} {
		if got := newTestEncoder(t, tc.mutate).TransactionTopic(); got != tc.want {
			t.Errorf("TransactionTopic = %q, want %q", got, tc.want)
		}
	}
}

// TestTxMetaRoundTrip reads every record of the scenario with the Connect
// JsonConverter and writes it back: the bytes must not change, which
// checks the schemas' field order and that each payload fits its schema.
func TestTxMetaRoundTrip(t *testing.T) {
	for _, schemas := range []bool{true, false} {
		e := newTestEncoder(t, func(o *Options) { o.TransactionMetadata = true; o.KeySchemas, o.ValueSchemas = schemas, schemas })
		var recs []record.Record
		for _, s := range txScenario() {
			switch {
			case s.begin:
				recs = beginTx(t, e, recs, s.xid, s.lsn, s.ts)
			case s.end:
				recs = endTx(t, e, recs, s.lsn, s.ts)
			default:
				var err error
				if recs, err = e.Encode(recs, s.c); err != nil {
					t.Fatal(err)
				}
			}
		}
		conv := connectdata.NewJSONConverter(schemas)
		for _, r := range recs {
			for _, b := range [][]byte{r.Key, r.Value} {
				if b == nil {
					continue
				}
				s, v, err := conv.ToConnect(b)
				if err != nil {
					t.Fatalf("schemas=%v: read %s: %v", schemas, b, err)
				}
				if schemas {
					if err := connectdata.Validate(s, v); err != nil {
						t.Errorf("payload does not fit its schema: %v: %s", err, b)
					}
				}
				out, err := conv.FromConnect(s, v)
				if err != nil {
					t.Fatalf("write back %s: %v", b, err)
				}
				if !bytes.Equal(out, b) {
					t.Errorf("schemas=%v: round trip changed the bytes\n got: %s\nwant: %s", schemas, out, b)
				}
			}
		}
	}
}

// beginTx and endTx are BeginTx and EndTx, failing the test on an error.
func beginTx(t testing.TB, e *Encoder, dst []record.Record, xid uint32, lsn change.LSN, ts int64) []record.Record {
	t.Helper()
	out, err := e.BeginTx(dst, xid, lsn, ts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func endTx(t testing.TB, e *Encoder, dst []record.Record, lsn change.LSN, ts int64) []record.Record {
	t.Helper()
	out, err := e.EndTx(dst, lsn, ts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
