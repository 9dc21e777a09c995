package pipeline

import (
	"sync"
	"sync/atomic"
	"time"
)

// coarseClock is a clock read from memory, refreshed every resolution by
// a goroutine: on machines without a fast clock source time.Now costs
// about 130 ns, which a snapshot would otherwise pay for every row.
type coarseClock struct {
	ns   atomic.Int64
	stop chan struct{}
	wg   sync.WaitGroup
}

// newCoarseClock starts a clock that moves every resolution; Close stops
// it.
func newCoarseClock(resolution time.Duration) *coarseClock {
	c := &coarseClock{stop: make(chan struct{})}
	c.ns.Store(time.Now().UnixNano())
	c.wg.Go(func() {
		tick := time.NewTicker(resolution)
		defer tick.Stop()
		for {
			select {
			case <-c.stop:
				return
			case now := <-tick.C:
				c.ns.Store(now.UnixNano())
			}
		}
	})
	return c
}

// Now returns the time of the last tick.
func (c *coarseClock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// Close stops the clock; Now keeps returning its last reading.
func (c *coarseClock) Close() {
	close(c.stop)
	c.wg.Wait()
}
