package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestE2ESnapshotResumesAfterSIGKILL kills a worker with SIGKILL halfway
// through a 5,000,000-row snapshot read by two threads, and restarts it
// (issue 4, Done-when 2). The restarted worker must read only the ranges
// that Kafka did not hold yet, every row must be in Kafka, and the
// changes made after the slot's consistent point must come through the
// stream afterwards.
func TestE2ESnapshotResumesAfterSIGKILL(t *testing.T) {
	const rows = 5_000_000
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE snap (id bigint PRIMARY KEY, n int, price numeric(10,2), name text, created timestamptz, active boolean)`,
		fmt.Sprintf(`INSERT INTO snap SELECT g, g %% 1000, (g %% 10000) / 100.0, 'name-' || g, timestamptz '2026-01-01 00:00:00+00' - g * interval '1 second', g %% 2 = 0
			FROM generate_series(1, %d) g`, rows),
		`VACUUM ANALYZE snap`)
	broker := startBroker(t)
	dataDir := t.TempDir()
	file := connectorFile(t, dsn, "resume", map[string]string{
		"topic.prefix": "rs", "slot.name": "rs_slot", "table.include.list": "public.snap", "snapshot.max.threads": "2",
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
	})
	p, a := restWorker(t, broker, dataDir, file)
	pgtest.WaitFor(t, 60*time.Second, func() (bool, error) { return strings.Contains(p.output(), "snapshot starting"), nil })
	// After the slot's consistent point: these must come from the stream.
	pgtest.Exec(t, dsn,
		fmt.Sprintf(`INSERT INTO snap SELECT g, -1, 0, 'late', now(), true FROM generate_series(%d, %d) g`, rows+1, rows+10),
		`UPDATE snap SET n = -2 WHERE id IN (1, 2500000, 4999999)`,
		`DELETE FROM snap WHERE id = 3`)

	// Kill once a third of the ranges are delivered.
	var ranges, done int
	pgtest.WaitFor(t, 180*time.Second, func() (bool, error) {
		_, body := a.do("GET", "/connectors/resume/offsets", "")
		ranges, done = progressOf(t, body)
		if ranges > 0 && done == ranges {
			return false, fmt.Errorf("the snapshot finished before the test could kill it: %s", body)
		}
		return ranges > 0 && done*3 >= ranges, nil
	})
	p.kill()
	t.Logf("killed with %d of %d ranges delivered", done, ranges)

	p2, a2 := restWorker(t, broker, dataDir, file)
	// The progress reporter logs the end line once the snapshot is done.
	pgtest.WaitFor(t, 300*time.Second, func() (bool, error) { return strings.Contains(p2.output(), `msg="snapshot done"`), nil })
	out := p2.output()
	metrics := a2.want("GET", "/metrics", "", 200)
	for _, want := range []string{
		`debezium_metrics_SnapshotCompleted{context="snapshot",name="rs",plugin="postgres"} 1`,
		`debezium_metrics_TotalTableCount{context="snapshot",name="rs",plugin="postgres"} 1`,
		`debezium_metrics_TableChunksCompletedCounts{context="snapshot",name="rs",plugin="postgres",table="public.snap"} 8`,
		`debezium_metrics_RowsScanned{context="snapshot",name="rs",plugin="postgres",table="public.snap"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	m := regexp.MustCompile(`msg="snapshot resumes table" .*table=public.snap ranges=(\d+) pages_per_range=(\d+) done=(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the restarted worker did not resume the snapshot:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	step, _ := strconv.ParseInt(m[2], 10, 64)
	doneSet := strings.Trim(m[3], `"`)
	// The rows of the ranges not yet delivered, as the restarted worker
	// sees the table: it must have read exactly those.
	isDone := map[int]bool{}
	for _, part := range strings.Split(doneSet, ",") {
		lo, hi, _ := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if hi != "" {
			b, _ = strconv.Atoi(hi)
		}
		for i := a; i <= b; i++ {
			isDone[i] = true
		}
	}
	if len(isDone) < done {
		t.Fatalf("resumed with ranges %q done, but %d were delivered before the kill", doneSet, done)
	}
	var want int64
	for i := 0; i < n; i++ {
		if isDone[i] {
			continue
		}
		cond := fmt.Sprintf("ctid >= '(%d,0)'::tid", int64(i)*step)
		if i < n-1 {
			cond += fmt.Sprintf(" AND ctid < '(%d,0)'::tid", int64(i+1)*step)
		}
		want += pgtest.QueryValue[int64](t, dsn, "SELECT count(*) FROM snap WHERE "+cond)
	}
	// rows_scanned counts the ranges of the first run too, as
	// rows_resumed.
	m = regexp.MustCompile(`msg="snapshot done" .*?rows_scanned=(\d+)(?: rows_resumed=(\d+))?`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no snapshot done line:\n%s", out)
	}
	scanned, _ := strconv.ParseInt(m[1], 10, 64)
	resumedRows, _ := strconv.ParseInt(m[2], 10, 64)
	reread := scanned - resumedRows
	t.Logf("restarted worker read %d rows (ranges done: %s of %d)", reread, doneSet, n)
	if reread != want {
		t.Errorf("restarted worker read %d rows, want %d: the rows of the %d ranges not delivered", reread, want, n-len(isDone))
	}

	// Every row is in Kafka, and the stream carried the later changes.
	final := latestPerKey(t, broker, "rs.public.snap", rows+10, func(last map[int64]string) bool {
		return last[3] == "" && last[rows+10] != "" && strings.Contains(last[4999999], `"n":-2`)
	})
	for id := int64(1); id <= rows+10; id++ {
		v, ok := final[id]
		switch {
		case id == 3:
			if v != "" {
				t.Errorf("id 3 was deleted; its latest record is %s", v)
			}
		case !ok:
			t.Fatalf("id %d is not in Kafka", id)
		}
	}
	for _, id := range []int64{1, 2500000, 4999999} {
		if !strings.Contains(final[id], `"n":-2`) {
			t.Errorf("id %d: latest event %s, want the update to n=-2", id, final[id])
		}
	}
	// kcat, a third-party client, reads the streamed changes at the end
	// of the topic: the inserts made after the slot's consistent point.
	tail, err := exec.Command(needKcat(t), "-C", "-b", broker, "-t", "rs.public.snap", "-o", "-40", "-e", "-q", "-f", "%k\n").Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	for id := rows + 1; id <= rows+10; id++ {
		if !strings.Contains(string(tail), fmt.Sprintf(`{"id":%d}`, id)) {
			t.Errorf("kcat does not see the streamed insert of id %d at the end of the topic:\n%s", id, tail)
		}
	}
}

// progressOf reads the range counts of the snapshot progress in a
// connector's offsets as GET /connectors/{name}/offsets returns them.
func progressOf(t *testing.T, body string) (ranges, done int) {
	var resp struct {
		Offsets []struct {
			Offset map[string]any `json:"offset"`
		} `json:"offsets"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil || len(resp.Offsets) == 0 {
		return 0, 0
	}
	s, _ := resp.Offsets[0].Offset["pgmotion_snapshot_progress"].(string)
	var p struct {
		Tables []struct {
			Ranges int    `json:"ranges"`
			Done   string `json:"done"`
		} `json:"tables"`
	}
	if json.Unmarshal([]byte(s), &p) != nil {
		return 0, 0
	}
	for _, tb := range p.Tables {
		ranges += tb.Ranges
		for _, part := range strings.Split(tb.Done, ",") {
			if part == "" {
				continue
			}
			lo, hi, _ := strings.Cut(part, "-")
			a, _ := strconv.Atoi(lo)
			b := a
			if hi != "" {
				b, _ = strconv.Atoi(hi)
			}
			done += b - a + 1
		}
	}
	return ranges, done
}

// latestPerKey reads topic from the start with franz-go until ready says
// the latest values (keyed by the integer id of schemaless JSON keys;
// "" for a tombstone or delete) are complete, and returns them.
func latestPerKey(t *testing.T, broker, topic string, maxID int64, ready func(map[int64]string) bool) map[int64]string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	last := make(map[int64]string, maxID)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	idRE := regexp.MustCompile(`^\{"id":(\d+)\}$`)
	for !ready(last) || int64(len(last)) < maxID {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %d keys after 5 minutes", topic, len(last))
		}
		fs.EachRecord(func(r *kgo.Record) {
			m := idRE.FindSubmatch(r.Key)
			if m == nil {
				t.Fatalf("unexpected key %q", r.Key)
			}
			id, _ := strconv.ParseInt(string(m[1]), 10, 64)
			v := string(r.Value)
			if strings.Contains(v, `"op":"d"`) {
				v = ""
			}
			last[id] = v
		})
	}
	return last
}

// TestE2ESnapshotModes runs the snapshot options a Debezium user sets,
// each on its own connector in one worker: snapshot.include.collection.list
// with a SELECT override, when_needed snapshotting again after its slot
// was dropped, and configuration_based streaming without a snapshot.
func TestE2ESnapshotModes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE a (id int PRIMARY KEY, v text)`, `INSERT INTO a VALUES (1, 'x'), (2, 'y'), (3, 'z')`,
		`CREATE TABLE b (id int PRIMARY KEY, v text)`, `INSERT INTO b VALUES (1, 'x'), (2, 'y')`,
		`CREATE TABLE c (id int PRIMARY KEY, v text)`, `INSERT INTO c VALUES (1, 'x')`)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	dataDir := t.TempDir()
	files := []string{
		connectorFile(t, dsn, "m1", map[string]string{"topic.prefix": "m1", "slot.name": "m1_slot", "publication.name": "m1_pub",
			"snapshot.include.collection.list":             "public\\.[ab]",
			"snapshot.select.statement.overrides":          "public.b",
			"snapshot.select.statement.overrides.public.b": "SELECT * FROM b WHERE id = 2",
			"snapshot.max.threads":                         "2"}),
		connectorFile(t, dsn, "m2", map[string]string{"topic.prefix": "m2", "slot.name": "m2_slot", "publication.name": "m2_pub",
			"snapshot.mode": "when_needed", "table.include.list": "public.a"}),
		connectorFile(t, dsn, "m3", map[string]string{"topic.prefix": "m3", "slot.name": "m3_slot", "publication.name": "m3_pub",
			"snapshot.mode": "configuration_based", "snapshot.mode.configuration.based.snapshot.data": "false",
			"snapshot.mode.configuration.based.start.stream": "true", "table.include.list": "public.c"}),
	}
	start := func() *proc {
		args := append([]string{"connect", "--rest", "127.0.0.1:0", "--embedded-broker", broker, "--data-dir", dataDir}, files...)
		p := startPgmotion(t, args...)
		for _, slot := range []string{"m1_slot", "m2_slot", "m3_slot"} {
			waitSlot(t, dsn, slot)
		}
		return p
	}
	p := start()
	pgtest.Exec(t, dsn, `INSERT INTO c VALUES (2, 'streamed')`)

	ops := func(msgs []kcatMsg) string {
		var out []string
		for _, m := range msgs {
			var ev struct {
				Payload struct {
					Op    string          `json:"op"`
					After json.RawMessage `json:"after"`
				} `json:"payload"`
			}
			if err := json.Unmarshal([]byte(str(m.Payload)), &ev); err != nil {
				t.Fatalf("event %s: %v", str(m.Payload), err)
			}
			out = append(out, ev.Payload.Op+string(ev.Payload.After))
		}
		return strings.Join(out, " ")
	}
	// m1: a whole, b through its override, c not snapshotted but streamed.
	if got := ops(consume(t, broker, "m1.public.b", 1, time.Minute)); got != `r{"id":2,"v":"y"}` {
		t.Errorf("m1.public.b: %s, want only the row of the override", got)
	}
	if got := ops(consume(t, broker, "m1.public.a", 3, time.Minute)); strings.Count(got, "r{") != 3 {
		t.Errorf("m1.public.a: %s", got)
	}
	if got := ops(consume(t, broker, "m1.public.c", 1, time.Minute)); got != `c{"id":2,"v":"streamed"}` {
		t.Errorf("m1.public.c: %s, want the streamed insert only", got)
	}
	// m3: configuration_based without data: the stream only.
	if got := ops(consume(t, broker, "m3.public.c", 1, time.Minute)); got != `c{"id":2,"v":"streamed"}` {
		t.Errorf("m3.public.c: %s, want the streamed insert only", got)
	}
	consume(t, broker, "m2.public.a", 3, time.Minute)
	time.Sleep(2 * time.Second) // let the offsets reach Kafka
	p.stop(t)

	// The slot is gone: when_needed snapshots again, initial does not.
	pgtest.Exec(t, dsn, `SELECT pg_drop_replication_slot('m2_slot')`)
	p = start()
	pgtest.Exec(t, dsn, `INSERT INTO a VALUES (4, 'after')`)
	got := ops(consume(t, broker, "m2.public.a", 7, time.Minute))
	if strings.Count(got, "r{") != 6 || !strings.HasSuffix(got, `c{"id":4,"v":"after"}`) {
		t.Errorf("m2.public.a after the slot was dropped: %s, want two snapshots of 3 rows, then the insert", got)
	}
	if !strings.Contains(p.output(), "the stored position can no longer be served") {
		t.Errorf("when_needed did not say why it snapshots:\n%s", p.output())
	}
	got = ops(consume(t, broker, "m1.public.a", 4, time.Minute))
	if strings.Count(got, "r{") != 3 {
		t.Errorf("m1.public.a after a restart: %s, want no second snapshot", got)
	}
	p.stop(t)
}
