package transform

import (
	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// Kafka's predicates (org.apache.kafka.connect.transforms.predicates):
// TopicNameMatches, HasHeaderKey and RecordIsTombstone.

var topicNameMatchesSpec = &options.Spec{
	Class: kafkaPredicates + "TopicNameMatches", Aliases: []string{"TopicNameMatches"}, Type: typePredicate, Version: KafkaVersion,
	Title:   "TopicNameMatches",
	Summary: "A predicate which is true for records with a topic name that matches the configured regular expression.",
	Fields: []*options.Field{
		kafka(&options.Field{Name: "pattern", Type: options.TypeString, Required: true, Importance: options.Medium,
			Doc: "A Java regular expression for matching against the name of a record's topic.", Check: both(checkNonEmptyString, checkKafkaRegex),
			Note: "Go RE2 syntax"}),
	},
}

var hasHeaderKeySpec = &options.Spec{
	Class: kafkaPredicates + "HasHeaderKey", Aliases: []string{"HasHeaderKey"}, Type: typePredicate, Version: KafkaVersion,
	Title:   "HasHeaderKey",
	Summary: "A predicate which is true for records with at least one header with the configured name.",
	Fields: []*options.Field{
		kafka(&options.Field{Name: "name", Type: options.TypeString, Required: true, Importance: options.Medium,
			Doc: "The header name.", Check: checkNonEmptyString}),
	},
}

var recordIsTombstoneSpec = &options.Spec{
	Class: kafkaPredicates + "RecordIsTombstone", Aliases: []string{"RecordIsTombstone"}, Type: typePredicate, Version: KafkaVersion,
	Title:   "RecordIsTombstone",
	Summary: "A predicate which is true for records which are tombstones (i.e. have null value).",
}

func init() {
	register(&plugin{spec: topicNameMatchesSpec, newPredicate: func(c *options.Config, _ *env) (predicate, error) {
		re, err := compileJavaRegex(c.Str("pattern"))
		if err != nil {
			return nil, err
		}
		return &topicNameMatches{re: re}, nil
	}})
	register(&plugin{spec: hasHeaderKeySpec, newPredicate: func(c *options.Config, _ *env) (predicate, error) {
		return hasHeaderKey{name: c.Str("name")}, nil
	}})
	register(&plugin{spec: recordIsTombstoneSpec, newPredicate: func(_ *options.Config, e *env) (predicate, error) {
		return recordIsTombstone{env: e}, nil
	}})
}

// checkNonEmptyString is Kafka's ConfigDef.NonEmptyString.
func checkNonEmptyString(c *options.Check) {
	if !c.IsNull() && c.Value() == "" {
		c.Errorf("String must be non-empty")
	}
}

func both(checks ...func(*options.Check)) func(*options.Check) {
	return func(c *options.Check) {
		for _, ch := range checks {
			ch(c)
		}
	}
}

type topicNameMatches struct {
	re *javaRegex
}

func (p *topicNameMatches) uses() uses { return 0 }

func (p *topicNameMatches) test(r *cd.Record) bool { return p.re.matches(r.Topic) }

type hasHeaderKey struct{ name string }

func (hasHeaderKey) uses() uses { return 0 }

func (p hasHeaderKey) test(r *cd.Record) bool { return r.HasHeader(p.name) }

// recordIsTombstone reads the value as the chain holds it (env).
type recordIsTombstone struct{ env *env }

func (recordIsTombstone) uses() uses { return 0 }

func (p recordIsTombstone) test(r *cd.Record) bool { return p.env.isTombstone(r) }
