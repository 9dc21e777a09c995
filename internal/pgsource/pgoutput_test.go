package pgsource

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
)

// msg builds a pgoutput message byte by byte.
type msg []byte

func (m msg) u8(v byte) msg     { return append(m, v) }
func (m msg) u16(v uint16) msg  { return binary.BigEndian.AppendUint16(m, v) }
func (m msg) u32(v uint32) msg  { return binary.BigEndian.AppendUint32(m, v) }
func (m msg) u64(v uint64) msg  { return binary.BigEndian.AppendUint64(m, v) }
func (m msg) str(s string) msg  { return append(append(m, s...), 0) }
func (m msg) text(s string) msg { return append(m.u8('t').u32(uint32(len(s))), s...) }

func TestDecode(t *testing.T) {
	relation := msg{'R'}.u32(16384).str("public").str("customers").u8('d').u16(2).
		u8(1).str("id").u32(23).u32(0xFFFFFFFF).
		u8(0).str("name").u32(1043).u32(259)
	insert := msg{'I'}.u32(16384).u8('N').u16(2).text("1").u8('n')
	update := msg{'U'}.u32(16384).u8('K').u16(2).text("1").u8('n').u8('N').u16(2).text("2").u8('u')
	del := msg{'D'}.u32(16384).u8('O').u16(2).text("2").text("x")
	begin := msg{'B'}.u64(0x100).u64(1).u32(752)
	commit := msg{'C'}.u8(0).u64(0x100).u64(0x128).u64(1)
	trunc := msg{'T'}.u32(2).u8(1).u32(1).u32(2)
	message := msg{'M'}.u8(1).u64(0x200).str("outbox").u32(3)
	message = append(message, "abc"...)

	var d PgoutputDecoder
	var m PgoutputMessage
	tests := []struct {
		name  string
		in    []byte
		check func(t *testing.T, m *PgoutputMessage)
	}{
		{"begin", begin, func(t *testing.T, m *PgoutputMessage) {
			if m.FinalLSN != 0x100 || m.Xid != 752 || m.TsMicros != pgEpochMicros+1 {
				t.Errorf("got %+v", m)
			}
		}},
		{"commit", commit, func(t *testing.T, m *PgoutputMessage) {
			if m.CommitLSN != 0x100 || m.EndLSN != 0x128 {
				t.Errorf("got %+v", m)
			}
		}},
		{"relation", relation, func(t *testing.T, m *PgoutputMessage) {
			r := m.Relation
			if r.ID != 16384 || r.Namespace != "public" || r.Name != "customers" || r.ReplicaIdentity != 'd' || len(r.Columns) != 2 {
				t.Fatalf("got %+v", r)
			}
			if !r.Columns[0].Key || r.Columns[0].TypeMod != -1 || r.Columns[1].Key || r.Columns[1].TypeOID != 1043 || r.Columns[1].TypeMod != 259 {
				t.Errorf("columns %+v", r.Columns)
			}
		}},
		{"insert", insert, func(t *testing.T, m *PgoutputMessage) {
			if m.RelationID != 16384 || len(m.New) != 2 || string(m.New[0].Data) != "1" || m.New[1].Kind != change.KindNull {
				t.Errorf("got %+v", m)
			}
		}},
		{"update with key", update, func(t *testing.T, m *PgoutputMessage) {
			if m.OldKind != 'K' || string(m.Old[0].Data) != "1" || string(m.New[0].Data) != "2" || m.New[1].Kind != change.KindUnchangedToast {
				t.Errorf("got %+v", m)
			}
		}},
		{"delete full", del, func(t *testing.T, m *PgoutputMessage) {
			if m.OldKind != 'O' || string(m.Old[1].Data) != "x" {
				t.Errorf("got %+v", m)
			}
		}},
		{"truncate", trunc, func(t *testing.T, m *PgoutputMessage) {
			if len(m.RelationIDs) != 2 || m.RelationIDs[1] != 2 || m.TruncateOptions != 1 {
				t.Errorf("got %+v", m)
			}
		}},
		{"message", message, func(t *testing.T, m *PgoutputMessage) {
			if !m.Transactional || m.Prefix != "outbox" || string(m.Content) != "abc" || m.MessageLSN != 0x200 {
				t.Errorf("got %+v", m)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := d.Decode(tt.in, &m); err != nil {
				t.Fatal(err)
			}
			tt.check(t, &m)
			// Every strict prefix is a short message: an error, never a panic.
			for i := 0; i < len(tt.in); i++ {
				if err := d.Decode(tt.in[:i], &m); err == nil {
					t.Errorf("prefix of %d bytes decoded without error", i)
				}
			}
		})
	}
}

func TestDecodeStreamedXid(t *testing.T) {
	var d PgoutputDecoder
	var m PgoutputMessage
	if err := d.Decode(msg{'S'}.u32(900).u8(1), &m); err != nil || !m.FirstSegment || m.Xid != 900 {
		t.Fatalf("stream start: %v %+v", err, m)
	}
	if err := d.Decode(msg{'I'}.u32(900).u32(16384).u8('N').u16(1).text("7"), &m); err != nil || m.Xid != 900 || m.RelationID != 16384 {
		t.Fatalf("streamed insert: %v %+v", err, m)
	}
	if err := d.Decode(msg{'E'}, &m); err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(msg{'I'}.u32(16384).u8('N').u16(1).text("7"), &m); err != nil || m.Xid != 0 {
		t.Fatalf("insert after stream stop: %v %+v", err, m)
	}
}

func TestDecodeErrors(t *testing.T) {
	var d PgoutputDecoder
	var m PgoutputMessage
	for name, in := range map[string][]byte{
		"empty":          nil,
		"unknown type":   {'Z'},
		"binary column":  msg{'I'}.u32(1).u8('N').u16(1).u8('b').u32(1).u8(0),
		"bad kind":       msg{'I'}.u32(1).u8('N').u16(1).u8('x'),
		"negative len":   msg{'I'}.u32(1).u8('N').u16(1).u8('t').u32(0xFFFFFFFF),
		"huge col count": msg{'R'}.u32(1).str("s").str("t").u8('d').u16(65535),
		"insert marker":  msg{'I'}.u32(1).u8('K').u16(0),
	} {
		if err := d.Decode(in, &m); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if err := d.Decode([]byte{'B', 0}, &m); !errors.Is(err, ErrShortMessage) {
		t.Errorf("short BEGIN: %v, want ErrShortMessage", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(msg{'B'}.u64(0x100).u64(1).u32(752)))
	f.Add([]byte(msg{'R'}.u32(1).str("public").str("t").u8('d').u16(1).u8(1).str("id").u32(23).u32(0xFFFFFFFF)))
	f.Add([]byte(msg{'U'}.u32(1).u8('O').u16(2).text("1").u8('n').u8('N').u16(2).text("2").u8('u')))
	f.Add([]byte(msg{'T'}.u32(2).u8(1).u32(1).u32(2)))
	f.Add([]byte(msg{'S'}.u32(9).u8(1)))
	f.Add(append([]byte(msg{'M'}.u8(0).u64(0x200).str("outbox").u32(3)), "abc"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d PgoutputDecoder
		var m PgoutputMessage
		if err := d.Decode(b, &m); err != nil {
			return
		}
		for _, v := range append(append(change.Tuple{}, m.Old...), m.New...) {
			if v.Kind == change.KindText && len(v.Data) > len(b) {
				t.Fatalf("value longer than the message")
			}
		}
		if len(m.Content)+len(m.Prefix) > len(b) {
			t.Fatalf("message content and prefix longer than the message")
		}
	})
}
