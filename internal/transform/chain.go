package transform

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/record"
	"github.com/pgmotion/pgmotion/internal/spec"
)

// Options are a chain's settings besides the transforms themselves.
type Options struct {
	// KeySchemas and ValueSchemas are the connector's
	// key.converter.schemas.enable and value.converter.schemas.enable: the
	// form the chain writes the sides it parsed in.
	KeySchemas, ValueSchemas bool
	// Log receives the warnings of transforms (an outbox update dropped,
	// ...); nil discards them.
	Log *slog.Logger
}

// Chain is a connector's transformation chain. It is safe for concurrent
// use; calls are serialized, since plugins keep caches.
type Chain struct {
	mu     sync.Mutex
	stages []stage
	parseK bool
	parseV bool
	// JsonConverters: the input is always read with schemas, the output
	// written with the connector's settings.
	keyIn, valueIn, keyOut, valueOut *cd.JSONConverter
	env                              env
	log                              *slog.Logger
	rec                              Record
}

type stage struct {
	alias, class string
	t            transformation
	pred         predicate
	negate       bool
}

// ErrTransform is wrapped by the errors of Apply: a transformation failed
// on a record (Kafka Connect fails the task, errors.tolerance=none).
var ErrTransform = errors.New("transformation failed")

// NewChain builds the chain of a connector from its parsed configuration
// (transforms, transforms.<alias>.*, predicates.<alias>.*). It returns nil
// when no transform is configured. The configuration is expected to be
// validated (spec.ParsePostgres); problems left are returned as errors.
func NewChain(cfg *spec.Config, opts Options) (*Chain, error) {
	aliases := cfg.List(spec.PropTransforms)
	if len(aliases) == 0 {
		return nil, nil
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Chain{
		keyIn: cd.NewJSONConverter(true), valueIn: cd.NewJSONConverter(true),
		keyOut: cd.NewJSONConverter(opts.KeySchemas), valueOut: cd.NewJSONConverter(opts.ValueSchemas),
		log: log,
	}
	c.env.log = log
	seen := map[string]bool{}
	for _, alias := range aliases {
		if seen[alias] {
			return nil, fmt.Errorf("transforms: duplicate alias %q", alias)
		}
		seen[alias] = true
		props := cfg.WithPrefix(spec.PropTransforms + "." + alias + ".")
		class := strings.TrimSpace(props["type"])
		p, ok := lookup(class, typeTransformation)
		if !ok {
			return nil, fmt.Errorf("transforms.%s.type: class %q is not a transformation pgmotion runs", alias, class)
		}
		delete(props, "type")
		predAlias, hasPred := props["predicate"]
		negate := strings.EqualFold(strings.TrimSpace(props["negate"]), "true")
		delete(props, "predicate")
		delete(props, "negate")
		tc, err := p.spec.Parse(props)
		if err != nil {
			return nil, configError(alias, class, err)
		}
		t, err := p.newTransform(tc, &c.env)
		if err != nil {
			return nil, configError(alias, class, err)
		}
		st := stage{alias: alias, class: class, t: t, negate: negate}
		if hasPred {
			pprops := cfg.WithPrefix(spec.PropPredicates + "." + predAlias + ".")
			pclass := strings.TrimSpace(pprops["type"])
			pp, ok := lookup(pclass, typePredicate)
			if !ok {
				return nil, fmt.Errorf("transforms.%s.predicate: predicate %q has no known predicates.%s.type (got %q)", alias, predAlias, predAlias, pclass)
			}
			delete(pprops, "type")
			pc, err := pp.spec.Parse(pprops)
			if err != nil {
				return nil, fmt.Errorf("predicates.%s (%s): %w", predAlias, pclass, err)
			}
			if st.pred, err = pp.newPredicate(pc, &c.env); err != nil {
				return nil, fmt.Errorf("predicates.%s (%s): %w", predAlias, pclass, err)
			}
			c.note(st.pred.uses())
		}
		c.note(t.uses())
		c.stages = append(c.stages, st)
	}
	return c, nil
}

func (c *Chain) note(u uses) {
	c.parseK = c.parseK || u&useKey != 0
	c.parseV = c.parseV || u&useValue != 0
}

// Parses reports which sides of a record the chain parses. Those sides
// must reach Apply as JsonConverter bytes with schemas enabled (the
// encoder's KeySchemas/ValueSchemas on); the chain writes them back with
// Options.KeySchemas/ValueSchemas. The other sides pass through as they
// are.
func (c *Chain) Parses() (key, value bool) { return c.parseK, c.parseV }

// Len returns the number of transforms.
func (c *Chain) Len() int { return len(c.stages) }

// Apply runs the chain over one record: none when a transform drops it.
// The error wraps ErrTransform.
func (c *Chain) Apply(rec record.Record) ([]record.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, keep, err := c.apply(&rec)
	if err != nil || !keep {
		return nil, err
	}
	return []record.Record{out}, nil
}

// ApplyAll runs the chain over recs in place and returns the records
// kept, in recs' array. Warnings go to log (nil: Options.Log). The error
// wraps ErrTransform.
func (c *Chain) ApplyAll(recs []record.Record, log *slog.Logger) ([]record.Record, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if log != nil {
		c.env.log = log
		defer func() { c.env.log = c.log }()
	}
	n := 0
	for i := range recs {
		out, keep, err := c.apply(&recs[i])
		if err != nil {
			return recs[:n], err
		}
		if keep {
			recs[n] = out
			n++
		}
	}
	clear(recs[n:])
	return recs[:n], nil
}

func (c *Chain) apply(in *record.Record) (record.Record, bool, error) {
	r := &c.rec
	*r = Record{
		Topic:     in.Topic,
		Partition: in.Partition,
		Headers:   in.Headers[:len(in.Headers):len(in.Headers)],
		rawKey:    in.Key,
		rawValue:  in.Value,
	}
	var err error
	if c.parseK {
		if r.KeySchema, r.Key, err = c.keyIn.ToConnect(in.Key); err != nil {
			return record.Record{}, false, fmt.Errorf("%w: read the key of a record of topic %q: %w", ErrTransform, in.Topic, err)
		}
	}
	if c.parseV {
		if r.ValueSchema, r.Value, err = c.valueIn.ToConnect(in.Value); err != nil {
			return record.Record{}, false, fmt.Errorf("%w: read the value of a record of topic %q: %w", ErrTransform, in.Topic, err)
		}
		r.valueParsed = true
	}
	for i := range c.stages {
		st := &c.stages[i]
		if st.pred != nil && st.pred.test(r) == st.negate {
			continue
		}
		topic := r.Topic
		keep, err := st.t.apply(r)
		if err != nil {
			return record.Record{}, false, fmt.Errorf("%w: transforms.%s (%s) on a record of topic %q: %w", ErrTransform, st.alias, st.class, topic, err)
		}
		if !keep {
			return record.Record{}, false, nil
		}
	}
	// A timestamp a transform set wins over the one the record came with.
	out := record.Record{Topic: r.Topic, Partition: r.Partition, Key: r.rawKey, Value: r.rawValue, Headers: r.Headers, Timestamp: in.Timestamp}
	if r.HasTimestamp {
		out.Timestamp = r.Timestamp
	}
	if c.parseK {
		if out.Key, err = c.keyOut.FromConnect(r.KeySchema, r.Key); err != nil {
			return record.Record{}, false, fmt.Errorf("%w: write the key of a record of topic %q: %w", ErrTransform, r.Topic, err)
		}
	}
	if c.parseV {
		if out.Value, err = c.valueOut.FromConnect(r.ValueSchema, r.Value); err != nil {
			return record.Record{}, false, fmt.Errorf("%w: write the value of a record of topic %q: %w", ErrTransform, r.Topic, err)
		}
	}
	*r = Record{}
	return out, true, nil
}
