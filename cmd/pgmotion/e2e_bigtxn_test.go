package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestE2EBigTransaction streams one transaction of about 200 MB through a
// worker whose streamed-transaction budget is 8 MiB, after an aborted one of
// 100 MB: every row of the first must arrive once and none of the second, the server must not spill it (protocol 2 streams it), the worker
// must spill it to its data dir and clean up after, and the worker's peak
// RSS must stay under 256 MB.
func TestE2EBigTransaction(t *testing.T) {
	if testing.Short() {
		t.Skip("a 200 MB transaction")
	}
	const rows = 200_000 // about 1 kB each
	dsn := pgtest.NewDatabase(t)
	if v := pgtest.QueryValue[int](t, dsn, `SELECT current_setting('server_version_num')::int`); v < 140000 {
		t.Skipf("PostgreSQL %d streams no in-progress transactions", v)
	}
	broker, dataDir, args := bigTxnSetup(t, dsn)
	p := startPgmotion(t, args...)
	waitSlot(t, dsn, "bigtxn_slot")

	// An aborted transaction of 100 MB first: none of its rows (ids past
	// rows) may reach Kafka.
	pgtest.Exec(t, dsn, fmt.Sprintf(`BEGIN; INSERT INTO big SELECT g, repeat(md5(g::text), 31) FROM generate_series(%d, %d) g; ROLLBACK`, rows+1, rows+rows/2))
	start := time.Now()
	pgtest.Exec(t, dsn, fmt.Sprintf(`INSERT INTO big SELECT g, repeat(md5(g::text), 31) FROM generate_series(1, %d) g`, rows))
	t.Logf("transaction of %d rows committed in %v", rows, time.Since(start).Round(time.Millisecond))

	n, dups := readIDs(t, broker, "bigtxn.public.big", rows, 5*time.Minute)
	t.Logf("all %d rows in Kafka %v after the load began (%d duplicates)", rows, time.Since(start).Round(time.Millisecond), dups)
	if n != rows || dups != 0 {
		t.Errorf("%d rows and %d duplicates, want %d and none", n, dups, rows)
	}

	hwm := peakRSS(t, p.cmd.Process.Pid)
	t.Logf("worker peak RSS %d MB", hwm>>20)
	if hwm >= 256<<20 {
		t.Errorf("worker peak RSS %d MB, want under 256 MB", hwm>>20)
	}
	if !strings.Contains(p.output(), "spilling to disk") {
		t.Errorf("the worker did not spill with an 8 MiB budget")
	}
	if ents, _ := os.ReadDir(filepath.Join(dataDir, "spill", "bigtxn")); len(ents) != 0 {
		t.Errorf("spill files left: %v", ents)
	}
	row := pgtest.QueryRow(t, dsn, `SELECT spill_bytes, stream_bytes FROM pg_stat_replication_slots WHERE slot_name = 'bigtxn_slot'`)
	t.Logf("server spill_bytes %v, stream_bytes %v", row[0], row[1])
	if row[0].(int64) != 0 {
		t.Errorf("the server spilled %v bytes under protocol 2", row[0])
	}
	p.stop(t)
}

// bigTxnSetup creates the table, has the database's walsenders stream
// past 1 MB, and starts a broker; args start a worker with an 8 MiB budget.
func bigTxnSetup(t *testing.T, dsn string) (broker, dataDir string, args []string) {
	t.Helper()
	if v := pgtest.QueryValue[int](t, dsn, `SELECT current_setting('server_version_num')::int`); v < 140000 {
		t.Skipf("PostgreSQL %d streams no in-progress transactions", v)
	}
	db := parseDSN(t, dsn).db
	pgtest.Exec(t, dsn, `CREATE TABLE big (id int PRIMARY KEY, payload text NOT NULL)`,
		// The walsender streams past 1 MB instead of 64 MB.
		`ALTER DATABASE "`+db+`" SET logical_decoding_work_mem = '1MB'`)
	broker = startBroker(t)
	dataDir = t.TempDir()
	file := connectorFile(t, dsn, "bigtxn", map[string]string{"topic.prefix": "bigtxn", "slot.name": "bigtxn_slot",
		"table.include.list": "public.big", "pgmotion.buffer.memory.bytes": strconv.Itoa(8 << 20)})
	return broker, dataDir, []string{"connect", "--rest", "127.0.0.1:0", "--bootstrap-servers", broker, "--data-dir", dataDir, "--offset-flush-interval", "100ms", file}
}

// readIDs reads topic from the start until it holds rows distinct ids
// (1..rows), then a second more to catch strays; it returns the distinct
// ids and the duplicates seen. An id outside 1..rows fails the test.
func readIDs(t *testing.T, broker, topic string, rows int, timeout time.Duration) (n, dups int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(50*time.Millisecond), kgo.MetadataMaxAge(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	seen := make([]bool, rows+1)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var tail context.CancelFunc
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			if tail != nil {
				return n, dups
			}
			t.Fatalf("%d of %d rows in Kafka after %v", n, rows, timeout)
		}
		fs.EachRecord(func(r *kgo.Record) {
			i := bytes.LastIndex(r.Key, []byte(`"id":`))
			if i < 0 {
				t.Fatalf("key without id: %s", r.Key)
			}
			id, err := strconv.Atoi(strings.TrimRight(string(r.Key[i+5:]), "}"))
			if err != nil || id < 1 || id > rows {
				t.Fatalf("key %s: not a row of the committed transaction", r.Key)
			}
			if seen[id] {
				dups++
			} else {
				seen[id] = true
				n++
			}
		})
		if n == rows && tail == nil {
			ctx, tail = context.WithTimeout(context.Background(), time.Second)
			defer tail()
		}
	}
}

// TestE2EBigTransactionKill kills the worker with SIGKILL while it emits a
// streamed transaction that spilled: after a restart every row arrives
// (duplicates of what Kafka already held are allowed), and the spill files
// of the killed worker are gone.
func TestE2EBigTransactionKill(t *testing.T) {
	if testing.Short() {
		t.Skip("a 200 MB transaction")
	}
	const rows = 200_000
	dsn := pgtest.NewDatabase(t)
	broker, dataDir, args := bigTxnSetup(t, dsn)
	p := startPgmotion(t, args...)
	waitSlot(t, dsn, "bigtxn_slot")
	pgtest.Exec(t, dsn, fmt.Sprintf(`INSERT INTO big SELECT g, repeat(md5(g::text), 31) FROM generate_series(1, %d) g`, rows))

	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.MetadataMinAge(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	pgtest.WaitFor(t, 120*time.Second, func() (bool, error) {
		ends, err := adm.ListEndOffsets(context.Background(), "bigtxn.public.big")
		if err != nil {
			return false, nil
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		return n >= rows/4, nil
	})
	p.kill()
	spill := filepath.Join(dataDir, "spill", "bigtxn")
	left, _ := os.ReadDir(spill)
	t.Logf("killed mid-transaction; %d spill files left behind", len(left))

	p2 := startPgmotion(t, args...)
	n, dups := readIDs(t, broker, "bigtxn.public.big", rows, 5*time.Minute)
	t.Logf("after the restart: %d rows, %d duplicates", n, dups)
	if ents, _ := os.ReadDir(spill); len(ents) != 0 {
		t.Errorf("spill files left after the restart: %v", ents)
	}
	p2.stop(t)
}

// peakRSS reads a process's VmHWM in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
