package debezium

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strconv"
	"time"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/record"
)

// Header names Debezium writes.
const (
	HeaderOldKey               = "__debezium.oldkey"
	HeaderNewKey               = "__debezium.newkey"
	HeaderConnectorLogicalName = "__debezium.context.connectorLogicalName"
	HeaderTaskID               = "__debezium.context.taskId"
	HeaderConnectorName        = "__debezium.context.connectorName"
	HeaderRunID                = "__debezium.context.runId"
)

// connectorPlugin is the value of source.connector and of the
// connectorName header (PostgresConnectorConfig.getConnectorName is
// Module.name(), "postgresql").
const connectorPlugin = "postgresql"

const (
	slabSize = 256 << 10 // bytes carved into record keys and values
	hdrSlab  = 4096      // headers carved into records
)

// Encoder turns change.Change values into Kafka records in Debezium's
// PostgreSQL connector format, serialized by Kafka Connect's JsonConverter.
//
// An Encoder is not safe for concurrent use: it reuses buffers and caches
// one plan per relation. The records it returns own their byte slices and
// may be handed to other goroutines.
type Encoder struct {
	opts Options
	s    settings
	log  *slog.Logger
	now  func() time.Time // the envelope clock; see SetClock

	// The envelope's closing timestamps for the clock reading tsNanos,
	// kept because a coarse clock repeats its reading for many rows.
	tsNanos int64
	tsTail  []byte
	// The last LSN formatted, for the rows of a snapshot, which share one.
	lsn      change.LSN
	lsnBytes []byte

	srcHead []byte // {"version":...,"ts_ms":
	srcDB   []byte // ,"db":"...","sequence":
	// the source block of the last change, around its LSN
	srcKey     srcKey
	srcA, srcB []byte
	ctxHdrs    []record.Header

	plans map[uint32]*plan
	last  *plan
	msg   *plan // logical decoding messages (message.go)

	tx txState // provide.transaction.metadata (txmeta.go)

	chain *chainState // the transformation chain, nil for none (chain.go)
	// polled is the number of records the last call built, before the
	// chain (Polled).
	polled int

	slab []byte
	hdrs []record.Header
	// With RecycleSlabs, cur is the pooled slab that slab is carved from
	// (nil when slab is not pooled), and retired the slabs given up since
	// the last Handed, whose records may not be with the producer yet.
	recycle bool
	cur     *record.Slab
	retired []*record.Slab

	// scratch
	tmp, tmp2 []byte
	// arrays: the unescaped element, and the JSON and header forms
	arrElem, arrJSON, arrHdr []byte
	digits                   []byte
	keyOld                   []byte
	keyNew                   []byte
	big                      big.Int
	after                    change.Tuple
}

// NewEncoder validates opts and returns an Encoder.
func NewEncoder(opts Options, log *slog.Logger) (*Encoder, error) {
	s, err := opts.validate()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var ch *chainState
	if opts.Transforms != nil {
		ch = newChainState(opts.Transforms, &opts, log)
		// Records written as JSON are read back for the chain: with
		// schemas on the sides it reads.
		s.keySchemas = s.keySchemas || ch.key
		s.valueSchemas = s.valueSchemas || ch.value
	}
	e := &Encoder{
		chain: ch,
		opts:  opts,
		s:     s,
		log:   log.With("component", "debezium"),
		now:   time.Now,
		plans: make(map[uint32]*plan),
	}
	h := []byte(`{"version":`)
	h = appendJSONStr(h, s.version)
	h = append(h, `,"connector":"`+connectorPlugin+`","name":`...)
	h = appendJSONStr(h, opts.TopicPrefix)
	h = append(h, `,"ts_ms":`...)
	e.srcHead = h
	d := []byte(`,"db":`)
	d = appendJSONStr(d, opts.Database)
	d = append(d, `,"sequence":`...)
	e.srcDB = d
	if s.extHeaders {
		e.ctxHdrs = []record.Header{
			{Key: HeaderConnectorLogicalName, Value: []byte(opts.TopicPrefix)},
			{Key: HeaderTaskID, Value: []byte(s.taskID)},
			{Key: HeaderConnectorName, Value: []byte(connectorPlugin)},
			{Key: HeaderRunID, Value: []byte(s.runID)},
		}
	}
	return e, nil
}

// Topic returns the data topic of rel: <prefix>.<schema>.<table>, sanitized
// as Debezium's SchemaTopicNamingStrategy does.
func (e *Encoder) Topic(rel *change.Relation) string {
	if e.last != nil && e.last.rel == rel {
		return e.last.topic
	}
	return e.topicName(rel)
}

// planFor returns the cached plan of rel, compiling it when rel is new. A
// new Relation value for a known table replaces the old plan.
func (e *Encoder) planFor(rel *change.Relation) (*plan, error) {
	if p := e.last; p != nil && p.rel == rel {
		return p, nil
	}
	if p := e.plans[rel.ID]; p != nil && p.rel == rel {
		e.last = p
		return p, nil
	}
	p, err := e.compile(rel)
	if err != nil {
		return nil, err
	}
	e.plans[rel.ID] = p
	e.last = p
	return p, nil
}

// Encode appends the records of one change to dst:
//   - c, r: one record; u: one record, or, when the key changed, a delete,
//     its tombstone and a create carrying __debezium.newkey/oldkey headers;
//   - d: the delete and, with TombstonesOnDelete, a tombstone; nothing when
//     the server sent no old row (REPLICA IDENTITY NOTHING);
//   - t: one record with a null key;
//   - m: a logical decoding message, see message.go.
//
// Records of skipped operations are left out. On error dst is returned
// unchanged.
func (e *Encoder) Encode(dst []record.Record, c *change.Change) ([]record.Record, error) {
	out, err := e.encodeChange(dst, c)
	if err == nil && e.recycle {
		e.stamp(out[len(dst):])
	}
	return out, err
}

func (e *Encoder) encodeChange(dst []record.Record, c *change.Change) ([]record.Record, error) {
	e.polled = 0
	if c != nil && c.Op == change.OpMessage {
		out, err := e.encodeMessage(dst, c) // message.go
		e.polled = len(out) - len(dst)
		if err == nil && e.chain != nil {
			out, err = e.chainJSON(out, len(dst))
		}
		if err != nil {
			return dst, err
		}
		return out, nil
	}
	if c == nil || c.Rel == nil {
		return dst, errors.New("encode change: no relation")
	}
	p, err := e.planFor(c.Rel)
	if err != nil {
		return dst, err
	}
	n := len(c.Rel.Columns)
	if c.Before != nil && len(c.Before) != n {
		return dst, fmt.Errorf("encode change on %s: old tuple has %d values, relation has %d columns", c.Rel.QualifiedName(), len(c.Before), n)
	}
	if c.After != nil && len(c.After) != n {
		return dst, fmt.Errorf("encode change on %s: new tuple has %d values, relation has %d columns", c.Rel.QualifiedName(), len(c.After), n)
	}
	e.reserve(p.estimate)
	if e.chain != nil {
		e.chain.reset()
	}
	mark := len(e.slab)
	hmark := len(e.hdrs)
	now := e.now().UnixNano()
	out, err := e.encode(dst, p, c, now)
	if err != nil {
		if len(e.slab) >= mark {
			e.slab = e.slab[:mark]
		}
		if len(e.hdrs) >= hmark {
			e.hdrs = e.hdrs[:hmark]
		}
		return dst, fmt.Errorf("encode %c change on %s at LSN %s: %w", c.Op, c.Rel.QualifiedName(), c.LSN, err)
	}
	if used := len(e.slab) - mark; used > p.estimate {
		// Rows past a quarter slab grow the slab by append instead.
		p.estimate = min(used, slabSize/4)
	}
	if cap(e.slab) > 4*slabSize {
		// A huge row grew the slab; do not let later records pin it.
		e.slab = nil
	}
	// The records' Kafka timestamp is the envelope's time, as the Kafka
	// producer would stamp it at send; setting it here saves the producer
	// a clock reading per record.
	ms := floorDiv(now, 1e6)
	e.polled = len(out) - len(dst)
	if e.chain != nil {
		e.polled = len(e.chain.recs)
		if out, err = e.chainRecords(out, ms); err != nil { // chain.go
			return dst, err
		}
		return out, nil
	}
	for i := len(dst); i < len(out); i++ {
		out[i].Timestamp = ms
	}
	return out, nil
}

// Polled returns the number of records the last call of Encode,
// Heartbeat, BeginTx or EndTx built before its transformation chain
// dropped any: the records Kafka Connect counts as polled from the task.
func (e *Encoder) Polled() int { return e.polled }

// SetClock replaces the clock of the envelope's ts_ms, ts_us and ts_ns and
// of the records' timestamps, time.Now by default. A snapshot sets a
// clock that is read once a millisecond rather than once a row.
func (e *Encoder) SetClock(now func() time.Time) { e.now = now }

func (e *Encoder) skipped(op change.Op) bool { return e.s.skipped[op] }

func (e *Encoder) encode(dst []record.Record, p *plan, c *change.Change, now int64) ([]record.Record, error) {
	switch c.Op {
	case change.OpCreate, change.OpRead:
		if c.After == nil {
			return dst, errors.New("no new row")
		}
		if c.Op == change.OpCreate && e.skipped(change.OpCreate) {
			return dst, nil
		}
		return e.row(dst, p, c, c.Op, c.After, nil, c.After, now, nil, false)

	case change.OpUpdate:
		if c.After == nil {
			return dst, errors.New("no new row")
		}
		after := e.resolveToast(c.After, c.Before)
		if c.Before != nil && len(p.key) > 0 {
			var err error
			if e.keyOld, err = e.appendKeyPayload(e.keyOld[:0], p, c.Before); err != nil {
				return dst, err
			}
			if e.keyNew, err = e.appendKeyPayload(e.keyNew[:0], p, after); err != nil {
				return dst, err
			}
			if !bytes.Equal(e.keyOld, e.keyNew) {
				return e.keyChange(dst, p, c, after, now)
			}
		}
		if e.skipped(change.OpUpdate) {
			return dst, nil
		}
		return e.row(dst, p, c, change.OpUpdate, after, c.Before, after, now, nil, false)

	case change.OpDelete:
		if c.Before == nil || e.skipped(change.OpDelete) {
			return dst, nil
		}
		return e.row(dst, p, c, change.OpDelete, c.Before, c.Before, nil, now, nil, e.s.tombstones)

	case change.OpTruncate:
		if e.skipped(change.OpTruncate) {
			return dst, nil
		}
		return e.row(dst, p, c, change.OpTruncate, nil, nil, nil, now, nil, false)
	}
	return dst, fmt.Errorf("operation %q is not a row change", c.Op.String())
}

// keyChange emits an update that changed the key as Debezium does: a
// delete with the old key (header __debezium.newkey), its tombstone, and a
// create with the new key (header __debezium.oldkey). Skipping applies to
// the delete and create separately.
func (e *Encoder) keyChange(dst []record.Record, p *plan, c *change.Change, after change.Tuple, now int64) ([]record.Record, error) {
	if !e.skipped(change.OpDelete) {
		newKeyHdr, err := e.keyHeader(p, after)
		if err != nil {
			return dst, err
		}
		h := record.Header{Key: HeaderNewKey, Value: newKeyHdr}
		if dst, err = e.row(dst, p, c, change.OpDelete, c.Before, c.Before, nil, now, &h, e.s.tombstones); err != nil {
			return dst, err
		}
	}
	if !e.skipped(change.OpCreate) {
		oldKeyHdr, err := e.keyHeader(p, c.Before)
		if err != nil {
			return dst, err
		}
		h := record.Header{Key: HeaderOldKey, Value: oldKeyHdr}
		return e.row(dst, p, c, change.OpCreate, after, nil, after, now, &h, false)
	}
	return dst, nil
}

// row appends the record of one row event: the key of keyT (nil: a null
// key), the envelope of op with before and after, first as its first
// header and, with tombstone, a tombstone after it. With a transformation
// chain the records are built as Connect data and queued for the chain
// instead (chain.go).
func (e *Encoder) row(dst []record.Record, p *plan, c *change.Change, op change.Op, keyT, before, after change.Tuple, now int64,
	first *record.Header, tombstone bool) ([]record.Record, error) {
	if e.chain != nil {
		return dst, e.rowData(p, c, op, keyT, before, after, now, first, tombstone)
	}
	var key []byte
	if keyT != nil {
		var err error
		if key, err = e.keyRecord(p, keyT); err != nil {
			return dst, err
		}
	}
	val, err := e.valueRecord(p, c, op, before, after, now)
	if err != nil {
		return dst, err
	}
	r := e.record(p, key, val, first)
	dst = append(dst, r)
	if tombstone {
		r.Value = nil
		dst = append(dst, r)
	}
	return dst, nil
}

// record assembles a record, carving its headers from the header slab.
func (e *Encoder) record(p *plan, key, value []byte, first *record.Header) record.Record {
	n := len(e.ctxHdrs)
	if first != nil {
		n++
	}
	r := record.Record{Topic: p.topic, Partition: -1, Key: key, Value: value}
	if n == 0 {
		return r
	}
	if first == nil {
		// The context headers alone are the same for every record, and
		// nobody writes to a record's headers: share them (capped, so
		// that an append copies) rather than copy them per record.
		r.Headers = e.ctxHdrs[:n:n]
		return r
	}
	if cap(e.hdrs)-len(e.hdrs) < n {
		e.hdrs = make([]record.Header, 0, hdrSlab)
	}
	start := len(e.hdrs)
	if first != nil {
		e.hdrs = append(e.hdrs, *first)
	}
	e.hdrs = append(e.hdrs, e.ctxHdrs...)
	r.Headers = e.hdrs[start:len(e.hdrs):len(e.hdrs)]
	return r
}

// reserve makes sure the slab has room for about n more bytes.
func (e *Encoder) reserve(n int) {
	if cap(e.slab)-len(e.slab) >= n {
		return
	}
	if e.cur != nil {
		e.retired = append(e.retired, e.cur)
		e.cur = nil
	}
	if e.recycle && 2*n <= record.SlabSize {
		e.cur = record.GetSlab()
		e.slab = e.cur.Buf()
		return
	}
	e.slab = make([]byte, 0, max(slabSize, 2*n))
}

// RecycleSlabs has the encoder carve keys and values from pooled slabs
// (record.Slab) and mark each record with its slab, which the producer
// retains while the record is in flight. The caller must call Handed once
// it has handed every record returned so far to the producer (or dropped
// it), and must not let anything but the producer keep a record's bytes.
// With a transformation chain (Options.Transforms), which builds records
// of its own, it does nothing: the encoder keeps that rule itself rather
// than each caller.
func (e *Encoder) RecycleSlabs() { e.recycle = e.chain == nil }

// Handed tells the encoder that every record it returned has been handed
// to the producer, which retains their slabs, or dropped: the slabs it has
// given up may go back to the pool once the producer releases them.
func (e *Encoder) Handed() {
	for i, s := range e.retired {
		s.Release()
		e.retired[i] = nil
	}
	e.retired = e.retired[:0]
}

// stamp marks recs with the pooled slabs their bytes lie in, and gives up
// the current slab if an append has moved the encoder's buffer out of it
// (a row larger than the room left).
func (e *Encoder) stamp(recs []record.Record) {
	for i := range recs {
		r := &recs[i]
		r.Slab = e.slabOf(r.Value)
		if r.Slab == nil {
			r.Slab = e.slabOf(r.Key)
		}
	}
	if e.cur != nil && !e.cur.Holds(e.slab) {
		e.retired = append(e.retired, e.cur)
		e.cur = nil
	}
}

// slabOf returns the pooled slab, current or given up, that b lies in.
func (e *Encoder) slabOf(b []byte) *record.Slab {
	if e.cur != nil && e.cur.Holds(b) {
		return e.cur
	}
	for _, s := range e.retired {
		if s.Holds(b) {
			return s
		}
	}
	return nil
}

// carve returns the slab bytes written since start, capped so that an
// append by the holder cannot reach the next record.
func (e *Encoder) carve(start int) []byte {
	return e.slab[start:len(e.slab):len(e.slab)]
}

// resolveToast returns the new row with unchanged TOASTed values replaced
// by the old row's, when the old row has them (REPLICA IDENTITY FULL).
func (e *Encoder) resolveToast(after, before change.Tuple) change.Tuple {
	if before == nil {
		return after
	}
	for i := range after {
		if after[i].Kind == change.KindUnchangedToast && before[i].Kind == change.KindText {
			e.after = append(e.after[:0], after...)
			for j := i; j < len(after); j++ {
				if after[j].Kind == change.KindUnchangedToast && before[j].Kind == change.KindText {
					e.after[j] = before[j]
				}
			}
			return e.after
		}
	}
	return after
}

// keyRecord writes the serialized key into the slab; nil for a null key.
func (e *Encoder) keyRecord(p *plan, t change.Tuple) ([]byte, error) {
	if len(p.key) == 0 {
		return nil, nil
	}
	start := len(e.slab)
	if e.s.keySchemas {
		e.slab = append(e.slab, `{"schema":`...)
		e.slab = append(e.slab, p.keySchema...)
		e.slab = append(e.slab, `,"payload":`...)
	}
	var err error
	if e.slab, err = e.appendKeyPayload(e.slab, p, t); err != nil {
		return nil, err
	}
	if e.s.keySchemas {
		e.slab = append(e.slab, '}')
	}
	return e.carve(start), nil
}

func (e *Encoder) appendKeyPayload(dst []byte, p *plan, t change.Tuple) ([]byte, error) {
	return e.appendStruct(dst, p, t, p.key)
}

// appendStruct appends the payload struct of the columns at idx.
func (e *Encoder) appendStruct(dst []byte, p *plan, t change.Tuple, idx []int) ([]byte, error) {
	dst = append(dst, '{')
	for i, k := range idx {
		if i > 0 {
			dst = append(dst, ',')
		}
		cp := &p.cols[k]
		dst = append(dst, cp.jsonKey...)
		if d := t[cp.idx]; cp.plainInt && d.Kind == change.KindText && canonicalInt(d.Data, cp.bits) {
			dst = append(dst, d.Data...)
			continue
		}
		v, err := e.convert(cp, t[cp.idx])
		if err != nil {
			return dst, err
		}
		dst = v.appendJSON(dst)
	}
	return append(dst, '}'), nil
}

// keyHeader writes the key struct as SimpleHeaderConverter does
// ({"id":1}) into the slab.
func (e *Encoder) keyHeader(p *plan, t change.Tuple) ([]byte, error) {
	start := len(e.slab)
	e.slab = append(e.slab, '{')
	for i, k := range p.key {
		if i > 0 {
			e.slab = append(e.slab, ',')
		}
		cp := &p.cols[k]
		e.slab = append(e.slab, cp.hdrKey...)
		v, err := e.convert(cp, t[cp.idx])
		if err != nil {
			return nil, err
		}
		e.slab = v.appendHeader(e.slab)
	}
	e.slab = append(e.slab, '}')
	return e.carve(start), nil
}

// convert turns one tuple value into its Connect value.
func (e *Encoder) convert(cp *colPlan, v change.Value) (val, error) {
	switch v.Kind {
	case change.KindText:
		x, err := cp.decode(e, cp, v.Data)
		if err != nil {
			return x, fmt.Errorf("column %q: value %q: %w", cp.name, truncateForError(v.Data), err)
		}
		return x, nil
	case change.KindNull:
		return cp.nullVal, nil
	case change.KindUnchangedToast:
		switch cp.toast {
		case toastPlaceholder:
			return val{k: kString, b: e.s.placeholder}, nil
		case toastPlaceholderBytes:
			return val{k: kBytes, b: e.s.placeholder}, nil
		case toastFixed:
			return cp.toastVal, nil
		case toastNull:
			if cp.notNull && !cp.hasDflt {
				return val{}, fmt.Errorf("column %q: unchanged TOAST value cannot be converted to %s for a NOT NULL column "+
					"(Debezium fails the same way); set REPLICA IDENTITY FULL", cp.name, e.opts.BinaryHandling)
			}
			return cp.nullVal, nil
		}
		return val{}, fmt.Errorf("column %q: an unchanged TOAST value of type %s cannot be represented (Debezium fails too); "+
			"set REPLICA IDENTITY FULL on the table", cp.name, cp.pgType)
	}
	return val{}, fmt.Errorf("column %q: unknown value kind %q", cp.name, byte(v.Kind))
}

func truncateForError(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// appendRow appends a row struct payload.
func (e *Encoder) appendRow(dst []byte, p *plan, t change.Tuple) ([]byte, error) {
	return e.appendStruct(dst, p, t, p.all)
}

var opField = [256][]byte{
	change.OpCreate:   []byte(`,"transaction":null,"op":"c","ts_ms":`),
	change.OpUpdate:   []byte(`,"transaction":null,"op":"u","ts_ms":`),
	change.OpDelete:   []byte(`,"transaction":null,"op":"d","ts_ms":`),
	change.OpRead:     []byte(`,"transaction":null,"op":"r","ts_ms":`),
	change.OpTruncate: []byte(`,"transaction":null,"op":"t","ts_ms":`),
}

// valueRecord writes the serialized envelope into the slab.
func (e *Encoder) valueRecord(p *plan, c *change.Change, op change.Op, before, after change.Tuple, now int64) ([]byte, error) {
	start := len(e.slab)
	b := e.slab
	if e.s.valueSchemas {
		b = append(b, `{"schema":`...)
		b = append(b, p.envSchema...)
		b = append(b, `,"payload":`...)
	}
	var err error
	b = append(b, `{"before":`...)
	if before == nil {
		b = append(b, "null"...)
	} else if b, err = e.appendRow(b, p, before); err != nil {
		e.slab = b
		return nil, err
	}
	b = append(b, `,"after":`...)
	if after == nil {
		b = append(b, "null"...)
	} else if b, err = e.appendRow(b, p, after); err != nil {
		e.slab = b
		return nil, err
	}
	b = append(b, `,"source":`...)
	b = e.appendSource(b, p, c)
	if e.tx.open {
		b = e.appendTransaction(b, p, c) // txmeta.go
		b = append(b, opField[op][len(txNull):]...)
	} else {
		b = append(b, opField[op]...)
	}
	if now != e.tsNanos || e.tsTail == nil {
		t := strconv.AppendInt(e.tsTail[:0], floorDiv(now, 1e6), 10)
		t = append(t, `,"ts_us":`...)
		t = strconv.AppendInt(t, floorDiv(now, 1e3), 10)
		t = append(t, `,"ts_ns":`...)
		t = strconv.AppendInt(t, now, 10)
		e.tsNanos, e.tsTail = now, append(t, '}')
	}
	b = append(b, e.tsTail...)
	if e.s.valueSchemas {
		b = append(b, '}')
	}
	e.slab = b
	return e.carve(start), nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// srcKey identifies the cached parts of the source block: everything but
// the change's own LSN is shared by the rows of one transaction or
// snapshot.
type srcKey struct {
	p             *plan
	tsMicros      int64
	lastCommitLSN change.LSN
	xid           uint32
	hasXid        bool
	snapshot      change.SnapshotMarker
}

// appendSource appends the source block.
func (e *Encoder) appendSource(b []byte, p *plan, c *change.Change) []byte {
	k := srcKey{p, c.TsMicros, c.LastCommitLSN, c.Xid, c.HasXid, c.Snapshot}
	if k != e.srcKey || e.srcA == nil {
		e.buildSource(k)
	}
	if c.LSN != e.lsn || e.lsnBytes == nil {
		e.lsn, e.lsnBytes = c.LSN, strconv.AppendInt(e.lsnBytes[:0], int64(c.LSN), 10)
	}
	b = append(b, e.srcA...)
	b = append(b, e.lsnBytes...)
	b = append(b, e.srcB...)
	if c.Snapshot == change.SnapshotIncremental {
		return b
	}
	b = append(b, e.lsnBytes...)
	return append(b, `,"xmin":null}`...)
}

// buildSource formats the source block around the LSN: srcA up to the
// LSN inside "sequence", srcB from there to the "lsn" value.
func (e *Encoder) buildSource(k srcKey) {
	e.srcKey = k
	a := append(e.srcA[:0], e.srcHead...)
	a = strconv.AppendInt(a, floorDiv(k.tsMicros, 1000), 10)
	a = append(a, `,"snapshot":"`...)
	a = append(a, k.snapshot.String()...)
	a = append(a, '"')
	a = append(a, e.srcDB...)
	// sequence: the JSON array ["<lastCommitLsn>","<lsn>"] as a string.
	a = append(a, `"[`...)
	if k.lastCommitLSN == 0 {
		a = append(a, "null"...)
	} else {
		a = append(a, `\"`...)
		a = strconv.AppendInt(a, int64(k.lastCommitLSN), 10)
		a = append(a, `\"`...)
	}
	a = append(a, `,\"`...)
	e.srcA = a

	b := append(e.srcB[:0], `\"]","ts_us":`...)
	b = strconv.AppendInt(b, k.tsMicros, 10)
	b = append(b, `,"ts_ns":`...)
	b = strconv.AppendInt(b, k.tsMicros*1000, 10)
	b = append(b, k.p.srcTable...)
	if k.snapshot == change.SnapshotIncremental {
		// Incremental snapshot rows carry no txId, lsn or xmin.
		e.srcB = append(b, `null,"lsn":null,"xmin":null}`...)
		return
	}
	if k.hasXid {
		b = strconv.AppendUint(b, uint64(k.xid), 10)
	} else {
		b = append(b, "null"...)
	}
	e.srcB = append(b, `,"lsn":`...)
}
