// Package change describes one row change captured from PostgreSQL and the
// position it came from. It knows nothing of JSON, Kafka or Debezium: the
// source fills these values in and the encoder reads them.
//
// None of the types here are safe for concurrent mutation; a Change is
// handed from the source to the encoder by one goroutine at a time.
package change

import (
	"fmt"
	"strconv"
	"strings"
)

// LSN is a PostgreSQL write-ahead log position.
type LSN uint64

// String formats the LSN the way PostgreSQL does: "16/B374D848".
func (l LSN) String() string {
	return fmt.Sprintf("%X/%X", uint32(l>>32), uint32(l))
}

// ParseLSN parses PostgreSQL's "XXX/XXX" form.
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || hi == "" || lo == "" || len(hi) > 8 || len(lo) > 8 {
		return 0, fmt.Errorf("parse LSN %q: want two hexadecimal halves separated by '/', such as 0/16B3748", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("parse LSN %q: %w", s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("parse LSN %q: %w", s, err)
	}
	return LSN(h<<32 | l), nil
}

// Op is the Debezium operation code of an event.
type Op byte

// The operations, with Debezium's one-letter codes.
const (
	OpCreate   Op = 'c'
	OpUpdate   Op = 'u'
	OpDelete   Op = 'd'
	OpRead     Op = 'r'
	OpTruncate Op = 't'
	OpMessage  Op = 'm'
)

func (o Op) String() string { return string(rune(o)) }

// SnapshotMarker is the value of source.snapshot.
type SnapshotMarker uint8

// The markers, in the order of Debezium's SnapshotRecord enum.
const (
	SnapshotFalse SnapshotMarker = iota // streaming; written as "false"
	SnapshotTrue
	SnapshotFirst
	SnapshotFirstInDataCollection
	SnapshotLastInDataCollection
	SnapshotLast
	SnapshotIncremental
)

var markerNames = [...]string{"false", "true", "first", "first_in_data_collection", "last_in_data_collection", "last", "incremental"}

func (m SnapshotMarker) String() string {
	if int(m) < len(markerNames) {
		return markerNames[m]
	}
	return "SnapshotMarker(" + strconv.Itoa(int(m)) + ")"
}

// Column is one column of a captured table, as the pgoutput Relation
// message and the catalog describe it.
type Column struct {
	Name    string
	TypeOID uint32
	// TypeMod is the atttypmod: -1 when the type has no modifier.
	TypeMod int32
	// TypeName is the catalog name of the type (pg_type.typname), for
	// messages and for types identified by name rather than OID.
	TypeName string
	NotNull  bool
	// Default is pg_get_expr of the column default, "" when there is none.
	Default string
	// Comment is the column comment, "" when there is none.
	Comment string
	// TypeType is pg_type.typtype: 'b' base, 'd' domain, 'e' enum,
	// 'r' range, 'm' multirange, 'c' composite, 'p' pseudo.
	TypeType byte
	// BaseTypeOID, BaseTypeMod and BaseTypeName describe a domain's
	// underlying type (pg_type.typbasetype and typtypmod); zero otherwise.
	BaseTypeOID  uint32
	BaseTypeMod  int32
	BaseTypeName string
	// ElemTypeOID and ElemTypeName name the element type of an array
	// type; zero otherwise.
	ElemTypeOID  uint32
	ElemTypeName string
	// EnumValues are the labels of an enum type, or of an array's enum
	// element type, in their sort order.
	EnumValues []string
}

// Relation is a captured table at one point of the stream. A new Relation
// value replaces the old one when the table's shape changes; values are
// never mutated once published.
type Relation struct {
	ID        uint32 // pg_class oid
	Namespace string
	Name      string
	Columns   []Column
	// Key lists indexes into Columns, in key order: the primary key, or the
	// columns named by message.key.columns. Empty means a null key.
	Key []int
	// ReplicaIdentity is pg_class.relreplident: 'd', 'n', 'f' or 'i'.
	ReplicaIdentity byte
}

// QualifiedName returns "schema.table".
func (r *Relation) QualifiedName() string { return r.Namespace + "." + r.Name }

// ValueKind says what a tuple column holds.
type ValueKind byte

// The kinds, with pgoutput's tuple-data letters.
const (
	KindNull           ValueKind = 'n'
	KindUnchangedToast ValueKind = 'u'
	KindText           ValueKind = 't'
)

// Value is one column value in PostgreSQL's text output format.
type Value struct {
	Kind ValueKind
	Data []byte
}

// Tuple holds one Value per column of the Relation, in column order.
type Tuple []Value

// Change is one row event, or one logical decoding message (OpMessage),
// with its position.
type Change struct {
	Op Op
	// Rel is the changed table; nil for OpMessage.
	Rel *Relation
	// Before is the old row: nil when the server sent none, the key
	// columns only under REPLICA IDENTITY DEFAULT (other columns null), or
	// every column under FULL.
	Before Tuple
	After  Tuple

	// LSN is the change's own position; for snapshot rows, the position
	// at which the snapshot was taken.
	LSN LSN
	// LastCommitLSN is the end of the last transaction completely
	// processed before this change (the first half of source.sequence).
	// Zero means unknown, written as null.
	LastCommitLSN LSN
	// Xid is the transaction id; HasXid is false when there is none.
	Xid    uint32
	HasXid bool
	// TsMicros is the commit time (streaming) or read time (snapshot) in
	// microseconds since the Unix epoch.
	TsMicros int64
	Snapshot SnapshotMarker

	// Message is set for OpMessage only: a pg_logical_emit_message call.
	Message Message
}

// Message is a logical decoding message (pgoutput 'M', PostgreSQL 14+),
// written by pg_logical_emit_message(transactional, prefix, content).
// A transactional message arrives inside its transaction, with its xid
// (Change.HasXid); a non-transactional one arrives on its own, outside any
// BEGIN/COMMIT, with no xid and TsMicros the time pgmotion received it.
type Message struct {
	// Prefix is the message's prefix, chosen by the application.
	Prefix string
	// Content is the message body: arbitrary bytes. It points into the
	// stream's buffer and is valid only while the Change is.
	Content []byte
	// Transactional is the first argument of pg_logical_emit_message.
	Transactional bool
}
