package snapshot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/change"
)

func row(vals ...string) *change.Change {
	c := &change.Change{Op: change.OpRead}
	for _, v := range vals {
		c.After = append(c.After, text(v))
	}
	return c
}

func key(t *testing.T, r change.Tuple, cols ...int) string {
	t.Helper()
	k, ok := rowKey(nil, r, cols)
	if !ok {
		t.Fatalf("no key in %v", r)
	}
	return string(k)
}

func TestWindow(t *testing.T) {
	var w window
	w.reset()
	rows := []*change.Change{row("1", "a"), row("2", "b"), row("3", "c")}
	for _, r := range rows {
		w.add(key(t, r.After, 0), r)
	}
	if w.live != 3 {
		t.Fatalf("live = %d", w.live)
	}
	// A streamed update of key 2 and a delete of key 3 supersede them; a
	// key outside the window changes nothing.
	if !w.evict(key(t, change.Tuple{text("2"), text("B")}, 0)) {
		t.Error("key 2 not evicted")
	}
	if w.evict(key(t, change.Tuple{text("2"), text("B")}, 0)) {
		t.Error("key 2 evicted twice")
	}
	if w.evict(key(t, change.Tuple{text("9"), text("z")}, 0)) {
		t.Error("key 9 evicted")
	}
	w.evict(key(t, change.Tuple{text("3"), null}, 0))
	var left []string
	for _, r := range w.rows {
		if r != nil {
			left = append(left, string(r.After[1].Data))
		}
	}
	if strings.Join(left, ",") != "a" || w.live != 1 {
		t.Errorf("left %v, live %d", left, w.live)
	}
	w.reset()
	if len(w.rows) != 0 || w.live != 0 || len(w.index) != 0 {
		t.Errorf("reset left %+v", w)
	}
}

func TestRowKey(t *testing.T) {
	// Values are length-prefixed: ("ab","c") and ("a","bc") differ, and so
	// do NULL and the empty string.
	a := key(t, change.Tuple{text("ab"), text("c")}, 0, 1)
	b := key(t, change.Tuple{text("a"), text("bc")}, 0, 1)
	if a == b {
		t.Error("(ab,c) and (a,bc) share a key")
	}
	if key(t, change.Tuple{null}, 0) == key(t, change.Tuple{text("")}, 0) {
		t.Error("NULL and '' share a key")
	}
	// The column order is the key's, not the tuple's.
	if key(t, change.Tuple{text("x"), text("y")}, 1, 0) != key(t, change.Tuple{text("y"), text("x")}, 0, 1) {
		t.Error("key order ignored")
	}
	if _, ok := rowKey(nil, change.Tuple{{Kind: change.KindUnchangedToast}}, []int{0}); ok {
		t.Error("an unchanged TOAST value gave a key")
	}
	if _, ok := rowKey(nil, change.Tuple{text("x")}, []int{3}); ok {
		t.Error("a short tuple gave a key")
	}
}

func TestExtendXid(t *testing.T) {
	const epoch = uint64(3) << 32
	for _, tc := range []struct {
		xid  uint32
		ref  uint64
		want uint64
	}{
		{100, 90, 100},
		{100, epoch + 90, epoch + 100},
		{80, epoch + 90, epoch + 80},
		// Around a wraparound of the 32-bit counter.
		{5, epoch + 0xFFFFFFF0, epoch + 1<<32 + 5},
		{0xFFFFFFF0, epoch + 1<<32 + 5, epoch + 0xFFFFFFF0},
		{0xFFFFFFF0, 5, 0xFFFFFFF0},
	} {
		if got := extendXid(tc.xid, tc.ref); got != tc.want {
			t.Errorf("extendXid(%d, %d) = %d, want %d", tc.xid, tc.ref, got, tc.want)
		}
	}
}

func TestExpandCollections(t *testing.T) {
	tables := []string{"inventory.orders", "public.colors", "public.sizes", "public.t1", "public.t2"}
	for _, tc := range []struct {
		patterns         []string
		matched, missing string
	}{
		{[]string{"public.colors"}, "public.colors", ""},
		{[]string{`public\.t.*`, "public.t1"}, "public.t1,public.t2", ""},
		{[]string{"public.*"}, "public.colors,public.sizes,public.t1,public.t2", ""},
		// Anchored: a name matches whole, and case counts, as in Debezium.
		{[]string{"public.t", "PUBLIC.COLORS"}, "", "public.t,PUBLIC.COLORS"},
		{[]string{"public.(bad", "inventory.orders"}, "inventory.orders", "public.(bad"},
	} {
		m, u := expandCollections(tc.patterns, tables)
		if strings.Join(m, ",") != tc.matched || strings.Join(u, ",") != tc.missing {
			t.Errorf("%q: matched %q missing %q, want %q %q", tc.patterns, m, u, tc.matched, tc.missing)
		}
	}
	if !collectionMatches("public.colors", "public.colors") || !collectionMatches(`public\..*`, "public.colors") || collectionMatches("public.c", "public.colors") {
		t.Error("collectionMatches")
	}
}

func TestParseTableName(t *testing.T) {
	for s, ok := range map[string]bool{"public.t": true, " s.t ": true, "t": false, ".t": false, "s.": false, "db.s.t": false} {
		if _, got := ParseTableName(s); got != ok {
			t.Errorf("%q: %v", s, got)
		}
	}
}

func TestWatermarkData(t *testing.T) {
	inc := &Incremental{state: incState{colls: []incCollection{{ID: "public.t", CorrelationID: "ad-hoc-1"}}}}
	open := time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC)
	got := inc.watermarkData(open, time.Time{}, "public.t")
	want := `{"openWindowTimestamp": "2026-03-01T10:00:00.123456Z", "correlationId": "ad-hoc-1", "dataCollectionId": "public.t"}`
	if got != want {
		t.Errorf("open:\n%s\nwant\n%s", got, want)
	}
	got = inc.watermarkData(open, open.Add(time.Second), "public.t")
	if !strings.Contains(got, `"closeWindowTimestamp": "2026-03-01T10:00:01.123456Z"`) || !json.Valid([]byte(got)) {
		t.Errorf("close: %s", got)
	}
}

func TestNewChunkID(t *testing.T) {
	a, b := newChunkID(), newChunkID()
	if a == b || len(a) != 36 || strings.Count(a, "-") != 4 {
		t.Errorf("%q %q", a, b)
	}
}

func TestPassedHigh(t *testing.T) {
	const epoch = uint64(1) << 32
	inc := &Incremental{}
	inc.low.Xmin, inc.low.Xmax = epoch+100, epoch+105
	inc.high.Xmax = epoch + 110
	inc.highLSN = 5000
	for _, tc := range []struct {
		xid    uint32
		hasXid bool
		lsn    change.LSN
		want   bool
	}{
		{xid: 104, hasXid: true, lsn: 100, want: false},
		{xid: 110, hasXid: true, lsn: 100, want: false},
		{xid: 111, hasXid: true, lsn: 100, want: true},
		{xid: 104, hasXid: true, lsn: 5000, want: true},
		{xid: 200, hasXid: false, lsn: 100, want: false},
	} {
		c := &change.Change{Xid: tc.xid, HasXid: tc.hasXid, LSN: tc.lsn}
		if got := inc.passedHigh(c); got != tc.want {
			t.Errorf("xid %d lsn %d: %v", tc.xid, tc.lsn, got)
		}
	}
}
