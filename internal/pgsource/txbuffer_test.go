package pgsource

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/change"
)

// describe renders a change the way the tests compare them.
func describe(c *change.Change) string {
	if c.Op == change.OpMessage {
		return fmt.Sprintf("m %s %s", c.Message.Prefix, c.Message.Content)
	}
	s := fmt.Sprintf("%s %s@%d xid=%d", c.Op, c.Rel.Name, c.LSN, c.Xid)
	for _, t := range []change.Tuple{c.Before, c.After} {
		if t == nil {
			s += " -"
			continue
		}
		parts := make([]string, len(t))
		for i, v := range t {
			switch v.Kind {
			case change.KindNull:
				parts[i] = "null"
			case change.KindUnchangedToast:
				parts[i] = "toast"
			default:
				parts[i] = string(v.Data)
			}
		}
		s += " [" + strings.Join(parts, ",") + "]"
	}
	return s
}

func spillFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestTxBuffersRoundTripAndSpill(t *testing.T) {
	for _, budget := range []int64{1 << 30, 16 << 10} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			dir := t.TempDir()
			b := newTxBuffers(dir, budget, nil)
			relA := &change.Relation{ID: 1, Name: "a", Columns: make([]change.Column, 2)}
			relA2 := &change.Relation{ID: 1, Name: "a2", Columns: make([]change.Column, 2)}
			var want []string
			add := func(xid, sub uint32, c *change.Change) {
				t.Helper()
				c.Xid, c.HasXid = xid, true
				if err := b.add(xid, sub, c); err != nil {
					t.Fatal(err)
				}
				if sub != 77 && xid == 10 {
					want = append(want, describe(c))
				}
			}
			big := strings.Repeat("x", 3000)
			for i := 0; i < 200; i++ {
				rel := relA
				if i >= 100 {
					rel = relA2 // the relation changed mid-transaction
				}
				sub := uint32(10)
				if i%7 == 3 {
					sub = 77 // rolled back below
				}
				add(10, sub, &change.Change{Op: change.OpCreate, Rel: rel, LSN: change.LSN(1000 + i),
					After: change.Tuple{{Kind: change.KindText, Data: []byte(fmt.Sprint(i))}, {Kind: change.KindText, Data: []byte(big)}}})
				// Another transaction interleaved, aborted at the end.
				add(20, 20, &change.Change{Op: change.OpDelete, Rel: relA, LSN: change.LSN(5000 + i),
					Before: change.Tuple{{Kind: change.KindText, Data: []byte("k")}, {Kind: change.KindNull}}})
			}
			add(10, 10, &change.Change{Op: change.OpUpdate, Rel: relA, LSN: 3000,
				Before: change.Tuple{{Kind: change.KindText, Data: []byte("1")}, {Kind: change.KindNull}},
				After:  change.Tuple{{Kind: change.KindText, Data: []byte("")}, {Kind: change.KindUnchangedToast}}})
			add(10, 10, &change.Change{Op: change.OpTruncate, Rel: relA2, LSN: 3001})
			add(10, 10, &change.Change{Op: change.OpMessage, LSN: 3002, Message: change.Message{Prefix: "p", Content: []byte("body"), Transactional: true}})
			if err := b.abort(10, 77); err != nil {
				t.Fatal(err)
			}
			spilled := len(spillFiles(t, dir)) > 0
			if spilled != (budget < 1<<20) {
				t.Errorf("spilled = %v with budget %d (%d bytes written)", spilled, budget, b.spilled)
			}
			if b.mem > b.budget {
				t.Errorf("memory %d over budget %d", b.mem, b.budget)
			}
			if err := b.abort(20, 20); err != nil {
				t.Fatal(err)
			}
			var got []string
			if err := b.replay(10, func(c *change.Change) error {
				got = append(got, describe(c))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("replayed %d changes, want %d", len(got), len(want))
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						t.Fatalf("change %d:\n got %.200s\nwant %.200s", i, got[i], want[i])
					}
				}
			}
			if b.open() != 0 || b.mem != 0 {
				t.Errorf("after commit and abort: %d open, %d bytes", b.open(), b.mem)
			}
			if f := spillFiles(t, dir); len(f) != 0 {
				t.Errorf("spill files left: %v", f)
			}
		})
	}
}

func TestRemoveSpillFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"xid-1-123" + spillSuffix, "keep.txt"} {
		if err := os.WriteFile(dir+"/"+n, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := removeSpillFiles(dir); err != nil {
		t.Fatal(err)
	}
	if got := spillFiles(t, dir); !reflect.DeepEqual(got, []string{"keep.txt"}) {
		t.Errorf("left %v", got)
	}
	if err := removeSpillFiles(dir + "/missing"); err != nil {
		t.Errorf("missing directory: %v", err)
	}
}

// recorder is a Handler that logs every call.
type recorder struct{ calls []string }

func (r *recorder) Begin(xid uint32, _, final change.LSN, _ int64) error {
	r.calls = append(r.calls, fmt.Sprintf("BEGIN %d", xid))
	return nil
}
func (r *recorder) Change(c *change.Change) error {
	r.calls = append(r.calls, describe(c))
	return nil
}
func (r *recorder) Commit(_, end change.LSN, _ int64) error {
	r.calls = append(r.calls, fmt.Sprintf("COMMIT %d", end))
	return nil
}
func (r *recorder) Idle(l change.LSN) error {
	r.calls = append(r.calls, fmt.Sprintf("IDLE %d", l))
	return nil
}
func (r *recorder) Tick(time.Time, bool) error { return nil }

func xlog(lsn uint64, m msg) []byte {
	return append(msg{'w'}.u64(lsn).u64(lsn).u64(0), m...)
}

func keepalive(walEnd uint64) []byte { return msg{'k'}.u64(walEnd).u64(0).u8(0) }

// TestStreamedTransactionsAndIdle feeds the stream reader a protocol 2
// stream by hand: a streamed transaction interleaved with an ordinary one
// and a second streamed one, keepalives whose walEnd runs past the open
// streamed transactions, a subtransaction abort and a top-level abort.
func TestStreamedTransactionsAndIdle(t *testing.T) {
	pc, err := pgconn.ParseConfig("postgres://u@127.0.0.1/db")
	if err != nil {
		t.Fatal(err)
	}
	src, err := New(Config{Conn: pc, Slot: "s", Publication: "p", PublicationMode: "all_tables", SpillDir: t.TempDir(), BufferMemory: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	src.rels[16384] = &change.Relation{ID: 16384, Name: "t", Columns: make([]change.Column, 2)}
	h := &recorder{}
	r := &streamReader{src: src, h: h, txb: newTxBuffers(src.cfg.SpillDir, src.cfg.BufferMemory, nil)}
	ins := func(xid uint32, v string) msg {
		return msg{'I'}.u32(xid).u32(16384).u8('N').u16(2).text(v).text(strings.Repeat("y", 1000))
	}
	steps := []struct {
		data []byte
		want []string // calls made by this step
	}{
		{xlog(0x100, msg{'S'}.u32(700).u8(1)), nil},
		{xlog(0x110, ins(700, "a1")), nil},
		{xlog(0x120, ins(701, "a-sub")), nil},
		{xlog(0x130, msg{'E'}), nil},
		// The keepalive's walEnd is past transaction 700's start: it
		// must not be confirmed while 700 is only buffered.
		{keepalive(0x1000), nil},
		// An ordinary transaction commits meanwhile.
		{xlog(0x140, msg{'B'}.u64(0x150).u64(0).u32(800)), []string{"BEGIN 800"}},
		{xlog(0x141, msg{'I'}.u32(16384).u8('N').u16(2).text("b1").u8('n')), []string{"c t@321 xid=800 - [b1,null]"}},
		{xlog(0x150, msg{'C'}.u8(0).u64(0x150).u64(0x158).u64(0)), []string{"COMMIT 344"}},
		{keepalive(0x1001), nil},
		// A second streamed transaction, aborted as a whole.
		{xlog(0x160, msg{'S'}.u32(900).u8(1)), nil},
		{xlog(0x170, ins(900, "c1")), nil},
		{xlog(0x171, msg{'E'}), nil},
		{xlog(0x180, msg{'S'}.u32(700).u8(0)), nil},
		{xlog(0x190, ins(700, "a2")), nil},
		{xlog(0x1a0, msg{'E'}), nil},
		{xlog(0x1b0, msg{'A'}.u32(700).u32(701)), nil},
		{xlog(0x1c0, msg{'A'}.u32(900).u32(900)), nil},
		{keepalive(0x1002), nil},
		{xlog(0x1d0, msg{'c'}.u32(700).u8(0).u64(0x1d0).u64(0x1d8).u64(0)), []string{
			"BEGIN 700", "c t@272 xid=700 - [a1," + strings.Repeat("y", 1000) + "]",
			"c t@400 xid=700 - [a2," + strings.Repeat("y", 1000) + "]", "COMMIT 472"}},
		// Nothing is buffered any more: walEnd may be confirmed.
		{keepalive(0x2000), []string{"IDLE 8192"}},
	}
	for i, st := range steps {
		h.calls = nil
		if err := r.copyData(context.Background(), st.data); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !reflect.DeepEqual(h.calls, st.want) {
			t.Fatalf("step %d: calls %q, want %q", i, h.calls, st.want)
		}
	}
	if r.txb.spilled == 0 {
		t.Error("nothing spilled with a 4 KiB budget")
	}
	if f := spillFiles(t, src.cfg.SpillDir); len(f) != 0 {
		t.Errorf("spill files left: %v", f)
	}
	if r.lastCommit != 0x1d8 {
		t.Errorf("lastCommit %s", r.lastCommit)
	}
}

// BenchmarkTxBuffers measures buffering and replaying one streamed
// transaction in memory.
func BenchmarkTxBuffers(b *testing.B) {
	rel := &change.Relation{ID: 1, Name: "a", Columns: make([]change.Column, 3)}
	c := &change.Change{Op: change.OpCreate, Rel: rel, After: change.Tuple{
		{Kind: change.KindText, Data: []byte("12345")}, {Kind: change.KindText, Data: []byte("some text value")}, {Kind: change.KindNull}}}
	buf := newTxBuffers(b.TempDir(), 1<<30, nil)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.LSN = change.LSN(i)
		if err := buf.add(1, 1, c); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 999 {
			if err := buf.replay(1, func(*change.Change) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// FuzzTxBuffers checks that any change comes back from the buffer as it
// went in, whether it stayed in memory or was spilled.
func FuzzTxBuffers(f *testing.F) {
	f.Add([]byte("1"), []byte(""), byte('t'), byte('n'), uint16(3), false)
	f.Add([]byte(strings.Repeat("z", 5000)), []byte("x"), byte('u'), byte('t'), uint16(40), true)
	f.Fuzz(func(t *testing.T, a, b []byte, ka, kb byte, n uint16, msgOp bool) {
		kind := func(k byte) change.ValueKind {
			switch k % 3 {
			case 0:
				return change.KindNull
			case 1:
				return change.KindUnchangedToast
			}
			return change.KindText
		}
		rel := &change.Relation{ID: 1, Name: "r", Columns: make([]change.Column, 2)}
		buf := newTxBuffers(t.TempDir(), 4<<10, nil)
		var want []string
		for i := range int(n%64) + 1 {
			c := &change.Change{Op: change.OpUpdate, Rel: rel, LSN: change.LSN(i), Xid: 5, HasXid: true}
			if msgOp && i%2 == 1 {
				c = &change.Change{Op: change.OpMessage, LSN: change.LSN(i), Xid: 5, HasXid: true,
					Message: change.Message{Prefix: string(b), Content: a, Transactional: true}}
			} else {
				c.Before = change.Tuple{{Kind: kind(ka), Data: a}, {Kind: change.KindText, Data: b}}
				c.After = change.Tuple{{Kind: change.KindText, Data: b}, {Kind: kind(kb), Data: a}}
				// Only text values carry data.
				for _, tp := range []change.Tuple{c.Before, c.After} {
					for j := range tp {
						if tp[j].Kind != change.KindText {
							tp[j].Data = nil
						}
					}
				}
			}
			if err := buf.add(5, 5, c); err != nil {
				t.Fatal(err)
			}
			want = append(want, describe(c))
		}
		var got []string
		if err := buf.replay(5, func(c *change.Change) error {
			got = append(got, describe(c))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %d changes, want %d; first %.100q vs %.100q", len(got), len(want), got, want)
		}
	})
}
