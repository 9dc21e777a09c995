package transform

import (
	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/options"
)

// RegexRouter (org.apache.kafka.connect.transforms.RegexRouter) renames the
// topic of records whose topic matches regex as a whole:
// Matcher.replaceFirst(replacement).

const (
	propRegex       = "regex"
	propReplacement = "replacement"
)

var regexRouterSpec = &options.Spec{
	Class: kafkaTransforms + "RegexRouter", Aliases: []string{"RegexRouter"}, Type: typeTransformation, Version: KafkaVersion,
	Title: "RegexRouter",
	Summary: "Update the record topic using the configured regular expression and replacement string. " +
		"If the pattern matches the input topic, `java.util.regex.Matcher#replaceFirst()` is used with the replacement string to obtain the new topic.",
	Fields: []*options.Field{
		kafka(&options.Field{Name: propRegex, Type: options.TypeString, Required: true, Importance: options.High,
			Doc: "Regular expression to use for matching.", Check: checkKafkaRegex}),
		kafka(&options.Field{Name: propReplacement, Type: options.TypeString, Required: true, Importance: options.High,
			Doc: "Replacement string.", Check: checkReplacement(propReplacement, propRegex),
			Note: "pgmotion checks the group references ($1, ${name}) against regex when validating; Kafka fails on the first record"}),
	},
}

func init() {
	register(&plugin{spec: regexRouterSpec, newTransform: newRegexRouter})
}

// checkKafkaRegex is Kafka's RegexValidator.
func checkKafkaRegex(c *options.Check) {
	if c.IsNull() {
		return
	}
	if _, err := compileJavaRegex(c.Value()); err != nil {
		c.Errorf("Invalid regex: %v", err)
	}
}

// checkReplacement checks a replacement string against the regex option
// next to it.
func checkReplacement(self, regexProp string) func(*options.Check) {
	return func(c *options.Check) {
		if c.IsNull() {
			return
		}
		expr, ok := sibling(c, self, regexProp)
		if !ok {
			return
		}
		re, err := compileJavaRegex(expr)
		if err != nil {
			return // reported on the regex
		}
		if _, err := parseJavaReplacement(c.Value(), re.find); err != nil {
			c.Errorf("%v", err)
		}
	}
}

type regexRouter struct {
	re    *javaRegex
	repl  javaReplacement
	cache map[string]string
}

func newRegexRouter(c *options.Config, _ *env) (transformation, error) {
	return compileRegexRouter(c.Str(propRegex), c.Str(propReplacement))
}

// compileRegexRouter returns the router that renames topics matching
// regex to replacement, in Java's syntax for both.
func compileRegexRouter(regex, replacement string) (*regexRouter, error) {
	re, err := compileJavaRegex(regex)
	if err != nil {
		return nil, err
	}
	repl, err := parseJavaReplacement(replacement, re.find)
	if err != nil {
		return nil, err
	}
	return &regexRouter{re: re, repl: repl, cache: map[string]string{}}, nil
}

func (t *regexRouter) uses() uses { return 0 }

func (t *regexRouter) apply(r *cd.Record) (bool, error) {
	r.Topic = t.route(r.Topic)
	return true, nil
}

// route returns the new topic, or topic itself when the regex does not
// match it.
func (t *regexRouter) route(topic string) string {
	if to, ok := t.cache[topic]; ok {
		return to
	}
	to := topic
	if t.re.matches(topic) {
		to = t.re.replaceFirst(topic, t.repl)
	}
	if len(t.cache) >= topicCacheSize {
		clear(t.cache)
	}
	t.cache[topic] = to
	return to
}

// topicCacheSize bounds the per-transform caches keyed by topic.
const topicCacheSize = 1024
