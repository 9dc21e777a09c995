package record

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// SlabSize is the size of a pooled slab.
const SlabSize = 256 << 10

// Slab is a buffer that an encoder carves record keys and values from,
// counted so that it can be reused once no record in it is in flight
// instead of being left to the garbage collector: keys and values are
// nearly all the memory a connector allocates, and a slab reused is a
// slab the collector neither scans nor frees, nor the kernel pages in
// afresh.
//
// Its count holds one reference for the encoder while the encoder carves
// from it or may still hand out records carved from it, and one per
// record the producer holds (Retain on produce, Release on
// acknowledgement). The last Release puts it back in the pool. A record
// that is dropped instead of produced simply leaves its slab to the
// garbage collector. Code that keeps a record's bytes beyond the
// producer's acknowledgement (to produce it again, say) must Retain its
// slab for as long, and Release it after.
type Slab struct {
	buf  []byte
	refs atomic.Int32
}

// slabs is the pool of free slabs: a list rather than a sync.Pool, so
// that what it holds is neither dropped at every collection, while a
// connector drains a backlog, nor kept by the process forever after (a
// sync.Pool's objects are live until collections come, and once a burst
// is over few come): TrimSlabs gives back what stayed unused.
var slabs struct {
	sync.Mutex
	free []*Slab
	low  int // the fewest free since the last TrimSlabs
}

// maxFreeSlabs bounds the free list: 64 MiB.
const maxFreeSlabs = 256

// GetSlab returns an empty slab from the pool, with one reference: the
// caller's.
func GetSlab() *Slab {
	slabs.Lock()
	var s *Slab
	if n := len(slabs.free); n > 0 {
		s = slabs.free[n-1]
		slabs.free[n-1] = nil
		slabs.free = slabs.free[:n-1]
		slabs.low = min(slabs.low, n-1)
	}
	slabs.Unlock()
	if s == nil {
		s = &Slab{buf: make([]byte, 0, SlabSize)}
	}
	s.refs.Store(1)
	return s
}

func putSlab(s *Slab) {
	slabs.Lock()
	if len(slabs.free) < maxFreeSlabs {
		slabs.free = append(slabs.free, s)
	}
	slabs.Unlock()
}

// TrimSlabs drops free slabs, to the garbage collector, and returns
// their bytes: with all, every free slab (a burst is over); otherwise
// those that stayed free since the last call, as many as the free list
// never went below, since what was not taken in that time is not needed
// at the pace records now go.
func TrimSlabs(all bool) (bytes int64) {
	slabs.Lock()
	defer slabs.Unlock()
	n := slabs.low
	if all {
		n = len(slabs.free)
	}
	for i := range n {
		slabs.free[i] = nil
	}
	slabs.free = append(slabs.free[:0], slabs.free[n:]...)
	slabs.low = len(slabs.free)
	return int64(n) * SlabSize
}

// Buf returns the slab's memory, empty, with SlabSize bytes of capacity.
func (s *Slab) Buf() []byte { return s.buf[:0] }

// Holds reports whether b lies in the slab's memory.
func (s *Slab) Holds(b []byte) bool {
	if cap(b) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	base := uintptr(unsafe.Pointer(unsafe.SliceData(s.buf)))
	return p >= base && p < base+uintptr(cap(s.buf))
}

// Retain adds a reference.
func (s *Slab) Retain() { s.refs.Add(1) }

// Release drops a reference; the last one returns the slab to the pool.
// A count that goes below zero, which only a Release without its Retain
// could cause, leaves the slab to the garbage collector.
func (s *Slab) Release() {
	if s.refs.Add(-1) == 0 {
		putSlab(s)
	}
}

// Refs returns the slab's count of references, for tests.
func (s *Slab) Refs() int32 { return s.refs.Load() }
