package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// demoTopics are the topics `pgmotion demo` writes.
var demoTopics = []string{"demo.public.customers", "demo.public.products", "demo.public.orders", "outbox.event.order"}

// TestE2EDemoClients runs `pgmotion demo` on a test database with its embedded
// broker and workload, then runs every command line the demo prints, and
// has a kafkajs consumer group read every event of its topics.
func TestE2EDemoClients(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	rest := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startPgmotion(t, "demo", "--pg-url", dsn, "--listen", broker, "--rest", rest, "--rate", "20")
	pgtest.WaitFor(t, 90*time.Second, func() (bool, error) {
		select {
		case err := <-p.done:
			p.done <- err
			return false, fmt.Errorf("pgmotion demo exited: %v", err)
		default:
		}
		return strings.Contains(p.output(), "Press Ctrl-C to stop."), nil
	})
	commands := printedCommands(p.output())
	// Orders flow once the connector's snapshot is done.
	kcat := needKcat(t)
	pgtest.WaitFor(t, 90*time.Second, func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, _ := exec.CommandContext(ctx, kcat, "-C", "-b", broker, "-t", "outbox.event.order", "-o", "beginning", "-e", "-c", "1", "-q").Output()
		return len(out) > 0, nil
	})

	t.Run("PrintedCommands", func(t *testing.T) { testDemoCommands(t, commands, broker) })
	t.Run("Kafkajs", func(t *testing.T) { testDemoKafkajs(t, dsn, broker) })
	p.stop(t)
}

// printedCommands returns the command lines the demo prints for the user
// to paste.
func printedCommands(out string) []string {
	_, list, _ := strings.Cut(out, "Look at it with any Kafka client")
	list, _, _ = strings.Cut(list, "Press Ctrl-C to stop.")
	var cmds []string
	for _, l := range strings.Split(list, "\n")[1:] {
		if l = strings.TrimSpace(l); l != "" {
			cmds = append(cmds, l)
		}
	}
	return cmds
}

// demoCheck is what a printed command must show: whether it keeps
// running (a consumer), and a check of its output.
type demoCheck struct {
	consumer bool
	check    func(t *testing.T, out []byte)
}

// demoChecks maps a part of each printed command to its check; a printed
// command that matches none fails the test, so that every command shown
// is tried.
var demoChecks = map[string]demoCheck{
	" -L": {check: func(t *testing.T, out []byte) {
		for _, topic := range demoTopics {
			if !bytes.Contains(out, []byte(`topic "`+topic+`"`)) {
				t.Errorf("no topic %s in the metadata", topic)
			}
		}
	}},
	"-t demo.public.orders -o beginning": {consumer: true, check: func(t *testing.T, out []byte) {
		// Records of a key line, a value line and an empty line; the
		// value line of a tombstone is empty.
		recs := strings.Split(strings.TrimSpace(string(out)), "\n\n")
		for _, r := range recs {
			key, value, _ := strings.Cut(strings.TrimLeft(r, "\n"), "\n")
			var k struct {
				Payload struct{ ID *int64 } `json:"payload"`
			}
			var v struct {
				Payload struct{ Op string } `json:"payload"`
			}
			if err := json.Unmarshal([]byte(key), &k); err != nil || k.Payload.ID == nil {
				t.Fatalf("key line %q: want the Debezium key with the order's id (%v)", key, err)
			}
			if value == "" { // a tombstone
				continue
			}
			if err := json.Unmarshal([]byte(value), &v); err != nil || v.Payload.Op == "" {
				t.Fatalf("value line %.200q: want a Debezium change event (%v)", value, err)
			}
		}
		if len(recs) < 2 {
			t.Errorf("%d records, want the orders placed so far", len(recs))
		}
	}},
	"-t demo.public.orders -o end": {consumer: true, check: func(t *testing.T, out []byte) {
		// jq prints each event's payload, the Debezium event itself: an
		// object, not a string of escaped JSON.
		dec := json.NewDecoder(bytes.NewReader(out))
		n := 0
		for {
			var ev any
			if err := dec.Decode(&ev); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("output is not a stream of JSON values: %v\n%.500s", err, out)
			}
			if ev == nil { // a tombstone's null payload
				continue
			}
			m, ok := ev.(map[string]any)
			if !ok || m["op"] == nil || m["source"] == nil {
				t.Fatalf("jq .payload printed %.300v, want a Debezium event with op and source", ev)
			}
			n++
		}
		if n == 0 {
			t.Errorf("no new order event shown while the workload ran:\n%.500s", out)
		}
	}},
	"-t outbox.event.order": {consumer: true, check: func(t *testing.T, out []byte) {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		for _, l := range lines {
			var ev struct {
				Key   string `json:"key"`
				Event struct {
					OrderID    *int64 `json:"orderId"`
					CustomerID *int64 `json:"customerId"`
				} `json:"event"`
			}
			if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Event.OrderID == nil || ev.Event.CustomerID == nil {
				t.Fatalf("line %.300q: want the order id and the OrderCreated event as JSON (%v)", l, err)
			}
			if ev.Key != strconv.FormatInt(*ev.Event.OrderID, 10) {
				t.Errorf("key %q, want the order id %d", ev.Key, *ev.Event.OrderID)
			}
		}
		if lines[0] == "" {
			t.Error("no OrderCreated event shown")
		}
	}},
	"/connectors/demo-connector/status": {check: func(t *testing.T, out []byte) {
		var st struct {
			Connector struct{ State string }
			Tasks     []struct{ State string }
		}
		if err := json.Unmarshal(out, &st); err != nil || st.Connector.State != "RUNNING" || len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
			t.Errorf("status %s: want the connector and its task RUNNING (%v)", out, err)
		}
	}},
}

// testDemoCommands runs each printed command line as a shell would while
// the workload runs; consumers run for a few seconds and are then stopped
// as Ctrl-C would stop kcat.
func testDemoCommands(t *testing.T, commands []string, broker string) {
	if len(commands) == 0 {
		t.Fatal("the demo printed no commands")
	}
	needKcat(t)
	for _, tool := range []string{"jq", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			pgtest.Unavailable(t, "%s is not installed: apt-get install %s", tool, tool)
		}
	}
	type run struct {
		line string
		c    demoCheck
		cmd  *exec.Cmd
		out  bytes.Buffer
		errs bytes.Buffer
		done chan error
		// ended is set once done has been received: the process group
		// is gone and its id may be reused.
		ended bool
	}
	var runs []*run
	for _, line := range commands {
		if !strings.Contains(line, broker) && !strings.HasPrefix(line, "curl ") {
			t.Errorf("printed command %q does not name the demo's broker %s", line, broker)
		}
		var matched []string
		for k := range demoChecks {
			if strings.Contains(line, k) {
				matched = append(matched, k)
			}
		}
		if len(matched) != 1 {
			t.Fatalf("printed command %q: no single check for it (matches %q): add one to demoChecks", line, matched)
		}
		r := &run{line: line, c: demoChecks[matched[0]], done: make(chan error, 1)}
		r.cmd = exec.Command("bash", "-c", line)
		r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.errs
		r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := r.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if !r.ended {
				syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			}
		})
		go func() { r.done <- r.cmd.Wait() }()
		runs = append(runs, r)
	}
	// The consumers read the demo's topics while the workload writes
	// about 20 transactions a second.
	time.Sleep(6 * time.Second)
	for _, r := range runs {
		if r.c.consumer {
			if err := stopKcat(r.cmd.Process.Pid); err != nil {
				t.Fatalf("%s: %v", r.line, err)
			}
		}
	}
	for _, r := range runs {
		select {
		case err := <-r.done:
			r.ended = true
			if err != nil && !r.c.consumer {
				t.Errorf("%s: %v\n%s", r.line, err, r.errs.String())
				continue
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s: still running 30 s after its kcat was stopped", r.line)
			continue
		}
		t.Run(r.line, func(t *testing.T) {
			if r.errs.Len() > 0 && !r.c.consumer {
				t.Logf("stderr: %s", r.errs.String())
			}
			r.c.check(t, r.out.Bytes())
		})
	}
}

// stopKcat sends SIGTERM to the kcat of a shell command line: the shell
// itself when it ran kcat in its place, or its kcat child in a pipeline,
// whose end then lets the next command finish its output, as Ctrl-C in a
// terminal would.
func stopKcat(shell int) error {
	pids := []int{shell}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", shell, shell)); err == nil {
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	for _, pid := range pids {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && strings.TrimSpace(string(comm)) == "kcat" {
			return syscall.Kill(pid, syscall.SIGTERM)
		}
	}
	return fmt.Errorf("no kcat process among %v", pids)
}

// nodeDir is the directory of the Node clients the tests run.
const nodeDir = "../../test/node"

// needKafkajs returns the node binary, once test/node holds kafkajs 2.2.4
// alone, with no codec package beside it.
func needKafkajs(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		pgtest.Unavailable(t, "node is not installed: apt-get install nodejs npm, then npm ci --prefix test/node")
	}
	b, err := os.ReadFile(filepath.Join(nodeDir, "node_modules", "kafkajs", "package.json"))
	if err != nil {
		pgtest.Unavailable(t, "kafkajs is not installed in test/node: run npm ci --prefix test/node")
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(b, &pkg); err != nil || pkg.Version != "2.2.4" {
		t.Fatalf("test/node/node_modules holds kafkajs %q, want 2.2.4: run npm ci --prefix test/node (%v)", pkg.Version, err)
	}
	entries, err := os.ReadDir(filepath.Join(nodeDir, "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); n != "kafkajs" && !strings.HasPrefix(n, ".") {
			t.Fatalf("test/node/node_modules holds %s beside kafkajs: the test is of kafkajs with no codec package; run npm ci --prefix test/node", n)
		}
	}
	return node
}

// nodeResult is the line test/node/consume-all.js prints.
type nodeResult struct {
	Topics map[string]struct {
		Records    int64
		Tombstones int64
		Ops        map[string]int64
		Rows       map[string]map[string]any
	}
	Committed map[string]int64
}

// testDemoKafkajs stops the demo's workload with a table lock, waits until
// pgmotion has delivered everything written, and has a kafkajs consumer
// group read every event: as many as kcat reads per topic, replaying to
// the rows PostgreSQL holds.
func testDemoKafkajs(t *testing.T, dsn, broker string) {
	node := needKafkajs(t)

	ctx := context.Background()
	conn := pgtest.Connect(t, dsn)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	// Every workload transaction writes orders first, or customers alone:
	// locking orders first cannot deadlock with it.
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '30s'`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE orders, customers, products IN EXCLUSIVE MODE`); err != nil {
		t.Fatalf("stop the workload: %v", err)
	}
	var lsn string
	if err := tx.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn); err != nil {
		t.Fatal(err)
	}
	// A confirmed position is one Kafka has acknowledged everything before.
	pgtest.WaitFor(t, 90*time.Second, func() (bool, error) {
		return pgtest.QueryValue[bool](t, dsn, `SELECT confirmed_flush_lsn >= $1::pg_lsn FROM pg_replication_slots WHERE slot_name = 'pgmotion_demo'`, lsn), nil
	})

	expect := map[string]int{}
	kcatTombstones := map[string]int64{}
	for _, topic := range demoTopics {
		msgs := consume(t, broker, topic, 0, 60*time.Second)
		if len(msgs) == 0 {
			t.Fatalf("kcat reads no record in %s", topic)
		}
		expect[topic] = len(msgs)
		for _, m := range msgs {
			if m.Payload == nil {
				kcatTombstones[topic]++
			}
		}
	}
	arg, _ := json.Marshal(expect)
	cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, node, "consume-all.js", broker, "pgmotion-test-kafkajs", string(arg), "90000")
	cmd.Dir = nodeDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kafkajs consumer group (expecting %s): %v\n%s", arg, err, stderr.String())
	}
	var res nodeResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("consume-all.js printed %q: %v\n%s", out, err, stderr.String())
	}
	for _, topic := range demoTopics {
		got := res.Topics[topic]
		if got.Records != int64(expect[topic]) || got.Tombstones != kcatTombstones[topic] {
			t.Errorf("%s: kafkajs read %d records (%d tombstones), kcat %d (%d)", topic, got.Records, got.Tombstones, expect[topic], kcatTombstones[topic])
		}
		if res.Committed[topic] != int64(expect[topic]) {
			t.Errorf("%s: the group committed offsets adding up to %d, want %d", topic, res.Committed[topic], expect[topic])
		}
	}
	// Each order is inserted in the transaction that emits its
	// OrderCreated event; those streamed (not snapshotted) have both.
	if orders, outbox := res.Topics["demo.public.orders"].Ops["c"], res.Topics["outbox.event.order"].Records; orders != outbox {
		t.Errorf("%d order create events, %d OrderCreated events: want one per order", orders, outbox)
	}
	// Replayed, the change events are the tables as PostgreSQL has them.
	for table, column := range map[string]string{"customers": "email", "products": "stock", "orders": "status"} {
		want := map[string]string{}
		rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT id::text, %s::text FROM %s`, column, table))
		if err != nil {
			t.Fatal(err)
		}
		var id, v string
		if _, err := pgx.ForEachRow(rows, []any{&id, &v}, func() error { want[id] = v; return nil }); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for id, row := range res.Topics["demo.public."+table].Rows {
			got[id] = fmt.Sprint(row[column])
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d rows from kafkajs's events, %d in PostgreSQL", table, len(got), len(want))
		}
		var diff []string
		for id, w := range want {
			if g, ok := got[id]; !ok || g != w {
				diff = append(diff, fmt.Sprintf("id %s: %s %q from the events, %q in PostgreSQL", id, column, g, w))
			}
		}
		slices.Sort(diff)
		if len(diff) > 0 {
			t.Errorf("%s differs:\n%s", table, strings.Join(diff[:min(len(diff), 10)], "\n"))
		}
	}
}
