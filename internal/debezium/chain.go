package debezium

import (
	"bytes"
	"fmt"
	"log/slog"
	"strconv"
	"unicode/utf8"

	"github.com/pgmotion/pgmotion/internal/change"
	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/record"
)

// With a transformation chain (Options.Transforms) the encoder works in
// Kafka Connect's order: source, transforms, converter. A row event is
// built as Connect data from the change (rowData): the key and the
// envelope as Structs of the plan's schemas, each column converted once by
// its colPlan (the same val the JSON writer uses, turned into the Go value
// its schema calls for by connectValue). The chain runs over those, and
// the JsonConverter writes what is left (chainRecords). A side the chain
// does not read is written directly, as without a chain.
//
// Heartbeats, transaction boundaries and message events, which are rare,
// are written as JSON with schemas and read back before the chain
// (chainJSON).

// Chain is a transformation chain (transform.Chain). The encoder calls it
// from one goroutine at a time; a chain shared by several encoders must
// be safe for concurrent use.
type Chain interface {
	// Parses reports which sides of a record the chain reads: those reach
	// Transform as Connect data, the others as the converter's bytes.
	Parses() (key, value bool)
	// Transform runs the chain over r in place: false when a
	// transformation drops it. Warnings go to log. The chain must not
	// keep r's values once it returns: the encoder reuses their memory.
	Transform(r *cd.Record, log *slog.Logger) (bool, error)
}

// chainState is the encoder's side of its transformation chain.
type chainState struct {
	c          Chain
	key, value bool // the sides the chain reads
	// keyOut and valueOut are the connector's converters; in reads the
	// records written as JSON (with schemas).
	keyOut, valueOut, in *cd.JSONConverter
	log                  *slog.Logger
	recs                 []cd.Record // the records of one change, before the chain
	// arena holds the Structs of one change; reset once the converter
	// wrote them.
	arena cd.StructArena
	// The source block's values but sequence and lsn, for the rows of
	// one transaction or snapshot (srcKey as appendSource).
	srcKey  srcKey
	srcVals [srcXmin + 1]any
	seq     []byte // scratch for source.sequence
	// The envelope's ts_ms, ts_us and ts_ns for the clock reading tsNanos.
	tsNanos int64
	tsVals  [3]any
	// The string columns of a struct, copied into one string.
	strs  []byte
	spans []strSpan
}

// strSpan is a string field of a struct being built: its index and its
// bytes in chainState.strs.
type strSpan struct{ field, start, end int }

func newChainState(c Chain, o *Options, log *slog.Logger) *chainState {
	k, v := c.Parses()
	return &chainState{c: c, key: k, value: v, log: log,
		keyOut: cd.NewJSONConverter(o.KeySchemas), valueOut: cd.NewJSONConverter(o.ValueSchemas), in: cd.NewJSONConverter(true)}
}

// reset forgets the records of a change and takes back their Structs:
// nothing holds them once the converter wrote them (a chain keeps no
// values, only schemas).
func (ch *chainState) reset() {
	clear(ch.recs)
	ch.recs = ch.recs[:0]
	ch.arena.Reset()
}

// connectSchemas are a plan's schemas as Connect data.
type connectSchemas struct {
	key, env                  *cd.Schema
	before, after, source, tx *cd.Schema // the envelope's fields
}

// schemasOf returns p's Connect schemas, parsed from their JSON on first
// use, so that they are exactly those JsonConverter reads.
func (e *Encoder) schemasOf(p *plan) (*connectSchemas, error) {
	if p.cs != nil {
		return p.cs, nil
	}
	cs := &connectSchemas{}
	var err error
	if len(p.keySchema) > 0 {
		if cs.key, err = cd.ParseSchema(p.keySchema); err != nil {
			return nil, fmt.Errorf("key schema of %s: %w", p.topic, err)
		}
	}
	if cs.env, err = cd.ParseSchema(p.envSchema); err != nil {
		return nil, fmt.Errorf("value schema of %s: %w", p.topic, err)
	}
	f := cs.env.Fields
	cs.before, cs.after, cs.source, cs.tx = f[envBefore].Schema, f[envAfter].Schema, f[envSource].Schema, f[envTransaction].Schema
	p.cs = cs
	return cs, nil
}

// The fields of the Envelope (plan.go) and of the Source block
// (sourceSchema), by index.
const (
	envBefore = iota
	envAfter
	envSource
	envTransaction
	envOp
	envTsMs
	envTsUs
	envTsNs
)

const (
	srcVersion = iota
	srcConnector
	srcName
	srcTsMs
	srcSnapshot
	srcDB
	srcSequence
	srcTsUs
	srcTsNs
	srcSchema
	srcTable
	srcTxID
	srcLSN
	srcXmin
)

// opValues are the envelope's op values.
var opValues = [256]any{
	change.OpCreate: "c", change.OpUpdate: "u", change.OpDelete: "d", change.OpRead: "r", change.OpTruncate: "t",
}

// rowData queues the Connect records of one row event for the chain; see
// row for the arguments.
func (e *Encoder) rowData(p *plan, c *change.Change, op change.Op, keyT, before, after change.Tuple, now int64,
	first *record.Header, tombstone bool) error {
	ch := e.chain
	cs, err := e.schemasOf(p)
	if err != nil {
		return err
	}
	r := cd.Record{Topic: p.topic, Partition: -1, Headers: e.record(p, nil, nil, first).Headers}
	if keyT != nil && len(p.key) > 0 {
		if ch.key {
			if r.Key, err = e.structOf(cs.key, p, keyT, p.key); err != nil {
				return err
			}
			r.KeySchema = cs.key
		} else if r.RawKey, err = e.keyRecord(p, keyT); err != nil {
			return err
		}
	}
	if ch.value {
		if r.Value, err = e.envelope(cs, p, c, op, before, after, now); err != nil {
			return err
		}
		r.ValueSchema = cs.env
	} else if r.RawValue, err = e.valueRecord(p, c, op, before, after, now); err != nil {
		return err
	}
	ch.recs = append(ch.recs, r)
	if tombstone {
		t := r
		t.ValueSchema, t.Value, t.RawValue = nil, nil, nil
		if ch.key && r.Key != nil {
			// A Struct of its own: transformations may change what they get.
			if t.Key, err = e.structOf(cs.key, p, keyT, p.key); err != nil {
				return err
			}
		}
		ch.recs = append(ch.recs, t)
	}
	return nil
}

// structOf builds the struct of schema s from the columns at idx of t.
// Its string fields share one allocation.
func (e *Encoder) structOf(s *cd.Schema, p *plan, t change.Tuple, idx []int) (*cd.Struct, error) {
	ch := e.chain
	st := ch.arena.New(s)
	ch.strs, ch.spans = ch.strs[:0], ch.spans[:0]
	for i, k := range idx {
		cp := &p.cols[k]
		v, err := e.convert(cp, t[cp.idx])
		if err != nil {
			return nil, err
		}
		if v.k == kString {
			start := len(ch.strs)
			ch.strs = appendJavaString(ch.strs, v.b)
			ch.spans = append(ch.spans, strSpan{i, start, len(ch.strs)})
			continue
		}
		x, err := connectValue(s.Fields[i].Schema, &v)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", cp.name, err)
		}
		st.Set(i, x)
	}
	if len(ch.spans) > 0 {
		all := string(ch.strs)
		for _, sp := range ch.spans {
			st.Set(sp.field, all[sp.start:sp.end])
		}
	}
	return st, nil
}

// connectValue returns v as the Connect data of schema s: the value
// JsonConverter reads from what val.appendJSON writes.
func connectValue(s *cd.Schema, v *val) (any, error) {
	switch v.k {
	case kNull:
		return s.Default, nil
	case kBool:
		return v.i != 0, nil
	case kInt:
		switch s.Type {
		case cd.TypeInt8:
			return int8(v.i), nil
		case cd.TypeInt16:
			return int16(v.i), nil
		case cd.TypeInt32:
			return int32(v.i), nil
		}
		return v.i, nil
	case kFloat32:
		return float32(v.f), nil
	case kFloat64:
		if s.Type == cd.TypeFloat32 {
			return float32(v.f), nil
		}
		return v.f, nil
	case kString:
		return string(appendJavaString(nil, v.b)), nil
	case kBytes, kDecimal:
		return bytes.Clone(v.b), nil
	case kVarDecimal:
		st := cd.NewStruct(s)
		st.Set(0, int32(v.i))
		st.Set(1, bytes.Clone(v.b))
		return st, nil
	case kRaw:
		// Arrays and structs (points, PostGIS, vectors, hstore maps) are
		// written by their converters as JSON; read it with the schema.
		return cd.ParseValue(s, v.b)
	}
	return nil, fmt.Errorf("no Connect value for kind %d", v.k)
}

// appendJavaString appends b as the Java String the JSON writer stands
// for: each byte of invalid UTF-8 is U+FFFD, as jsonw writes it.
func appendJavaString(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}

// envelope builds the Envelope struct of a row event.
func (e *Encoder) envelope(cs *connectSchemas, p *plan, c *change.Change, op change.Op, before, after change.Tuple, now int64) (*cd.Struct, error) {
	ch := e.chain
	env := ch.arena.New(cs.env)
	if before != nil {
		b, err := e.structOf(cs.before, p, before, p.all)
		if err != nil {
			return nil, err
		}
		env.Set(envBefore, b)
	}
	if after != nil {
		a, err := e.structOf(cs.after, p, after, p.all)
		if err != nil {
			return nil, err
		}
		env.Set(envAfter, a)
	}
	env.Set(envSource, e.sourceStruct(cs.source, p, c))
	if e.tx.open && e.txInTx(c) {
		// provide.transaction.metadata: the block as txmeta.go writes it.
		tx, err := cd.ParseValue(cs.tx, e.txEvent(p, c))
		if err != nil {
			return nil, err
		}
		env.Set(envTransaction, tx)
	}
	env.Set(envOp, opValues[op])
	if now != ch.tsNanos || ch.tsVals[0] == nil {
		ch.tsNanos, ch.tsVals = now, [3]any{floorDiv(now, 1e6), floorDiv(now, 1e3), now}
	}
	env.Set(envTsMs, ch.tsVals[0])
	env.Set(envTsUs, ch.tsVals[1])
	env.Set(envTsNs, ch.tsVals[2])
	return env, nil
}

// sourceStruct builds the source block of c, as appendSource writes it.
// Its values but sequence and lsn are kept for the next change.
func (e *Encoder) sourceStruct(s *cd.Schema, p *plan, c *change.Change) *cd.Struct {
	ch := e.chain
	k := srcKey{p, c.TsMicros, c.LastCommitLSN, c.Xid, c.HasXid, c.Snapshot}
	if k != ch.srcKey || ch.srcVals[srcVersion] == nil {
		ch.srcKey = k
		v := &ch.srcVals
		*v = [srcXmin + 1]any{}
		v[srcVersion], v[srcConnector], v[srcName] = e.s.version, connectorPlugin, e.opts.TopicPrefix
		v[srcTsMs] = floorDiv(c.TsMicros, 1000)
		v[srcSnapshot] = c.Snapshot.String()
		v[srcDB] = e.opts.Database
		v[srcTsUs], v[srcTsNs] = c.TsMicros, c.TsMicros*1000
		v[srcSchema], v[srcTable] = p.rel.Namespace, p.rel.Name
		if c.Snapshot != change.SnapshotIncremental && c.HasXid {
			// Incremental snapshot rows carry no txId, lsn or xmin.
			v[srcTxID] = int64(c.Xid)
		}
	}
	src := ch.arena.New(s)
	for i, v := range ch.srcVals {
		src.Set(i, v)
	}
	// sequence: the JSON array ["<lastCommitLsn>","<lsn>"] as a string.
	q := append(ch.seq[:0], '[')
	if c.LastCommitLSN == 0 {
		q = append(q, "null"...)
	} else {
		q = append(q, '"')
		q = strconv.AppendInt(q, int64(c.LastCommitLSN), 10)
		q = append(q, '"')
	}
	q = append(q, ',', '"')
	q = strconv.AppendInt(q, int64(c.LSN), 10)
	q = append(q, '"', ']')
	ch.seq = q
	src.Set(srcSequence, string(q))
	if c.Snapshot != change.SnapshotIncremental {
		src.Set(srcLSN, int64(c.LSN))
	}
	return src
}

// chainRecords runs the chain over the queued records of one change and
// appends what is left to dst, written by the converters; ms is the
// records' timestamp unless a transformation sets one.
func (e *Encoder) chainRecords(dst []record.Record, ms int64) ([]record.Record, error) {
	ch := e.chain
	from := len(dst)
	for i := range ch.recs {
		out, keep, err := e.transform(&ch.recs[i], ms)
		if err != nil {
			ch.reset()
			return dst[:from], err
		}
		if keep {
			dst = append(dst, out)
		}
	}
	ch.reset()
	return dst, nil
}

// chainJSON runs the chain over dst[from:], records written as JSON: the
// sides the chain reads were written with schemas and are read back. The
// records kept stay in place.
func (e *Encoder) chainJSON(dst []record.Record, from int) ([]record.Record, error) {
	ch := e.chain
	n := from
	for i := from; i < len(dst); i++ {
		in := dst[i]
		r := cd.Record{Topic: in.Topic, Partition: in.Partition, Headers: in.Headers, RawKey: in.Key, RawValue: in.Value}
		var err error
		if ch.key {
			r.RawKey = nil
			if r.KeySchema, r.Key, err = ch.in.ToConnect(in.Key); err != nil {
				return dst[:from], fmt.Errorf("read the key of a record of topic %q: %w", in.Topic, err)
			}
		}
		if ch.value {
			r.RawValue = nil
			if r.ValueSchema, r.Value, err = ch.in.ToConnect(in.Value); err != nil {
				return dst[:from], fmt.Errorf("read the value of a record of topic %q: %w", in.Topic, err)
			}
		}
		out, keep, err := e.transform(&r, in.Timestamp)
		if err != nil {
			return dst[:from], err
		}
		if keep {
			dst[n] = out
			n++
		}
	}
	clear(dst[n:])
	return dst[:n], nil
}

// transform runs the chain over r and writes the sides it read with the
// connector's converters; ts is the record's timestamp unless a
// transformation sets one.
func (e *Encoder) transform(r *cd.Record, ts int64) (record.Record, bool, error) {
	ch := e.chain
	keep, err := ch.c.Transform(r, ch.log)
	if err != nil || !keep {
		return record.Record{}, false, err
	}
	out := record.Record{Topic: r.Topic, Partition: r.Partition, Key: r.RawKey, Value: r.RawValue, Headers: r.Headers, Timestamp: ts}
	if r.HasTimestamp {
		out.Timestamp = r.Timestamp
	}
	if ch.key {
		if out.Key, err = ch.keyOut.FromConnect(r.KeySchema, r.Key); err != nil {
			return record.Record{}, false, fmt.Errorf("convert the key of a record of topic %q: %w", r.Topic, err)
		}
	}
	if ch.value {
		if out.Value, err = ch.valueOut.FromConnect(r.ValueSchema, r.Value); err != nil {
			return record.Record{}, false, fmt.Errorf("convert the value of a record of topic %q: %w", r.Topic, err)
		}
	}
	return out, true, nil
}
