package debezium

import (
	"strconv"
	"strings"
)

// Column defaults, as Debezium's PostgresDefaultValueConverter (3.4) reads
// the pg_get_expr text of a column default into the schema's "default":
//
//   - Only some types have a mapper, chosen by the column's type name:
//     bool, int2/4/8, float4/8, numeric, text/varchar/bpchar, json/jsonb,
//     xml, uuid, date, time, timestamp, timestamptz, interval, bit,
//     varbit and every enum type. Others (name, oid, bytea, money,
//     timetz, inet and the other network types, ranges, tsvector, point,
//     arrays, citext, ltree, hstore, the pgvector types) get no default,
//     nor do domain columns: their type name is the domain's, which has
//     no mapper (PostgresConnection.doReadTableColumn only keeps the
//     default when supportConversion(typeName) holds).
//   - NULL::type means no default.
//   - A function call (^\(?[A-Za-z0-9_.]+\(.*\)) or one of current_date,
//     current_time, current_timestamp, localtime, localtimestamp is
//     replaced by a per-type placeholder: nextval(...) gives 0 for
//     integers, now() gives the epoch for timestamps, gen_random_uuid()
//     gives 00000000-0000-0000-0000-000000000000, and text gets "".
//   - Otherwise the value is the text inside the first pair of single
//     quotes ('(.*?)', so 'it''s' yields "it"), or the whole expression
//     when it has no quote ("42", "true").
//   - The text is parsed with Java's parsers and converted like a value of
//     the column; any failure means no default (Debezium logs a warning).
//     A VariableScaleDecimal (numeric without typmod, precise mode) never
//     gets one: Debezium drops struct defaults (KAFKA-12694).
//   - bit's placeholder is "00" and a one-character text is a boolean;
//     varbit's placeholder is "0"; both are then converted as a value of
//     the column (boolean for length 1, else io.debezium.data.Bits).
//   - interval's placeholder is "epoch", which PGInterval reads as zero.
//   - An enum default is kept only when the expression is '<label>'::<type
//     name>; there is no placeholder, so a function call gives none.

// defaultRule is PostgresDefaultValueConverter's mapper for one type.
type defaultRule struct {
	// placeholder is the value assumed for a function-call default.
	placeholder string
	// trim applies Java's String.trim first (TRIM_DATA_TYPES).
	trim bool
	// parse converts the extracted text; ok false means no default.
	parse func(e *Encoder, cp *colPlan, s string) (v val, ok bool)
	// extract replaces extractDefault when set.
	extract func(cp *colPlan, expr string) (string, bool)
}

var (
	ruleBool        = defaultRule{placeholder: "false", trim: true, parse: defaultBool}
	ruleInt2        = defaultRule{placeholder: "0", trim: true, parse: defaultInt}
	ruleInt4        = defaultRule{placeholder: "0", trim: true, parse: defaultInt}
	ruleInt8        = defaultRule{placeholder: "0", trim: true, parse: defaultInt}
	ruleFloat4      = defaultRule{placeholder: "0.0", trim: true, parse: defaultFloat}
	ruleFloat8      = defaultRule{placeholder: "0.0", trim: true, parse: defaultFloat}
	ruleNumeric     = defaultRule{placeholder: "0.0", trim: true, parse: defaultNumeric}
	ruleString      = defaultRule{placeholder: "", parse: defaultString}
	ruleJSON        = defaultRule{placeholder: "{}", parse: defaultString}
	ruleUUID        = defaultRule{placeholder: "00000000-0000-0000-0000-000000000000", trim: true, parse: defaultUUID}
	ruleDate        = defaultRule{placeholder: "1970-01-01", trim: true, parse: defaultDate}
	ruleTime        = defaultRule{placeholder: "00:00", trim: true, parse: defaultTime}
	ruleTimestamp   = defaultRule{placeholder: "1970-01-01", trim: true, parse: defaultTimestamp}
	ruleTimestamptz = defaultRule{placeholder: "1970-01-01", trim: true, parse: defaultTimestamp}
	ruleXML         = defaultRule{placeholder: "", parse: defaultString}
	ruleInterval    = defaultRule{placeholder: "epoch", trim: true, parse: defaultInterval}
	ruleBit         = defaultRule{placeholder: "00", trim: true, parse: defaultBits}
	ruleVarbit      = defaultRule{placeholder: "0", trim: true, parse: defaultBits}
	ruleEnum        = defaultRule{extract: extractEnumDefault, parse: defaultString}
)

// columnDefaultRule is the default mapper of a column of the given
// mapping, or nil: domain columns have none.
func columnDefaultRule(tm typeMapping, typeType byte) *defaultRule {
	if typeType == 'd' {
		return nil
	}
	return tm.dflt
}

// parseDefault returns the schema default for expr, a pg_get_expr text.
// The value is cloned: it owns its bytes.
func (e *Encoder) parseDefault(cp *colPlan, rule *defaultRule, expr string) (val, bool) {
	if rule == nil || expr == "" {
		return val{}, false
	}
	if rule.trim {
		expr = javaTrim(expr)
	}
	if strings.HasPrefix(expr, "NULL::") {
		return val{}, false
	}
	var s string
	var ok bool
	if rule.extract != nil {
		s, ok = rule.extract(cp, expr)
	} else {
		s, ok = extractDefault(expr, rule.placeholder)
	}
	if !ok {
		return val{}, false
	}
	v, ok := rule.parse(e, cp, s)
	if !ok {
		return val{}, false
	}
	return v.clone(), true
}

// javaTrim is String.trim: it strips every char <= ' ' at both ends.
func javaTrim(s string) string {
	i, j := 0, len(s)
	for i < j && s[i] <= ' ' {
		i++
	}
	for j > i && s[j-1] <= ' ' {
		j--
	}
	return s[i:j]
}

var currentDateTimes = map[string]bool{
	"current_timestamp": true, "current_time": true, "current_date": true, "localtime": true, "localtimestamp": true,
}

// extractDefault is PostgresDefaultValueConverter.extractDefault.
func extractDefault(expr, placeholder string) (string, bool) {
	if isFunctionDefault(expr) || currentDateTimes[strings.ToLower(expr)] {
		return placeholder, true
	}
	if !strings.Contains(expr, "'") {
		return expr, true
	}
	return firstQuoted(expr)
}

// isJavaLineTerminator reports the characters Java's regex '.' does not
// match.
func isJavaLineTerminator(r rune) bool {
	return r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029
}

// isFunctionDefault matches FUNCTION_DEFAULT_PATTERN,
// ^[(]?[A-Za-z0-9_.]+\((?:.+(?:, ?.+)*)?\), with find().
func isFunctionDefault(s string) bool {
	i := 0
	if i < len(s) && s[i] == '(' {
		i++
	}
	start := i
	for i < len(s) && (s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9' || s[i] == '_' || s[i] == '.') {
		i++
	}
	if i == start || i >= len(s) || s[i] != '(' {
		return false
	}
	// Any ')' reachable before a line terminator closes the match.
	for _, r := range s[i+1:] {
		if r == ')' {
			return true
		}
		if isJavaLineTerminator(r) {
			return false
		}
	}
	return false
}

// firstQuoted is Pattern.compile("'(.*?)'").matcher(s).find() and group(1):
// the shortest quoted run with no line terminator, from the leftmost
// quote that has one.
func firstQuoted(s string) (string, bool) {
	for i := strings.IndexByte(s, '\''); i >= 0; {
		j := strings.IndexByte(s[i+1:], '\'')
		if j < 0 {
			return "", false
		}
		inner := s[i+1 : i+1+j]
		if !strings.ContainsFunc(inner, isJavaLineTerminator) {
			return inner, true
		}
		i = i + 1 + j
	}
	return "", false
}

func defaultBool(e *Encoder, cp *colPlan, s string) (val, bool) {
	// Boolean.parseBoolean never fails.
	if strings.EqualFold(s, "true") {
		return val{k: kBool, i: 1}, true
	}
	return val{k: kBool}, true
}

func defaultInt(e *Encoder, cp *colPlan, s string) (val, bool) {
	v, err := parseInt([]byte(s), cp.bits)
	return val{k: kInt, i: v}, err == nil
}

// javaFloatText trims and drops the f/F/d/D suffix Java's
// Float.parseFloat/Double.parseDouble accept.
func javaFloatText(s string) string {
	s = javaTrim(s)
	if len(s) > 1 {
		switch s[len(s)-1] {
		case 'f', 'F', 'd', 'D':
			if c := s[len(s)-2]; c >= '0' && c <= '9' || c == '.' {
				s = s[:len(s)-1]
			}
		}
	}
	return s
}

func defaultFloat(e *Encoder, cp *colPlan, s string) (val, bool) {
	s = javaFloatText(s)
	if cp.schema.typ == "float" {
		f, err := parseFloat([]byte(s), 32)
		return val{k: kFloat32, f: f}, err == nil
	}
	f, err := parseFloat([]byte(s), 64)
	return val{k: kFloat64, f: f}, err == nil
}

// parseJavaBigDecimal reads new BigDecimal(s): [+-]digits[.digits][e[+-]n]
// and returns the sign, the unscaled digits and the scale.
func parseJavaBigDecimal(s string) (neg bool, digits []byte, scale int, ok bool) {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		digits = append(digits, s[i])
		i++
	}
	n := len(digits)
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			digits = append(digits, s[i])
			scale++
			i++
		}
	}
	if len(digits) == 0 || (n == 0 && scale == 0) {
		return false, nil, 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		exp, err := parseInt([]byte(s[i+1:]), 32)
		if err != nil || exp > 1e6 || exp < -1e6 {
			return false, nil, 0, false
		}
		scale -= int(exp)
		i = len(s)
	}
	if i != len(s) || len(digits) > 10000 {
		return false, nil, 0, false
	}
	return neg, digits, scale, true
}

func defaultNumeric(e *Encoder, cp *colPlan, s string) (val, bool) {
	neg, digits, scale, ok := parseJavaBigDecimal(s)
	if !ok {
		return val{}, false
	}
	if cp.varScale && cp.dec == decPrecise {
		return val{}, false
	}
	if !cp.varScale {
		// PostgresValueConverter.withScaleAdjustedIfNeeded: setScale
		// without rounding.
		d, err := rescaleDigits(digits, scale, cp.scale)
		if err != nil {
			return val{}, false
		}
		digits, scale = d, cp.scale
	}
	switch cp.dec {
	case decPrecise:
		b := appendUnscaled(nil, neg, digits, &e.big)
		return val{k: kDecimal, b: b, i: int64(scale), d: digits, neg: neg}, true
	case decDouble:
		f, err := parseFloat(appendJavaBigDecimalNumber(nil, neg, digits, scale), 64)
		return val{k: kFloat64, f: f}, err == nil
	default:
		return val{k: kString, b: appendPlainDecimal(nil, neg, digits, scale)}, true
	}
}

// appendJavaBigDecimalNumber writes ±digits E-scale for strconv.
func appendJavaBigDecimalNumber(dst []byte, neg bool, digits []byte, scale int) []byte {
	if neg {
		dst = append(dst, '-')
	}
	dst = append(dst, digits...)
	dst = append(dst, 'e')
	if -scale >= 0 {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, int64(-scale), 10)
}

// rescaleDigits is setScale(to) without rounding on digits × 10^-from.
func rescaleDigits(digits []byte, from, to int) ([]byte, error) {
	d := append([]byte{}, digits...)
	if to >= from {
		for i := from; i < to; i++ {
			d = append(d, '0')
		}
		return d, nil
	}
	drop := from - to
	for i := 0; i < drop; i++ {
		if i < len(d) && d[len(d)-1-i] != '0' {
			return nil, errRounding
		}
	}
	if drop >= len(d) {
		return []byte{'0'}, nil
	}
	return d[:len(d)-drop], nil
}

func defaultString(e *Encoder, cp *colPlan, s string) (val, bool) {
	return val{k: kString, b: []byte(s)}, true
}

// defaultUUID accepts the canonical form and writes it in lower case, as
// UUID.fromString(s).toString() does.
func defaultUUID(e *Encoder, cp *colPlan, s string) (val, bool) {
	if len(s) != 36 {
		return val{}, false
	}
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return val{}, false
			}
		default:
			if _, ok := unhex(c); !ok {
				return val{}, false
			}
		}
	}
	return val{k: kString, b: b}, true
}

func defaultDate(e *Encoder, cp *colPlan, s string) (val, bool) {
	days, inf, err := parseDate([]byte(s))
	if err != nil || inf != finite {
		return val{}, false
	}
	return dateVal(cp, days), true
}

// localTimeMax is LocalTime.MAX in nanoseconds: PgJDBC's toLocalTime turns
// 24:00:00 into it.
const localTimeMax = 86400e9 - 1

func defaultTime(e *Encoder, cp *colPlan, s string) (val, bool) {
	b := []byte(s)
	if len(b) == 5 {
		b = append(b, ":00"...) // HH:MM, as in the placeholder
	}
	ns, err := parseTime(b)
	if err != nil || ns > 86400e9 {
		return val{}, false
	}
	if ns == 86400e9 {
		ns = localTimeMax
	}
	return timeVal(cp, ns), true
}

func defaultTimestamp(e *Encoder, cp *colPlan, s string) (val, bool) {
	b := []byte(s)
	withZone := cp.schema.name == nameZonedTimestamp
	if len(b) == 10 {
		b = append(b, " 00:00:00"...) // a date alone, as in the placeholder
		if withZone {
			b = append(b, "+00"...)
		}
	}
	t, err := parseTimestamp(b, withZone)
	if err != nil && !withZone {
		// A timestamp default with an offset keeps its wall clock.
		var off []byte
		for i := len(b) - 1; i > 10; i-- {
			if b[i] == '+' || b[i] == '-' {
				off = b[:i]
				break
			}
		}
		if off != nil {
			t, err = parseTimestamp(off, false)
		}
	}
	if err != nil || t.inf != finite {
		return val{}, false
	}
	if withZone {
		return val{k: kString, b: appendZonedTimestamp(nil, t.secs, t.nanos, cp.frac)}, true
	}
	return timestampVal(cp, t), true
}

// extractEnumDefault is PostgresDefaultValueConverter.extractEnumDefault:
// '<label>'::<type name> gives the label, anything else no default.
func extractEnumDefault(cp *colPlan, expr string) (string, bool) {
	if cp.col == nil {
		return "", false
	}
	v, ok := strings.CutSuffix(expr, "::"+cp.col.TypeName)
	if !ok || len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
		return "", false
	}
	return v[1 : len(v)-1], true
}

// defaultBits converts a bit or varbit default as the column's values
// are converted: a boolean for bit(1)/varbit(1), else Bits bytes.
func defaultBits(e *Encoder, cp *colPlan, s string) (val, bool) {
	v, err := cp.decode(e, cp, []byte(s))
	return v, err == nil
}

// defaultInterval reads the text as PGInterval does; the function
// placeholder "epoch" has no number and so is a zero interval.
func defaultInterval(e *Encoder, cp *colPlan, s string) (val, bool) {
	if s == "epoch" {
		s = "00:00:00"
	}
	v, err := decInterval(e, cp, []byte(s))
	return v, err == nil
}
