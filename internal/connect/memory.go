package connect

import (
	"sync"
	"sync/atomic"
)

// memStep is the granularity of a task's reservations of the process's
// memory limit: the limit moves only when what the task holds crosses a
// step, not with every buffer chunk or cached TOAST value (moving it stops
// the world).
const memStep = 8 << 20

// memAccount follows the memory a task's buffers hold (the streamed-
// transaction buffers and the TOAST cache) and reserves it from the
// process's memory limit (WorkerConfig.ReserveMemory) in steps of memStep,
// rounded up: a connector streaming small transactions reserves nothing,
// one buffering a large transaction reserves what it buffers, and gives it
// back as the buffer empties. A step is given back only once the held
// bytes are two steps below what is reserved, so that a buffer that
// fills and empties around a step does not move the limit each time.
type memAccount struct {
	reserve func(int64) (release func())

	held     atomic.Int64
	reserved atomic.Int64
	mu       sync.Mutex
	releases []func() // one per step reserved
}

func newMemAccount(reserve func(int64) (release func())) *memAccount {
	return &memAccount{reserve: reserve}
}

// add records a change of d bytes in what the task holds. It is cheap
// unless a step is crossed, and safe for concurrent use.
func (a *memAccount) add(d int64) {
	h := a.held.Add(d)
	if r := a.reserved.Load(); h > r || h+2*memStep <= r {
		a.adjust()
	}
}

func (a *memAccount) adjust() {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := max(a.held.Load(), 0)
	want := (h + memStep - 1) / memStep // steps that cover h
	have := int64(len(a.releases))
	switch {
	case want > have:
		for range want - have {
			a.releases = append(a.releases, a.reserve(memStep))
		}
	case want+1 < have:
		// Keep one step above what is held.
		for len(a.releases) > int(want+1) {
			n := len(a.releases) - 1
			a.releases[n]()
			a.releases = a.releases[:n]
		}
	}
	a.reserved.Store(int64(len(a.releases)) * memStep)
}

// close gives back everything reserved.
func (a *memAccount) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.releases) - 1; i >= 0; i-- {
		a.releases[i]()
	}
	a.releases = nil
	a.reserved.Store(0)
}
