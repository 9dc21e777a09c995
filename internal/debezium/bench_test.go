package debezium

import (
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/record"
	"github.com/pgmotion/pgmotion/internal/transform"
)

// benchRelation is a typical six-column table.
func benchRelation() *change.Relation {
	return &change.Relation{
		ID: 30001, Namespace: "public", Name: "orders",
		Columns: []change.Column{
			{Name: "id", TypeOID: oidInt8, TypeMod: -1, TypeName: "int8", NotNull: true, Default: "nextval('orders_id_seq'::regclass)"},
			{Name: "customer", TypeOID: oidVarchar, TypeMod: 104, TypeName: "varchar", NotNull: true},
			{Name: "amount", TypeOID: oidNumeric, TypeMod: numericMod(12, 2), TypeName: "numeric"},
			{Name: "created_at", TypeOID: oidTimestamptz, TypeMod: -1, TypeName: "timestamptz", NotNull: true, Default: "now()"},
			{Name: "paid", TypeOID: oidBool, TypeMod: -1, TypeName: "bool", NotNull: true, Default: "false"},
			{Name: "note", TypeOID: oidText, TypeMod: -1, TypeName: "text"},
		},
		Key: []int{0}, ReplicaIdentity: 'd',
	}
}

func BenchmarkEncode(b *testing.B) {
	e := newTestEncoder(b, nil)
	c := streamed(change.OpCreate, benchRelation(), nil, change.Tuple{
		txt("1234567"), txt("alice@example.com"), txt("1999.95"), txt("2025-02-22 09:57:48.51736+00"), txt("t"),
		txt("leave at the door, ring twice"),
	})
	dst := make([]record.Record, 0, 1)
	var size int
	b.ReportAllocs()
	for b.Loop() {
		recs, err := e.Encode(dst[:0], c)
		if err != nil {
			b.Fatal(err)
		}
		size = len(recs[0].Key) + len(recs[0].Value)
	}
	b.SetBytes(int64(size))
}

func BenchmarkEncodeNoSchemas(b *testing.B) {
	e := newTestEncoder(b, func(o *Options) { o.KeySchemas, o.ValueSchemas = false, false })
	c := streamed(change.OpCreate, benchRelation(), nil, change.Tuple{
		txt("1234567"), txt("alice@example.com"), txt("1999.95"), txt("2025-02-22 09:57:48.51736+00"), txt("t"),
		txt("leave at the door, ring twice"),
	})
	dst := make([]record.Record, 0, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Encode(dst[:0], c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeInFlight keeps the last 8192 records referenced, as a
// producer does until Kafka acknowledges them (franz-go buffers up to 10k
// records by default). The plain benchmark drops every record at once, so
// its near-empty heap makes the GC run every few megabytes.
func BenchmarkEncodeInFlight(b *testing.B) {
	e := newTestEncoder(b, nil)
	c := streamed(change.OpCreate, benchRelation(), nil, change.Tuple{
		txt("1234567"), txt("alice@example.com"), txt("1999.95"), txt("2025-02-22 09:57:48.51736+00"), txt("t"),
		txt("leave at the door, ring twice"),
	})
	const window = 8192
	ring := make([]record.Record, window)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		recs, err := e.Encode(ring[i:i], c)
		if err != nil {
			b.Fatal(err)
		}
		_ = recs
		i = (i + 1) % window
	}
}

// outboxBench is the outbox table of the bench's outbox group and one
// insert into it.
func outboxBench() *change.Change {
	rel := &change.Relation{ID: 30002, Namespace: "public", Name: "outbox", Key: []int{0}, ReplicaIdentity: 'd',
		Columns: []change.Column{
			{Name: "id", TypeOID: oidUUID, TypeMod: -1, TypeName: "uuid", NotNull: true},
			{Name: "aggregatetype", TypeOID: oidVarchar, TypeMod: 259, TypeName: "varchar", NotNull: true},
			{Name: "aggregateid", TypeOID: oidVarchar, TypeMod: 259, TypeName: "varchar", NotNull: true},
			{Name: "type", TypeOID: oidVarchar, TypeMod: 259, TypeName: "varchar", NotNull: true},
			{Name: "payload", TypeOID: oidJSONB, TypeMod: -1, TypeName: "jsonb"},
		}}
	return streamed(change.OpCreate, rel, nil, change.Tuple{
		txt("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), txt("order"), txt("123456"), txt("Created"),
		txt(`{"id": 123456, "items": [{"qty": 2, "sku": "A-123456"}], "total": 154320.00, "customer": "customer-123456"}`),
	})
}

// outboxChain builds the connector's chain for extra transform options.
func outboxChain(b *testing.B, extra ...string) *transform.Chain {
	cfg := map[string]string{
		"name": "bench", "connector.class": options.PostgresClass, "plugin.name": "pgoutput",
		"database.hostname": "db", "database.user": "u", "database.dbname": "app", "topic.prefix": "srv",
		"transforms": "outbox", "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	pc, err := options.ParsePostgres(cfg)
	if err != nil {
		b.Fatal(err)
	}
	c, err := transform.NewChain(pc.Config, transform.Options{})
	if err != nil || c == nil {
		b.Fatal(c, err)
	}
	return c
}

// BenchmarkOutbox is the bench's outbox group in one process: an insert
// into an outbox table encoded plainly, through EventRouter (Connect data
// built from the change, converted last) and with expand.json.payload;
// via-json is the former path (JSON, read back, written again), kept to
// measure the ratio. EventRouter's ns/op over plain's is the figure of
// issue 12 (at most 1.2×).
func BenchmarkOutbox(b *testing.B) {
	c := outboxBench()
	run := func(b *testing.B, e *Encoder) {
		dst := make([]record.Record, 0, 2)
		b.ReportAllocs()
		for b.Loop() {
			recs, err := e.Encode(dst[:0], c)
			if err != nil || len(recs) != 1 {
				b.Fatal(len(recs), err)
			}
		}
	}
	b.Run("plain", func(b *testing.B) { run(b, newTestEncoder(b, nil)) })
	b.Run("EventRouter", func(b *testing.B) {
		chain := outboxChain(b)
		run(b, newTestEncoder(b, func(o *Options) { o.Transforms = chain }))
	})
	b.Run("EventRouter,expand", func(b *testing.B) {
		chain := outboxChain(b, "transforms.outbox.table.expand.json.payload", "true")
		run(b, newTestEncoder(b, func(o *Options) { o.Transforms = chain }))
	})
	b.Run("EventRouter,via-json", func(b *testing.B) {
		chain := outboxChain(b)
		e := newTestEncoder(b, nil)
		in, keyOut, valueOut := cd.NewJSONConverter(true), cd.NewJSONConverter(true), cd.NewJSONConverter(true)
		dst := make([]record.Record, 0, 2)
		var r cd.Record // reused, as the encoder reuses its records
		b.ReportAllocs()
		for b.Loop() {
			recs, err := e.Encode(dst[:0], c)
			if err != nil {
				b.Fatal(err)
			}
			r = cd.Record{Topic: recs[0].Topic, Partition: -1, Headers: recs[0].Headers}
			if r.KeySchema, r.Key, err = in.ToConnect(recs[0].Key); err != nil {
				b.Fatal(err)
			}
			if r.ValueSchema, r.Value, err = in.ToConnect(recs[0].Value); err != nil {
				b.Fatal(err)
			}
			if keep, err := chain.Transform(&r, nil); err != nil || !keep {
				b.Fatal(keep, err)
			}
			if _, err = keyOut.FromConnect(r.KeySchema, r.Key); err != nil {
				b.Fatal(err)
			}
			if _, err = valueOut.FromConnect(r.ValueSchema, r.Value); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEncodeSnapshotRow encodes a row of the bench's snapshot table
// (bench/README.md §5) as a schemaless snapshot read with recycled
// slabs, as a snapshot reader does.
func BenchmarkEncodeSnapshotRow(b *testing.B) {
	e := newTestEncoder(b, func(o *Options) { o.KeySchemas, o.ValueSchemas = false, false })
	e.RecycleSlabs()
	rel := &change.Relation{
		ID: 30002, Namespace: "public", Name: "snap",
		Columns: []change.Column{
			{Name: "id", TypeOID: oidInt8, TypeMod: -1, TypeName: "int8", NotNull: true},
			{Name: "n", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4"},
			{Name: "price", TypeOID: oidNumeric, TypeMod: numericMod(10, 2), TypeName: "numeric"},
			{Name: "name", TypeOID: oidText, TypeMod: -1, TypeName: "text"},
			{Name: "created", TypeOID: oidTimestamptz, TypeMod: -1, TypeName: "timestamptz"},
			{Name: "active", TypeOID: oidBool, TypeMod: -1, TypeName: "bool"},
		},
		Key: []int{0}, ReplicaIdentity: 'd',
	}
	c := &change.Change{Op: change.OpRead, Rel: rel, After: change.Tuple{
		txt("1234567"), txt("34567"), txt("2345.67"), txt("name-1234567-abcdefghij"), txt("2026-11-13 02:31:52.123456+00"), txt("f"),
	}, LSN: 26738904, TsMicros: 1742741274875866}
	dst := make([]record.Record, 0, 1)
	b.ReportAllocs()
	for b.Loop() {
		recs, err := e.Encode(dst[:0], c)
		if err != nil {
			b.Fatal(err)
		}
		for i := range recs {
			if recs[i].Slab != nil {
				recs[i].Slab.Retain()
				recs[i].Slab.Release()
			}
		}
		e.Handed()
	}
}
