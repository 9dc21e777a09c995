package record

import "testing"

// TestTrimSlabsDropsWhatStayedFree checks the free list: slabs come back
// to it on their last release, and TrimSlabs gives back exactly those
// that nobody took since the previous trim.
func TestTrimSlabsDropsWhatStayedFree(t *testing.T) {
	TrimSlabs(false)
	TrimSlabs(false) // nothing left from other tests
	var got []*Slab
	for range 6 {
		got = append(got, GetSlab())
	}
	for _, s := range got {
		s.Retain()
		s.Release()
		if s.Refs() != 1 {
			t.Fatalf("refs %d after a retain and a release, want 1", s.Refs())
		}
		s.Release() // the last: back to the free list
	}
	if b := TrimSlabs(false); b != 0 {
		t.Fatalf("the first trim after use dropped %d bytes: slabs were in use since the last", b)
	}
	// Two of the six are taken again, four stay free for a whole period.
	a, b := GetSlab(), GetSlab()
	if a != got[5] || b != got[4] {
		t.Error("the free list did not hand back the slabs released last")
	}
	if n := TrimSlabs(false); n != 4*SlabSize {
		t.Fatalf("trimmed %d bytes, want the 4 slabs that stayed free (%d)", n, 4*SlabSize)
	}
	a.Release()
	b.Release()
	if n := TrimSlabs(false); n != 0 {
		t.Fatalf("trimmed %d bytes right after two came back", n)
	}
	if n := TrimSlabs(false); n != 2*SlabSize {
		t.Fatalf("trimmed %d bytes, want the 2 that stayed free since", n)
	}
	GetSlab().Release()
	if n := TrimSlabs(true); n != SlabSize {
		t.Fatalf("trimmed %d bytes of all the free slabs, want the one", n)
	}
}
