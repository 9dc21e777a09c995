package broker_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/broker"
)

// The SIGKILL tests run the broker in a child process: this test binary,
// re-executed with -test.run selecting TestBrokerProcess and the environment
// variables below telling it what to serve.
const (
	envProcDataDir = "PGMOTION_BROKER_PROC_DATA_DIR"
	envProcListen  = "PGMOTION_BROKER_PROC_LISTEN"
)

// TestBrokerProcess is the child's body, not a test: it does nothing unless
// the parent set envProcDataDir. It prints "READY <addr>" once serving and
// runs until SIGKILL or, for a clean stop, SIGTERM.
func TestBrokerProcess(t *testing.T) {
	dir := os.Getenv(envProcDataDir)
	if dir == "" {
		t.Skip("helper process for the SIGKILL tests")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	b, err := broker.New(broker.Options{
		Listen:  os.Getenv(envProcListen),
		DataDir: dir,
		Log:     slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	errc := make(chan error, 1)
	go func() { errc <- b.Run(ctx) }()
	select {
	case <-b.Ready():
		fmt.Printf("READY %s\n", b.Addr())
	case err := <-errc:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := <-errc; err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(0)
}

// brokerProc is a broker running in a child process.
type brokerProc struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
	exited chan struct{}
	err    error // from Wait, once exited is closed
}

// startBrokerProc starts a child broker on dir and listen and waits until it
// serves. The child is killed when the test ends if it still runs.
func startBrokerProc(t *testing.T, dir, listen string) *brokerProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokerProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), envProcDataDir+"="+dir, envProcListen+"="+listen)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &brokerProc{cmd: cmd, stderr: new(bytes.Buffer), exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start broker process: %v", err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "READY ") {
				lines <- l
			}
		}
	}()
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case l := <-lines:
		p.addr = strings.TrimPrefix(l, "READY ")
	case <-p.exited:
		t.Fatalf("broker process exited before serving: %v\n%s", p.err, p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("broker process did not serve in 60s\n%s", p.stderr)
	}
	t.Logf("broker process %d serving on %s", cmd.Process.Pid, p.addr)
	return p
}

// kill9 kills the child with SIGKILL and waits for it to die.
func (p *brokerProc) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9: %v", err)
	}
	<-p.exited
}

// term stops the child with SIGTERM and checks it exits cleanly.
func (p *brokerProc) term(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("broker process ignored SIGTERM for 60s\n%s", p.stderr)
	}
	if p.err != nil {
		t.Fatalf("broker process exit after SIGTERM: %v\n%s", p.err, p.stderr)
	}
}

// freePort returns a loopback address whose port was free a moment ago; the
// child processes reuse it so that one client follows the broker across
// restarts.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts broker processes")
	}
	const topic, group, n = "crash", "crash-group", 1000
	dir, listen := t.TempDir(), freePort(t)

	p := startBrokerProc(t, dir, listen)

	// The data dir is locked against a second broker, and the refusal
	// names the process holding it.
	b2, err := broker.New(broker.Options{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("in use by another pgmotion broker (pid %d)", p.cmd.Process.Pid)
	if err := b2.Run(context.Background()); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("broker on a data dir another process holds: got %v, want %q", err, want)
	}

	// Produce with acks=all (kgo's default, idempotent) and commit a group
	// offset, then kill the broker without warning.
	cl := newClient(t, p.addr, kgo.AllowAutoTopicCreation())
	produceKeyed(t, cl, topic, 0, n)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	adm := kadm.NewClient(newClient(t, p.addr))
	var offs kadm.Offsets
	offs.Add(kadm.Offset{Topic: topic, Partition: 0, At: n / 2, LeaderEpoch: -1})
	if err := adm.CommitAllOffsets(ctx, group, offs); err != nil {
		t.Fatalf("commit offsets: %v", err)
	}
	p.kill9(t)

	// A new process on the same data dir and port: the same producer
	// client carries on, and everything acknowledged is there.
	p = startBrokerProc(t, dir, listen)
	produceKeyed(t, cl, topic, n, n)
	checkKeyed(t, consumeAll(t, p.addr, topic, 2*n), 0)
	got, err := kadm.NewClient(newClient(t, p.addr)).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	if o, ok := got.Lookup(topic, 0); !ok || o.At != n/2 {
		t.Errorf("committed offset after kill -9 = %+v (found %v), want %d", o, ok, n/2)
	}

	// A clean stop of that process, then an in-process broker on the
	// same data dir, sees the same log.
	cl.Close()
	p.term(t)
	b := startBroker(t, broker.Options{DataDir: dir})
	checkKeyed(t, consumeAll(t, b.Addr(), topic, 2*n), 0)
}

// TestSIGKILLMidStream kills the broker while a producer has batches in
// flight. Every record the broker acknowledged must be there after the
// restart; records it had not acknowledged may be missing, and kgo's retries
// of batches written just before the kill may show up twice.
func TestSIGKILLMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("starts broker processes")
	}
	const topic = "midstream"
	dir, listen := t.TempDir(), freePort(t)
	p := startBrokerProc(t, dir, listen)

	// kfake keeps idempotent producers' sequence numbers only across a
	// clean shutdown: after kill -9 it accepts a retried batch whatever its
	// sequence, so with several requests in flight the retries can land
	// out of order. One request in flight keeps the order this test checks.
	cl := newClient(t, p.addr, kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(0), kgo.MaxProduceRequestsInflightPerBroker(1))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var (
		mu          sync.Mutex
		acked       = map[string]bool{}
		ackedBefore atomic.Int64 // acks received before the kill
		before      = map[string]bool{}
		killed      atomic.Bool
		wg          sync.WaitGroup
	)
	const total = 50000
	go func() {
		for i := range total {
			wg.Add(1)
			k := testKey(i)
			cl.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(k), Value: []byte(testValue(i))}, func(_ *kgo.Record, err error) {
				defer wg.Done()
				if err != nil {
					t.Errorf("produce %s: %v", k, err)
					return
				}
				mu.Lock()
				if !killed.Load() {
					ackedBefore.Add(1)
					before[k] = true
				}
				acked[k] = true
				mu.Unlock()
			})
		}
	}()
	// Kill once some records are acknowledged, with the producer still
	// going.
	for ackedBefore.Load() < total/5 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	p.kill9(t)
	killed.Store(true)
	p = startBrokerProc(t, dir, listen)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n == total || ctx.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	if len(acked) != total {
		t.Fatalf("%d of %d records acknowledged", len(acked), total)
	}

	// Read to the high watermark and compare.
	adm := kadm.NewClient(newClient(t, p.addr))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var hwm int64
	ends.Each(func(o kadm.ListedOffset) { hwm += o.Offset })
	recs := consumeAll(t, p.addr, topic, int(hwm))
	seen := map[string]int{}
	for _, r := range recs {
		seen[string(r.Key)]++
	}
	var missing, dups int
	for i := range total {
		switch c := seen[testKey(i)]; {
		case c == 0:
			missing++
		case c > 1:
			dups += c - 1
		}
	}
	t.Logf("kill -9 with records in flight: %d acknowledged before the kill, %d records in the log, %d duplicates, %d missing",
		ackedBefore.Load(), len(recs), dups, missing)
	if missing > 0 {
		t.Errorf("%d acknowledged records missing after kill -9", missing)
	}
	// Records acknowledged before the kill keep their order. The batch in
	// flight at the kill may land once, after later ones: kfake does not
	// keep the idempotent producer's sequence state across a SIGKILL (seen
	// in CI with one request in flight: the first unacknowledged record
	// arrived after the last one), which the package doc states.
	last := -1
	for _, r := range recs {
		if !before[string(r.Key)] {
			continue
		}
		i, _ := strconv.Atoi(strings.TrimPrefix(string(r.Key), "key-"))
		if i < last && seen[string(r.Key)] == 1 {
			t.Errorf("record %d after record %d at offset %d", i, last, r.Offset)
			break
		}
		last = max(last, i)
	}
}
