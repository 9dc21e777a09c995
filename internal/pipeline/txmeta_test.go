package pipeline

import (
	"encoding/json"
	"log/slog"
	"slices"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/debezium"
)

// TestTxOffsetRoundTrip writes an offset sealed inside a transaction and
// reads it back as OffsetStore.Get does: the transaction keys are
// Debezium's, and they survive.
func TestTxOffsetRoundTrip(t *testing.T) {
	off := Offset{LSN: 300, LSNProc: 300, LSNCommit: 100, TxID: 752, TsUsec: 5, MessageType: "INSERT",
		TransactionID: "752", TransactionOrders: encodeTxOrders([]debezium.TxCount{{DataCollection: "public.orders", Count: 2}, {DataCollection: "public.customers", Count: 1}})}
	b, err := off.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"lsn_proc":300,"messageType":"INSERT","lsn_commit":100,"lsn":300,"txId":752,"ts_usec":5,"transaction_id":"752",` +
		`"transaction_data_collection_order_public.orders":2,"transaction_data_collection_order_public.customers":1}`
	if string(b) != want {
		t.Fatalf("offset\n got: %s\nwant: %s", b, want)
	}
	var back Offset
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.loadTxOrders(b); err != nil {
		t.Fatal(err)
	}
	counts, err := back.txCounts()
	if err != nil {
		t.Fatal(err)
	}
	// Read back in name order.
	if back.TransactionID != "752" || !slices.Equal(counts, []debezium.TxCount{{DataCollection: "public.customers", Count: 1}, {DataCollection: "public.orders", Count: 2}}) {
		t.Errorf("read back %q %v", back.TransactionID, counts)
	}
	// Outside a transaction: no keys.
	if b, _ := (Offset{LSN: 1, MessageType: "COMMIT"}).MarshalJSON(); string(b) != `{"messageType":"COMMIT","lsn":1}` {
		t.Errorf("offset without a transaction: %s", b)
	}
	// Debezium's own offsets, with a table name that needs escaping.
	deb := []byte(`{"lsn":9,"txId":7,"messageType":"UPDATE","transaction_id":"7","transaction_data_collection_order_s.\"q\"":3}`)
	var d Offset
	if err := json.Unmarshal(deb, &d); err != nil {
		t.Fatal(err)
	}
	if err := d.loadTxOrders(deb); err != nil {
		t.Fatal(err)
	}
	if c, err := d.txCounts(); err != nil || !slices.Equal(c, []debezium.TxCount{{DataCollection: `s."q"`, Count: 3}}) {
		t.Errorf("Debezium offset: %v, %v", c, err)
	}
}

// TestTxBeginResume checks that streaming resumed in the middle of a
// transaction numbers its events on from the stored offset, without a
// second BEGIN, and that the sealed offset carries the counts.
func TestTxBeginResume(t *testing.T) {
	o := debezium.DefaultOptions()
	o.TopicPrefix, o.TransactionMetadata = "srv", true
	o.KeySchemas, o.ValueSchemas = false, false
	enc, err := debezium.NewEncoder(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := Offset{LSN: 300, TxID: 752, MessageType: "INSERT", TransactionID: "752",
		TransactionOrders: encodeTxOrders([]debezium.TxCount{{DataCollection: "public.t", Count: 2}})}
	tk := &Task{enc: enc, log: slog.New(slog.DiscardHandler), skip: &stored}
	// The resume path sends nothing, so the task needs no sink.
	if err := tk.txBegin(752, 200, 1); err != nil {
		t.Fatal(err)
	}
	if len(tk.recs) != 0 {
		t.Fatalf("BEGIN sent again on resume: %v", tk.recs)
	}
	rel := &change.Relation{ID: 1, Namespace: "public", Name: "t",
		Columns: []change.Column{{Name: "id", TypeOID: 23, TypeMod: -1, TypeName: "int4", NotNull: true}}, Key: []int{0}}
	recs, err := enc.Encode(nil, &change.Change{Op: change.OpCreate, Rel: rel, LSN: 400, Xid: 752, HasXid: true,
		After: change.Tuple{{Kind: change.KindText, Data: []byte("3")}}})
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Transaction struct {
			ID                  string `json:"id"`
			TotalOrder          int64  `json:"total_order"`
			DataCollectionOrder int64  `json:"data_collection_order"`
		} `json:"transaction"`
	}
	if err := json.Unmarshal(recs[0].Value, &v); err != nil {
		t.Fatal(err)
	}
	if v.Transaction.ID != "752:400" || v.Transaction.TotalOrder != 3 || v.Transaction.DataCollectionOrder != 3 {
		t.Errorf("block after resume: %+v", v.Transaction)
	}
	sealed := tk.txOffset(Offset{LSN: 400})
	if sealed.TransactionID != "752" || sealed.TransactionOrders != `"transaction_data_collection_order_public.t":3` {
		t.Errorf("sealed offset: %+v", sealed)
	}
}
