package broker_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/broker"
)

// BenchmarkProduce produces Debezium-style change events of about 2 KB
// (JsonConverter with schemas.enable=true, so each value carries its schema)
// into an embedded broker with a data directory, as fast as kgo will send
// them, once per compression setting. Run it with a fixed record count:
//
//	go test -run '^$' -bench Produce -benchtime 1000000x ./internal/broker/
//
// An event is 3,068 bytes: a 171-byte key and a 2,897-byte value, most of it
// the schema, for a five-column table. MB/s counts these uncompressed bytes;
// disk-B/rec is what the broker's data directory grew by per record.
func BenchmarkProduce(b *testing.B) {
	for _, bc := range []struct {
		name  string
		codec []kgo.CompressionCodec // nil: kgo's default, snappy
		sync  bool
	}{
		{name: "default"},
		{name: "none", codec: []kgo.CompressionCodec{kgo.NoCompression()}},
		{name: "lz4", codec: []kgo.CompressionCodec{kgo.Lz4Compression()}},
		{name: "snappy", codec: []kgo.CompressionCodec{kgo.SnappyCompression()}},
		{name: "zstd", codec: []kgo.CompressionCodec{kgo.ZstdCompression()}},
		{name: "zstd-sync-writes", codec: []kgo.CompressionCodec{kgo.ZstdCompression()}, sync: true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			benchProduce(b, bc.codec, bc.sync)
		})
	}
}

func benchProduce(b *testing.B, codec []kgo.CompressionCodec, syncWrites bool) {
	const topic = "dbserver1.public.orders"
	dir := b.TempDir()
	log := slog.New(slog.NewTextHandler(tWriter{b}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	br := startBroker(b, broker.Options{DataDir: dir, SyncWrites: syncWrites, Log: log})

	opts := []kgo.Opt{kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic(topic)}
	if codec != nil {
		opts = append(opts, kgo.ProducerBatchCompression(codec...))
	}
	cl := newClient(b, br.Addr(), opts...)
	ctx := context.Background()
	// Create the topic and warm the connection outside the timing.
	if err := cl.ProduceSync(ctx, kgo.StringRecord("warm-up")).FirstErr(); err != nil {
		b.Fatal(err)
	}

	ev := newEventGen()
	keys, values := ev.pool(4096)
	b.SetBytes(int64(len(keys[0]) + len(values[0])))
	before := dirSize(b, dir)

	var (
		failed atomic.Int64
		wg     sync.WaitGroup
	)
	promise := func(_ *kgo.Record, err error) {
		if err != nil && failed.Add(1) == 1 {
			b.Error(err)
		}
		wg.Done()
	}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		j := i % len(keys)
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Key: keys[j], Value: values[j]}, promise)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	if n := failed.Load(); n > 0 {
		b.Fatalf("%d records failed", n)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rec/s")
	b.ReportMetric(float64(dirSize(b, dir)-before)/float64(b.N), "disk-B/rec")
	cl.Close()
	stopBroker(b, br)
}

func dirSize(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// eventGen builds Debezium change events for an orders table, in the shape
// Debezium 2.x's PostgreSQL connector emits with the JSON converter and
// schemas enabled: {"schema": {...}, "payload": {"before", "after",
// "source", "op", "ts_ms", "transaction"}}.
type eventGen struct {
	rng       *rand.Rand
	keySchema string
	schema    string
}

const benchValueSchemaFields = `{"type":"int32","optional":false,"default":0,"field":"id"},` +
	`{"type":"string","optional":false,"field":"status"},` +
	`{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"12"},"field":"amount"},` +
	`{"type":"string","optional":true,"field":"note"},` +
	`{"type":"int64","optional":false,"name":"io.debezium.time.MicroTimestamp","version":1,"field":"created_at"}`

func newEventGen() *eventGen {
	row := `{"type":"struct","fields":[` + benchValueSchemaFields + `],"optional":true,"name":"dbserver1.public.orders.Value","field":"%s"}`
	source := `{"type":"struct","fields":[` +
		`{"type":"string","optional":false,"field":"version"},` +
		`{"type":"string","optional":false,"field":"connector"},` +
		`{"type":"string","optional":false,"field":"name"},` +
		`{"type":"int64","optional":false,"field":"ts_ms"},` +
		`{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,last,false,incremental"},"default":"false","field":"snapshot"},` +
		`{"type":"string","optional":false,"field":"db"},` +
		`{"type":"string","optional":true,"field":"sequence"},` +
		`{"type":"string","optional":false,"field":"schema"},` +
		`{"type":"string","optional":false,"field":"table"},` +
		`{"type":"int64","optional":true,"field":"txId"},` +
		`{"type":"int64","optional":true,"field":"lsn"},` +
		`{"type":"int64","optional":true,"field":"xmin"}` +
		`],"optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"}`
	txn := `{"type":"struct","fields":[` +
		`{"type":"string","optional":false,"field":"id"},` +
		`{"type":"int64","optional":false,"field":"total_order"},` +
		`{"type":"int64","optional":false,"field":"data_collection_order"}` +
		`],"optional":true,"name":"event.block","version":1,"field":"transaction"}`
	schema := `{"type":"struct","fields":[` +
		fmt.Sprintf(row, "before") + "," + fmt.Sprintf(row, "after") + "," + source + "," +
		`{"type":"string","optional":false,"field":"op"},` +
		`{"type":"int64","optional":true,"field":"ts_ms"},` + txn +
		`],"optional":false,"name":"dbserver1.public.orders.Envelope","version":1}`
	return &eventGen{
		rng:       rand.New(rand.NewPCG(1, 2)),
		keySchema: `{"type":"struct","fields":[{"type":"int32","optional":false,"default":0,"field":"id"}],"optional":false,"name":"dbserver1.public.orders.Key"}`,
		schema:    schema,
	}
}

var benchWords = strings.Fields("please deliver before noon leave at the back door gift wrap fragile call on arrival second floor ring twice no substitutions express")

// event returns the key and value of an update to order id.
func (g *eventGen) event(id int) (key, value []byte) {
	r := g.rng
	created := int64(1_700_000_000_000_000) + r.Int64N(10_000_000_000_000)
	var note strings.Builder
	for range 3 + r.IntN(8) {
		note.WriteString(benchWords[r.IntN(len(benchWords))])
		note.WriteByte(' ')
	}
	amount := []byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}
	row := func(status string) string {
		return fmt.Sprintf(`{"id":%d,"status":%q,"amount":%q,"note":%q,"created_at":%d}`,
			id, status, base64.StdEncoding.EncodeToString(amount), strings.TrimSpace(note.String()), created)
	}
	lsn := 0x16B3748 + int64(id)*312
	txid := 760 + id/10
	ts := created/1000 + r.Int64N(1000)
	// An UPDATE under REPLICA IDENTITY DEFAULT: no before image.
	value = fmt.Appendf(nil, `{"schema":%s,"payload":{"before":null,"after":%s,`+
		`"source":{"version":"2.7.3.Final","connector":"postgresql","name":"dbserver1","ts_ms":%d,"snapshot":"false","db":"shop","sequence":"[\"%d\",\"%d\"]","schema":"public","table":"orders","txId":%d,"lsn":%d,"xmin":null},`+
		`"op":"u","ts_ms":%d,"transaction":{"id":"%d:%d","total_order":%d,"data_collection_order":%d}}}`,
		g.schema, row("shipped"),
		ts, lsn-312, lsn, txid, lsn, ts+3, txid, lsn, id%10+1, id%10+1)
	key = fmt.Appendf(nil, `{"schema":%s,"payload":{"id":%d}}`, g.keySchema, id)
	return key, value
}

// pool returns n distinct events; the benchmark cycles through them so that
// building events does not count against the broker.
func (g *eventGen) pool(n int) (keys, values [][]byte) {
	for i := range n {
		k, v := g.event(i + 1)
		keys, values = append(keys, k), append(values, v)
	}
	return keys, values
}
