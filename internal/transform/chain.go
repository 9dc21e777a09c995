package transform

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// Options are a chain's settings besides the transforms themselves.
type Options struct {
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
	env    env
	log    *slog.Logger
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
// validated (options.ParsePostgres); problems left are returned as errors.
func NewChain(cfg *options.Config, opts Options) (*Chain, error) {
	aliases := cfg.List(options.PropTransforms)
	if len(aliases) == 0 {
		return nil, nil
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Chain{log: log}
	c.env.log = log
	seen := map[string]bool{}
	for _, alias := range aliases {
		if seen[alias] {
			return nil, fmt.Errorf("transforms: duplicate alias %q", alias)
		}
		seen[alias] = true
		props := cfg.WithPrefix(options.PropTransforms + "." + alias + ".")
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
			pprops := cfg.WithPrefix(options.PropPredicates + "." + predAlias + ".")
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
	c.env.valueParsed = c.parseV
	return c, nil
}

func (c *Chain) note(u uses) {
	c.parseK = c.parseK || u&useKey != 0
	c.parseV = c.parseV || u&useValue != 0
}

// Parses reports which sides of a record the chain reads. Those sides
// must reach Transform as Connect data with their schemas; the others
// pass through as the converter's bytes.
func (c *Chain) Parses() (key, value bool) { return c.parseK, c.parseV }

// Len returns the number of transforms.
func (c *Chain) Len() int { return len(c.stages) }

// Transform runs the chain over one record in place, as Kafka Connect runs
// a task's transformations between its source and its converter: false
// when a transformation drops the record. The sides the chain reads
// (Parses) must be Connect data; the others travel as RawKey and RawValue,
// which the chain leaves alone. The record's timestamp is read as given
// and changed only when a transformation sets one. Warnings go to log
// (nil: Options.Log). The error wraps ErrTransform. A record dropped or
// failed may have been changed by the transformations before. The chain
// keeps none of the record's values once it returns (plugins cache
// schemas only), so the caller may reuse their memory.
func (c *Chain) Transform(r *cd.Record, log *slog.Logger) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if log == nil {
		log = c.log
	}
	c.env.log = log
	for i := range c.stages {
		st := &c.stages[i]
		if st.pred != nil && st.pred.test(r) == st.negate {
			continue
		}
		topic := r.Topic
		keep, err := st.t.apply(r)
		if err != nil {
			return false, fmt.Errorf("%w: transforms.%s (%s) on a record of topic %q: %w", ErrTransform, st.alias, st.class, topic, err)
		}
		if !keep {
			return false, nil
		}
	}
	return true, nil
}
