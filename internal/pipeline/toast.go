package pipeline

import (
	"container/list"
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/pgsource"
)

// TOAST fill modes (pgmotion.toast.fill).
const (
	ToastFillNone    = options.ToastFillNone
	ToastFillCache   = options.ToastFillCache
	ToastFillRefetch = options.ToastFillRefetch
)

// toastMinBytes is the smallest value the cache keeps: PostgreSQL moves a
// value out of line (and then leaves it out of an UPDATE's new row) only
// when the row is larger than about 2 kB.
const toastMinBytes = 1024

// toastFiller replaces the unchanged-TOAST placeholders of updates with the
// real values. Debezium emits __debezium_unavailable_value for them; that
// stays the default (pgmotion.toast.fill=none).
//
//   - cache keeps the large values of the rows this worker has seen, up to
//     maxBytes, and fills from them: the value is exactly the one the row
//     had at this point of the WAL, since every change of the row passes
//     through here first. A row not seen since the worker started (or
//     evicted) keeps the placeholder.
//   - refetch also reads a missing value from the table by key. That value
//     is the row's current one, which may be newer than the event (a later
//     change of that column will follow in the stream); a row deleted since
//     keeps the placeholder.
//
// It belongs to the streaming goroutine.
type toastFiller struct {
	mode     string
	maxBytes int64
	src      *pgsource.Source
	log      *slog.Logger

	bytes int64
	// held, if not nil, is told each change of bytes.
	held  func(delta int64)
	lru   *list.List // of *toastEntry, most recent first
	byKey map[string]*list.Element
	key   []byte // scratch
	// Counters for the log and tests.
	filled, missed int64
}

type toastEntry struct {
	key  string
	vals map[int][]byte // column index → value
	size int64
	cols int // len(rel.Columns) when cached: a new Relation invalidates
}

func newToastFiller(mode string, maxBytes int64, src *pgsource.Source, held func(int64), log *slog.Logger) *toastFiller {
	if mode == "" || mode == ToastFillNone {
		return nil
	}
	return &toastFiller{mode: mode, maxBytes: maxBytes, src: src, log: log, lru: list.New(), byKey: map[string]*list.Element{}, held: held}
}

// rowKey builds the cache key of c's row from its new values: relation id
// and key columns. ok is false when the row has no usable key.
func (f *toastFiller) rowKey(c *change.Change, t change.Tuple) (string, bool) {
	rel := c.Rel
	if len(rel.Key) == 0 || t == nil {
		return "", false
	}
	f.key = strconv.AppendUint(f.key[:0], uint64(rel.ID), 10)
	for _, k := range rel.Key {
		v := t[k]
		if v.Kind != change.KindText {
			return "", false
		}
		f.key = append(f.key, 0)
		f.key = strconv.AppendInt(f.key, int64(len(v.Data)), 10)
		f.key = append(f.key, ':')
		f.key = append(f.key, v.Data...)
	}
	return string(f.key), true
}

// fill replaces the placeholders of c's new row, as far as it can.
func (f *toastFiller) fill(ctx context.Context, c *change.Change) error {
	if c.Op != change.OpUpdate {
		return nil
	}
	missing := 0
	for _, v := range c.After {
		if v.Kind == change.KindUnchangedToast {
			missing++
		}
	}
	if missing == 0 {
		return nil
	}
	if k, ok := f.rowKey(c, c.After); ok {
		if el, ok := f.byKey[k]; ok {
			e := el.Value.(*toastEntry)
			if e.cols == len(c.Rel.Columns) {
				f.lru.MoveToFront(el)
				for i, v := range c.After {
					if d, ok := e.vals[i]; ok && v.Kind == change.KindUnchangedToast {
						c.After[i] = change.Value{Kind: change.KindText, Data: d}
						missing--
					}
				}
			}
		}
	}
	if missing > 0 && f.mode == ToastFillRefetch {
		key := make([][]byte, len(c.Rel.Key))
		for i, k := range c.Rel.Key {
			key[i] = c.After[k].Data
		}
		row, err := f.src.FetchRow(ctx, c.Rel, key)
		if err != nil {
			return fmt.Errorf("pgmotion.toast.fill=refetch: %w", err)
		}
		if row != nil && len(row) == len(c.After) {
			for i, v := range c.After {
				if v.Kind == change.KindUnchangedToast && row[i] != nil {
					c.After[i] = change.Value{Kind: change.KindText, Data: row[i]}
					missing--
				}
			}
		}
	}
	if missing > 0 {
		f.missed += int64(missing)
		f.log.Debug("unchanged TOAST value not known; the placeholder goes out", "table", c.Rel.QualifiedName(), "columns", missing, "mode", f.mode)
	} else {
		f.filled++
	}
	return nil
}

// observe caches the large values of c's new row, and forgets a deleted
// row. Call it after fill.
func (f *toastFiller) observe(c *change.Change) {
	if c.Op != change.OpCreate && c.Op != change.OpUpdate && c.Op != change.OpDelete {
		return
	}
	// Forget the old row: deleted, or its key may have changed. Keys are
	// built only when there is something to forget or to keep, since this
	// runs for every change.
	if c.Before != nil && len(f.byKey) > 0 {
		if k, ok := f.rowKey(c, c.Before); ok {
			f.drop(k)
		}
	}
	if c.Op == change.OpDelete {
		return
	}
	var size int64
	for _, v := range c.After {
		if v.Kind == change.KindText && len(v.Data) >= toastMinBytes {
			size += int64(len(v.Data))
		}
	}
	if size == 0 && len(f.byKey) == 0 {
		return
	}
	k, ok := f.rowKey(c, c.After)
	if !ok {
		return
	}
	f.drop(k)
	if size == 0 || size > f.maxBytes {
		return
	}
	vals := map[int][]byte{}
	for i, v := range c.After {
		if v.Kind == change.KindText && len(v.Data) >= toastMinBytes {
			vals[i] = append([]byte(nil), v.Data...)
		}
	}
	e := &toastEntry{key: k, vals: vals, size: size, cols: len(c.Rel.Columns)}
	f.byKey[k] = f.lru.PushFront(e)
	f.account(size)
	for f.bytes > f.maxBytes {
		f.drop(f.lru.Back().Value.(*toastEntry).key)
	}
}

func (f *toastFiller) drop(k string) {
	if el, ok := f.byKey[k]; ok {
		f.account(-el.Value.(*toastEntry).size)
		f.lru.Remove(el)
		delete(f.byKey, k)
	}
}

// account adds d to the bytes cached and tells held.
func (f *toastFiller) account(d int64) {
	f.bytes += d
	if f.held != nil {
		f.held(d)
	}
}
