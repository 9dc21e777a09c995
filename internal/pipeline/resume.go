package pipeline

import "github.com/pgmotion/pgmotion/internal/change"

// The resume rule. Streaming starts again at the stored offset's
// lsn_commit: PostgreSQL sends every transaction that commits after it,
// from its first change. An offset sealed inside a transaction (a slice of
// a large one, messageType not COMMIT) says how much of that transaction
// Kafka holds; those events are dropped when it is replayed.
//
// The position of a change is not unique: a heap multi-insert (COPY, or
// INSERT … SELECT into a table without a TOAST-able row) writes many rows
// in one WAL record, and their changes all carry that record's LSN. So the
// offset also counts the changes of the transaction at its lsn that were
// handled (pgmotion_lsn_events), and only that many changes at lsn are
// dropped; the rest are delivered. An offset without the count (written by
// Debezium or an older pgmotion) drops only what lies strictly before lsn:
// the events at lsn come again, a duplicate rather than a loss.
//
// An offset sealed at a transaction's end (messageType COMMIT) drops
// nothing: on PostgreSQL 17 a commit's end LSN can equal the next
// transaction's first change LSN, and that change must not be taken for
// one already delivered.

// resumePoint drops the already delivered head of the transaction an
// offset was sealed in.
type resumePoint struct {
	xid   uint32
	lsn   change.LSN
	atLSN int // changes at lsn to drop
	seen  int // changes at lsn dropped so far
}

// resumeFrom returns the resume point of a stored offset, or nil when
// nothing is to be dropped.
func resumeFrom(off *Offset) *resumePoint {
	if off == nil || off.MessageType == "" || off.MessageType == "COMMIT" || off.TxID == 0 || off.LSN == 0 {
		return nil
	}
	return &resumePoint{xid: uint32(off.TxID), lsn: off.LSN, atLSN: off.LSNEvents}
}

// drop reports whether c was delivered before the restart. Once it
// returns false the point is spent: the caller forgets it.
func (r *resumePoint) drop(c *change.Change) bool {
	if !c.HasXid || c.Xid != r.xid {
		return false
	}
	switch {
	case c.LSN < r.lsn:
		return true
	case c.LSN == r.lsn && r.seen < r.atLSN:
		r.seen++
		return true
	}
	return false
}

// lsnCounter counts the changes of the open transaction at its latest
// LSN, for an offset's pgmotion_lsn_events.
type lsnCounter struct {
	lsn change.LSN
	n   int
}

func (c *lsnCounter) reset() { *c = lsnCounter{} }

// add counts a change at lsn, which is never below the last one.
func (c *lsnCounter) add(lsn change.LSN) {
	if lsn != c.lsn {
		c.lsn, c.n = lsn, 0
	}
	c.n++
}

// at returns how many changes were counted at lsn.
func (c *lsnCounter) at(lsn change.LSN) int {
	if lsn != c.lsn {
		return 0
	}
	return c.n
}
