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

var slabs = sync.Pool{New: func() any { return &Slab{buf: make([]byte, 0, SlabSize)} }}

// GetSlab returns an empty slab from the pool, with one reference: the
// caller's.
func GetSlab() *Slab {
	s := slabs.Get().(*Slab)
	s.refs.Store(1)
	return s
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
		slabs.Put(s)
	}
}

// Refs returns the slab's count of references, for tests.
func (s *Slab) Refs() int32 { return s.refs.Load() }
