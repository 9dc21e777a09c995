// Package record is the Kafka Connect-style record that flows from the
// encoder through transforms to a sink: a topic, serialized key and value,
// and headers. It imports nothing of ours.
package record

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is one record bound for Kafka. Key and Value hold the converter's
// output; a nil Value is a tombstone, a nil Key a null key. Partition is -1
// to let the producer's murmur2 partitioner choose, as Kafka Connect does.
// A Record owns its byte slices: nobody writes to them once it is built.
type Record struct {
	Topic     string
	Partition int32
	Key       []byte
	Value     []byte
	Headers   []Header
	// Timestamp is the record's timestamp in epoch milliseconds; 0 lets
	// the producer stamp it, as Debezium's records leave it to Kafka
	// Connect. Transforms (the outbox EventRouter) may set it.
	Timestamp int64
	// Slab, if not nil, is the pooled slab Key and Value were carved
	// from: a producer retains it while the record is in flight
	// (slab.go). Only an encoder whose records go to the producer
	// untransformed sets it.
	Slab *Slab
}
