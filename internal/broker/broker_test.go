package broker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/broker"
)

// testLog returns a logger that writes into the test's log.
func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startBroker runs a broker with opts (Listen defaults to a free port on
// 127.0.0.1) until the test ends, and returns it once it is ready.
func startBroker(t testing.TB, opts broker.Options) *broker.Broker {
	t.Helper()
	b, errc := runBroker(t, opts)
	select {
	case <-b.Ready():
	case err := <-errc:
		t.Fatalf("broker did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("broker did not start in 30s")
	}
	return b
}

// runBroker starts Run in a goroutine and stops it when the test ends. The
// channel receives Run's result.
func runBroker(t testing.TB, opts broker.Options) (*broker.Broker, <-chan error) {
	t.Helper()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.Log == nil {
		opts.Log = testLog(t)
	}
	b, err := broker.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- b.Run(context.Background()) }()
	t.Cleanup(func() { stopBroker(t, b) })
	return b, errc
}

func stopBroker(t testing.TB, b *broker.Broker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func newClient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatalf("kgo.NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func testKey(i int) string   { return fmt.Sprintf("key-%04d", i) }
func testValue(i int) string { return fmt.Sprintf(`{"id":%d,"payload":"value %d"}`, i, i) }

// produceKeyed produces n keyed records numbered from first, synchronously,
// with kgo's defaults: an idempotent producer, acks=all.
func produceKeyed(t testing.TB, cl *kgo.Client, topic string, first, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	recs := make([]*kgo.Record, 0, n)
	for i := first; i < first+n; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(testKey(i)), Value: []byte(testValue(i))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// consumeAll reads topic from the start until it has want records, and
// returns them in offset order per partition.
func consumeAll(t testing.TB, addr, topic string, want int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl := newClient(t, addr, append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got []*kgo.Record
	for len(got) < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consume %s: got %d of %d records: %v", topic, len(got), want, err)
		}
		fs.EachError(func(t2 string, p int32, err error) {
			t.Fatalf("consume %s[%d]: %v", t2, p, err)
		})
		got = append(got, fs.Records()...)
	}
	if len(got) != want {
		t.Fatalf("consume %s: got %d records, want %d", topic, len(got), want)
	}
	return got
}

// checkKeyed checks that recs are records first..first+len(recs)-1 of
// produceKeyed, in order, on partition 0.
func checkKeyed(t testing.TB, recs []*kgo.Record, first int) {
	t.Helper()
	for i, r := range recs {
		n := first + i
		if string(r.Key) != testKey(n) || string(r.Value) != testValue(n) || r.Offset != int64(i) || r.Partition != 0 {
			t.Fatalf("record %d: got partition %d offset %d key %q value %q, want partition 0 offset %d key %q value %q",
				i, r.Partition, r.Offset, r.Key, r.Value, i, testKey(n), testValue(n))
		}
	}
}

func clusterID(t testing.TB, addr string) string {
	t.Helper()
	adm := kadm.NewClient(newClient(t, addr))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := adm.BrokerMetadata(ctx)
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	return m.Cluster
}

func TestProduceConsumeRestart(t *testing.T) {
	const topic, n = "orders", 1000
	dir := t.TempDir()

	b := startBroker(t, broker.Options{DataDir: dir})
	cl := newClient(t, b.Addr(), kgo.AllowAutoTopicCreation())
	produceKeyed(t, cl, topic, 0, n)
	checkKeyed(t, consumeAll(t, b.Addr(), topic, n), 0)
	id := clusterID(t, b.Addr())
	if id == "" || id != b.ClusterID() {
		t.Fatalf("cluster ID: metadata says %q, broker says %q", id, b.ClusterID())
	}
	cl.Close()
	stopBroker(t, b)

	b2 := startBroker(t, broker.Options{DataDir: dir})
	checkKeyed(t, consumeAll(t, b2.Addr(), topic, n), 0)
	if id2 := clusterID(t, b2.Addr()); id2 != id {
		t.Errorf("cluster ID changed across restart: %q, then %q", id, id2)
	}
	// The log continues where it left off.
	produceKeyed(t, newClient(t, b2.Addr()), topic, n, 10)
	checkKeyed(t, consumeAll(t, b2.Addr(), topic, n+10), 0)
}

func TestInMemory(t *testing.T) {
	b := startBroker(t, broker.Options{})
	produceKeyed(t, newClient(t, b.Addr(), kgo.AllowAutoTopicCreation()), "mem", 0, 10)
	checkKeyed(t, consumeAll(t, b.Addr(), "mem", 10), 0)
}

func TestCreateTopics(t *testing.T) {
	b := startBroker(t, broker.Options{DataDir: t.TempDir(), DefaultPartitions: 2})
	adm := kadm.NewClient(newClient(t, b.Addr()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, tc := range []struct {
		topic      string
		partitions int32
		replicas   int16
		configs    map[string]*string
		wantParts  int
		wantErr    string
	}{
		{topic: "explicit", partitions: 3, replicas: 1, wantParts: 3},
		{topic: "defaults", partitions: -1, replicas: -1, wantParts: 2},
		{topic: "compacted", partitions: 1, replicas: -1, configs: map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, wantParts: 1},
		// One broker: a replication factor of 3, Kafka Connect's default
		// for its internal topics, cannot be met.
		{topic: "rf3", partitions: 1, replicas: 3, wantErr: "INVALID_REPLICATION_FACTOR"},
	} {
		resp, err := adm.CreateTopic(ctx, tc.partitions, tc.replicas, tc.configs, tc.topic)
		if err == nil {
			err = resp.Err
		}
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("create %s: got error %v, want %s", tc.topic, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("create %s: %v", tc.topic, err)
			continue
		}
		td, err := adm.ListTopics(ctx, tc.topic)
		if err != nil {
			t.Fatalf("list %s: %v", tc.topic, err)
		}
		if got := len(td[tc.topic].Partitions); got != tc.wantParts {
			t.Errorf("topic %s has %d partitions, want %d", tc.topic, got, tc.wantParts)
		}
	}

	// Auto-creation on produce, for a client that asks for it, uses
	// DefaultPartitions.
	produceKeyed(t, newClient(t, b.Addr(), kgo.AllowAutoTopicCreation()), "auto", 0, 1)
	td, err := adm.ListTopics(ctx, "auto")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(td["auto"].Partitions); got != 2 {
		t.Errorf("auto-created topic has %d partitions, want 2", got)
	}

	rc, err := adm.DescribeTopicConfigs(ctx, "compacted")
	if err != nil {
		t.Fatal(err)
	}
	c, err := rc.On("compacted", nil)
	if err != nil {
		t.Fatal(err)
	}
	var policy string
	for _, kv := range c.Configs {
		if kv.Key == "cleanup.policy" {
			policy = kv.MaybeValue()
		}
	}
	if policy != "compact" {
		t.Errorf("cleanup.policy of compacted = %q, want compact", policy)
	}
}

func TestConsumerGroupOffsetsSurviveRestart(t *testing.T) {
	const topic, group = "grouped", "pgmotion-test"
	dir := t.TempDir()
	b := startBroker(t, broker.Options{DataDir: dir})
	produceKeyed(t, newClient(t, b.Addr(), kgo.AllowAutoTopicCreation()), topic, 0, 100)

	cl := newClient(t, b.Addr(), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var n int
	for n < 100 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("group consume: got %d of 100", n)
		}
		n += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	cl.Close()
	stopBroker(t, b)

	b2 := startBroker(t, broker.Options{DataDir: dir})
	offs, err := kadm.NewClient(newClient(t, b2.Addr())).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	if o, ok := offs.Lookup(topic, 0); !ok || o.At != 100 {
		t.Errorf("committed offset after restart = %+v (found %v), want 100", o, ok)
	}
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	b, err := broker.New(broker.Options{Listen: ln.Addr().String(), DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Run(context.Background())
	want := "listen " + ln.Addr().String() + ": address already in use — is another broker running? pick another with --listen"
	if err == nil || err.Error() != want || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Run on a used port: got %v, want %q wrapping EADDRINUSE", err, want)
	}
	select {
	case <-b.Ready():
		t.Error("Ready closed although the broker failed to start")
	default:
	}
}

func TestDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	startBroker(t, broker.Options{DataDir: dir})

	b2, err := broker.New(broker.Options{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	err = b2.Run(context.Background())
	want := fmt.Sprintf("data dir %s is in use by another pgmotion broker (pid %d)", dir, os.Getpid())
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second broker on one data dir: got %v, want %q", err, want)
	}
}

func TestClusterID(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, broker.Options{DataDir: dir, ClusterID: "my-cluster"})
	if got := clusterID(t, b.Addr()); got != "my-cluster" {
		t.Errorf("cluster ID = %q, want my-cluster", got)
	}
	stopBroker(t, b)

	stored, err := os.ReadFile(filepath.Join(dir, "cluster.id"))
	if err != nil || strings.TrimSpace(string(stored)) != "my-cluster" {
		t.Errorf("stored cluster ID = %q, %v; want my-cluster", stored, err)
	}

	b2, err := broker.New(broker.Options{Listen: "127.0.0.1:0", DataDir: dir, ClusterID: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b2.Run(context.Background()); err == nil || !strings.Contains(err.Error(), `belongs to cluster "my-cluster", not "other"`) {
		t.Errorf("Run with a different cluster ID: got %v", err)
	}

	// A generated ID looks like Kafka's: 22 characters of URL-safe base64.
	b3 := startBroker(t, broker.Options{DataDir: t.TempDir()})
	if id := b3.ClusterID(); len(id) != 22 {
		t.Errorf("generated cluster ID %q: want 22 characters", id)
	}
}

func TestAdvertise(t *testing.T) {
	for _, tc := range []struct {
		name, listen, advertise string
		wantHost                string
		wantPort                int // 0: the bound port
	}{
		{name: "loopback", listen: "127.0.0.1:0", wantHost: "127.0.0.1"},
		{name: "wildcard", listen: "0.0.0.0:0", wantHost: "127.0.0.1"},
		{name: "empty host", listen: ":0", wantHost: "127.0.0.1"},
		{name: "host only", listen: "0.0.0.0:0", advertise: "localhost", wantHost: "localhost"},
		{name: "host and port", listen: "0.0.0.0:0", advertise: "kafka.example.invalid:19092", wantHost: "kafka.example.invalid", wantPort: 19092},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, broker.Options{Listen: tc.listen, Advertise: tc.advertise})
			_, boundPort, _ := net.SplitHostPort(b.ListenAddr())
			wantPort := tc.wantPort
			if wantPort == 0 {
				wantPort, _ = strconv.Atoi(boundPort)
			}
			want := net.JoinHostPort(tc.wantHost, strconv.Itoa(wantPort))
			if b.Addr() != want {
				t.Errorf("Addr() = %q, want %q", b.Addr(), want)
			}
			// Ask the broker itself, through its bound port, what it
			// advertises.
			seed := net.JoinHostPort("127.0.0.1", boundPort)
			adm := kadm.NewClient(newClient(t, seed))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			m, err := adm.BrokerMetadata(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Brokers) != 1 || m.Brokers[0].Host != tc.wantHost || int(m.Brokers[0].Port) != wantPort {
				t.Errorf("metadata brokers = %+v, want one at %s", m.Brokers, want)
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	// Close before Run: Run returns at once.
	b, err := broker.New(broker.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Run(ctx); err == nil {
		t.Error("Run after Close: got nil error")
	}

	// Cancelling Run's context stops it cleanly, and Close may follow.
	b, err = broker.New(broker.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- b.Run(runCtx) }()
	<-b.Ready()
	if b.Addr() == "" {
		t.Error("Addr empty once ready")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	for range 2 {
		if err := b.Close(ctx); err != nil {
			t.Errorf("Close after Run returned: %v", err)
		}
	}
	if err := b.Run(ctx); err == nil {
		t.Error("second Run: got nil error")
	}
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		opts    broker.Options
		wantErr string
	}{
		{broker.Options{Listen: "9092"}, "want host:port"},
		{broker.Options{Listen: "127.0.0.1:http"}, "is not a number"},
		{broker.Options{Listen: "127.0.0.1:70000"}, "is not a number"},
		{broker.Options{Advertise: ":9092"}, "want host or host:port"},
		{broker.Options{Advertise: "kafka:0"}, "is not a number from 1"},
		{broker.Options{SyncWrites: true}, "need a data dir"},
		{broker.Options{DefaultPartitions: -1}, "want 1 or more"},
		{broker.Options{ClusterID: "a b"}, "white space"},
	} {
		_, err := broker.New(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("New(%+v): got %v, want error containing %q", tc.opts, err, tc.wantErr)
		}
	}
	if _, err := broker.New(broker.Options{Listen: "0.0.0.0:0", Advertise: "[::1]", DataDir: "x", SyncWrites: true}); err != nil {
		t.Errorf("New with valid options: %v", err)
	}
}

// TestRecoversUnlistedTopic covers data dirs in which kfake's topic list
// lacks a topic whose records are on disk, as a crash after kfake's own
// auto-creation left them: the broker adds the topic back on start.
func TestRecoversUnlistedTopic(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, broker.Options{DataDir: dir})
	cl := newClient(t, b.Addr(), kgo.AllowAutoTopicCreation())
	produceKeyed(t, cl, "lost.topic", 0, 100)
	produceKeyed(t, cl, "kept", 0, 10)
	cl.Close()
	stopBroker(t, b)

	path := filepath.Join(dir, "topics.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var topics struct {
		Version int              `json:"version"`
		Topics  []map[string]any `json:"topics"`
	}
	if err := json.Unmarshal(raw, &topics); err != nil {
		t.Fatal(err)
	}
	kept := topics.Topics[:0]
	for _, tp := range topics.Topics {
		if tp["name"] != "lost.topic" {
			kept = append(kept, tp)
		}
	}
	if len(kept) != 1 {
		t.Fatalf("topics.json: %s", raw)
	}
	topics.Topics = kept
	if raw, err = json.Marshal(topics); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	b2 := startBroker(t, broker.Options{DataDir: dir})
	checkKeyed(t, consumeAll(t, b2.Addr(), "lost.topic", 100), 0)
	checkKeyed(t, consumeAll(t, b2.Addr(), "kept", 10), 0)
}

// TestCompaction shows how compaction behaves: it runs every
// log.cleaner.backoff.ms (kfake's default is an hour), which a client may
// change at run time before creating the compacted topic. It keeps the
// newest record per key among all batches but the last, which it neither
// cleans nor counts: a key whose newest record is in the last batch keeps
// its previous record too, as with the active segment of a real broker.
func TestCompaction(t *testing.T) {
	const topic = "compacted-state"
	b := startBroker(t, broker.Options{DataDir: t.TempDir()})
	cl := newClient(t, b.Addr(), kgo.ProducerLinger(0))
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	set := kadm.AlterConfig{Op: kadm.SetConfig, Name: "log.cleaner.backoff.ms", Value: kadm.StringPtr("100")}
	if _, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{set}); err != nil {
		t.Fatalf("set log.cleaner.backoff.ms: %v", err)
	}
	resp, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact")}, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	// Five versions of each of three keys, one batch per record.
	for v := range 5 {
		for _, k := range []string{"a", "b", "c"} {
			r := &kgo.Record{Topic: topic, Key: []byte(k), Value: []byte(fmt.Sprintf("%s%d", k, v))}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Poll until compaction has run: a and b at version 4; c4 is the last
	// batch, so c3 stays too.
	want := "c3 a4 b4 c4"
	var got string
	for ctx.Err() == nil {
		c := newClient(t, b.Addr(), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		end, _ := ends.Lookup(topic, 0)
		var vals []string
		for len(vals) == 0 || vals[len(vals)-1] != "c4" {
			fs := c.PollFetches(ctx)
			if ctx.Err() != nil {
				break
			}
			fs.EachRecord(func(r *kgo.Record) { vals = append(vals, string(r.Value)) })
		}
		c.Close()
		got = strings.Join(vals, " ")
		if got == want {
			if end.Offset != 15 {
				t.Errorf("high watermark after compaction = %d, want 15 (offsets are kept)", end.Offset)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("compacted topic reads %q, want %q", got, want)
}
