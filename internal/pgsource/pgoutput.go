package pgsource

// A pgoutput decoder that checks every length before it reads and decodes
// tuples in place. pglogrepl's decoder allocates an object per column,
// copies each value and indexes tuple data without bounds checks (a
// truncated message panics); on the hot path that cost about 660 bytes per
// row, so pgmotion decodes the logical messages itself and uses pglogrepl
// for the replication commands only.
//
// Protocol reference: https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pgmotion/pgmotion/internal/change"
)

// MsgType is the first byte of a pgoutput message.
type MsgType byte

// The pgoutput message types, protocol versions 1 and 2.
const (
	MsgBegin          MsgType = 'B'
	MsgCommit         MsgType = 'C'
	MsgOrigin         MsgType = 'O'
	MsgRelation       MsgType = 'R'
	MsgDataType       MsgType = 'Y' // TYPE: describes a data type
	MsgInsert         MsgType = 'I'
	MsgUpdate         MsgType = 'U'
	MsgDelete         MsgType = 'D'
	MsgTruncate       MsgType = 'T'
	MsgLogicalMessage MsgType = 'M' // MESSAGE: one pg_logical_emit_message
	MsgStreamStart    MsgType = 'S'
	MsgStreamStop     MsgType = 'E'
	MsgStreamCommit   MsgType = 'c'
	MsgStreamAbort    MsgType = 'A'
)

func (t MsgType) String() string {
	switch t {
	case MsgBegin:
		return "BEGIN"
	case MsgCommit:
		return "COMMIT"
	case MsgOrigin:
		return "ORIGIN"
	case MsgRelation:
		return "RELATION"
	case MsgDataType:
		return "TYPE"
	case MsgInsert:
		return "INSERT"
	case MsgUpdate:
		return "UPDATE"
	case MsgDelete:
		return "DELETE"
	case MsgTruncate:
		return "TRUNCATE"
	case MsgLogicalMessage:
		return "MESSAGE"
	case MsgStreamStart:
		return "STREAM START"
	case MsgStreamStop:
		return "STREAM STOP"
	case MsgStreamCommit:
		return "STREAM COMMIT"
	case MsgStreamAbort:
		return "STREAM ABORT"
	}
	return fmt.Sprintf("MsgType(%q)", byte(t))
}

// ErrShortMessage is wrapped by every decode error caused by a message that
// ends before its fields do.
var ErrShortMessage = errors.New("pgoutput message is truncated")

// pgEpochMicros is 2000-01-01 in microseconds since the Unix epoch.
const pgEpochMicros = 946684800 * 1_000_000

// PgoutputMessage is one decoded message of the pgoutput protocol (BEGIN,
// RELATION, INSERT, ...), not to be confused with change.Message, the
// logical decoding message that a MESSAGE of this protocol carries. Only
// the fields of its Type are set. Byte slices and Tuples point into the
// buffer that was decoded and are valid until that buffer is reused.
type PgoutputMessage struct {
	Type MsgType
	// Xid is set on BEGIN, on stream messages, and on changes inside a
	// streamed transaction (protocol 2).
	Xid uint32

	// BEGIN: FinalLSN is the commit's LSN. COMMIT: CommitLSN and EndLSN.
	FinalLSN  change.LSN
	CommitLSN change.LSN
	EndLSN    change.LSN
	// TsMicros is the commit time in µs since the Unix epoch.
	TsMicros int64

	// RELATION
	Relation RelationMsg

	// INSERT, UPDATE, DELETE
	RelationID uint32
	// OldKind is 'K' (key columns only), 'O' (the whole old row) or 0.
	OldKind byte
	Old     change.Tuple
	New     change.Tuple

	// TRUNCATE
	RelationIDs     []uint32
	TruncateOptions byte

	// MESSAGE (a logical decoding message, which becomes a change.Message)
	Transactional bool
	MessageLSN    change.LSN
	Prefix        string
	Content       []byte

	// STREAM START
	FirstSegment bool
	// STREAM ABORT
	SubXid uint32
}

// RelationMsg is the body of a RELATION message.
type RelationMsg struct {
	ID              uint32
	Namespace       string
	Name            string
	ReplicaIdentity byte
	Columns         []RelationColumn
}

// RelationColumn is one column of a RELATION message.
type RelationColumn struct {
	Key     bool
	Name    string
	TypeOID uint32
	TypeMod int32
}

// PgoutputDecoder decodes pgoutput messages. It remembers whether it is
// inside a streamed transaction block, where changes carry their xid. It
// reuses its tuple buffers, so a decoded PgoutputMessage is valid only
// until the next Decode. A PgoutputDecoder is not safe for concurrent use.
type PgoutputDecoder struct {
	inStream bool
	old, new change.Tuple
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: reading %s at byte %d of %d", ErrShortMessage, what, r.off, len(r.b))
	}
}

func (r *reader) u8(what string) byte {
	if r.err != nil || r.off+1 > len(r.b) {
		r.fail(what)
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

func (r *reader) u16(what string) uint16 {
	if r.err != nil || r.off+2 > len(r.b) {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v
}

func (r *reader) u32(what string) uint32 {
	if r.err != nil || r.off+4 > len(r.b) {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) u64(what string) uint64 {
	if r.err != nil || r.off+8 > len(r.b) {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v
}

func (r *reader) bytes(n int, what string) []byte {
	if r.err != nil || n < 0 || r.off+n > len(r.b) {
		r.fail(what)
		return nil
	}
	v := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return v
}

func (r *reader) cstring(what string) string {
	if r.err != nil {
		return ""
	}
	for i := r.off; i < len(r.b); i++ {
		if r.b[i] == 0 {
			s := string(r.b[r.off:i])
			r.off = i + 1
			return s
		}
	}
	r.fail(what + " (no terminating NUL)")
	return ""
}

func (r *reader) ts(what string) int64 {
	return int64(r.u64(what)) + pgEpochMicros
}

// Decode decodes one message. The result shares memory with b and with
// the decoder's buffers.
func (d *PgoutputDecoder) Decode(b []byte, m *PgoutputMessage) error {
	*m = PgoutputMessage{}
	if len(b) == 0 {
		return fmt.Errorf("%w: empty message", ErrShortMessage)
	}
	m.Type = MsgType(b[0])
	r := &reader{b: b, off: 1}
	switch m.Type {
	case MsgBegin:
		m.FinalLSN = change.LSN(r.u64("final LSN"))
		m.TsMicros = r.ts("commit time")
		m.Xid = r.u32("xid")
	case MsgCommit:
		r.u8("flags")
		m.CommitLSN = change.LSN(r.u64("commit LSN"))
		m.EndLSN = change.LSN(r.u64("end LSN"))
		m.TsMicros = r.ts("commit time")
	case MsgOrigin:
		m.CommitLSN = change.LSN(r.u64("origin LSN"))
		m.Prefix = r.cstring("origin name")
	case MsgRelation:
		d.xid(r, m)
		d.relation(r, &m.Relation)
	case MsgDataType:
		d.xid(r, m)
		m.RelationID = r.u32("type oid")
		m.Relation.Namespace = r.cstring("type namespace")
		m.Relation.Name = r.cstring("type name")
	case MsgInsert:
		d.xid(r, m)
		m.RelationID = r.u32("relation id")
		if k := r.u8("tuple kind"); r.err == nil && k != 'N' {
			return fmt.Errorf("decode INSERT: tuple marker %q, want 'N'", k)
		}
		d.new = d.tuple(r, d.new[:0])
		m.New = d.new
	case MsgUpdate:
		d.xid(r, m)
		m.RelationID = r.u32("relation id")
		k := r.u8("tuple kind")
		if k == 'K' || k == 'O' {
			m.OldKind = k
			d.old = d.tuple(r, d.old[:0])
			m.Old = d.old
			k = r.u8("tuple kind")
		}
		if r.err == nil && k != 'N' {
			return fmt.Errorf("decode UPDATE: tuple marker %q, want 'N'", k)
		}
		d.new = d.tuple(r, d.new[:0])
		m.New = d.new
	case MsgDelete:
		d.xid(r, m)
		m.RelationID = r.u32("relation id")
		k := r.u8("tuple kind")
		if r.err == nil && k != 'K' && k != 'O' {
			return fmt.Errorf("decode DELETE: tuple marker %q, want 'K' or 'O'", k)
		}
		m.OldKind = k
		d.old = d.tuple(r, d.old[:0])
		m.Old = d.old
	case MsgTruncate:
		d.xid(r, m)
		n := r.u32("relation count")
		m.TruncateOptions = r.u8("options")
		if r.err == nil && int(n) > (len(b)-r.off)/4 {
			r.fail("relation ids")
		}
		for i := 0; i < int(n) && r.err == nil; i++ {
			m.RelationIDs = append(m.RelationIDs, r.u32("relation id"))
		}
	case MsgLogicalMessage:
		d.xid(r, m)
		m.Transactional = r.u8("flags")&1 == 1
		m.MessageLSN = change.LSN(r.u64("message LSN"))
		m.Prefix = r.cstring("prefix")
		n := r.u32("content length")
		m.Content = r.bytes(int(int32(n)), "content")
	case MsgStreamStart:
		m.Xid = r.u32("xid")
		m.FirstSegment = r.u8("first segment") == 1
		if r.err == nil {
			d.inStream = true
		}
	case MsgStreamStop:
		d.inStream = false
	case MsgStreamCommit:
		m.Xid = r.u32("xid")
		r.u8("flags")
		m.CommitLSN = change.LSN(r.u64("commit LSN"))
		m.EndLSN = change.LSN(r.u64("end LSN"))
		m.TsMicros = r.ts("commit time")
	case MsgStreamAbort:
		m.Xid = r.u32("xid")
		m.SubXid = r.u32("subtransaction xid")
	default:
		return fmt.Errorf("decode pgoutput message: unknown type %q", byte(m.Type))
	}
	if r.err != nil {
		return fmt.Errorf("decode %s: %w", m.Type, r.err)
	}
	return nil
}

func (d *PgoutputDecoder) xid(r *reader, m *PgoutputMessage) {
	if d.inStream {
		m.Xid = r.u32("xid")
	}
}

func (d *PgoutputDecoder) relation(r *reader, rel *RelationMsg) {
	rel.ID = r.u32("relation id")
	rel.Namespace = r.cstring("namespace")
	rel.Name = r.cstring("relation name")
	rel.ReplicaIdentity = r.u8("replica identity")
	n := int(r.u16("column count"))
	// Each column takes at least 10 bytes; refuse counts the message
	// cannot hold before allocating for them.
	if r.err == nil && n > (len(r.b)-r.off)/10 {
		r.fail("columns")
		return
	}
	rel.Columns = make([]RelationColumn, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		var c RelationColumn
		c.Key = r.u8("column flags")&1 == 1
		c.Name = r.cstring("column name")
		c.TypeOID = r.u32("column type")
		c.TypeMod = int32(r.u32("column type modifier"))
		rel.Columns = append(rel.Columns, c)
	}
}

func (d *PgoutputDecoder) tuple(r *reader, dst change.Tuple) change.Tuple {
	n := int(r.u16("tuple column count"))
	if r.err == nil && n > len(r.b)-r.off {
		r.fail("tuple columns")
		return dst
	}
	for i := 0; i < n && r.err == nil; i++ {
		var v change.Value
		switch k := r.u8("tuple column kind"); k {
		case 'n':
			v.Kind = change.KindNull
		case 'u':
			v.Kind = change.KindUnchangedToast
		case 't':
			v.Kind = change.KindText
			l := r.u32("value length")
			v.Data = r.bytes(int(int32(l)), "value")
		case 'b':
			if r.err == nil {
				r.err = fmt.Errorf("column %d is in binary format; pgmotion asks for text", i)
			}
		default:
			if r.err == nil {
				r.err = fmt.Errorf("column %d has unknown kind %q", i, k)
			}
		}
		dst = append(dst, v)
	}
	return dst
}
