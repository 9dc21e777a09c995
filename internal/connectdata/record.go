package connectdata

import "github.com/pgmotion/pgmotion/internal/record"

// Record is a record between its source and its converter, as Kafka
// Connect's transformations see it (ConnectRecord): topic, partition, key
// and value as Connect data with their schemas, timestamp and headers.
//
// A side no transformation of the chain reads is not turned into Connect
// data: it travels as the bytes the converter wrote (RawKey, RawValue),
// and its Schema and value stay nil.
type Record struct {
	Topic string
	// Partition is the Kafka partition, -1 for none (Connect's null).
	Partition   int32
	KeySchema   *Schema
	Key         any
	ValueSchema *Schema
	Value       any
	// RawKey and RawValue are the converted key and value of the sides
	// that are not Connect data; nil is null.
	RawKey, RawValue []byte
	// Timestamp is the record timestamp in epoch milliseconds when
	// HasTimestamp.
	Timestamp    int64
	HasTimestamp bool
	// Headers hold the bytes SimpleHeaderConverter writes.
	Headers []record.Header
}

// ParseValue reads data, the JSON of one value, as JsonConverter reads a
// payload of schema s (nil: schemaless). Errors wrap ErrData.
func ParseValue(s *Schema, data []byte) (any, error) {
	d := decoder{data: data}
	v, err := d.value(s)
	if err == nil {
		err = d.end()
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}
