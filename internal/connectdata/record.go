package connectdata

import (
	"fmt"

	"github.com/pgmotion/pgmotion/internal/record"
)

// Record is a record between its source and its converter, as Kafka
// Connect's transformations see it (ConnectRecord): topic, partition, key
// and value as Connect data with their schemas, timestamp and headers.
//
// A side no transformation of the chain reads is not turned into Connect
// data: it travels as the bytes the converter wrote (RawKey, RawValue),
// and its Schema and value stay nil. The chain works on the record in
// place; whether a side was read is the chain's to know, not the record's.
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
	// HasTimestamp; Debezium sets none.
	Timestamp    int64
	HasTimestamp bool
	// Headers hold the bytes SimpleHeaderConverter writes. Their array may
	// be shared with other records: AddHeader never writes into it.
	Headers []record.Header
}

// AddHeader appends a header of schema s as SimpleHeaderConverter writes
// it (HeaderValue), as ConnectHeaders.add does.
func (r *Record) AddHeader(key string, s *Schema, v any) error {
	b, err := HeaderValue(s, v)
	if err != nil {
		return fmt.Errorf("header %q: %w", key, err)
	}
	// Never write into an array shared with other records.
	r.Headers = append(r.Headers[:len(r.Headers):len(r.Headers)], record.Header{Key: key, Value: b})
	return nil
}

// HasHeader reports whether a header called key exists.
func (r *Record) HasHeader(key string) bool {
	for _, h := range r.Headers {
		if h.Key == key {
			return true
		}
	}
	return false
}

// LastHeader returns the last header called key (Headers.lastWithName).
func (r *Record) LastHeader(key string) (record.Header, bool) {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == key {
			return r.Headers[i], true
		}
	}
	return record.Header{}, false
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
