package debezium

import (
	"strconv"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/java"
	"github.com/pgmotion/pgmotion/internal/record"
)

// Transaction metadata (provide.transaction.metadata=true), as Debezium's
// TransactionMonitor and PostgresTransactionMonitor write it (3.x):
//
//   - a BEGIN record for every transaction the stream opens, and an END
//     record when it commits, on <topic.prefix><topic.delimiter><topic.transaction>;
//     an empty transaction (pgoutput before PostgreSQL 15 sends them, or
//     one whose tables the filters leave out) still gets both, with
//     event_count 0;
//   - key io.debezium.connector.common.TransactionMetadataKey v1 {id},
//     value io.debezium.connector.common.TransactionMetadataValue v1
//     {status, id, event_count, data_collections, ts_ms}: event_count and
//     data_collections are null in BEGIN; ts_ms is the commit time;
//   - ids are "<xid>:<lsn>" with the LSN of the record's own event: the
//     BEGIN message's WAL position, each data event's LSN, the commit's
//     end LSN;
//   - each streamed data event (c, u, d, t and transactional logical
//     decoding messages; not tombstones, not skipped operations, not
//     snapshot rows) gets transaction {id, total_order,
//     data_collection_order}, 1-based positions in the transaction and in
//     its table;
//   - END lists data_collections in the iteration order of the Java
//     HashMap Debezium counts in (javaHashOrder, with the table size that
//     map reached, since clear() keeps it).
//
// The records carry no headers (Debezium adds the extended context headers
// to data events only) and no partition, so the key picks it.

const (
	txKeySchema = `{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"}],` +
		`"optional":false,"name":"io.debezium.connector.common.TransactionMetadataKey","version":1}`
	txValueSchema = `{"type":"struct","fields":[{"type":"string","optional":false,"field":"status"},` +
		`{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":true,"field":"event_count"},` +
		`{"type":"array","items":{"type":"struct","fields":[{"type":"string","optional":false,"field":"data_collection"},` +
		`{"type":"int64","optional":false,"field":"event_count"}],"optional":true,"name":"event.collection","version":1},` +
		`"optional":true,"field":"data_collections"},{"type":"int64","optional":false,"field":"ts_ms"}],` +
		`"optional":false,"name":"io.debezium.connector.common.TransactionMetadataValue","version":1}`

	// txNull is the envelope's transaction field when it has no block;
	// opField's entries start with it.
	txNull = `,"transaction":null`

	// txMessageCollection is the data collection transactional logical
	// decoding messages count under (LogicalDecodingMessageId.identifier).
	txMessageCollection = "LOGICAL_DECODING_MESSAGE"
)

// TxCount is the number of events of one data collection ("schema.table")
// in the open transaction.
type TxCount struct {
	DataCollection string
	Count          int64
}

// txState is the transaction being read. It is open only with
// provide.transaction.metadata on.
type txState struct {
	open  bool
	xid   uint32
	total int64
	colls []TxCount      // first-seen order
	index map[string]int // DataCollection → colls index
	// the data collection of the last plan counted, for the next event
	last    *plan
	lastIdx int
	// javaCap is the table size of Debezium's HashMap of counts, which
	// clear() between transactions never shrinks.
	javaCap int
	block   []byte // scratch: the last block written
}

// TransactionMetadata reports whether provide.transaction.metadata is on.
func (e *Encoder) TransactionMetadata() bool { return e.opts.TransactionMetadata }

// TransactionTopic returns the transaction metadata topic,
// <topic.prefix><topic.delimiter><topic.transaction>. Debezium does not
// sanitize it.
func (e *Encoder) TransactionTopic() string {
	t := e.opts.TransactionTopic
	if t == "" {
		t = DefaultTransactionTopic
	}
	return e.opts.TopicPrefix + e.s.delimiter + t
}

// BeginTx opens transaction xid and appends its BEGIN record to dst (or
// what the transformation chain makes of it). lsn is the WAL position of
// the BEGIN message, tsMicros the commit time. With
// provide.transaction.metadata off it does nothing.
func (e *Encoder) BeginTx(dst []record.Record, xid uint32, lsn change.LSN, tsMicros int64) ([]record.Record, error) {
	e.polled = 0
	if !e.opts.TransactionMetadata {
		return dst, nil
	}
	e.resetTx(xid)
	return e.txChain(dst, e.txRecord("BEGIN", lsn, tsMicros))
}

// txChain appends r to dst, through the transformation chain if any.
func (e *Encoder) txChain(dst []record.Record, r record.Record) ([]record.Record, error) {
	out := append(dst, r)
	e.polled = 1
	if e.chain != nil {
		var err error
		if out, err = e.chainJSON(out, len(dst)); err != nil {
			return dst, err
		}
	}
	if e.recycle {
		e.stamp(out[len(dst):])
	}
	return out, nil
}

// ResumeTx opens transaction xid without a BEGIN record, with the counts
// an offset written in its middle holds: the stream replays a transaction
// that was half delivered, and its events go on being numbered where the
// delivered ones stopped (Debezium 3.7 does the same; earlier versions
// sent BEGIN again and counted from 1).
func (e *Encoder) ResumeTx(xid uint32, counts []TxCount) {
	if !e.opts.TransactionMetadata {
		return
	}
	e.resetTx(xid)
	e.tx.javaCap = 16 // Debezium loads the counts into a new HashMap
	for _, c := range counts {
		i := e.txCollection(c.DataCollection)
		e.tx.colls[i].Count = c.Count
		e.tx.total += c.Count
	}
}

// EndTx appends the END record of the open transaction to dst (or what
// the transformation chain makes of it) and closes it; lsn is the
// commit's end LSN, tsMicros the commit time. Nothing is appended when no
// transaction is open.
func (e *Encoder) EndTx(dst []record.Record, lsn change.LSN, tsMicros int64) ([]record.Record, error) {
	e.polled = 0
	if !e.tx.open {
		return dst, nil
	}
	r := e.txRecord("END", lsn, tsMicros)
	e.tx.open = false
	return e.txChain(dst, r)
}

// TxCounts appends the open transaction's counts to dst, in the order
// their data collections first had an event, and returns them with its
// xid; ok is false when no transaction is open.
func (e *Encoder) TxCounts(dst []TxCount) (counts []TxCount, xid uint32, ok bool) {
	if !e.tx.open {
		return dst, 0, false
	}
	return append(dst, e.tx.colls...), e.tx.xid, true
}

func (e *Encoder) resetTx(xid uint32) {
	t := &e.tx
	t.open, t.xid, t.total = true, xid, 0
	t.colls, t.last = t.colls[:0], nil
	if t.index == nil {
		t.index = map[string]int{}
	}
	clear(t.index)
	if t.javaCap == 0 {
		t.javaCap = 16
	}
}

// txCollection returns the index of name in the open transaction's
// counts, adding it.
func (e *Encoder) txCollection(name string) int {
	t := &e.tx
	if i, ok := t.index[name]; ok {
		return i
	}
	t.colls = append(t.colls, TxCount{DataCollection: name})
	t.index[name] = len(t.colls) - 1
	if t.javaCap == 0 {
		t.javaCap = 16
	}
	for len(t.colls) > t.javaCap*3/4 { // HashMap's load factor
		t.javaCap *= 2
	}
	return len(t.colls) - 1
}

// txInTx reports whether c is a streamed event of the open transaction.
func (e *Encoder) txInTx(c *change.Change) bool {
	return e.tx.open && c.HasXid && c.Xid == e.tx.xid && c.Snapshot == change.SnapshotFalse
}

// txEvent counts one event of c, in the data collection of p (nil: a
// logical decoding message), and writes its block into e.tx.block.
func (e *Encoder) txEvent(p *plan, c *change.Change) []byte {
	t := &e.tx
	var i int
	switch {
	case p == nil:
		i = e.txCollection(txMessageCollection)
	case p == t.last:
		i = t.lastIdx
	default:
		i = e.txCollection(p.rel.QualifiedName())
		t.last, t.lastIdx = p, i
	}
	t.total++
	t.colls[i].Count++
	b := append(t.block[:0], `{"id":"`...)
	b = strconv.AppendUint(b, uint64(t.xid), 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(c.LSN), 10)
	b = append(b, `","total_order":`...)
	b = strconv.AppendInt(b, t.total, 10)
	b = append(b, `,"data_collection_order":`...)
	b = strconv.AppendInt(b, t.colls[i].Count, 10)
	t.block = append(b, '}')
	return t.block
}

// appendTransaction appends the envelope's transaction field, from its
// comma on, for a data event of c on p: the block when c belongs to the
// open transaction, else null.
func (e *Encoder) appendTransaction(b []byte, p *plan, c *change.Change) []byte {
	if !e.txInTx(c) {
		return append(b, txNull...)
	}
	b = append(b, `,"transaction":`...)
	return append(b, e.txEvent(p, c)...)
}

// txMessage counts a logical decoding message in the open transaction and
// returns its transaction block, or "null" for one outside it.
func (e *Encoder) txMessage(c *change.Change) []byte {
	if !e.txInTx(c) {
		return []byte("null")
	}
	return e.txEvent(nil, c)
}

// txRecord builds the BEGIN or END record of the open transaction.
func (e *Encoder) txRecord(status string, lsn change.LSN, tsMicros int64) record.Record {
	t := &e.tx
	e.reserve(1024 + 64*len(t.colls))
	keyStart := len(e.slab)
	start := keyStart
	b := e.slab
	if e.s.keySchemas {
		b = append(b, `{"schema":`+txKeySchema+`,"payload":`...)
	}
	b = append(b, `{"id":`...)
	idStart := len(b)
	b = append(b, '"')
	b = strconv.AppendUint(b, uint64(t.xid), 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(lsn), 10)
	b = append(b, '"')
	idEnd := len(b)
	b = append(b, '}')
	if e.s.keySchemas {
		b = append(b, '}')
	}
	e.slab = b
	key := e.carve(start)

	start = len(e.slab)
	b = e.slab
	if e.s.valueSchemas {
		b = append(b, `{"schema":`+txValueSchema+`,"payload":`...)
	}
	b = append(b, `{"status":"`...)
	b = append(b, status...)
	b = append(b, `","id":`...)
	b = append(b, key[idStart-keyStart:idEnd-keyStart]...)
	if status == "END" {
		b = append(b, `,"event_count":`...)
		b = strconv.AppendInt(b, t.total, 10)
		b = append(b, `,"data_collections":[`...)
		hashes := make([]int32, len(t.colls))
		for i := range t.colls {
			hashes[i] = java.StringHashCode(t.colls[i].DataCollection)
		}
		for n, i := range java.HashMapOrder(hashes, t.javaCap) {
			if n > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"data_collection":`...)
			b = appendJSONStr(b, t.colls[i].DataCollection)
			b = append(b, `,"event_count":`...)
			b = strconv.AppendInt(b, t.colls[i].Count, 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	} else {
		b = append(b, `,"event_count":null,"data_collections":null`...)
	}
	b = append(b, `,"ts_ms":`...)
	b = strconv.AppendInt(b, floorDiv(tsMicros, 1000), 10)
	b = append(b, '}')
	if e.s.valueSchemas {
		b = append(b, '}')
	}
	e.slab = b
	return record.Record{Topic: e.TransactionTopic(), Partition: -1, Key: key, Value: e.carve(start)}
}
