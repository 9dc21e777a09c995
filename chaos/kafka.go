package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newClient returns a client of the broker at addr; readCommitted makes
// its fetches skip aborted and open transactions.
func newClient(addr string, readCommitted bool, opts ...kgo.Opt) (*kgo.Client, error) {
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.ClientID("pgmotion-chaos"),
		// Metadata answers come from a cache up to MetadataMinAge old,
		// which would hide the topic for seconds after the worker
		// creates it.
		kgo.MetadataMinAge(100 * time.Millisecond),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, opts...)
	if readCommitted {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client for %s: %w", addr, err)
	}
	return cl, nil
}

// watcher follows the table's topic as it is written, to tell when events
// flow again after a fault and when the stream has caught up with the
// table. It is owned by the goroutine running run, except for the atomic
// fields and the methods that lock mu.
type watcher struct {
	cl     *kgo.Client
	maxTs  atomic.Int64 // the newest source.ts_ms seen
	events atomic.Int64
	plain  atomic.Int64 // events written outside a producer transaction

	mu     sync.Mutex
	maxSeq map[int64]int64 // key → the highest change number seen
}

func newWatcher(addr string, readCommitted bool) (*watcher, error) {
	cl, err := newClient(addr, readCommitted, kgo.ConsumeTopics(topic))
	if err != nil {
		return nil, err
	}
	return &watcher{cl: cl, maxSeq: map[int64]int64{}}, nil
}

func (w *watcher) run(ctx context.Context) {
	for ctx.Err() == nil {
		fs := w.cl.PollFetches(ctx)
		w.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			e, err := parseEvent(r.Key, r.Value)
			if err != nil || e.op == 0 {
				return
			}
			w.events.Add(1)
			if !r.Attrs.IsTransactional() {
				w.plain.Add(1)
			}
			if e.tsMs > w.maxTs.Load() {
				w.maxTs.Store(e.tsMs)
			}
			w.maxSeq[e.id] = max(w.maxSeq[e.id], e.seq)
		})
		w.mu.Unlock()
	}
}

func (w *watcher) close() { w.cl.Close() }

// behind returns how many keys have changes the watcher has not seen.
func (w *watcher) behind(table map[int64]row) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for id, r := range table {
		if w.maxSeq[id] < r.last {
			n++
		}
	}
	return n
}

// readAll reads every data topic of the connector (those named
// topicPrefix.schema.table) from the start to its end, the last stable
// offset for a read_committed reader, and returns the table's events in
// the order each partition holds them.
func readAll(ctx context.Context, addr string, readCommitted bool) ([]event, []error, error) {
	adm, err := newClient(addr, false)
	if err != nil {
		return nil, nil, err
	}
	defer adm.Close()
	ka := kadm.NewClient(adm)
	topics, err := ka.ListTopics(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list topics: %w", err)
	}
	var names []string
	for _, t := range topics.Names() {
		if strings.HasPrefix(t, topicPrefix+".") && strings.Count(t, ".") == 2 {
			names = append(names, t)
		}
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("no topic named %s.*.* on the broker: nothing was delivered", topicPrefix)
	}
	var ends kadm.ListedOffsets
	if readCommitted {
		ends, err = ka.ListCommittedOffsets(ctx, names...)
	} else {
		ends, err = ka.ListEndOffsets(ctx, names...)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list end offsets: %w", err)
	}
	want := map[string]map[int32]int64{} // topic → partition → the offset to reach
	left := 0
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset > 0 {
			if want[o.Topic] == nil {
				want[o.Topic] = map[int32]int64{}
			}
			want[o.Topic][o.Partition] = o.Offset
			left++
		}
	})
	// Control records (transaction markers) are kept so that the reader
	// sees the offsets up to the end even when a transaction marker is
	// the last record.
	cl, err := newClient(addr, readCommitted, kgo.ConsumeTopics(names...), kgo.KeepControlRecords())
	if err != nil {
		return nil, nil, err
	}
	defer cl.Close()
	var events []event
	var errs []error
	deadline := time.Now().Add(2 * time.Minute)
	for left > 0 {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if time.Now().After(deadline) {
			return events, errs, fmt.Errorf("reading the topics did not reach their end offsets within 2 minutes (%d partitions short)", left)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := want[r.Topic][r.Partition]; ok && r.Offset+1 >= end {
				delete(want[r.Topic], r.Partition)
				left--
			}
			if r.Attrs.IsControl() || r.Topic != topic {
				return
			}
			e, err := parseEvent(r.Key, r.Value)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err))
				return
			}
			e.transactional = r.Attrs.IsTransactional()
			events = append(events, e)
		})
	}
	return events, errs, nil
}
