package transform

import (
	"fmt"
	"log/slog"
	"strings"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// KafkaVersion is the Kafka release whose transformations and Connect REST
// API pgmotion follows: the version GET /connector-plugins reports for the
// transformations and GET / for the worker (connect.KafkaConnectVersion).
const KafkaVersion = "4.0.0"

// Plugin types, as GET /connector-plugins names them.
const (
	typeTransformation = "transformation"
	typePredicate      = "predicate"
)

// Kafka's package names.
const (
	kafkaTransforms = "org.apache.kafka.connect.transforms."
	kafkaPredicates = "org.apache.kafka.connect.transforms.predicates."
)

// uses says which sides of a record a plugin reads or writes.
type uses uint8

const (
	useKey uses = 1 << iota
	useValue
)

// transformation is one configured SMT. apply changes r in place and
// returns false to drop the record.
type transformation interface {
	apply(r *cd.Record) (keep bool, err error)
	uses() uses
}

// predicate is one configured predicate.
type predicate interface {
	test(r *cd.Record) bool
	uses() uses
}

// env is what plugins get besides their options.
type env struct {
	log *slog.Logger
	// valueParsed: the chain reads values, so they reach it as Connect
	// data (Value); otherwise as the converter's bytes (RawValue).
	valueParsed bool
}

// isTombstone reports a null value (Kafka's record.value() == null).
func (e *env) isTombstone(r *cd.Record) bool {
	if e.valueParsed {
		return r.Value == nil
	}
	return r.RawValue == nil
}

// plugin is a registered transformation or predicate.
type plugin struct {
	spec         *options.Spec
	newTransform func(c *options.Config, e *env) (transformation, error)
	newPredicate func(c *options.Config, e *env) (predicate, error)
}

var plugins = map[string]*plugin{}

// register adds p to the spec registry (for validation, listing and docs)
// and to the plugins pgmotion can run. It is meant for init().
func register(p *plugin) {
	options.Register(p.spec)
	for _, n := range append([]string{p.spec.Class}, p.spec.Aliases...) {
		plugins[n] = p
	}
}

// lookup returns the plugin of a class (or alias) of the given type.
func lookup(class, typ string) (*plugin, bool) {
	p, ok := plugins[class]
	if !ok || p.spec.Type != typ {
		return nil, false
	}
	return p, true
}

// kafka marks a field as declared by a Kafka ConfigDef: Kafka's wording,
// display name = name, order -1, as ConfigDef.define without group does.
func kafka(f *options.Field) *options.Field {
	f.Origin = options.OriginKafka
	if f.DisplayName == "" {
		f.DisplayName = f.Name
	}
	if f.Order == 0 {
		f.Order = -1
	}
	return f
}

// replaceNullField is the replace.null.with.default option most Kafka
// transformations have (KIP-1040, Kafka 3.8).
func replaceNullField() *options.Field {
	return kafka(&options.Field{Name: options.PropReplaceNullWithDefault, Type: options.TypeBoolean, Default: "true", Importance: options.Medium, Since: "Kafka 3.8",
		Doc: "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."})
}

// sibling returns another option of the configuration c checks, by its
// name without the transforms.<alias>. prefix, as set or defaulted.
func sibling(c *options.Check, self, name string) (string, bool) {
	prefix := strings.TrimSuffix(c.Name(), self)
	return c.Effective(prefix + name)
}

// siblingSet is sibling for options as given (no default).
func siblingSet(c *options.Check, self, name string) (string, bool) {
	prefix := strings.TrimSuffix(c.Name(), self)
	return c.Get(prefix + name)
}

// configError is a configuration problem found when a plugin is built;
// validation reports the same problems per field, so it shows up only for
// configurations that skipped validation.
func configError(alias, class string, err error) error {
	return fmt.Errorf("transforms.%s (%s): %w", alias, class, err)
}
