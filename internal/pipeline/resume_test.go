package pipeline

import (
	"encoding/json"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
)

// txChanges builds the changes of transaction xid, lsns[i] being the LSN
// of change i. A change's After holds its index, to tell them apart.
func txChanges(xid uint32, lsns ...change.LSN) []change.Change {
	out := make([]change.Change, len(lsns))
	for i, l := range lsns {
		out[i] = change.Change{Op: change.OpCreate, LSN: l, Xid: xid, HasXid: true, After: change.Tuple{{Kind: change.KindText, Data: []byte{byte('a' + i)}}}}
	}
	return out
}

// sealAfter returns the offset the task seals after handling the first k
// changes of tx (k >= 1): a slice of the transaction.
func sealAfter(tx []change.Change, k int, lastCommit change.LSN) *Offset {
	var cnt lsnCounter
	for i := 0; i < k; i++ {
		cnt.add(tx[i].LSN)
	}
	c := tx[k-1]
	off := &Offset{LSN: c.LSN, LSNProc: c.LSN, LSNCommit: lastCommit, TxID: int64(c.Xid), MessageType: messageType(c.Op), LSNEvents: cnt.at(c.LSN)}
	// The offset goes through the offsets topic as JSON.
	b, err := off.MarshalJSON()
	if err != nil {
		panic(err)
	}
	var back Offset
	if err := json.Unmarshal(b, &back); err != nil {
		panic(err)
	}
	return &back
}

// replay runs the resume rule of off over the replayed changes, the way
// task.Change does, and returns the indexes of those delivered.
func replay(off *Offset, changes []change.Change) []int {
	rp := resumeFrom(off)
	var out []int
	for i := range changes {
		if rp != nil {
			if rp.drop(&changes[i]) {
				continue
			}
			rp = nil
		}
		out = append(out, i)
	}
	return out
}

// TestResumeSharedLSN: a COPY's heap multi-insert gives many changes one
// LSN. Whatever change a slice of the transaction was sealed after, the
// replay delivers exactly the changes after it: none skipped, none twice.
func TestResumeSharedLSN(t *testing.T) {
	const L1, L2, L3, L4 = change.LSN(0x1000), change.LSN(0x2000), change.LSN(0x3000), change.LSN(0x4000)
	cases := map[string][]change.Change{
		"multi-insert groups": txChanges(7, L1, L2, L2, L2, L2, L2, L3, L3, L3, L4),
		"one WAL record":      txChanges(7, L2, L2, L2, L2, L2, L2, L2, L2),
		"distinct LSNs":       txChanges(7, L1, L2, L3, L4),
		"single change":       txChanges(7, L1),
	}
	for name, tx := range cases {
		for k := 1; k <= len(tx); k++ {
			off := sealAfter(tx, k, 0x0900)
			got := replay(off, tx)
			if len(got) != len(tx)-k {
				t.Fatalf("%s: sealed after %d of %d changes (lsn %s, pgmotion_lsn_events %d): replay delivered %v, want the %d after it",
					name, k, len(tx), off.LSN, off.LSNEvents, got, len(tx)-k)
			}
			for j, i := range got {
				if i != k+j {
					t.Fatalf("%s: sealed after %d: replay delivered %v, want %d..%d", name, k, got, k, len(tx)-1)
				}
			}
		}
	}
}

// TestResumeSharedLSNResealed: a transaction resumed inside a run of
// changes sharing an LSN, then sealed again in that run, counts the
// dropped changes too, so that a second restart resumes at the right one.
func TestResumeSharedLSNResealed(t *testing.T) {
	const L = change.LSN(0x5000)
	tx := txChanges(9, L, L, L, L, L, L)
	first := sealAfter(tx, 2, 0x100)

	// The task after the first restart: it counts every change, dropped
	// or not, and seals after the fourth.
	rp := resumeFrom(first)
	var cnt lsnCounter
	var second *Offset
	for i := range tx {
		cnt.add(tx[i].LSN)
		if rp != nil {
			if rp.drop(&tx[i]) {
				continue
			}
			rp = nil
		}
		if i == 3 {
			second = &Offset{LSN: L, LSNCommit: 0x100, TxID: 9, MessageType: "INSERT", LSNEvents: cnt.at(L)}
		}
	}
	if got := replay(second, tx); len(got) != 2 || got[0] != 4 || got[1] != 5 {
		t.Fatalf("after the second restart the replay delivered %v, want [4 5]", got)
	}
}

// TestResumeLegacyOffset: an offset without pgmotion_lsn_events (from
// Debezium or an older pgmotion) may repeat the changes at its LSN, but
// never skips one.
func TestResumeLegacyOffset(t *testing.T) {
	const L1, L2 = change.LSN(0x1000), change.LSN(0x2000)
	tx := txChanges(3, L1, L2, L2, L2)
	off := &Offset{LSN: L2, LSNCommit: 0x900, TxID: 3, MessageType: "INSERT"} // sealed after change 1 or later: unknown
	got := replay(off, tx)
	if len(got) != 3 || got[0] != 1 {
		t.Fatalf("replay delivered %v, want every change at %s again: [1 2 3]", got, L2)
	}
}

// TestResumeAfterCommit: an offset sealed at a commit drops nothing. On
// PostgreSQL 17 the next transaction's first change can sit at the LSN
// where the commit ended, the offset's lsn and lsn_commit; it must be
// delivered.
func TestResumeAfterCommit(t *testing.T) {
	const end = change.LSN(0x7000)
	off := &Offset{LSN: end, LSNProc: end, LSNCommit: end, TxID: 41, MessageType: "COMMIT"}
	if rp := resumeFrom(off); rp != nil {
		t.Fatalf("an offset sealed at a commit gives a resume point %+v, want none", rp)
	}
	next := txChanges(42, end, end, end+0x10)
	if got := replay(off, next); len(got) != 3 {
		t.Fatalf("replay after a commit delivered %v, want all 3 changes of the next transaction", got)
	}
	// The same with the previous transaction's xid reused in the offset
	// (an idle offset carries the last xid): still nothing dropped.
	idle := &Offset{LSN: end, LSNCommit: end, TxID: 42, MessageType: "COMMIT"}
	if got := replay(idle, next); len(got) != 3 {
		t.Fatalf("replay after an idle offset delivered %v, want all 3", got)
	}
}

// TestResumeOtherTransaction: the resume point drops only its own
// transaction's changes, whatever their LSN.
func TestResumeOtherTransaction(t *testing.T) {
	off := &Offset{LSN: 0x9000, LSNCommit: 0x100, TxID: 5, MessageType: "UPDATE", LSNEvents: 1}
	other := txChanges(6, 0x200, 0x9000)
	if got := replay(off, other); len(got) != 2 {
		t.Fatalf("replay of another transaction delivered %v, want both changes", got)
	}
	nonTx := []change.Change{{Op: change.OpMessage, LSN: 0x200}}
	if got := replay(off, nonTx); len(got) != 1 {
		t.Fatalf("a non-transactional message was dropped")
	}
}
