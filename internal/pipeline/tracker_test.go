package pipeline

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
)

func TestTrackerConfirmsOnlyBehindAcknowledged(t *testing.T) {
	tr := newTracker()
	// Three transactions of two records each, acknowledged out of order
	// as they would be across partitions.
	var recs []*batch
	for i := 1; i <= 3; i++ {
		b := tr.current()
		b.pending.Add(2)
		recs = append(recs, b, b)
		tr.seal(Offset{LSNCommit: change.LSN(i * 100), MessageType: "COMMIT"})
	}
	steps := []struct {
		ack  int // index into recs
		want change.LSN
	}{
		{5, 0},   // last txn half done
		{2, 0},   // second txn half done
		{0, 0},   // first txn half done
		{3, 0},   // second done, first not
		{1, 200}, // first done → first and second confirmable
		{4, 300},
	}
	var got change.LSN
	for _, s := range steps {
		recs[s.ack].Ack(nil)
		if off, ok := tr.advance(); ok {
			got = off.LSNCommit
		}
		if got != s.want {
			t.Fatalf("after ack %d: confirmed %d, want %d", s.ack, got, s.want)
		}
	}
	if _, ok := tr.advance(); ok {
		t.Fatal("advance after everything: want nothing new")
	}
}

func TestTrackerOpenBatchHoldsBack(t *testing.T) {
	tr := newTracker()
	b := tr.current()
	b.pending.Add(1)
	b.Ack(nil)
	if _, ok := tr.advance(); ok {
		t.Fatal("an unsealed batch must not be confirmed")
	}
	tr.seal(Offset{LSNCommit: 7})
	if off, ok := tr.advance(); !ok || off.LSNCommit != 7 {
		t.Fatalf("advance = %v %v, want 7", off, ok)
	}
	// An idle point with no records completes as soon as it is sealed.
	tr.seal(Offset{LSNCommit: 9})
	if off, ok := tr.advance(); !ok || off.LSNCommit != 9 {
		t.Fatalf("idle advance = %v %v, want 9", off, ok)
	}
}

func TestTrackerFailure(t *testing.T) {
	tr := newTracker()
	b := tr.current()
	b.pending.Add(2)
	boom := errors.New("boom")
	b.Ack(boom)
	b.Ack(errors.New("second"))
	if !errors.Is(tr.Err(), boom) {
		t.Fatalf("Err = %v, want the first failure", tr.Err())
	}
	select {
	case <-tr.failed:
	default:
		t.Fatal("failed channel not closed")
	}
}

func TestTrackerCompacts(t *testing.T) {
	tr := newTracker()
	for i := 1; i <= 5000; i++ {
		tr.seal(Offset{LSNCommit: change.LSN(i)})
		if off, ok := tr.advance(); !ok || off.LSNCommit != change.LSN(i) {
			t.Fatalf("step %d: %v %v", i, off, ok)
		}
	}
	if len(tr.queue) > 2048 {
		t.Fatalf("queue grew to %d entries", len(tr.queue))
	}
}

func TestOffsetJSON(t *testing.T) {
	o := Offset{LSN: 37051152, LSNProc: 37051152, LSNCommit: 36989040, TxID: 1007, TsUsec: 1767208115470483, MessageType: "INSERT"}
	b, _ := o.MarshalJSON()
	want := `{"lsn_proc":37051152,"messageType":"INSERT","lsn_commit":36989040,"lsn":37051152,"txId":1007,"ts_usec":1767208115470483}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	for _, in := range []string{
		`{"lsn":10,"snapshot":true,"last_snapshot_record":false}`,
		`{"lsn":10,"snapshot":"INITIAL","last_snapshot_record":false}`,
	} {
		var back Offset
		if err := json.Unmarshal([]byte(in), &back); err != nil {
			t.Fatal(err)
		}
		if back.SnapshotDone() || back.ConfirmLSN() != 0 {
			t.Errorf("%s: snapshot should be in progress", in)
		}
	}
	var done Offset
	if err := json.Unmarshal([]byte(want), &done); err != nil || !done.SnapshotDone() || done.ResumeLSN() != 36989040 {
		t.Fatalf("streaming offset: %v %+v", err, done)
	}
	if got := string(OffsetKey("inventory-connector", "dbserver1")); got != `["inventory-connector",{"server":"dbserver1"}]` {
		t.Errorf("key %s", got)
	}
}
