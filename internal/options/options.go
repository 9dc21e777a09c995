// Package options declares every connector option once, as data, in the style of
// Benthos's FieldSpec, and derives from those declarations:
//
//   - typed parsing with defaults that live only in the declaration
//     ([Spec.Parse], [ParsePostgres]);
//   - Kafka Connect's validation response for
//     PUT /connector-plugins/{class}/config/validate ([Spec.Validate]) and the
//     400 message of POST /connectors ([ValidationError]);
//   - the definitions of GET /connector-plugins/{class}/config
//     ([Spec.ConfigKeyInfos]);
//   - the reference documentation ([WriteMarkdown]).
//
// Error wording follows whoever defines the option in the real stack. Options
// of the Kafka Connect framework (name, connector.class, tasks.max, errors.*,
// converters, transforms, topic.creation.*) use Kafka's ConfigDef wording,
// e.g. `Invalid value abc for configuration tasks.max: Not a number of type INT`.
// Options of the Debezium connector use Debezium's wording, which is what
// Kafka Connect actually returns for them because Debezium overrides
// Connector.validate, e.g. `The 'database.port' value is invalid: An integer is
// expected` and `The 'topic.prefix' value is invalid: A value is required`.
//
// Secrets (PASSWORD fields) never appear in errors, warnings, String() output
// or validation responses; they are shown as "[hidden]" as Kafka does.
//
// Specs are immutable after [Register] and safe for concurrent use; so is a
// parsed [Config].
package options

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// Type is a Kafka ConfigDef type.
type Type int

// The Kafka ConfigDef types.
const (
	TypeBoolean Type = iota + 1
	TypeString
	TypeInt
	TypeShort
	TypeLong
	TypeDouble
	TypeList
	TypeClass
	TypePassword
)

var typeNames = map[Type]string{
	TypeBoolean: "BOOLEAN", TypeString: "STRING", TypeInt: "INT", TypeShort: "SHORT",
	TypeLong: "LONG", TypeDouble: "DOUBLE", TypeList: "LIST", TypeClass: "CLASS", TypePassword: "PASSWORD",
}

// String returns the Kafka name of the type (INT, STRING, ...).
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Importance is a Kafka ConfigDef importance.
type Importance int

// The Kafka ConfigDef importances.
const (
	High Importance = iota + 1
	Medium
	Low
)

// String returns HIGH, MEDIUM or LOW.
func (i Importance) String() string {
	switch i {
	case High:
		return "HIGH"
	case Medium:
		return "MEDIUM"
	case Low:
		return "LOW"
	}
	return fmt.Sprintf("Importance(%d)", int(i))
}

// Width is a Kafka ConfigDef display width.
type Width int

// The Kafka ConfigDef widths. The zero value is NONE.
const (
	WidthNone Width = iota
	WidthShort
	WidthMedium
	WidthLong
)

// String returns NONE, SHORT, MEDIUM or LONG.
func (w Width) String() string {
	switch w {
	case WidthNone:
		return "NONE"
	case WidthShort:
		return "SHORT"
	case WidthMedium:
		return "MEDIUM"
	case WidthLong:
		return "LONG"
	}
	return fmt.Sprintf("Width(%d)", int(w))
}

// Status says what pgmotion does with an option (or one value of an enum).
type Status int

const (
	// Implemented options behave as in Debezium.
	Implemented Status = iota
	// Accepted options are known Debezium options that pgmotion does not
	// implement yet. Setting one to anything but its default yields one
	// warning naming it; the setting has no effect (or, for an enum value,
	// the field's Fallback is used).
	Accepted
	// Removed options (or enum values) no longer exist in the Debezium
	// versions pgmotion follows. They are ignored with a warning giving
	// Note; a removed enum value with an Alias is mapped to it.
	Removed
	// Rejected options (or enum values) are refused with an error giving Note.
	Rejected
)

// String returns the lower-case status name.
func (s Status) String() string {
	switch s {
	case Implemented:
		return "implemented"
	case Accepted:
		return "accepted"
	case Removed:
		return "removed"
	case Rejected:
		return "rejected"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Origin says which framework defines an option in the Java stack, which
// decides the wording of its error messages.
type Origin int

const (
	// OriginDebezium options use Debezium's wording:
	// "The '<name>' value is invalid: <problem>". It never quotes the value.
	OriginDebezium Origin = iota
	// OriginKafka options use Kafka ConfigDef's wording:
	// "Invalid value <value> for configuration <name>: <problem>" and
	// `Missing required configuration "<name>" which has no default value.`
	OriginKafka
	// OriginPgmotion options are pgmotion's own (prefix "pgmotion."); they
	// use Debezium's wording.
	OriginPgmotion
)

// Enum is one allowed value of an enumerated option.
type Enum struct {
	Value string
	// Status of this value: Implemented; Accepted (not implemented yet:
	// warns and uses Fallback); Removed (a legacy value, hidden from the
	// allowed list: warns and uses Alias); Rejected (an error giving Note).
	Status Status
	// Alias is the value a Removed (legacy) value maps to.
	Alias string
	// Fallback is the value pgmotion uses for an Accepted value.
	Fallback string
	// Note explains the status; it ends up in warnings, errors and docs.
	Note string
}

// Range bounds a numeric option, both ends inclusive.
type Range struct {
	Min, Max       int64
	HasMin, HasMax bool
}

// AtLeast returns a range with only a lower bound.
func AtLeast(min int64) *Range { return &Range{Min: min, HasMin: true} }

// Between returns a range with both bounds.
func Between(min, max int64) *Range { return &Range{Min: min, Max: max, HasMin: true, HasMax: true} }

// String returns Kafka's text for the range, e.g. "[1,...,65535]".
func (r *Range) String() string {
	switch {
	case r.HasMin && r.HasMax:
		return fmt.Sprintf("[%d,...,%d]", r.Min, r.Max)
	case r.HasMin:
		return fmt.Sprintf("[%d,...]", r.Min)
	case r.HasMax:
		return fmt.Sprintf("[...,%d]", r.Max)
	}
	return "[...]"
}

// Field declares one option.
type Field struct {
	// Name is the Debezium / Kafka Connect property name.
	Name string
	Type Type
	// Default is the default in string form, as Kafka shows it ("" means
	// no default unless EmptyDefault is set).
	Default string
	// EmptyDefault marks an empty-string default (Kafka's empty lists).
	EmptyDefault bool
	// DebeziumDefault is Debezium's default when pgmotion's differs; a
	// warning is given when the option is not set.
	DebeziumDefault string
	// Required options must be set to a non-blank value. For OriginKafka
	// fields it means "no default value".
	Required bool

	Importance  Importance
	Group       string
	Order       int // order in group; 0 = position among the group's fields
	Width       Width
	DisplayName string
	Doc         string
	Dependents  []string

	// Enum lists the allowed values, in Debezium's declaration order.
	Enum []Enum
	// CaseInsensitive enum matching; Debezium enums always are.
	CaseInsensitive bool
	// Range bounds numeric values.
	Range *Range
	// Check is a custom validator run after type, enum and range checks. It
	// is not run on a null value (unset, no default) unless CheckNull is set
	// or the field is a Kafka one (Kafka validators see nulls).
	Check     func(c *Check)
	CheckNull bool
	// Recommended values for the validate response; Debezium enums derive
	// theirs from Enum.
	Recommended []string

	// Secret options are masked everywhere; TypePassword implies it.
	Secret bool
	// Since is the Debezium (or Kafka) version that added the option.
	Since string
	// Aliases are legacy names accepted for this option with a warning.
	Aliases []string
	Status  Status
	// Note explains Status or a difference from Debezium.
	Note   string
	Origin Origin
	// ErrName is the name used in error messages when it differs from Name
	// (Kafka validates converter options under their unprefixed names).
	ErrName string
	// ValidatorName is the name in the messages of the field's validators
	// (enum, range, Check) when it differs from the name of its other
	// messages: Kafka Connect runs a transformation's validators under the
	// option's own name (ConfigDef.embed) but parses and requires it under
	// transforms.<alias>.<name>, and Debezium's transformations name their
	// options unprefixed.
	ValidatorName string
}

// IsSecret reports whether values of f must be masked.
func (f *Field) IsSecret() bool { return f.Secret || f.Type == TypePassword }

// HasDefault reports whether f has a default value.
func (f *Field) HasDefault() bool { return f.Default != "" || f.EmptyDefault }

func (f *Field) errName() string {
	if f.ErrName != "" {
		return f.ErrName
	}
	return f.Name
}

// AllowedValues returns the values f accepts and lists, in declaration order
// (legacy values excluded).
func (f *Field) AllowedValues() []string {
	var out []string
	for _, e := range f.Enum {
		if e.Status == Removed {
			continue
		}
		out = append(out, e.Value)
	}
	return out
}

// Prefix declares a family of properties that share a prefix or a pattern
// (transforms.*, producer.override.*, column.mask.with.<n>.chars, ...). Keys
// of a family are kept and handed to whoever consumes them.
type Prefix struct {
	// Prefix every key of the family starts with.
	Prefix string
	// Display is the family as written in docs, e.g.
	// "column.mask.with.<n>.chars"; it defaults to Prefix + "*".
	Display string
	// Match, if set, must also accept the key.
	Match  func(key string) bool
	Doc    string
	Status Status
	Note   string
	Since  string
}

func (p *Prefix) display() string {
	if p.Display != "" {
		return p.Display
	}
	return p.Prefix + "*"
}

func (p *Prefix) matches(key string) bool {
	if len(key) < len(p.Prefix) || key[:len(p.Prefix)] != p.Prefix {
		return false
	}
	return p.Match == nil || p.Match(key)
}

// Spec is the option declaration of one plugin.
type Spec struct {
	// Class is the Java class name, e.g.
	// io.debezium.connector.postgresql.PostgresConnector.
	Class string
	// Aliases are the short names Kafka Connect also accepts.
	Aliases []string
	// Type is the plugin type: "source", "sink", "transformation",
	// "predicate", "converter" or "header_converter".
	Type string
	// Version is the plugin version reported by GET /connector-plugins.
	Version string
	// Title and Summary head the generated docs; DocName names the file.
	Title, Summary, DocName string
	Fields                  []*Field
	Prefixes                []*Prefix
	// Enrich returns fields that exist only for some configurations, the
	// way Kafka Connect adds transforms.<alias>.type for each alias.
	Enrich func(values map[string]string) []*Field

	byName  map[string]*Field
	byAlias map[string]*Field
}

// Field returns the declared field called name.
func (s *Spec) Field(name string) (*Field, bool) {
	f, ok := s.index()[name]
	return f, ok
}

// Default returns the declared default of the field called name, in
// string form ("" when it has none), for code that needs an option's
// default without parsing a configuration. It panics when name is not
// declared, which is a programming error.
func (s *Spec) Default(name string) string {
	f, ok := s.Field(name)
	if !ok {
		panic(fmt.Sprintf("options: %q is not declared by %s", name, s.Class))
	}
	return f.Default
}

func (s *Spec) index() map[string]*Field {
	if s.byName == nil {
		// Only reached for specs that were never registered (tests).
		s.build()
	}
	return s.byName
}

func (s *Spec) build() {
	s.byName = make(map[string]*Field, len(s.Fields))
	s.byAlias = make(map[string]*Field)
	for _, f := range s.Fields {
		s.byName[f.Name] = f
		for _, a := range f.Aliases {
			s.byAlias[a] = f
		}
	}
}

// Groups returns the group names in order of first appearance.
func (s *Spec) Groups() []string {
	return groupsOf(s.Fields)
}

func groupsOf(fields []*Field) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range fields {
		if f.Group != "" && !seen[f.Group] {
			seen[f.Group] = true
			out = append(out, f.Group)
		}
	}
	return out
}

// orders returns the order in group of each field: Order when set, else the
// 1-based position among the fields of its group.
func orders(fields []*Field) map[*Field]int {
	out := make(map[*Field]int, len(fields))
	pos := map[string]int{}
	for _, f := range fields {
		pos[f.Group]++
		if f.Order != 0 {
			out[f] = f.Order
		} else {
			out[f] = pos[f.Group]
		}
	}
	return out
}

// Hidden is how Kafka shows a PASSWORD value.
const Hidden = "[hidden]"

// Secret holds a secret value. Every way of printing it (String, Format,
// GoString, JSON, text, slog) shows "[hidden]"; call Reveal to get the value.
// The zero value is an empty secret.
type Secret struct{ v string }

// NewSecret wraps v.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return s.v }

// IsEmpty reports whether the secret is empty.
func (s Secret) IsEmpty() bool { return s.v == "" }

// String returns "[hidden]".
func (s Secret) String() string { return Hidden }

// GoString returns "[hidden]".
func (s Secret) GoString() string { return Hidden }

// Format writes "[hidden]" whatever the verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, Hidden) }

// MarshalJSON returns "[hidden]" as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(Hidden) }

// MarshalText returns "[hidden]".
func (s Secret) MarshalText() ([]byte, error) { return []byte(Hidden), nil }

// LogValue returns "[hidden]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(Hidden) }
