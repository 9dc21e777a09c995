package options

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/pgmotion/pgmotion/internal/java"
)

// result is the outcome of evaluating one field.
type result struct {
	f    *Field
	key  string // the property name; f.Name unless f is nil
	orig string // value as given
	set  bool
	// val is the value the field's validators see: orig (trimmed for Kafka
	// fields) or the default. null means there is none.
	val  string
	null bool
	// typeOK reports that val parses as the field's type.
	typeOK bool
	// eff is the effective value after enum mapping, in string form.
	eff         string
	errors      []string
	hints       map[int]string // the command line's wording of errors[i], if any
	recommended []string
}

// evaluation is one pass of a spec over a raw configuration.
type evaluation struct {
	spec      *Spec
	originals map[string]string
	values    map[string]string // after alias mapping; includes unknown keys
	fields    []*Field
	byName    map[string]*Field
	results   []*result
	byResult  map[string]*result
	warnings  []string
	warn      bool
}

func (s *Spec) evaluate(raw map[string]string, warn bool) *evaluation {
	s.index()
	ev := &evaluation{
		spec:      s,
		originals: make(map[string]string, len(raw)),
		values:    make(map[string]string, len(raw)),
		byResult:  map[string]*result{},
		warn:      warn,
	}
	for k, v := range raw {
		ev.originals[k] = v
		ev.values[k] = v
	}
	ev.mapAliases()
	ev.fields = s.fieldsFor(ev.values)
	ev.byName = make(map[string]*Field, len(ev.fields))
	for _, f := range ev.fields {
		ev.byName[f.Name] = f
	}
	for _, f := range ev.fields {
		r := ev.evalField(f)
		ev.results = append(ev.results, r)
		ev.byResult[f.Name] = r
	}
	ev.checkUndeclared()
	return ev
}

// fieldsFor returns the declared fields plus the enriched ones, which go
// where Kafka Connect puts them: after the framework's own fields.
func (s *Spec) fieldsFor(values map[string]string) []*Field {
	if s.Enrich == nil {
		return s.Fields
	}
	extra := s.Enrich(values)
	if len(extra) == 0 {
		return s.Fields
	}
	at := len(s.Fields)
	for i, f := range s.Fields {
		if f.Origin != OriginKafka {
			at = i
			break
		}
	}
	out := make([]*Field, 0, len(s.Fields)+len(extra))
	out = append(out, s.Fields[:at]...)
	out = append(out, extra...)
	return append(out, s.Fields[at:]...)
}

func (ev *evaluation) warnf(format string, args ...any) {
	if ev.warn {
		ev.warnings = append(ev.warnings, fmt.Sprintf(format, args...))
	}
}

// mapAliases moves legacy names to their current names.
func (ev *evaluation) mapAliases() {
	keys := make([]string, 0, len(ev.originals))
	for k := range ev.originals {
		if _, ok := ev.spec.byAlias[k]; ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, alias := range keys {
		f := ev.spec.byAlias[alias]
		delete(ev.values, alias)
		if _, ok := ev.originals[f.Name]; ok {
			ev.warnf("%q is the legacy name of %q; both are set, so %q is ignored", alias, f.Name, alias)
			continue
		}
		if prev, ok := ev.values[f.Name]; ok && prev != ev.originals[alias] {
			// Another alias of the same field came first.
			ev.warnf("%q is another legacy name of %q, which is already set; %q is ignored", alias, f.Name, alias)
			continue
		}
		ev.values[f.Name] = ev.originals[alias]
		ev.warnf("%q is the legacy name of %q; using its value as %q", alias, f.Name, f.Name)
	}
}

// shown is how a value may appear in a message about f.
func shown(f *Field, v string) string {
	if f != nil && f.IsSecret() {
		return Hidden
	}
	return HideURLPasswords(v)
}

// invalid records a problem with r in the wording of its field's origin.
// value is the value Kafka's wording quotes ("null" for none).
func (ev *evaluation) invalid(r *result, value, msg string) {
	name := r.f.Name
	if r.f.ValidatorName != "" {
		name = r.f.ValidatorName
	} else if r.f.Origin == OriginKafka {
		name = r.f.errName()
	}
	ev.invalidAs(r, name, value, msg)
}

// invalidType records a value that does not parse as the field's type.
// Kafka parses under the field's full name, before any validator runs.
func (ev *evaluation) invalidType(r *result, value, msg string) {
	if r.f.Origin == OriginKafka {
		ev.invalidAs(r, r.f.errName(), value, msg)
		return
	}
	ev.invalid(r, value, msg)
}

func (ev *evaluation) invalidAs(r *result, name, value, msg string) {
	if r.f.Origin == OriginKafka {
		r.errors = append(r.errors, fmt.Sprintf("Invalid value %s for configuration %s: %s", shown(r.f, value), name, msg))
		return
	}
	r.errors = append(r.errors, fmt.Sprintf("The '%s' value is invalid: %s", name, msg))
}

func (ev *evaluation) evalField(f *Field) *result {
	r := &result{f: f, key: f.Name}
	r.orig, r.set = ev.values[f.Name]
	kafka := f.Origin == OriginKafka
	shownOrig := r.orig // Kafka quotes the untrimmed value

	switch f.Status {
	case Removed:
		if r.set {
			ev.warnf("%q is not supported by the Debezium versions pgmotion follows and is ignored: %s", f.Name, f.Note)
		}
		r.null = true
		return r
	case Rejected:
		if r.set {
			r.val = r.orig
			ev.invalid(r, shownOrig, f.Note)
		}
		r.null = true
		return r
	}

	switch {
	case r.set && kafka:
		r.val = strings.TrimSpace(r.orig)
	case r.set:
		r.val = r.orig
	case f.HasDefault():
		r.val = f.Default
	default:
		r.null = true
	}

	// Required.
	if f.Required {
		if kafka && !r.set && !f.HasDefault() {
			r.errors = append(r.errors, fmt.Sprintf("Missing required configuration %q which has no default value.", f.errName()))
		} else if !kafka && (r.null || strings.TrimSpace(r.val) == "") {
			ev.invalid(r, "", "A value is required")
		}
	}

	// Type.
	r.typeOK = !r.null
	if !r.null {
		if msg := typeProblem(f, r.val); msg != "" {
			r.typeOK = false
			ev.invalidType(r, shownOrig, msg)
			if kafka {
				// Kafka hands null to the validators after a parse error.
				r.null = true
			}
		}
	}
	r.eff = r.val

	// Enum.
	if len(f.Enum) > 0 {
		ev.evalEnum(r, shownOrig)
	}

	// Range.
	if f.Range != nil {
		ev.evalRange(r)
	}

	// Custom check.
	if f.Check != nil && (!r.null || kafka || f.CheckNull) {
		f.Check(&Check{ev: ev, r: r})
	}

	// Recommended values.
	switch {
	case len(f.Recommended) > 0:
		r.recommended = f.Recommended
	case len(f.Enum) > 0 && !kafka:
		var lits []string
		for _, e := range f.Enum {
			if e.Status != Removed {
				lits = append(lits, strings.ToLower(e.Value))
			}
		}
		r.recommended = java.HashSetOrder(lits)
	}

	if len(r.errors) == 0 {
		if f.Status == Accepted && r.set && !sameValue(f, r.eff, f.Default) {
			msg := fmt.Sprintf("%q is accepted for Debezium compatibility but not implemented by pgmotion yet; the setting has no effect", f.Name)
			if f.Note != "" {
				msg += " (" + f.Note + ")"
			}
			ev.warnf("%s", msg)
		}
		if !r.set && f.DebeziumDefault != "" {
			msg := fmt.Sprintf("%q is not set: Debezium defaults to %s, pgmotion to %s", f.Name, f.DebeziumDefault, f.Default)
			if f.Note != "" {
				msg += "; " + f.Note
			}
			ev.warnf("%s", msg)
		}
	}
	return r
}

// typeProblem returns the message for a value that does not parse as f's
// type, or "".
func typeProblem(f *Field, v string) string {
	t := strings.TrimSpace(v)
	kafka := f.Origin == OriginKafka
	var ok bool
	switch f.Type {
	case TypeBoolean:
		ok = strings.EqualFold(t, "true") || strings.EqualFold(t, "false")
		if !ok {
			if kafka {
				return "Expected value to be either true or false"
			}
			return "Either 'true' or 'false' is expected"
		}
		return ""
	case TypeInt:
		_, err := strconv.ParseInt(t, 10, 32)
		ok = err == nil
	case TypeShort:
		_, err := strconv.ParseInt(t, 10, 16)
		ok = err == nil
	case TypeLong:
		_, err := strconv.ParseInt(t, 10, 64)
		ok = err == nil
	case TypeDouble:
		_, err := strconv.ParseFloat(t, 64)
		ok = err == nil
	case TypeClass:
		if !kafka && !isJavaName(t) {
			return "A Java class name is expected"
		}
		return ""
	default:
		return ""
	}
	if ok {
		return ""
	}
	if kafka {
		return "Not a number of type " + f.Type.String()
	}
	switch f.Type {
	case TypeInt:
		return "An integer is expected"
	case TypeShort:
		return "A short value is expected"
	case TypeLong:
		return "A long value is expected"
	default:
		return "A double value is expected"
	}
}

// isJavaName approximates javax.lang.model.SourceVersion.isName.
func isJavaName(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" || javaKeywords[part] {
			return false
		}
		for i, c := range part {
			letter := c == '_' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c > 127
			if !letter && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// javaKeywords is initialized with the package variables, before any init()
// registers a spec.
var javaKeywords = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`abstract assert boolean break byte case catch char class const continue
		default do double else enum extends final finally float for goto if implements import instanceof int
		interface long native new package private protected public return short static strictfp super switch
		synchronized this throw throws transient try void volatile while true false null _`) {
		m[k] = true
	}
	return m
}()

func (ev *evaluation) evalEnum(r *result, shownOrig string) {
	f := r.f
	if r.null {
		if f.Origin == OriginKafka {
			ev.invalid(r, "null", enumMessage(f))
		}
		return
	}
	var match *Enum
	for i := range f.Enum {
		e := &f.Enum[i]
		if enumMatches(f, e.Value, r.val) {
			match = e
			break
		}
	}
	if match == nil || (match.Status == Removed && match.Alias == "") {
		ev.invalid(r, shownOrig, enumMessage(f))
		if r.hints == nil {
			r.hints = map[int]string{}
		}
		r.hints[len(r.errors)-1] = enumHint(r.key, shownOrig, f)
		return
	}
	r.eff = match.Value
	switch match.Status {
	case Accepted:
		fb := match.Fallback
		if fb == "" {
			fb = f.Default
		}
		msg := fmt.Sprintf("%s=%s is accepted for Debezium compatibility but not implemented by pgmotion yet; pgmotion behaves as %s=%s", f.Name, match.Value, f.Name, fb)
		if match.Note != "" {
			msg += " (" + match.Note + ")"
		}
		ev.warnf("%s", msg)
		r.eff = fb
	case Removed:
		msg := fmt.Sprintf("%s=%s is a legacy value; using %s=%s", f.Name, match.Value, f.Name, match.Alias)
		if match.Note != "" {
			msg += " (" + match.Note + ")"
		}
		ev.warnf("%s", msg)
		r.eff = match.Alias
	case Rejected:
		ev.invalid(r, shownOrig, match.Note)
	}
}

func enumMatches(f *Field, want, got string) bool {
	switch {
	case f.Origin != OriginKafka:
		return strings.EqualFold(want, strings.TrimSpace(got))
	case f.CaseInsensitive:
		return strings.EqualFold(want, got)
	default:
		return want == got
	}
}

// enumHint is the command line's text for a value outside the enum: every
// value f accepts, legacy ones included, from its declaration.
func enumHint(key, value string, f *Field) string {
	var legacy []string
	for _, e := range f.Enum {
		if e.Status == Removed && e.Alias != "" {
			legacy = append(legacy, fmt.Sprintf("%s (= %s)", e.Value, e.Alias))
		}
	}
	h := fmt.Sprintf("%s %q is not a valid value: use one of %s", key, value, strings.Join(f.AllowedValues(), ", "))
	if len(legacy) > 0 {
		h += ", or the legacy " + strings.Join(legacy, ", ")
	}
	return h
}

// enumMessage is the problem text for a value outside the enum, in the
// wording (and list order) of the framework that defines f.
func enumMessage(f *Field) string {
	vals := f.AllowedValues()
	switch {
	case f.Origin != OriginKafka:
		lits := make([]string, len(vals))
		for i, v := range vals {
			lits[i] = strings.ToLower(v)
		}
		return "Value must be one of " + strings.Join(java.HashSetOrder(lits), ", ")
	case f.CaseInsensitive:
		up := make([]string, len(vals))
		for i, v := range vals {
			up[i] = strings.ToUpper(v)
		}
		return "String must be one of (case insensitive): " + strings.Join(java.HashSetOrder(up), ", ")
	default:
		return "String must be one of: " + strings.Join(vals, ", ")
	}
}

func (ev *evaluation) evalRange(r *result) {
	if r.null {
		if r.f.Origin == OriginKafka {
			ev.invalid(r, "null", "Value must be non-null")
		}
		return
	}
	if !r.typeOK {
		return
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(r.val), 64)
	if err != nil || math.IsNaN(n) {
		return
	}
	shownNum := strings.TrimSpace(r.val)
	if iv, err := strconv.ParseInt(shownNum, 10, 64); err == nil {
		shownNum = strconv.FormatInt(iv, 10)
	}
	rg := r.f.Range
	if rg.HasMin && n < float64(rg.Min) {
		ev.invalid(r, shownNum, fmt.Sprintf("Value must be at least %d", rg.Min))
	} else if rg.HasMax && n > float64(rg.Max) {
		ev.invalid(r, shownNum, fmt.Sprintf("Value must be no more than %d", rg.Max))
	}
}

// sameValue reports whether two string forms of a value of f are equal.
func sameValue(f *Field, a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch f.Type {
	case TypeBoolean:
		return strings.EqualFold(a, b)
	case TypeInt, TypeShort, TypeLong:
		x, err1 := strconv.ParseInt(a, 10, 64)
		y, err2 := strconv.ParseInt(b, 10, 64)
		return err1 == nil && err2 == nil && x == y
	case TypeDouble:
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		return err1 == nil && err2 == nil && x == y
	case TypeList:
		return strings.Join(splitList(a), ",") == strings.Join(splitList(b), ",")
	}
	if len(f.Enum) > 0 {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// checkUndeclared handles keys that are neither declared nor legacy names:
// prefix families that are Accepted or Rejected report them.
func (ev *evaluation) checkUndeclared() {
	keys := make([]string, 0)
	for k := range ev.values {
		if _, ok := ev.byName[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	byFamily := map[*Prefix][]string{}
	var order []*Prefix
	for _, k := range keys {
		for _, p := range ev.spec.Prefixes {
			if p.matches(k) {
				if byFamily[p] == nil {
					order = append(order, p)
				}
				byFamily[p] = append(byFamily[p], k)
				break
			}
		}
	}
	for _, p := range order {
		ks := byFamily[p]
		switch p.Status {
		case Accepted:
			msg := fmt.Sprintf("%s (%s) is accepted for Debezium compatibility but not implemented by pgmotion yet; the setting has no effect", quoteAll(ks), p.display())
			if p.Note != "" {
				msg += " (" + p.Note + ")"
			}
			ev.warnf("%s", msg)
		case Removed:
			ev.warnf("%s (%s) is not supported by the Debezium versions pgmotion follows and is ignored: %s", quoteAll(ks), p.display(), p.Note)
		case Rejected:
			for _, k := range ks {
				r := &result{key: k, orig: ev.values[k], set: true}
				r.errors = append(r.errors, fmt.Sprintf("The '%s' value is invalid: %s", k, p.Note))
				// Kafka lists values without a definition first.
				ev.results = append([]*result{r}, ev.results...)
			}
		}
	}
}

func quoteAll(ks []string) string {
	q := make([]string, len(ks))
	for i, k := range ks {
		q[i] = strconv.Quote(k)
	}
	return strings.Join(q, ", ")
}

// problems returns every error in Kafka's order.
func (ev *evaluation) problems() []Problem {
	var out []Problem
	for _, r := range ev.results {
		for i, e := range r.errors {
			out = append(out, Problem{Field: r.key, Message: e, Hint: r.hints[i]})
		}
	}
	return out
}

// Check gives a field's custom validator access to the value under test and
// to the rest of the configuration.
type Check struct {
	ev *evaluation
	r  *result
}

// Name returns the name of the field under test.
func (c *Check) Name() string { return c.r.f.Name }

// Value returns the value under test: as set, or the default. It is "" when
// IsNull.
func (c *Check) Value() string { return c.r.val }

// IsSet reports whether the property is present in the configuration.
func (c *Check) IsSet() bool { return c.r.set }

// IsNull reports that there is no value (unset without a default, or, for
// Kafka fields, a value that did not parse).
func (c *Check) IsNull() bool { return c.r.null }

// TypeOK reports whether the value parses as the field's type.
func (c *Check) TypeOK() bool { return c.r.typeOK }

// Get returns another property as set in the configuration (after legacy
// names are mapped).
func (c *Check) Get(name string) (string, bool) {
	v, ok := c.ev.values[name]
	return v, ok
}

// Effective returns another declared property as set, or its default.
func (c *Check) Effective(name string) (string, bool) {
	if v, ok := c.ev.values[name]; ok {
		return v, true
	}
	if f, ok := c.ev.byName[name]; ok && f.HasDefault() {
		return f.Default, true
	}
	return "", false
}

// Keys returns the sorted property names present in the configuration.
func (c *Check) Keys() []string {
	out := make([]string, 0, len(c.ev.values))
	for k := range c.ev.values {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Errorf records a problem in the wording of the field's origin; Kafka's
// wording quotes the value under test (masked for secrets).
func (c *Check) Errorf(format string, args ...any) {
	v := c.r.orig
	if !c.r.set {
		v = c.r.val
	}
	if c.r.null {
		v = "null"
	}
	c.ev.invalid(c.r, v, fmt.Sprintf(format, args...))
}

// ErrorValuef is Errorf quoting value instead of the value under test.
func (c *Check) ErrorValuef(value, format string, args ...any) {
	c.ev.invalid(c.r, value, fmt.Sprintf(format, args...))
}

// Fail records msg as the whole error message.
func (c *Check) Fail(msg string) { c.r.errors = append(c.r.errors, msg) }

// Warnf records a warning.
func (c *Check) Warnf(format string, args ...any) { c.ev.warnf(format, args...) }

// SetEffective replaces the effective value handed to typed accessors.
func (c *Check) SetEffective(v string) { c.r.eff = v }
