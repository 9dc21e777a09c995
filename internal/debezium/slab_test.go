package debezium

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/record"
)

// TestRecycledSlabsKeepInFlightRecords encodes many rows with pooled
// slabs while a simulated producer holds a window of records, retained as
// kafkasink retains them, and releases them late and out of order: every
// record must still read as it did when it was encoded, and the encoder
// must have reused slabs (otherwise the test proves nothing).
func TestRecycledSlabsKeepInFlightRecords(t *testing.T) {
	plain := newTestEncoder(t, nil)
	e := newTestEncoder(t, nil)
	e.RecycleSlabs()
	rel := benchRelation()
	type held struct {
		rec        record.Record
		key, value []byte // copies, to compare with
	}
	var window []held
	release := func(h held) {
		if !bytes.Equal(h.rec.Key, h.key) || !bytes.Equal(h.rec.Value, h.value) {
			t.Fatalf("a record in flight changed:\n got %s\nwant %s", h.rec.Value, h.value)
		}
		if h.rec.Slab != nil {
			h.rec.Slab.Release()
		}
	}
	seen := map[*record.Slab]int{}
	var stamped, swaps int
	var last *record.Slab
	for i := range 20000 {
		// Rows of varying size, now and then one larger than a slab's
		// remaining room, so that the slab grows by append.
		note := strings.Repeat("x", i%97)
		if i%2500 == 0 {
			note = strings.Repeat("y", record.SlabSize/3)
		}
		c := streamed(change.OpCreate, rel, nil, change.Tuple{
			txt(fmt.Sprint(i)), txt("alice@example.com"), txt("19.95"), txt("2025-02-22 09:57:48.51736+00"), txt("t"), txt(note),
		})
		recs, err := e.Encode(nil, c)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.Encode(nil, c)
		if err != nil {
			t.Fatal(err)
		}
		for j, r := range recs {
			if !bytes.Equal(r.Value, want[j].Value) || !bytes.Equal(r.Key, want[j].Key) {
				t.Fatalf("row %d: recycled encoder's record differs from the plain one's", i)
			}
			if r.Slab != nil {
				r.Slab.Retain() // the producer's reference
				seen[r.Slab]++
				stamped++
				if r.Slab != last {
					swaps++
					last = r.Slab
				}
			}
			window = append(window, held{r, bytes.Clone(r.Key), bytes.Clone(r.Value)})
		}
		e.Handed()
		// Acknowledge in bursts, the older half of the window, newest
		// first within it.
		if len(window) > 3000 {
			half := window[:1500]
			for k := len(half) - 1; k >= 0; k-- {
				release(half[k])
			}
			window = append(window[:0], window[1500:]...)
		}
	}
	for _, h := range window {
		release(h)
	}
	if stamped == 0 {
		t.Fatal("no record was carved from a pooled slab")
	}
	if swaps < 10 {
		t.Fatalf("the encoder moved to a new slab %d times: the test did not cross slabs", swaps)
	}
	if len(seen) > swaps/2 {
		t.Errorf("%d distinct slabs for %d slab changes: slabs were not reused", len(seen), swaps)
	}
}

// TestNoRecycleWithoutCall checks that an encoder leaves records
// unmarked unless told to recycle, as a connector with transforms needs.
func TestNoRecycleWithoutCall(t *testing.T) {
	e := newTestEncoder(t, nil)
	recs, err := e.Encode(nil, streamed(change.OpCreate, benchRelation(), nil, change.Tuple{
		txt("1"), txt("a"), txt("1.00"), txt("2025-02-22 09:57:48.51736+00"), txt("t"), txt("n"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].Slab != nil {
		t.Fatal("a record carries a slab though the encoder does not recycle")
	}
}

// With a transformation chain the encoder does not recycle slabs, whoever
// asks: the chain builds records of its own.
func TestRecycleSlabsIgnoredWithChain(t *testing.T) {
	e := newTestEncoder(t, func(o *Options) { o.Transforms = &keepChain{key: true, value: true} })
	e.RecycleSlabs()
	if e.recycle {
		t.Fatal("RecycleSlabs turned recycling on for an encoder with a transformation chain")
	}
	plain := newTestEncoder(t, nil)
	plain.RecycleSlabs()
	if !plain.recycle {
		t.Fatal("RecycleSlabs did not turn recycling on for an encoder without a chain")
	}
}
