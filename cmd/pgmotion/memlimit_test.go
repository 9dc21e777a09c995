package main

import (
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestReserveMemoryRaisesTheSoftLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	prev := debug.SetMemoryLimit(baseMemoryLimit)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })

	limit := func() int64 { return debug.SetMemoryLimit(-1) }
	r1 := reserveMemory(64 << 20)
	r2 := reserveMemory(512 << 20)
	if got, want := limit(), int64(baseMemoryLimit+64<<20+512<<20); got != want {
		t.Fatalf("limit with two reservations = %d, want %d", got, want)
	}
	r2()
	r2() // a second release gives nothing back twice
	if got, want := limit(), int64(baseMemoryLimit+64<<20); got != want {
		t.Fatalf("limit after releasing one = %d, want %d", got, want)
	}
	r1()
	if got := limit(); got != baseMemoryLimit {
		t.Fatalf("limit after releasing both = %d, want %d", got, baseMemoryLimit)
	}
	reserveMemory(0)()
	if got := limit(); got != baseMemoryLimit {
		t.Fatalf("a zero reservation moved the limit to %d", got)
	}
}

func TestReserveMemoryLeavesGOMEMLIMIT(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "1GiB")
	prev := debug.SetMemoryLimit(1 << 30)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	release := reserveMemory(256 << 20)
	if got := debug.SetMemoryLimit(-1); got != 1<<30 {
		t.Fatalf("limit = %d with GOMEMLIMIT set, want it untouched", got)
	}
	release()
}

// burst holds TestGiveBackReturnsGarbage's buffers while they are live.
var burst [][]byte

// TestGiveBackReturnsGarbage checks that memory the heap keeps beyond what
// is live, once a burst is over, goes back to the kernel, and that a heap
// holding little beyond its live data is left alone.
func TestGiveBackReturnsGarbage(t *testing.T) {
	debug.FreeOSMemory()
	// No collection may come during the burst and free it first.
	prev := debug.SetGCPercent(-1)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	var g giveBacker
	g.look() // the first look counts all allocations so far
	if g.look() {
		t.Fatal("returned memory from a heap that was just collected")
	}
	// What the heap keeps from the kernel: objects, dead or alive,
	// fragments, and free pages not yet returned.
	kept := func() uint64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"},
			{Name: "/memory/classes/heap/free:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64() + s[1].Value.Uint64() + s[2].Value.Uint64()
	}
	// A burst: 64 MiB of short-lived buffers, garbage once it is over.
	for range 256 {
		burst = append(burst, make([]byte, 256<<10))
	}
	if g.look() {
		t.Fatal("returned memory in the middle of a burst")
	}
	burst = nil
	before := kept()
	if !g.look() {
		t.Fatal("kept the garbage of a 64 MiB burst once it was over")
	}
	if after := kept(); after+32<<20 > before {
		t.Fatalf("the heap keeps %d bytes after giving back, %d before: the garbage was not returned", after, before)
	}
}
