package pgsource

// Streamed transactions (pgoutput protocol 2 with streaming on). The server
// sends the changes of a large transaction in chunks while it is still in
// progress, interleaved with other transactions, and says only at STREAM
// COMMIT or STREAM ABORT what became of them. Their events may be emitted
// only at the commit, so they wait here: serialized compactly, in memory up
// to a budget shared by all open transactions, and past it in one file per
// transaction under the spill directory. A transaction's file holds the
// older part of its changes and its memory chunks the newer part, so that
// replaying file then memory gives the changes in order.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pgmotion/pgmotion/internal/change"
)

// DefaultBufferMemory is the default memory budget of streamed
// transactions (pgmotion.buffer.memory.bytes).
const DefaultBufferMemory = 64 << 20

// spillSuffix ends the name of every spill file, so that leftovers from a
// crash can be found and removed at start-up.
const spillSuffix = ".pgmotion-spill"

// maxChunk is the size of a memory chunk when the budget is large.
const maxChunk = 1 << 20

// txBuffers holds the open streamed transactions until their STREAM COMMIT
// or STREAM ABORT. It belongs to the streaming goroutine.
type txBuffers struct {
	dir    string
	budget int64
	chunk  int
	log    *slog.Logger

	mem  int64 // bytes of memory chunks held by all transactions
	txs  map[uint32]*txBuf
	free [][]byte // spare chunks of size chunk

	// Reused while replaying.
	rec    []byte
	before change.Tuple
	after  change.Tuple
	ch     change.Change

	// spilled counts bytes written to spill files, for tests and logs.
	spilled int64
	// held, if not nil, is told each change of mem (Config.Held).
	held func(delta int64)
}

// account adds d to the memory held in chunks and tells held.
func (b *txBuffers) account(d int64) {
	b.mem += d
	if b.held != nil && d != 0 {
		b.held(d)
	}
}

// txBuf is one streamed transaction.
type txBuf struct {
	xid uint32
	// first is the LSN of the first change buffered.
	first change.LSN
	// rels are the relation versions its changes refer to, by index; a
	// change keeps the version that was current when it arrived.
	rels   []*change.Relation
	relIdx map[*change.Relation]uint32
	// streamRels and streamExcluded hold the RELATION messages sent inside
	// this transaction's stream: they describe its own view of the tables
	// (it may have altered them), so they do not replace the source's.
	streamRels     map[uint32]*change.Relation
	streamExcluded map[uint32]string
	// aborted are subtransactions rolled back: their changes are skipped.
	aborted map[uint32]bool

	chunks [][]byte
	mem    int64
	file   *os.File
	fileN  int64
	n      int
}

func newTxBuffers(dir string, budget int64, log *slog.Logger) *txBuffers {
	if budget <= 0 {
		budget = DefaultBufferMemory
	}
	chunk := int(min(int64(maxChunk), max(budget/4, 4<<10)))
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &txBuffers{dir: dir, budget: budget, chunk: chunk, log: log, txs: map[uint32]*txBuf{}}
}

// removeSpillFiles deletes spill files left in dir by an earlier run that
// did not end cleanly.
func removeSpillFiles(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read spill directory %s: %w", dir, err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), spillSuffix) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("remove old spill file: %w", err)
			}
		}
	}
	return nil
}

// open returns the number of transactions buffered.
func (b *txBuffers) open() int { return len(b.txs) }

func (b *txBuffers) get(xid uint32) *txBuf {
	t := b.txs[xid]
	if t == nil {
		t = &txBuf{xid: xid, relIdx: map[*change.Relation]uint32{}}
		b.txs[xid] = t
	}
	return t
}

// streamRelation records a RELATION message sent inside xid's stream; rel
// is nil when the table, name, is not captured.
func (b *txBuffers) streamRelation(xid, id uint32, rel *change.Relation, name string) {
	t := b.get(xid)
	if t.streamRels == nil {
		t.streamRels, t.streamExcluded = map[uint32]*change.Relation{}, map[uint32]string{}
	}
	if rel == nil {
		t.streamExcluded[id] = name
		delete(t.streamRels, id)
		return
	}
	delete(t.streamExcluded, id)
	t.streamRels[id] = rel
}

// relation looks a relation up in xid's own RELATION messages: found
// says whether it has one, and rel is nil for an excluded table.
func (b *txBuffers) relation(xid, id uint32) (rel *change.Relation, found bool) {
	t := b.txs[xid]
	if t == nil {
		return nil, false
	}
	if _, ok := t.streamExcluded[id]; ok {
		return nil, true
	}
	rel, found = t.streamRels[id]
	return rel, found
}

// Record layout, all integers big-endian:
//
//	u32 length of what follows
//	u32 (sub)transaction xid
//	u64 LSN
//	u8  op
//	u32 relation index
//	u8  flags: 1 before present, 2 after present, 4 a logical decoding
//	    message, whose u32-length-prefixed prefix and content follow
//	tuples: u16 column count, then per column u8 kind and, for text,
//	        u32 length and the bytes
const recHeader = 4 + 4 + 8 + 1 + 4 + 1

func tupleSize(t change.Tuple) int {
	n := 2
	for _, v := range t {
		n++
		if v.Kind == change.KindText {
			n += 4 + len(v.Data)
		}
	}
	return n
}

func appendTuple(dst []byte, t change.Tuple) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(t)))
	for _, v := range t {
		dst = append(dst, byte(v.Kind))
		if v.Kind == change.KindText {
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(v.Data)))
			dst = append(dst, v.Data...)
		}
	}
	return dst
}

// add buffers c, a change of subxid within the streamed transaction xid.
func (b *txBuffers) add(xid, subxid uint32, c *change.Change) error {
	t := b.get(xid)
	if t.first == 0 {
		t.first = c.LSN
	}
	var idx uint32
	if c.Rel != nil {
		var ok bool
		if idx, ok = t.relIdx[c.Rel]; !ok {
			idx = uint32(len(t.rels))
			t.rels = append(t.rels, c.Rel)
			t.relIdx[c.Rel] = idx
		}
	}
	size := recHeader
	var flags byte
	if c.Op == change.OpMessage {
		flags |= 4
		size += 4 + len(c.Message.Prefix) + 4 + len(c.Message.Content)
	}
	if c.Before != nil {
		flags |= 1
		size += tupleSize(c.Before)
	}
	if c.After != nil {
		flags |= 2
		size += tupleSize(c.After)
	}
	var buf []byte
	if k := len(t.chunks); k > 0 && cap(t.chunks[k-1])-len(t.chunks[k-1]) >= size {
		buf = t.chunks[k-1]
	} else {
		buf = b.newChunk(size)
		t.chunks = append(t.chunks, buf)
		t.mem += int64(cap(buf))
		b.account(int64(cap(buf)))
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(size-4))
	buf = binary.BigEndian.AppendUint32(buf, subxid)
	buf = binary.BigEndian.AppendUint64(buf, uint64(c.LSN))
	buf = append(buf, byte(c.Op))
	buf = binary.BigEndian.AppendUint32(buf, idx)
	buf = append(buf, flags)
	if flags&4 != 0 {
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(c.Message.Prefix)))
		buf = append(buf, c.Message.Prefix...)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(c.Message.Content)))
		buf = append(buf, c.Message.Content...)
	}
	if flags&1 != 0 {
		buf = appendTuple(buf, c.Before)
	}
	if flags&2 != 0 {
		buf = appendTuple(buf, c.After)
	}
	t.chunks[len(t.chunks)-1] = buf
	t.n++
	for b.mem > b.budget {
		if err := b.spillLargest(); err != nil {
			return err
		}
	}
	return nil
}

func (b *txBuffers) newChunk(size int) []byte {
	if size > b.chunk {
		return make([]byte, 0, size)
	}
	if k := len(b.free); k > 0 {
		c := b.free[k-1]
		b.free = b.free[:k-1]
		return c[:0]
	}
	return make([]byte, 0, b.chunk)
}

// release returns chunks to the free list, keeping a few.
func (b *txBuffers) release(t *txBuf) {
	for i, c := range t.chunks {
		if cap(c) == b.chunk && len(b.free) < 4 {
			b.free = append(b.free, c)
		}
		t.chunks[i] = nil
	}
	b.account(-t.mem)
	t.chunks, t.mem = t.chunks[:0], 0
}

// spillLargest writes the memory chunks of the transaction holding the
// most memory to its spill file.
func (b *txBuffers) spillLargest() error {
	var big *txBuf
	for _, t := range b.txs {
		if big == nil || t.mem > big.mem {
			big = t
		}
	}
	if big == nil || big.mem == 0 {
		return nil
	}
	return b.spill(big)
}

func (b *txBuffers) spill(t *txBuf) error {
	if t.file == nil {
		if err := os.MkdirAll(b.dir, 0o700); err != nil {
			return fmt.Errorf("create spill directory: %w", err)
		}
		f, err := os.CreateTemp(b.dir, fmt.Sprintf("xid-%d-*%s", t.xid, spillSuffix))
		if err != nil {
			return fmt.Errorf("spill transaction %d: %w", t.xid, err)
		}
		t.file = f
		b.log.Info("streamed transaction exceeds the memory budget; spilling to disk", "xid", t.xid, "lsn", t.first.String(), "file", f.Name(), "budget", b.budget)
	}
	for _, c := range t.chunks {
		if _, err := t.file.Write(c); err != nil {
			return fmt.Errorf("spill transaction %d to %s: %w", t.xid, t.file.Name(), err)
		}
		t.fileN += int64(len(c))
		b.spilled += int64(len(c))
	}
	b.release(t)
	return nil
}

// abort drops subxid's changes, or the whole transaction when subxid is
// xid itself.
func (b *txBuffers) abort(xid, subxid uint32) error {
	if xid != subxid {
		if t := b.txs[xid]; t != nil {
			if t.aborted == nil {
				t.aborted = map[uint32]bool{}
			}
			t.aborted[subxid] = true
		}
		return nil
	}
	return b.discard(xid)
}

// discard forgets xid and removes its spill file.
func (b *txBuffers) discard(xid uint32) error {
	t := b.txs[xid]
	if t == nil {
		return nil
	}
	delete(b.txs, xid)
	b.release(t)
	if t.file != nil {
		name := t.file.Name()
		t.file.Close()
		if err := os.Remove(name); err != nil {
			return fmt.Errorf("remove spill file: %w", err)
		}
	}
	return nil
}

// closeAll discards every open transaction, at the end of the stream.
func (b *txBuffers) closeAll() error {
	var errs []error
	xids := make([]uint32, 0, len(b.txs))
	for x := range b.txs {
		xids = append(xids, x)
	}
	sort.Slice(xids, func(i, j int) bool { return xids[i] < xids[j] })
	for _, x := range xids {
		errs = append(errs, b.discard(x))
	}
	return errors.Join(errs...)
}

// replay hands xid's changes to fn in the order they arrived, skipping
// those of aborted subtransactions, then discards the transaction. The
// Change and its tuples are valid only during the call; its Xid is the
// top-level xid, and the caller fills in the commit's fields.
func (b *txBuffers) replay(xid uint32, fn func(*change.Change) error) error {
	t := b.txs[xid]
	if t == nil {
		return nil
	}
	err := b.replayTx(t, fn)
	if derr := b.discard(xid); err == nil {
		err = derr
	}
	return err
}

func (b *txBuffers) replayTx(t *txBuf, fn func(*change.Change) error) error {
	if t.file != nil {
		r := bufio.NewReaderSize(io.NewSectionReader(t.file, 0, t.fileN), maxChunk)
		var hdr [4]byte
		for {
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				if err == io.EOF {
					break
				}
				return fmt.Errorf("read spill file of transaction %d: %w", t.xid, err)
			}
			n := int(binary.BigEndian.Uint32(hdr[:]))
			if cap(b.rec) < n {
				b.rec = make([]byte, n)
			}
			rec := b.rec[:n]
			if _, err := io.ReadFull(r, rec); err != nil {
				return fmt.Errorf("read spill file of transaction %d: %w", t.xid, err)
			}
			if err := b.emit(t, rec, fn); err != nil {
				return err
			}
		}
	}
	for _, c := range t.chunks {
		for len(c) > 0 {
			if len(c) < 4 {
				return fmt.Errorf("buffered transaction %d: truncated record", t.xid)
			}
			n := int(binary.BigEndian.Uint32(c))
			if len(c) < 4+n {
				return fmt.Errorf("buffered transaction %d: truncated record", t.xid)
			}
			if err := b.emit(t, c[4:4+n], fn); err != nil {
				return err
			}
			c = c[4+n:]
		}
	}
	return nil
}

// emit decodes one record (without its length) and hands it to fn.
func (b *txBuffers) emit(t *txBuf, rec []byte, fn func(*change.Change) error) error {
	r := &reader{b: rec}
	sub := r.u32("xid")
	lsn := change.LSN(r.u64("lsn"))
	op := change.Op(r.u8("op"))
	idx := r.u32("relation index")
	flags := r.u8("flags")
	if r.err != nil {
		return fmt.Errorf("buffered transaction %d: %w", t.xid, r.err)
	}
	if t.aborted[sub] {
		return nil
	}
	c := &b.ch
	*c = change.Change{Op: op, LSN: lsn, Xid: t.xid, HasXid: true}
	if flags&4 != 0 {
		c.Message.Prefix = string(r.bytes(int(r.u32("prefix length")), "prefix"))
		c.Message.Content = r.bytes(int(r.u32("content length")), "content")
		c.Message.Transactional = true
	} else if int(idx) < len(t.rels) {
		c.Rel = t.rels[idx]
	} else {
		return fmt.Errorf("buffered transaction %d: relation index %d of %d", t.xid, idx, len(t.rels))
	}
	if flags&1 != 0 {
		b.before = readTuple(r, b.before[:0])
		c.Before = b.before
	}
	if flags&2 != 0 {
		b.after = readTuple(r, b.after[:0])
		c.After = b.after
	}
	if r.err != nil {
		return fmt.Errorf("buffered transaction %d: %w", t.xid, r.err)
	}
	return fn(c)
}

func readTuple(r *reader, dst change.Tuple) change.Tuple {
	n := int(r.u16("column count"))
	for i := 0; i < n && r.err == nil; i++ {
		v := change.Value{Kind: change.ValueKind(r.u8("column kind"))}
		if v.Kind == change.KindText {
			v.Data = r.bytes(int(r.u32("value length")), "value")
		}
		dst = append(dst, v)
	}
	return dst
}

// newTxBuffers prepares the buffers of streamed transactions, removing
// the spill files an earlier run left behind.
func (s *Source) newTxBuffers() (*txBuffers, error) {
	dir := s.cfg.SpillDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "pgmotion-spill-"+s.dbName+"-"+s.cfg.Slot)
	}
	if err := removeSpillFiles(dir); err != nil {
		return nil, err
	}
	b := newTxBuffers(dir, s.cfg.BufferMemory, s.log)
	b.held = s.cfg.Held
	return b, nil
}

// streamed handles the messages of protocol 2's streamed transactions: the
// stream markers, and the changes sent between STREAM START and STREAM
// STOP, which go to the transaction's buffer. It reports whether m was
// one of those.
func (r *streamReader) streamed(ctx context.Context, lsn change.LSN, m *PgoutputMessage) (bool, error) {
	switch m.Type {
	case MsgStreamStart:
		if m.FirstSegment && r.txb.txs[m.Xid] != nil {
			// A first segment for a transaction already held can only
			// mean the server starts it over.
			if err := r.txb.discard(m.Xid); err != nil {
				return true, err
			}
		}
		r.streaming, r.streamXid = true, m.Xid
		return true, nil
	case MsgStreamStop:
		r.streaming = false
		return true, nil
	case MsgStreamAbort:
		return true, r.txb.abort(m.Xid, m.SubXid)
	case MsgStreamCommit:
		return true, r.streamCommit(m.Xid, m.CommitLSN, m.EndLSN, m.TsMicros)
	}
	if !r.streaming {
		return false, nil
	}
	s, xid := r.src, r.streamXid
	switch m.Type {
	case MsgRelation:
		if !s.included(m.Relation.Namespace, m.Relation.Name) {
			r.txb.streamRelation(xid, m.Relation.ID, nil, m.Relation.Namespace+"."+m.Relation.Name)
			return true, nil
		}
		rel, err := s.relationFromMessage(ctx, &m.Relation)
		if err != nil {
			return true, fmt.Errorf("at LSN %s: %w", lsn, err)
		}
		r.txb.streamRelation(xid, rel.ID, rel, "")
		return true, nil
	case MsgInsert, MsgUpdate, MsgDelete:
		rel, err := r.streamRel(xid, m.RelationID, lsn)
		if rel == nil || err != nil {
			return true, err
		}
		c := &r.ch
		*c = change.Change{Rel: rel, LSN: lsn, Xid: xid, HasXid: true}
		switch m.Type {
		case MsgInsert:
			c.Op, c.After = change.OpCreate, m.New
		case MsgUpdate:
			c.Op, c.After = change.OpUpdate, m.New
			if m.OldKind != 0 {
				c.Before = m.Old
			}
		case MsgDelete:
			c.Op, c.Before = change.OpDelete, m.Old
		}
		if (c.After != nil && len(c.After) != len(rel.Columns)) || (c.Before != nil && len(c.Before) != len(rel.Columns)) {
			return true, fmt.Errorf("at LSN %s: %s row of %s has %d columns, its relation %d", lsn, m.Type, rel.QualifiedName(), max(len(c.After), len(c.Before)), len(rel.Columns))
		}
		return true, r.txb.add(xid, m.Xid, c)
	case MsgTruncate:
		for _, id := range m.RelationIDs {
			rel, err := r.streamRel(xid, id, 0)
			if err != nil {
				return true, err
			}
			if rel == nil {
				continue
			}
			r.ch = change.Change{Op: change.OpTruncate, Rel: rel, LSN: lsn, Xid: xid, HasXid: true}
			if err := r.txb.add(xid, m.Xid, &r.ch); err != nil {
				return true, err
			}
		}
		return true, nil
	case MsgLogicalMessage:
		if !m.Transactional {
			return false, nil
		}
		c := &r.ch
		*c = change.Change{Op: change.OpMessage, LSN: m.MessageLSN, Xid: xid, HasXid: true,
			Message: change.Message{Prefix: m.Prefix, Content: m.Content, Transactional: true}}
		if c.LSN == 0 {
			c.LSN = lsn
		}
		return true, r.txb.add(xid, m.Xid, c)
	}
	return false, nil
}

// streamRel finds the relation of a change inside xid's stream: nil, with
// no error, for a table that is not captured. lsn 0 means a missing
// relation is skipped rather than an error (TRUNCATE).
func (r *streamReader) streamRel(xid, id uint32, lsn change.LSN) (*change.Relation, error) {
	if rel, found := r.txb.relation(xid, id); found {
		return rel, nil
	}
	if rel, ok := r.src.rels[id]; ok {
		return rel, nil
	}
	if _, skip := r.src.excluded[id]; skip || lsn == 0 {
		if skip {
			r.src.filtered.Add(1)
		}
		return nil, nil
	}
	return nil, fmt.Errorf("at LSN %s: change for relation %d before its RELATION message", lsn, id)
}

// streamCommit emits a streamed transaction at its STREAM COMMIT, as an
// ordinary Begin, Change..., Commit.
func (r *streamReader) streamCommit(xid uint32, commitLSN, endLSN change.LSN, ts int64) error {
	// pgoutput counts the RELATION messages of a committed streamed
	// transaction as sent for the transactions after it too.
	begin := commitLSN
	if t := r.txb.txs[xid]; t != nil {
		if t.first != 0 {
			begin = t.first
		}
		for id, name := range t.streamExcluded {
			delete(r.src.rels, id)
			r.src.excluded[id] = name
		}
		for id, rel := range t.streamRels {
			delete(r.src.excluded, id)
			r.src.rels[id] = rel
		}
	}
	r.inTxn, r.xid, r.ts = true, xid, ts
	if err := r.h.Begin(xid, begin, commitLSN, ts); err != nil {
		return err
	}
	err := r.txb.replay(xid, func(c *change.Change) error {
		c.LastCommitLSN, c.TsMicros = r.lastCommit, ts
		return r.h.Change(c)
	})
	if err != nil {
		return err
	}
	r.inTxn = false
	if err := r.h.Commit(commitLSN, endLSN, ts); err != nil {
		return err
	}
	r.lastCommit = endLSN
	return nil
}
