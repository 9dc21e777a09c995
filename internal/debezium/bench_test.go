package debezium

import (
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/record"
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
