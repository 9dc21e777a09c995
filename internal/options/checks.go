package options

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// splitList splits a Kafka LIST value the way ConfigDef does: trimmed, then
// split on commas with surrounding blanks; an empty value is an empty list.
func splitList(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	parts := strings.Split(v, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

// SplitList splits a LIST value the way Kafka's ConfigDef does (see
// splitList), for validators of plugins declared outside this package.
func SplitList(v string) []string { return splitList(v) }

// SplitRegexList splits a comma-separated list of regular expressions the way
// Debezium does: a backslash escapes the next character (so "\," is a comma
// inside an expression), items are trimmed and empty items are dropped.
func SplitRegexList(v string) []string {
	var out []string
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case ',':
			out = appendItem(out, v[start:i])
			start = i + 1
		}
	}
	return appendItem(out, v[start:])
}

func appendItem(out []string, item string) []string {
	item = strings.TrimSpace(item)
	if item == "" {
		return out
	}
	return append(out, strings.ReplaceAll(item, `\,`, ","))
}

// CompileAnchored compiles a Debezium filter expression: matched against the
// whole input (Java's Matcher.matches) and case-insensitively, as Debezium
// compiles its filters with CASE_INSENSITIVE. The syntax is Go's RE2, not
// Java's: look-around, back-references and possessive quantifiers are not
// available.
func CompileAnchored(expr string) (*regexp.Regexp, error) {
	return regexp.Compile(`(?i)^(?:` + expr + `)$`)
}

// compileRegexList compiles every item of a Debezium regex list.
func compileRegexList(v string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, item := range SplitRegexList(v) {
		// Compile the bare expression first so that the error quotes what the
		// user wrote, not our anchoring.
		if _, err := regexp.Compile(item); err != nil {
			return nil, err
		}
		re, err := CompileAnchored(item)
		if err != nil {
			return nil, err
		}
		out = append(out, re)
	}
	return out, nil
}

// checkRegexList is Debezium's Field::isListOfRegex.
func checkRegexList(c *Check) {
	if c.IsNull() {
		return
	}
	if _, err := compileRegexList(c.Value()); err != nil {
		c.Errorf("A comma-separated list of valid regular expressions is expected, but %v", err)
	}
}

// checkExcludes returns Debezium's check that an exclude list is not combined
// with its include list.
func checkExcludes(include string) func(*Check) {
	return func(c *Check) {
		if _, ok := c.Get(include); ok && c.IsSet() {
			c.Errorf("%q is already specified", include)
		}
	}
}

func both(checks ...func(*Check)) func(*Check) {
	return func(c *Check) {
		for _, ch := range checks {
			ch(c)
		}
	}
}

// Debezium's numeric validators. They run on the raw string, so a value that
// is not a number gets both the type message and theirs, as in Debezium.
func checkPositiveInt(c *Check) {
	if n, err := strconv.ParseInt(strings.TrimSpace(c.Value()), 10, 32); err != nil || n <= 0 {
		c.Errorf("A positive, non-zero integer value is expected")
	}
}

func checkNonNegativeInt(c *Check) {
	if n, err := strconv.ParseInt(strings.TrimSpace(c.Value()), 10, 32); err != nil || n < 0 {
		c.Errorf("An non-negative integer is expected")
	}
}

func checkPositiveLong(c *Check) {
	if n, err := strconv.ParseInt(strings.TrimSpace(c.Value()), 10, 64); err != nil || n <= 0 {
		c.Errorf("A positive, non-zero long value is expected")
	}
}

func checkNonNegativeLong(c *Check) {
	if n, err := strconv.ParseInt(strings.TrimSpace(c.Value()), 10, 64); err != nil || n < 0 {
		c.Errorf("A non-negative long value is expected")
	}
}

var topicNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.\-]+$`)

// checkTopicName is Debezium's CommonConnectorConfig::validateTopicName.
func checkTopicName(c *Check) {
	if c.IsNull() {
		return
	}
	if v := c.Value(); !topicNameRE.MatchString(v) {
		c.Errorf("%s has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)", v)
	}
}

// checkCustomName is Debezium's check that "<mode>.custom.name" is set when
// "<mode>" is custom.
func checkCustomName(mode string) func(*Check) {
	return func(c *Check) {
		m, _ := c.Effective(mode)
		if strings.EqualFold(strings.TrimSpace(m), "custom") && (c.IsNull() || c.Value() == "") {
			c.Errorf("%s cannot be empty when %s 'custom' is defined", c.Name(), mode)
		}
	}
}

// checkMapList is Debezium's Field::isListOfMap (k1=v1,k2=v2).
func checkMapList(c *Check) {
	v := c.Value()
	if strings.TrimSpace(v) == "" {
		return
	}
	for _, item := range strings.Split(v, ",") {
		kv := strings.Split(item, "=")
		if len(kv) != 2 {
			c.Errorf("A equivalent-separated map of valid key/value pairs is expected, for example: k1=v1,k2=v2")
			return
		}
	}
}

// checkBetween is a Debezium-worded range check for fields Debezium only
// types (database.port is only "an integer" there).
func checkBetween(min, max int64) func(*Check) {
	return func(c *Check) {
		n, err := strconv.ParseInt(strings.TrimSpace(c.Value()), 10, 64)
		if err != nil || c.IsNull() {
			return
		}
		if n < min {
			c.Errorf("Value must be at least %d", min)
		} else if n > max {
			c.Errorf("Value must be no more than %d", max)
		}
	}
}

// maskedMap renders a configuration like java.util.Map.toString with
// sensitive values hidden.
func maskedMap(m map[string]string, secret func(string) bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%s", k, MaskValue(k, m[k], secret))
	}
	b.WriteByte('}')
	return b.String()
}
