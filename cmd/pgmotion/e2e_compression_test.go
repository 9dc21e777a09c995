package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestE2ECompression checks the worker's producer compression: none unless
// asked, as Kafka Connect's, and each codec when producer.compression.type
// (file, then PGMOTION_PRODUCER_COMPRESSION_TYPE) or --compression asks for
// it, the flag first. The record batches in the topic say which codec wrote
// them.
func TestE2ECompression(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE squeezed (id int PRIMARY KEY, note text)`, `INSERT INTO squeezed VALUES (1, 'x')`)
	// Kafka's record batch attribute codes.
	const none, gzip, snappy, lz4, zstd = 0, 1, 2, 3, 4
	for i, tc := range []struct {
		name  string
		flags []string
		file  string // producer.compression.type in the worker config
		env   string // PGMOTION_PRODUCER_COMPRESSION_TYPE
		want  uint8
	}{
		{name: "default", want: none},
		{name: "flag", flags: []string{"--compression", "snappy"}, want: snappy},
		{name: "file", file: "lz4", want: lz4},
		{name: "env over file", file: "lz4", env: "zstd", want: zstd},
		{name: "flag over env and file", flags: []string{"--compression", "gzip"}, file: "lz4", env: "zstd", want: gzip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("PGMOTION_PRODUCER_COMPRESSION_TYPE", tc.env)
			}
			broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			prefix := fmt.Sprintf("c%d", i)
			conn := connectorFile(t, dsn, prefix+"-connector", map[string]string{"topic.prefix": prefix, "slot.name": prefix + "_slot"})
			args := append([]string{"connect", "--rest", "127.0.0.1:0", "--embedded-broker", broker, "--data-dir", t.TempDir()}, tc.flags...)
			if tc.file != "" {
				path := filepath.Join(t.TempDir(), "worker.properties")
				if err := os.WriteFile(path, []byte("producer.compression.type="+tc.file+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--worker-config", path)
			}
			p := startPgmotion(t, append(args, conn)...)
			if got := firstRecordCompression(t, broker, prefix+".public.squeezed"); got != tc.want {
				t.Errorf("the snapshot event's batch has compression code %d, want %d", got, tc.want)
			}
			p.stop(t)
		})
	}
}

// firstRecordCompression reads the first record of topic and returns the
// compression code of its batch.
func firstRecordCompression(t *testing.T, broker, topic string) uint8 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("no record in %s within 60 s", topic)
		}
		if recs := fs.Records(); len(recs) > 0 {
			return recs[0].Attrs.CompressionType()
		}
	}
}
