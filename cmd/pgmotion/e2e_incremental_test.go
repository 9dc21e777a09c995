package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// End-to-end tests of incremental snapshots and signals (issue 4): the
// worker runs as a subprocess against a real PostgreSQL and a real Kafka
// protocol broker, signals go through the signal table and the signal
// topic (kcat), and kcat reads what the worker wrote.

const signalTableDDL = `CREATE TABLE debezium_signal (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048) NULL)`

// event is a change event value with schemas disabled.
type event struct {
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
	Source struct {
		Snapshot string `json:"snapshot"`
	} `json:"source"`
	Op string `json:"op"`
}

// topicState reads a topic to its end and returns the latest value per
// key (nil for a tombstone) and the events by key, in order.
func topicState(t *testing.T, broker, topic string) (map[string]*string, map[string][]event) {
	t.Helper()
	latest := map[string]*string{}
	events := map[string][]event{}
	for _, m := range consume(t, broker, topic, 0, time.Minute) {
		k := str(m.Key)
		latest[k] = m.Payload
		if m.Payload == nil {
			continue
		}
		var ev event
		if err := json.Unmarshal([]byte(*m.Payload), &ev); err != nil {
			t.Fatalf("event %s: %v", *m.Payload, err)
		}
		events[k] = append(events[k], ev)
	}
	return latest, events
}

// waitLog waits until the worker's output holds n occurrences of s.
func waitLog(t *testing.T, p *proc, s string, n int, timeout time.Duration) {
	t.Helper()
	pgtest.WaitFor(t, timeout, func() (bool, error) { return strings.Count(p.output(), s) >= n, nil })
}

// waitEvents waits until a topic holds at least n events of op with the
// given source.snapshot.
func waitEvents(t *testing.T, broker, topic, op string, n int) map[string][]event {
	t.Helper()
	var events map[string][]event
	pgtest.WaitFor(t, 60*time.Second, func() (bool, error) {
		_, events = topicState(t, broker, topic)
		return countOps(events, op) >= n, nil
	})
	return events
}

func countOps(events map[string][]event, op string) int {
	n := 0
	for _, evs := range events {
		for _, ev := range evs {
			if ev.Op == op {
				n++
			}
		}
	}
	return n
}

// produceSignal writes one record to the signal topic with kcat.
func produceSignal(t *testing.T, broker, topic, key, value string) {
	t.Helper()
	cmd := exec.Command(needKcat(t), "-P", "-b", broker, "-t", topic, "-p", "0", "-K", "\t")
	cmd.Stdin = strings.NewReader(key + "\t" + value + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
}

// writer changes random rows of items at about rate per second until
// stopped: mostly updates, some deletes, and upserts that also add rows
// above the largest key.
type writer struct {
	stop chan struct{}
	done chan error
	ops  atomic.Int64
}

func startWriter(t *testing.T, dsn, table string, rows, rate int) *writer {
	t.Helper()
	w := &writer{stop: make(chan struct{}), done: make(chan error, 1)}
	conn := pgtest.Connect(t, dsn)
	go func() {
		ctx := context.Background()
		start := time.Now()
		for {
			select {
			case <-w.stop:
				w.done <- nil
				return
			default:
			}
			if want := int64(time.Since(start).Seconds() * float64(rate)); w.ops.Load() >= want {
				time.Sleep(time.Millisecond)
				continue
			}
			id := rand.IntN(rows) + 1
			var err error
			switch r := rand.IntN(100); {
			case r < 85:
				_, err = conn.Exec(ctx, `UPDATE `+table+` SET v = v + 1, note = md5(random()::text) WHERE id = $1`, id)
			case r < 93:
				_, err = conn.Exec(ctx, `DELETE FROM `+table+` WHERE id = $1`, id)
			default:
				// Half of these land above the snapshot's largest key.
				id = rand.IntN(rows+rows/10) + 1
				_, err = conn.Exec(ctx, `INSERT INTO `+table+` VALUES ($1, 0, 'new') ON CONFLICT (id) DO UPDATE SET v = `+table+`.v + 1, note = 'upserted'`, id)
			}
			if err != nil {
				w.done <- err
				return
			}
			w.ops.Add(1)
		}
	}()
	return w
}

func (w *writer) finish(t *testing.T) {
	t.Helper()
	close(w.stop)
	if err := <-w.done; err != nil {
		t.Fatalf("writer: %v", err)
	}
}

// checkLatest compares the latest event of every key of topic with the
// table's rows: a row's latest event carries it exactly, and a key with no
// row ends with its delete's tombstone. It returns the events by key.
func checkLatest(t *testing.T, dsn, broker, topic, table string) map[string][]event {
	t.Helper()
	// A sentinel row: once its event is in the topic, so is everything
	// before it.
	pgtest.Exec(t, dsn, `INSERT INTO `+table+` VALUES (-1, -1, 'sentinel')`)
	var latest map[string]*string
	var events map[string][]event
	pgtest.WaitFor(t, 60*time.Second, func() (bool, error) {
		latest, events = topicState(t, broker, topic)
		return latest[`{"id":-1}`] != nil, nil
	})
	conn := pgtest.Connect(t, dsn)
	rows, err := conn.Query(context.Background(), `SELECT id, v, note FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	type tableRow struct {
		ID   int64
		V    int64
		Note *string
	}
	want, err := pgx.CollectRows(rows, pgx.RowToStructByPos[tableRow])
	if err != nil {
		t.Fatal(err)
	}
	inTable := map[string]bool{}
	bad := 0
	for _, r := range want {
		k := fmt.Sprintf(`{"id":%d}`, r.ID)
		inTable[k] = true
		v := latest[k]
		if v == nil {
			t.Errorf("row %d (v=%d): latest event is missing or a tombstone", r.ID, r.V)
			bad++
			continue
		}
		evs := events[k]
		got := evs[len(evs)-1].After
		var note any
		if r.Note != nil {
			note = *r.Note
		}
		wantAfter, _ := json.Marshal(map[string]any{"id": r.ID, "v": r.V, "note": note})
		gotAfter, _ := json.Marshal(map[string]any{"id": got["id"], "v": got["v"], "note": got["note"]})
		if string(gotAfter) != string(wantAfter) {
			t.Errorf("row %d: latest event (op %s, snapshot %s) has %s, the table %s", r.ID, evs[len(evs)-1].Op, evs[len(evs)-1].Source.Snapshot, gotAfter, wantAfter)
			bad++
		}
		if bad > 10 {
			t.Fatalf("too many differences")
		}
	}
	for k, v := range latest {
		if !inTable[k] && v != nil {
			t.Errorf("key %s has no row, but its latest event is %s", k, *v)
		}
	}
	t.Logf("%d rows, %d keys in %s", len(want), len(latest), topic)
	checkHistory(t, events)
	return events
}

// checkHistory checks that no key's history goes back in time: the
// writer only adds to v, so each update carries a larger v than the event
// before it, and a read event is at least as new as the events before it.
// A read emitted before a streamed change its snapshot already saw would
// break this, even when the final state comes out right.
func checkHistory(t *testing.T, events map[string][]event) {
	t.Helper()
	bad := 0
	for k, evs := range events {
		last, known := 0.0, false
		for i, ev := range evs {
			v, _ := ev.After["v"].(float64)
			switch ev.Op {
			case "c":
				last, known = v, true
			case "u":
				if known && v <= last {
					t.Errorf("key %s: event %d (u) has v=%v after v=%v", k, i, v, last)
					bad++
				}
				last, known = v, true
			case "r":
				if known && v < last {
					t.Errorf("key %s: read event %d has v=%v after v=%v", k, i, v, last)
					bad++
				}
				last, known = v, true
			case "d":
				known = false
			}
		}
		if bad > 10 {
			t.Fatal("too many keys go back in time")
		}
	}
}

// TestE2EIncrementalUnderLoad is issue 4's Done-when 3: an incremental
// snapshot run while about 1,000 changes per second hit the same table
// ends with the latest event per key equal to the table's final contents
// for every key.
func TestE2EIncrementalUnderLoad(t *testing.T) {
	const rows = 50_000
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL, note text)`,
		fmt.Sprintf(`INSERT INTO items SELECT g, 0, 'row ' || g FROM generate_series(1, %d) g`, rows),
		signalTableDDL)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	file := connectorFile(t, dsn, "inc", map[string]string{
		"topic.prefix": "inc", "slot.name": "inc_slot", "snapshot.mode": "no_data",
		"table.include.list": "public.items", "signal.data.collection": "public.debezium_signal",
		"incremental.snapshot.chunk.size": "200",
		"key.converter.schemas.enable":    "false", "value.converter.schemas.enable": "false",
	})
	p := startPgmotion(t, "connect", "--rest", "127.0.0.1:0", "--embedded-broker", broker, "--data-dir", t.TempDir(), file)
	waitSlot(t, dsn, "inc_slot")

	w := startWriter(t, dsn, "items", rows, 1000)
	time.Sleep(time.Second)
	started := time.Now()
	pgtest.Exec(t, dsn, `INSERT INTO debezium_signal VALUES ('ad-hoc-1', 'execute-snapshot', '{"data-collections": ["public.items"], "type": "incremental"}')`)
	waitLog(t, p, `msg="incremental snapshot completed"`, 1, 60*time.Second)
	elapsed := time.Since(started)
	time.Sleep(500 * time.Millisecond)
	w.finish(t)
	t.Logf("snapshot took %v; the writer made %d changes (%.0f/s)", elapsed.Round(time.Millisecond), w.ops.Load(), float64(w.ops.Load())/(elapsed.Seconds()+1.5))
	if w.ops.Load() < 1000 {
		t.Errorf("the writer made only %d changes", w.ops.Load())
	}

	events := checkLatest(t, dsn, broker, "inc.public.items", "items")
	reads, superseded := 0, 0
	for k, evs := range events {
		n := 0
		for i, ev := range evs {
			if ev.Op != "r" {
				continue
			}
			n++
			if ev.Source.Snapshot != "incremental" {
				t.Fatalf("key %s: read event with source.snapshot %q", k, ev.Source.Snapshot)
			}
			if i > 0 {
				superseded++
			}
		}
		if n > 1 {
			t.Errorf("key %s read %d times", k, n)
		}
		reads += n
	}
	// Keys the writer touched during their chunk's window are left to the
	// stream; every other key is read.
	if reads < rows*8/10 || reads > rows {
		t.Errorf("%d read events for %d rows", reads, rows)
	}
	t.Logf("%d read events, %d of them after streamed events of their key", reads, superseded)
	out, err := exec.Command(needKcat(t), "-b", broker, "-L").CombinedOutput()
	if err != nil || strings.Contains(string(out), "debezium_signal") {
		t.Errorf("the signal table is not captured, so no topic should hold its rows: %v\n%s", err, out)
	}
	p.stop(t)
}

// TestE2EIncrementalSignals drives snapshots through both channels: a
// kafka signal with additional-conditions, pause and resume, stop, the
// log signal and bad signals from the signal table, and a restart in the
// middle of a snapshot, which resumes from the stored key.
func TestE2EIncrementalSignals(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE colors (id int PRIMARY KEY, color text NOT NULL)`,
		`INSERT INTO colors SELECT g, CASE WHEN g % 4 = 0 THEN 'blue' ELSE 'red' END FROM generate_series(1, 2000) g`,
		`CREATE TABLE paused (id int PRIMARY KEY)`, `INSERT INTO paused SELECT generate_series(1, 1000)`,
		`CREATE TABLE stopped (id int PRIMARY KEY)`, `INSERT INTO stopped SELECT generate_series(1, 1000)`,
		`CREATE TABLE big (k1 int, k2 text, PRIMARY KEY (k1, k2))`, `INSERT INTO big SELECT g / 10, 'k' || g % 10 FROM generate_series(0, 4999) g`,
		signalTableDDL)
	broker := startBroker(t)
	dataDir := t.TempDir()
	file := connectorFile(t, dsn, "sig", map[string]string{
		"topic.prefix": "sig", "slot.name": "sig_slot", "snapshot.mode": "no_data",
		// The signal table is captured too: its rows become events.
		"table.include.list":     "public.colors,public.paused,public.stopped,public.big,public.debezium_signal",
		"signal.data.collection": "public.debezium_signal", "signal.enabled.channels": "source,kafka",
		"signal.poll.interval.ms": "100", "incremental.snapshot.chunk.size": "100",
		"incremental.snapshot.watermarking.strategy": "insert_delete",
		"key.converter.schemas.enable":               "false", "value.converter.schemas.enable": "false",
	})
	p, a := restWorker(t, broker, dataDir, "--offset-flush-interval", "100ms", file)
	waitSlot(t, dsn, "sig_slot")
	const completed = `msg="incremental snapshot completed"`

	// The kafka channel: a record for another connector and a broken one
	// are passed over; the good one snapshots only the blue rows.
	waitLog(t, p, "reading signals from the kafka channel", 1, 30*time.Second)
	produceSignal(t, broker, "sig-signal", "other", `{"type":"execute-snapshot","data":{"data-collections":["public.paused"]}}`)
	produceSignal(t, broker, "sig-signal", "sig", `{"type":"execute-snapshot","data":`)
	produceSignal(t, broker, "sig-signal", "sig", `{"id":"k1","type":"execute-snapshot","data":{"data-collections":["public\\.col.*"],"type":"INCREMENTAL","additional-conditions":[{"data-collection":"public.colors","filter":"color = 'blue'"}]}}`)
	waitLog(t, p, completed, 1, 60*time.Second)
	events := waitEvents(t, broker, "sig.public.colors", "r", 500)
	for k, evs := range events {
		if len(evs) != 1 || evs[0].After["color"] != "blue" {
			t.Fatalf("colors %s: %+v", k, evs)
		}
	}
	if n := countOps(events, "r"); n != 500 {
		t.Errorf("%d read events for 500 blue rows", n)
	}
	out := p.output()
	for _, want := range []string{"skipping a signal meant for another connector", "ignoring a record of the signal topic that is not a signal"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}

	// Pause right after the start: the chunk in flight is emitted, no other.
	pgtest.Exec(t, dsn, `BEGIN;
		INSERT INTO debezium_signal VALUES ('p1', 'execute-snapshot', '{"data-collections": ["public.paused"]}');
		INSERT INTO debezium_signal VALUES ('p2', 'pause-snapshot', NULL);
		COMMIT`)
	waitLog(t, p, `msg="incremental snapshot chunk emitted"`, 6, 30*time.Second)
	time.Sleep(time.Second)
	if _, ev := topicState(t, broker, "sig.public.paused"); countOps(ev, "r") != 100 {
		t.Fatalf("paused: %d read events, want one chunk of 100", countOps(ev, "r"))
	}
	pgtest.Exec(t, dsn, `INSERT INTO debezium_signal VALUES ('p3', 'resume-snapshot', NULL)`)
	waitLog(t, p, completed, 2, 30*time.Second)
	if _, ev := topicState(t, broker, "sig.public.paused"); countOps(ev, "r") != 1000 {
		t.Errorf("resumed: %d read events, want 1000", countOps(ev, "r"))
	}

	// Stop right after the start: the chunk in flight is emitted (as in
	// Debezium), then the table is dropped from the snapshot.
	pgtest.Exec(t, dsn, `BEGIN;
		INSERT INTO debezium_signal VALUES ('s1', 'execute-snapshot', '{"data-collections": ["public.stopped"]}');
		INSERT INTO debezium_signal VALUES ('s2', 'stop-snapshot', '{"type": "incremental", "data-collections": ["public.stopped"]}');
		COMMIT`)
	waitLog(t, p, completed, 3, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	if _, ev := topicState(t, broker, "sig.public.stopped"); countOps(ev, "r") != 100 {
		t.Errorf("stopped: %d read events, want one chunk of 100", countOps(ev, "r"))
	}

	// A blocking snapshot: streaming waits while the table is read with
	// the markers of an initial snapshot. One with additional-conditions
	// is refused, not run unfiltered.
	pgtest.Exec(t, dsn,
		`INSERT INTO debezium_signal VALUES ('bl0', 'execute-snapshot', '{"data-collections": ["public.stopped"], "type": "blocking", "additional-conditions": [{"data-collection": "public.stopped", "filter": "SELECT * FROM public.stopped WHERE id < 10"}]}')`,
		`INSERT INTO debezium_signal VALUES ('bl1', 'execute-snapshot', '{"data-collections": ["public.stopped"], "type": "BLOCKING"}')`)
	waitLog(t, p, `msg="blocking snapshot done"`, 1, 30*time.Second)
	markers := map[string]int{}
	for _, evs := range waitEvents(t, broker, "sig.public.stopped", "r", 1100) {
		for _, ev := range evs {
			if ev.Op == "r" {
				markers[ev.Source.Snapshot]++
			}
		}
	}
	if markers["incremental"] != 100 || markers["first"] != 1 || markers["last"] != 1 || markers["true"] != 998 {
		t.Errorf("read events by source.snapshot: %v", markers)
	}
	if !strings.Contains(p.output(), "pgmotion does not support additional-conditions for blocking snapshots") {
		t.Error("the blocking snapshot with additional-conditions was not refused")
	}

	// The log signal, and signals that are warned about but do no harm.
	pgtest.Exec(t, dsn,
		`INSERT INTO debezium_signal VALUES ('l1', 'log', '{"message": "signal seen at offset {}"}')`,
		`INSERT INTO debezium_signal VALUES ('u1', 'frobnicate', '{}')`,
		`INSERT INTO debezium_signal VALUES ('b1', 'execute-snapshot', '{"data-collections": [')`,
		`INSERT INTO debezium_signal VALUES ('b2', 'execute-snapshot', '{"data-collections": ["public.nope"], "additional-condition": "id > 1"}')`,
		`INSERT INTO debezium_signal VALUES ('b3', 'execute-snapshot', '{"data-collections": ["public.colors"], "type": "full"}')`)
	waitLog(t, p, `signal_id=b3`, 1, 30*time.Second)
	out = p.output()
	for _, want := range []string{
		`msg="signal seen at offset {\"lsn_proc\":`,
		`ignoring signal \"u1\" (type \"frobnicate\"): its type is not recognized; pgmotion acts on execute-snapshot, stop-snapshot`,
		`signal_id=b1`,
		`\"additional-condition\" (a single string) is ignored, as by Debezium 3.0 and later`,
		`matches no captured table`,
		`unexpected snapshot type \"full\": want incremental or blocking`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	// The signal table is captured here, so its rows are events, the
	// watermarks among them.
	if latest, _ := topicState(t, broker, "sig.public.debezium_signal"); latest[`{"id":"l1"}`] == nil {
		t.Errorf("the signal table's rows are not in its topic")
	}

	// A restart in the middle of a snapshot: it goes on from the key the
	// offsets hold, so no row is read twice.
	pgtest.Exec(t, dsn, `BEGIN;
		INSERT INTO debezium_signal VALUES ('r1', 'execute-snapshot', '{"data-collections": ["public.big"]}');
		INSERT INTO debezium_signal VALUES ('r2', 'pause-snapshot', NULL);
		COMMIT`)
	waitLog(t, p, `msg="incremental snapshot paused`, 2, 30*time.Second)
	pgtest.WaitFor(t, 30*time.Second, func() (bool, error) {
		_, body := a.do("GET", "/connectors/sig/offsets", "")
		return strings.Contains(body, `"pgmotion_incremental_snapshot_primary_key":"[\"9\",\"k9\"]"`), nil
	})
	p.stop(t)
	p2, _ := restWorker(t, broker, dataDir, "--offset-flush-interval", "100ms", file)
	waitLog(t, p2, "resuming the incremental snapshot of the stored offset", 1, 30*time.Second)
	waitLog(t, p2, completed, 1, 60*time.Second)
	_, ev := topicState(t, broker, "sig.public.big")
	if n := countOps(ev, "r"); n != 5000 || len(ev) != 5000 {
		t.Errorf("big: %d read events for %d keys, want 5000 each", n, len(ev))
	}
	p2.stop(t)
}

// TestE2EIncrementalReadOnly runs an incremental snapshot with
// read.only=true, started from the kafka channel, while rows change: no
// watermark is written, and the latest event per key still matches the
// table.
func TestE2EIncrementalReadOnly(t *testing.T) {
	const rows = 5000
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE ro_items (id int PRIMARY KEY, v int NOT NULL, note text)`,
		fmt.Sprintf(`INSERT INTO ro_items SELECT g, 0, 'row ' || g FROM generate_series(1, %d) g`, rows))
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	file := connectorFile(t, dsn, "ro", map[string]string{
		"topic.prefix": "ro", "slot.name": "ro_slot", "snapshot.mode": "no_data", "read.only": "true",
		"signal.enabled.channels": "kafka", "signal.poll.interval.ms": "100",
		"incremental.snapshot.chunk.size": "250",
		"key.converter.schemas.enable":    "false", "value.converter.schemas.enable": "false",
	})
	p := startPgmotion(t, "connect", "--rest", "127.0.0.1:0", "--embedded-broker", broker, "--data-dir", t.TempDir(), file)
	waitSlot(t, dsn, "ro_slot")
	waitLog(t, p, "reading signals from the kafka channel", 1, 30*time.Second)
	w := startWriter(t, dsn, "ro_items", rows, 300)
	produceSignal(t, broker, "ro-signal", "ro", `{"type":"execute-snapshot","data":{"data-collections":["public.ro_items"]}}`)
	waitLog(t, p, `msg="incremental snapshot completed"`, 1, 60*time.Second)
	w.finish(t)
	events := checkLatest(t, dsn, broker, "ro.public.ro_items", "ro_items")
	if n := countOps(events, "r"); n < rows*8/10 {
		t.Errorf("%d read events for %d rows", n, rows)
	}
	// Again on a quiet database: the windows close on the server's
	// keepalive positions.
	started := time.Now()
	produceSignal(t, broker, "ro-signal", "ro", `{"type":"execute-snapshot","data":{"data-collections":["public.ro_items"]}}`)
	waitLog(t, p, `msg="incremental snapshot completed"`, 2, 60*time.Second)
	t.Logf("quiet snapshot took %v", time.Since(started))
	p.stop(t)
}
