package snapshot

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/pgsource"
)

// window holds the rows of the chunk in flight, keyed by their event key,
// in key order.
type window struct {
	rows  []*change.Change // nil once removed
	index map[string]int
	live  int
}

func (w *window) reset() {
	clear(w.rows)
	w.rows = w.rows[:0]
	if w.index == nil {
		w.index = map[string]int{}
	}
	clear(w.index)
	w.live = 0
}

// add appends a row; a row whose key is already present replaces it.
func (w *window) add(key string, c *change.Change) {
	if w.index == nil {
		w.index = map[string]int{}
	}
	if i, ok := w.index[key]; ok {
		if w.rows[i] == nil {
			w.live++
		}
		w.rows[i] = c
		return
	}
	w.index[key] = len(w.rows)
	w.rows = append(w.rows, c)
	w.live++
}

// evict removes the row with key, reporting whether there was one.
func (w *window) evict(key string) bool {
	i, ok := w.index[key]
	if !ok || w.rows[i] == nil {
		return false
	}
	w.rows[i] = nil
	w.live--
	return true
}

// rowKey appends the identity of a row, the values of cols, to buf: each
// value as its kind, its length and its bytes. ok is false when a column
// is missing from the row (an unchanged TOAST value, a short tuple).
func rowKey(buf []byte, row change.Tuple, cols []int) ([]byte, bool) {
	for _, c := range cols {
		if c >= len(row) {
			return buf, false
		}
		v := row[c]
		if v.Kind == change.KindUnchangedToast {
			return buf, false
		}
		buf = append(buf, byte(v.Kind))
		buf = binary.AppendUvarint(buf, uint64(len(v.Data)))
		buf = append(buf, v.Data...)
	}
	return buf, true
}

// extendXid turns a 32-bit xid from the stream into the 64-bit form
// pg_current_snapshot() uses, taking the epoch nearest to ref.
func extendXid(xid uint32, ref uint64) uint64 {
	full := ref&^0xFFFFFFFF | uint64(xid)
	switch {
	case full > ref && full-ref > 1<<31 && full >= 1<<32:
		full -= 1 << 32
	case full < ref && ref-full > 1<<31:
		full += 1 << 32
	}
	return full
}

// expandCollections matches the data-collections of a signal against the
// tables (schema.table): each entry is a regular expression on the whole
// name, as in Debezium (whose plain names are expressions too). Entries
// matching nothing are returned apart, in order.
func expandCollections(patterns, tables []string) (matched, unmatched []string) {
	seen := map[string]bool{}
	for _, p := range patterns {
		re, err := regexp.Compile(`^(?:` + p + `)$`)
		n := 0
		for _, t := range tables {
			if (err == nil && re.MatchString(t)) || t == p {
				n++
				if !seen[t] {
					seen[t] = true
					matched = append(matched, t)
				}
			}
		}
		if n == 0 {
			unmatched = append(unmatched, p)
		}
	}
	return matched, unmatched
}

// collectionMatches reports whether a stop-snapshot entry names id.
func collectionMatches(pattern, id string) bool {
	if pattern == id {
		return true
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	return err == nil && re.MatchString(id)
}

// ParseTableName splits schema.table.
func ParseTableName(s string) (pgsource.TableName, bool) {
	schema, table, ok := strings.Cut(strings.TrimSpace(s), ".")
	if !ok || schema == "" || table == "" || strings.Contains(table, ".") {
		return pgsource.TableName{}, false
	}
	return pgsource.TableName{Schema: schema, Name: table}, true
}

func newChunkID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
