package transform

import (
	"fmt"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/record"
)

// jsonChain runs a chain over records in JsonConverter form, the form of
// the test fixtures: the sides the chain reads are parsed (written with
// schemas), the chain runs, and the converter writes them back with the
// connector's schemas.enable, as the encoder does around Transform. It is
// not safe for concurrent use (the converters cache schemas).
type jsonChain struct {
	c                *Chain
	in               *cd.JSONConverter
	keyOut, valueOut *cd.JSONConverter
	// rec is the record the chain works on, reused as the encoder reuses
	// its own (the chain's plugins are interfaces: a record passed to
	// Transform lives on the heap).
	rec cd.Record
}

func newJSONChain(c *Chain, pc *options.PostgresConfig) *jsonChain {
	return &jsonChain{c: c, in: cd.NewJSONConverter(true),
		keyOut: cd.NewJSONConverter(pc.KeySchemas), valueOut: cd.NewJSONConverter(pc.ValueSchemas)}
}

// apply runs the chain over one record: false when it is dropped.
func (j *jsonChain) apply(in record.Record) (record.Record, bool, error) {
	pk, pv := j.c.Parses()
	r := &j.rec
	*r = cd.Record{Topic: in.Topic, Partition: in.Partition, Headers: in.Headers, RawKey: in.Key, RawValue: in.Value}
	var err error
	if pk {
		r.RawKey = nil
		if r.KeySchema, r.Key, err = j.in.ToConnect(in.Key); err != nil {
			return record.Record{}, false, fmt.Errorf("%w: read the key of a record of topic %q: %w", ErrTransform, in.Topic, err)
		}
	}
	if pv {
		r.RawValue = nil
		if r.ValueSchema, r.Value, err = j.in.ToConnect(in.Value); err != nil {
			return record.Record{}, false, fmt.Errorf("%w: read the value of a record of topic %q: %w", ErrTransform, in.Topic, err)
		}
	}
	keep, err := j.c.Transform(r, nil)
	if err != nil || !keep {
		return record.Record{}, false, err
	}
	out := record.Record{Topic: r.Topic, Partition: r.Partition, Key: r.RawKey, Value: r.RawValue, Headers: r.Headers, Timestamp: in.Timestamp}
	if r.HasTimestamp {
		out.Timestamp = r.Timestamp
	}
	if pk {
		if out.Key, err = j.keyOut.FromConnect(r.KeySchema, r.Key); err != nil {
			return record.Record{}, false, fmt.Errorf("%w: write the key of a record of topic %q: %w", ErrTransform, r.Topic, err)
		}
	}
	if pv {
		if out.Value, err = j.valueOut.FromConnect(r.ValueSchema, r.Value); err != nil {
			return record.Record{}, false, fmt.Errorf("%w: write the value of a record of topic %q: %w", ErrTransform, r.Topic, err)
		}
	}
	return out, true, nil
}

// applyAll runs the chain over recs and returns the records kept.
func (j *jsonChain) applyAll(recs []record.Record) ([]record.Record, error) {
	var out []record.Record
	for _, r := range recs {
		o, keep, err := j.apply(r)
		if err != nil {
			return out, err
		}
		if keep {
			out = append(out, o)
		}
	}
	return out, nil
}
