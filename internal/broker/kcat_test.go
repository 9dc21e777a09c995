package broker_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/broker"
)

// kcat (librdkafka) checks the broker against a client that shares no code
// with kfake or kgo.

func requireKcat(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("kcat not found: apt-get install kcat")
		}
		t.Skip("kcat not found; apt-get install kcat to run this test")
	}
	return path
}

// kcat runs kcat with args and stdin, and returns its stdout.
func kcat(t *testing.T, path, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

func TestKcat(t *testing.T) {
	kc := requireKcat(t)
	b := startBroker(t, broker.Options{DataDir: t.TempDir()})
	addr := b.Addr()

	t.Run("metadata", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := kadm.NewClient(newClient(t, addr)).CreateTopic(ctx, 3, -1, nil, "kcat-listed")
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			t.Fatalf("create topic: %v", err)
		}
		out := kcat(t, kc, "", "-b", addr, "-L")
		for _, want := range []string{
			"1 brokers:",
			"broker 0 at " + addr,
			`topic "kcat-listed" with 3 partitions:`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("kcat -L output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("consume what kgo produced", func(t *testing.T) {
		const topic, n = "kcat-read", 200
		produceKeyed(t, newClient(t, addr, kgo.AllowAutoTopicCreation()), topic, 0, n)
		out := kcat(t, kc, "", "-b", addr, "-C", "-t", topic, "-o", "beginning", "-e", "-f", `%k %s\n`)
		var want strings.Builder
		for i := range n {
			fmt.Fprintf(&want, "%s %s\n", testKey(i), testValue(i))
		}
		if out != want.String() {
			t.Errorf("kcat -C read:\n%s\nwant:\n%s", out, want.String())
		}
	})

	// kcat produces keyed messages with each codec; kgo reads them back.
	for _, codec := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		t.Run("kgo consumes kcat produce "+codec, func(t *testing.T) {
			const n = 100
			topic := "kcat-write-" + codec
			var in strings.Builder
			for i := range n {
				fmt.Fprintf(&in, "%s\t%s\n", testKey(i), testValue(i))
			}
			// -K sets the key delimiter; -X enables librdkafka's
			// idempotent producer, as Debezium's Java producer is.
			kcat(t, kc, in.String(), "-b", addr, "-P", "-t", topic, "-K", "\t", "-z", codec,
				"-X", "enable.idempotence=true")
			checkKeyed(t, consumeAll(t, addr, topic, n), 0)
		})
	}
}
