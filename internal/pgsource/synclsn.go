package pgsource

import (
	"sync/atomic"

	"github.com/pgmotion/pgmotion/internal/change"
)

// syncLSN is an LSN that only moves forward, safe for concurrent use.
type syncLSN struct{ v atomic.Uint64 }

func (s *syncLSN) load() change.LSN { return change.LSN(s.v.Load()) }

func (s *syncLSN) advance(l change.LSN) {
	for {
		cur := s.v.Load()
		if uint64(l) <= cur || s.v.CompareAndSwap(cur, uint64(l)) {
			return
		}
	}
}
