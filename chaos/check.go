package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// event is what the checker needs of one record of the table's topic.
type event struct {
	id            int64
	op            byte   // 'c', 'u', 'd' or 'r'; 0 for a tombstone
	seq           int64  // the change's number in its key's sequence
	val           string // the row's val after the change; "" for a delete
	tsMs          int64  // source.ts_ms: the commit time
	transactional bool   // written in a producer transaction
}

// rowImage is a row of the chaos table as an event carries it.
type rowImage struct {
	ID  *int64 `json:"id"`
	Seq *int64 `json:"seq"`
	Val string `json:"val"`
}

type changeBody struct {
	Op     string    `json:"op"`
	Before *rowImage `json:"before"`
	After  *rowImage `json:"after"`
	Source struct {
		TsMs int64 `json:"ts_ms"`
	} `json:"source"`
}

// unwrap returns the payload of a JsonConverter message with schemas
// ({"schema":…,"payload":…}), or b itself.
func unwrap(b []byte) []byte {
	var env struct {
		Schema  json.RawMessage `json:"schema"`
		Payload json.RawMessage `json:"payload"`
	}
	if json.Unmarshal(b, &env) == nil && len(env.Schema) > 0 && len(env.Payload) > 0 {
		return env.Payload
	}
	return b
}

// parseEvent reads a Debezium change event of the chaos table. A delete's
// sequence number is its before image's plus one: a delete takes the next
// number of the key's sequence, and the table's REPLICA IDENTITY FULL puts
// the deleted row, with the number of the change before, in before.
func parseEvent(key, value []byte) (event, error) {
	var k rowImage
	if err := json.Unmarshal(unwrap(key), &k); err != nil || k.ID == nil {
		return event{}, fmt.Errorf("key %.80q holds no id", key)
	}
	e := event{id: *k.ID}
	if value == nil || bytes.Equal(bytes.TrimSpace(value), []byte("null")) {
		return e, nil // a tombstone
	}
	var body changeBody
	if err := json.Unmarshal(unwrap(value), &body); err != nil {
		return e, fmt.Errorf("value of key %d: %w", e.id, err)
	}
	e.tsMs = body.Source.TsMs
	switch body.Op {
	case "c", "u", "r":
		if body.After == nil || body.After.Seq == nil {
			return e, fmt.Errorf("op %s of key %d has no after.seq", body.Op, e.id)
		}
		e.op, e.seq, e.val = body.Op[0], *body.After.Seq, body.After.Val
	case "d":
		if body.Before == nil || body.Before.Seq == nil {
			return e, fmt.Errorf("delete of key %d has no before.seq (is the table's REPLICA IDENTITY FULL?)", e.id)
		}
		e.op, e.seq = 'd', *body.Before.Seq+1
	default:
		return e, fmt.Errorf("key %d: unknown op %q", e.id, body.Op)
	}
	return e, nil
}

// row is a key's state in PostgreSQL at the end of a run.
type row struct {
	last    int64  // the key's sequence counter: the number of its last change
	present bool   // the row exists (its last change was not a delete)
	seq     int64  // the row's seq column when present, which equals last
	val     string // the row's val column when present
}

// verdict is the checker's finding for one run.
type verdict struct {
	keys       int   // keys changed at least once
	changes    int64 // changes made in PostgreSQL: the sum of the keys' counters
	events     int64 // change events read, duplicates included, tombstones not
	lost       int64 // changes with no event
	duplicated int64 // events of a change already seen
	// outOfOrder counts changes whose first event came after an event of a
	// later change of the same key.
	outOfOrder int64
	// mismatched counts keys whose last event disagrees with the table.
	mismatched int64
	// unexpected counts events of changes the table does not hold: a
	// number beyond the key's counter.
	unexpected int64
	// unreadable counts records the checker could not read.
	unreadable int64
	// nonTransactional counts events written outside a producer
	// transaction; under exactly-once there must be none.
	nonTransactional int64
	// snapshotReads counts snapshot events (op r). They carry a row's
	// state, not a change, and a snapshot repeated after a task died
	// before its first offset was stored is followed by the changes it
	// covered, streamed again from the slot: the checker counts them
	// apart and leaves them out of the sequences.
	snapshotReads int64
	examples      []string // a few findings, for the report
}

const maxExamples = 8

func (v *verdict) note(format string, args ...any) {
	if len(v.examples) < maxExamples {
		v.examples = append(v.examples, fmt.Sprintf(format, args...))
	}
}

// analyze compares the events, in the order the topic holds them, with
// the table. Every key's events share a partition, so its changes must
// appear in order: each change 1..last at least once (lost otherwise),
// once only (duplicated otherwise), and the first time in order (out of
// order otherwise); the last event must match the row, or be a delete if
// there is none.
func analyze(events []event, table map[int64]row, errs []error) verdict {
	v := verdict{unreadable: int64(len(errs))}
	for i, err := range errs {
		if i < 3 {
			v.note("unreadable: %v", err)
		}
	}
	type keyState struct {
		seen    map[int64]int
		maxSeen int64
		last    *event
	}
	keys := map[int64]*keyState{}
	for i := range events {
		e := &events[i]
		if e.op == 0 {
			continue // tombstones follow deletes; the delete itself is checked
		}
		v.events++
		if !e.transactional {
			v.nonTransactional++
		}
		ks := keys[e.id]
		if ks == nil {
			ks = &keyState{seen: map[int64]int{}}
			keys[e.id] = ks
		}
		if r := table[e.id]; e.seq > r.last || e.seq < 1 {
			v.unexpected++
			v.note("key %d: event of change %d, but the table's counter is %d", e.id, e.seq, r.last)
		}
		ks.last = e
		if e.op == 'r' {
			v.snapshotReads++
			continue
		}
		ks.seen[e.seq]++
		switch {
		case ks.seen[e.seq] > 1:
			v.duplicated++
		case e.seq < ks.maxSeen:
			v.outOfOrder++
			v.note("key %d: change %d arrived after change %d", e.id, e.seq, ks.maxSeen)
		}
		ks.maxSeen = max(ks.maxSeen, e.seq)
	}
	ids := make([]int64, 0, len(table))
	for id := range table {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		r := table[id]
		if r.last == 0 {
			continue
		}
		v.keys++
		v.changes += r.last
		ks := keys[id]
		if ks == nil {
			ks = &keyState{seen: map[int64]int{}}
		}
		var missing []int64 // a change only a snapshot read shows is lost too
		for s := int64(1); s <= r.last; s++ {
			if ks.seen[s] == 0 {
				v.lost++
				if len(missing) < 5 {
					missing = append(missing, s)
				}
			}
		}
		if len(missing) > 0 {
			v.note("key %d: no event of change(s) %v (of 1..%d)", id, missing, r.last)
		}
		switch l := ks.last; {
		case l == nil:
			v.mismatched++
			v.note("key %d: no event at all; the table's counter is %d", id, r.last)
		case r.present && (l.op == 'd' || l.seq != r.seq || l.val != r.val):
			v.mismatched++
			v.note("key %d: last event is change %d (op %c), the row holds change %d", id, l.seq, l.op, r.seq)
		case !r.present && (l.op != 'd' || l.seq != r.last):
			v.mismatched++
			v.note("key %d: last event is change %d (op %c), the row was deleted by change %d", id, l.seq, l.op, r.last)
		}
	}
	for id := range keys {
		if _, ok := table[id]; !ok {
			v.unexpected++
			v.note("key %d: events, but the key is not in the table", id)
		}
	}
	return v
}

// failures lists what makes the verdict a failure: any loss, reordering,
// disagreement with the table or unreadable record and, under exactly-once,
// any duplicate or event outside a transaction.
func (v verdict) failures(exactlyOnce bool) []string {
	var fs []string
	add := func(n int64, what string) {
		if n > 0 {
			fs = append(fs, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(v.lost, "lost")
	add(v.outOfOrder, "out of order")
	add(v.mismatched, "keys whose last event disagrees with the table")
	add(v.unexpected, "events of changes the table does not hold")
	add(v.unreadable, "unreadable records")
	if exactlyOnce {
		add(v.duplicated, "duplicated")
		add(v.nonTransactional, "events written outside a transaction (is exactly.once.source.support in effect?)")
	}
	return fs
}
