package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/procs"
)

// broker is a `pgmotion broker` process with its own data directory.
type broker struct {
	*procs.Proc
	addr string // host:port it listens on
	argv []string
}

// startBroker starts `pgmotion broker` on a free port with a fresh data
// directory under dir, and waits until it says it is listening.
func (e *env) startBroker(ctx context.Context, dir string) (*broker, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create broker dir: %w", err)
	}
	argv := []string{e.bin, "broker", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data")}
	p, err := e.procs.Start("pgmotion broker", exec.Command(argv[0], argv[1:]...), filepath.Join(dir, "broker.log"))
	if err != nil {
		return nil, err
	}
	b := &broker{Proc: p, argv: argv}
	// It prints "broker listening on 127.0.0.1:PORT (data dir ...)" once
	// it accepts connections; port 0 had it pick a free port.
	const ready = "broker listening on "
	err = p.Await(ctx, 30*time.Second, 20*time.Millisecond, func() bool {
		out, _ := os.ReadFile(p.LogPath())
		i := bytes.Index(out, []byte(ready))
		if i < 0 {
			return false
		}
		line := string(out[i+len(ready):])
		b.addr = strings.TrimRight(strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' })[0], ",")
		return true
	})
	if err == nil {
		return b, nil
	}
	if errors.Is(err, procs.ErrExited) {
		return nil, fmt.Errorf("pgmotion broker %s before it was ready; its output:\n%s", p.DescribeExit(), p.LogTail(15))
	}
	p.Stop(5 * time.Second)
	if errors.Is(err, procs.ErrTimeout) {
		err = fmt.Errorf("pgmotion broker did not print %q within 30 s; its output:\n%s", strings.TrimSpace(ready), p.LogTail(15))
	}
	return nil, err
}

// connectorConfig is the Kafka Connect request body the worker runs: the
// Debezium PostgreSQL connector capturing table t from slot, without a
// snapshot, so that it streams what the slot holds.
func (e *env) connectorConfig(slot string) map[string]any {
	return map[string]any{"name": "bench", "config": e.pgConfig(topicPrefix, slot)}
}

// pgConfig is the connector config of every pgmotion run: table t of the
// bench database, from slot, without a snapshot, into topics named after
// prefix.
func (e *env) pgConfig(prefix, slot string) map[string]string {
	return map[string]string{
		options.PropConnectorClass:  options.PostgresClass,
		options.PropHostname:        "127.0.0.1",
		options.PropPort:            strconv.Itoa(e.pg.Port()),
		options.PropUser:            "postgres",
		options.PropPassword:        "x",
		options.PropDBName:          benchDB,
		options.PropPluginName:      "pgoutput",
		options.PropTopicPrefix:     prefix,
		options.PropSlotName:        slot,
		options.PropPublicationName: publication,
		options.PropSnapshotMode:    string(options.SnapshotNoData),
		options.PropTableInclude:    "public." + tableName,
	}
}

// worker is a `pgmotion connect` process.
type worker struct {
	*procs.Proc
	argv          []string
	connectorPath string
}

// startWorker writes the connector file to dir and starts `pgmotion
// connect` against b; its start time is taken just before fork/exec.
func (e *env) startWorker(dir string, b *broker, slot string) (*worker, error) {
	return e.startWorkerWith(dir, b, e.connectorConfig(slot))
}

// startWorkerWith is startWorker with a connector body of its own.
func (e *env) startWorkerWith(dir string, b *broker, connector map[string]any) (*worker, error) {
	body, err := json.MarshalIndent(connector, "", "  ")
	if err != nil {
		return nil, err
	}
	cpath := filepath.Join(dir, "connector.json")
	if err := os.WriteFile(cpath, body, 0o644); err != nil {
		return nil, fmt.Errorf("write connector file: %w", err)
	}
	argv := append(e.connectArgs(b.addr), "--data-dir", filepath.Join(dir, "worker"), cpath)
	cmd := exec.Command(argv[0], argv[1:]...)
	if len(e.workerEnv) > 0 {
		cmd.Env = append(os.Environ(), e.workerEnv...)
	}
	p, err := e.procs.Start("pgmotion connect", cmd, filepath.Join(dir, "worker.log"))
	if err != nil {
		return nil, err
	}
	return &worker{Proc: p, argv: argv, connectorPath: cpath}, nil
}

// connectArgs starts the command line of a `pgmotion connect` worker
// against the broker at addr, with the run's producer compression.
func (e *env) connectArgs(addr string) []string {
	return []string{e.workerBinary(), "connect", "--bootstrap-servers", addr, "--compression", e.opts.compression}
}

// failure describes a worker that exited or failed, with its last log
// lines.
func (w *worker) failure(what string) error {
	return fmt.Errorf("%s: pgmotion connect %s%s; last lines of %s:\n%s", what, w.DescribeExit(), panicked(w.LogPath()), w.LogPath(), w.LogTail(20))
}

// panicked returns ", panic: …" with the first panic line of a log, which
// the tail of a goroutine dump leaves out, or "".
func panicked(logPath string) string {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "panic: ") {
			return ", " + strings.TrimSpace(l)
		}
	}
	return ""
}

// offsetWatcher reads the end offsets of the events topic.
type offsetWatcher struct {
	cl  *kgo.Client
	adm *kadm.Client
}

func newOffsetWatcher(addr string) (*offsetWatcher, error) {
	// kgo answers metadata requests from a cache younger than
	// MetadataMinAge (5 s by default), which would hide the topic for
	// seconds after the worker creates it.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID("pgmotion-bench-offsets"), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("kafka client for %s: %w", addr, err)
	}
	return &offsetWatcher{cl: cl, adm: kadm.NewClient(cl)}, nil
}

func (o *offsetWatcher) close() { o.cl.Close() }

// events returns the sum of the end offsets of the topic's partitions:
// the number of events in it, since the broker is fresh and the worker
// does not use transactions. A topic that does not exist yet holds 0.
func (o *offsetWatcher) events(ctx context.Context) (int64, error) { return o.eventsIn(ctx, topic) }

// eventsIn is events for another topic.
func (o *offsetWatcher) eventsIn(ctx context.Context, topic string) (int64, error) {
	ends, err := o.endOffsets(ctx, topic)
	var n int64
	for _, e := range ends {
		n += e
	}
	return n, err
}

// endOffsets returns the end offset of each partition of topic; none for
// a topic that does not exist yet.
func (o *offsetWatcher) endOffsets(ctx context.Context, topic string) (map[int32]int64, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	offs, err := o.adm.ListEndOffsets(rctx, topic)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("list end offsets of %s: no answer within 5 s", topic)
		}
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	ends := map[int32]int64{}
	offs.Each(func(l kadm.ListedOffset) {
		if l.Err == nil && l.Topic == topic {
			ends[l.Partition] = l.Offset
		}
	})
	return ends, nil
}
