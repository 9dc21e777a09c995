package pipeline

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/debezium"
)

// Transaction metadata (provide.transaction.metadata): the task sends a
// transaction's BEGIN record when the stream opens it and its END record
// at its commit, and the encoder numbers the events in between
// (debezium/txmeta.go). An offset sealed inside a transaction carries
// Debezium's transaction_id and transaction_data_collection_order_<table>
// keys; when streaming resumes in the middle of that transaction, its
// events go on being numbered from them, without a second BEGIN (as
// Debezium 3.7 does; earlier versions start the numbering again).

// txOrderPrefix starts the offset key of a table's count.
const txOrderPrefix = "transaction_data_collection_order_"

// txBegin sends the BEGIN record of transaction xid, whose BEGIN message
// came at lsn, or resumes the half-delivered transaction t.skip names.
func (t *Task) txBegin(xid uint32, lsn change.LSN, ts int64) error {
	if !t.enc.TransactionMetadata() {
		return nil
	}
	if s := t.skip; s != nil && uint32(s.TxID) == xid && s.TransactionID == strconv.FormatUint(uint64(xid), 10) {
		counts, err := s.txCounts()
		if err == nil {
			t.enc.ResumeTx(xid, counts)
			return nil
		}
		t.log.Warn("transaction counts in the stored offset are not valid; the transaction is numbered from 1 again", "xid", xid, "err", err)
	}
	var err error
	if t.recs, err = t.enc.BeginTx(t.recs[:0], xid, lsn, ts); err != nil {
		return err
	}
	return t.produce()
}

// txEnd sends the END record of the open transaction, whose commit ends
// at lsn.
func (t *Task) txEnd(lsn change.LSN, ts int64) error {
	if !t.enc.TransactionMetadata() {
		return nil
	}
	var err error
	if t.recs, err = t.enc.EndTx(t.recs[:0], lsn, ts); err != nil {
		return err
	}
	if len(t.recs) == 0 {
		return nil
	}
	return t.produce()
}

// txOffset adds the open transaction's keys to off.
func (t *Task) txOffset(off Offset) Offset {
	counts, xid, ok := t.enc.TxCounts(nil)
	if !ok {
		return off
	}
	off.TransactionID = strconv.FormatUint(uint64(xid), 10)
	off.TransactionOrders = encodeTxOrders(counts)
	return off
}

// encodeTxOrders writes counts as the members of the offset's JSON object.
func encodeTxOrders(counts []debezium.TxCount) string {
	var b []byte
	for i, c := range counts {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(txOrderPrefix + c.DataCollection)
		b = append(b, k...)
		b = append(b, ':')
		b = strconv.AppendInt(b, c.Count, 10)
	}
	return string(b)
}

// txCounts decodes TransactionOrders.
func (o *Offset) txCounts() ([]debezium.TxCount, error) {
	if o.TransactionOrders == "" {
		return nil, nil
	}
	d := json.NewDecoder(strings.NewReader("{" + o.TransactionOrders + "}"))
	d.UseNumber()
	if _, err := d.Token(); err != nil {
		return nil, err
	}
	var counts []debezium.TxCount
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return nil, err
		}
		var n int64
		if err := d.Decode(&n); err != nil {
			return nil, err
		}
		counts = append(counts, debezium.TxCount{DataCollection: strings.TrimPrefix(k.(string), txOrderPrefix), Count: n})
	}
	return counts, nil
}

// loadTxOrders fills TransactionOrders from the stored offset raw, whose
// transaction_data_collection_order_<table> keys encoding/json cannot map
// to a field.
func (o *Offset) loadTxOrders(raw []byte) error {
	if !bytes.Contains(raw, []byte(txOrderPrefix)) {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	var counts []debezium.TxCount
	for k, v := range m {
		if name, ok := strings.CutPrefix(k, txOrderPrefix); ok {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return err
			}
			counts = append(counts, debezium.TxCount{DataCollection: name, Count: n})
		}
	}
	slices.SortFunc(counts, func(a, b debezium.TxCount) int { return strings.Compare(a.DataCollection, b.DataCollection) })
	o.TransactionOrders = encodeTxOrders(counts)
	return nil
}
