package options

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Problem is one validation error.
type Problem struct {
	// Field is the property the error is about.
	Field string
	// Message is Kafka Connect's (or Debezium's) message for it.
	Message string
	// Hint, when set, says the same for the command line, in pgmotion's
	// words: the field, the value and the fix. Line uses it.
	Hint string
}

// ValidationError lists every problem of an invalid configuration. Its
// Error() is Kafka Connect's 400 message for POST /connectors and
// PUT /connectors/{name}/config. It never contains a secret value.
type ValidationError struct {
	Problems []Problem
}

// Error returns Kafka Connect's text:
//
//	Connector configuration is invalid and contains the following N error(s):
//	<message>
//	...
//	You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Connector configuration is invalid and contains the following %d error(s):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteByte('\n')
		b.WriteString(p.Message)
	}
	b.WriteString("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`")
	return b.String()
}

// Line returns every problem on one line, for the command line, which
// has no REST endpoint to point at: each problem's Hint, or else its
// Message, joined by "; ".
func (e *ValidationError) Line() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Message
		if p.Hint != "" {
			parts[i] = p.Hint
		}
	}
	return strings.Join(parts, "; ")
}

// Parse validates raw against the spec and returns the typed configuration.
// When the configuration is invalid the error is a *ValidationError listing
// every problem. Legacy names are mapped to current ones, and properties the
// spec does not declare are kept (Kafka Connect passes them through), see
// Config.Unknown. Warnings are returned on the Config, not logged.
func (s *Spec) Parse(raw map[string]string) (*Config, error) {
	ev := s.evaluate(raw, true)
	if ps := ev.problems(); len(ps) > 0 {
		return nil, &ValidationError{Problems: ps}
	}
	c := &Config{
		spec:      s,
		originals: ev.originals,
		values:    make(map[string]string, len(ev.results)),
		set:       make(map[string]bool, len(ev.results)),
		fields:    ev.byName,
		warnings:  ev.warnings,
		unknown:   map[string]string{},
	}
	for _, r := range ev.results {
		if r.f == nil {
			continue
		}
		if !r.null || r.set {
			c.values[r.f.Name] = r.eff
		}
		c.set[r.f.Name] = r.set
	}
	for k, v := range ev.originals {
		if _, declared := ev.byName[k]; declared {
			continue
		}
		if _, legacy := s.byAlias[k]; legacy {
			continue
		}
		c.unknown[k] = v
	}
	return c, nil
}

// Config is a validated configuration. Typed accessors return the value as
// set or the spec's default; they panic when the name is not declared or has
// another type, which is a programming error. A Config is immutable and safe
// for concurrent use.
type Config struct {
	spec      *Spec
	originals map[string]string
	values    map[string]string
	set       map[string]bool
	fields    map[string]*Field
	warnings  []string
	unknown   map[string]string
}

// Spec returns the spec the configuration was parsed with.
func (c *Config) Spec() *Spec { return c.spec }

// Warnings returns the warnings of parsing: legacy names, options pgmotion
// accepts but does not implement yet, defaults that differ from Debezium's.
// They never contain secret values.
func (c *Config) Warnings() []string { return append([]string(nil), c.warnings...) }

// Originals returns a copy of the configuration as given, secrets included;
// store it, never print it.
func (c *Config) Originals() map[string]string {
	out := make(map[string]string, len(c.originals))
	for k, v := range c.originals {
		out[k] = v
	}
	return out
}

// Unknown returns the properties the spec does not declare, as given
// (converters' options, transforms.*, producer.override.*, driver.*, ...).
func (c *Config) Unknown() map[string]string {
	out := make(map[string]string, len(c.unknown))
	for k, v := range c.unknown {
		out[k] = v
	}
	return out
}

// WithPrefix returns the original properties that start with prefix, with the
// prefix removed, like Kafka's AbstractConfig.originalsWithPrefix.
func (c *Config) WithPrefix(prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range c.originals {
		if strings.HasPrefix(k, prefix) {
			out[k[len(prefix):]] = v
		}
	}
	return out
}

// IsSet reports whether the property (or one of its legacy names) was given.
func (c *Config) IsSet(name string) bool {
	c.field(name)
	return c.set[name]
}

// IsSecret reports whether a property holds a secret: declared as one, or
// named like one by Debezium's rule.
func (c *Config) IsSecret(name string) bool {
	if f, ok := c.fields[name]; ok && f.IsSecret() {
		return true
	}
	if f, ok := c.spec.byAlias[name]; ok && f.IsSecret() {
		return true
	}
	return SensitiveKey(name)
}

// String renders the original configuration with secrets hidden.
func (c *Config) String() string { return maskedMap(c.originals, c.IsSecret) }

// GoString is String, so %#v hides secrets too.
func (c *Config) GoString() string { return c.String() }

func (c *Config) field(name string) *Field {
	f, ok := c.fields[name]
	if !ok {
		panic(fmt.Sprintf("options: %q is not declared by %s", name, c.spec.Class))
	}
	return f
}

func (c *Config) typed(name string, types ...Type) (string, bool) {
	f := c.field(name)
	for _, t := range types {
		if f.Type == t {
			v, ok := c.values[name]
			return strings.TrimSpace(v), ok
		}
	}
	panic(fmt.Sprintf("options: %q is %s, not %v", name, f.Type, types))
}

// Str returns a STRING or CLASS value ("" when unset without default). (It
// is not called String because String() renders the masked configuration.)
// Enums return their canonical value after legacy values and fallbacks are
// applied. Kafka options are trimmed; Debezium options are as given.
func (c *Config) Str(name string) string {
	f := c.field(name)
	if f.Type != TypeString && f.Type != TypeClass {
		panic(fmt.Sprintf("options: %q is %s, not STRING", name, f.Type))
	}
	return c.values[name]
}

// Bool returns a BOOLEAN value (false when unset without default).
func (c *Config) Bool(name string) bool {
	v, _ := c.typed(name, TypeBoolean)
	return strings.EqualFold(v, "true")
}

// Int returns an INT or SHORT value (0 when unset without default).
func (c *Config) Int(name string) int {
	v, ok := c.typed(name, TypeInt, TypeShort)
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(v, 10, 32)
	return int(n)
}

// Long returns a LONG, INT or SHORT value (0 when unset without default).
func (c *Config) Long(name string) int64 {
	v, ok := c.typed(name, TypeLong, TypeInt, TypeShort)
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// Double returns a DOUBLE value.
func (c *Config) Double(name string) float64 {
	v, ok := c.typed(name, TypeDouble)
	if !ok {
		return 0
	}
	n, _ := strconv.ParseFloat(v, 64)
	return n
}

// List returns a LIST value split the way Kafka does (nil when empty).
func (c *Config) List(name string) []string {
	v, _ := c.typed(name, TypeList)
	return splitList(v)
}

// Password returns a PASSWORD value.
func (c *Config) Password(name string) Secret {
	f := c.field(name)
	if f.Type != TypePassword {
		panic(fmt.Sprintf("options: %q is %s, not PASSWORD", name, f.Type))
	}
	return NewSecret(strings.TrimSpace(c.values[name]))
}

// Duration returns an INT or LONG value counted in milliseconds (the *.ms
// options).
func (c *Config) Duration(name string) time.Duration {
	return time.Duration(c.Long(name)) * time.Millisecond
}

// Names returns the declared property names that have a value (set or
// default), sorted.
func (c *Config) Names() []string {
	out := make([]string, 0, len(c.values))
	for k := range c.values {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
