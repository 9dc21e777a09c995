package debezium

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
)

// PostgreSQL built-in type OIDs (pg_type.oid, stable across versions).
const (
	oidBool        = 16
	oidBytea       = 17
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
)

// Connect logical type names.
const (
	nameDecimal        = "org.apache.kafka.connect.data.Decimal"
	nameVarDecimal     = "io.debezium.data.VariableScaleDecimal"
	nameJSON           = "io.debezium.data.Json"
	nameUUID           = "io.debezium.data.Uuid"
	nameDate           = "io.debezium.time.Date"
	nameTime           = "io.debezium.time.Time"
	nameMicroTime      = "io.debezium.time.MicroTime"
	nameTimestamp      = "io.debezium.time.Timestamp"
	nameMicroTimestamp = "io.debezium.time.MicroTimestamp"
	nameZonedTimestamp = "io.debezium.time.ZonedTimestamp"
)

// Special values PgJDBC and Debezium use for infinite dates and timestamps.
const (
	// PGStatement.DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY, read
	// as microseconds (PostgresValueConverter.POSITIVE_INFINITY_INSTANT).
	posInfMicros = 9223372036825200000
	negInfMicros = -9223372036832400000
)

// The epoch days of PostgresValueConverter.POSITIVE_INFINITY_LOCAL_DATE
// (-5877611-06-21) and NEGATIVE_INFINITY_LOCAL_DATE (-5877611-06-22): yes,
// both are in the far past; that is what Debezium emits.
var (
	posInfDays = int64(int32(daysFromCivil(-5877611, 6, 21)))
	negInfDays = int64(int32(daysFromCivil(-5877611, 6, 22)))
)

// fieldSchema is the Connect schema of one column, before optionality,
// default and field name are added.
type fieldSchema struct {
	typ     string      // boolean, int16, ..., struct
	items   string      // for arrays: the raw JSON of the element schema
	keys    string      // for maps: the raw JSON of the key schema
	values  string      // for maps: the raw JSON of the value schema
	fields  string      // for structs: the raw JSON array of member schemas
	name    string      // logical name, "" for none
	version int         // 0 for none
	doc     string      // the schema's own doc ("" for none)
	params  [][2]string // schema parameters, in order
	// optional: the builder itself is optional(), so the field is
	// optional whatever the column's nullability (PostGIS Geometry).
	optional bool
}

// toastMode says what an unchanged TOASTed value becomes.
type toastMode uint8

const (
	toastError            toastMode = iota // Debezium fails on it
	toastPlaceholder                       // the placeholder as a string
	toastPlaceholderBytes                  // the placeholder's bytes
	toastNull                              // null (Debezium: "unexpected binary value")
	toastFixed                             // cp.toastVal, made from the placeholder at setup
)

// decodeFunc converts the text form of a non-null value.
type decodeFunc func(e *Encoder, cp *colPlan, text []byte) (val, error)

// typeMapping is how one PostgreSQL type becomes a Connect field. To
// support another type, add an entry to typeMappings.
type typeMapping struct {
	// setup fills in cp.schema, cp.decode, cp.fallback and cp.toast from
	// the column's type modifier (cp.typmod) and the settings.
	setup func(cp *colPlan, s *settings) error
	// dflt reads column defaults; nil when Debezium has no mapper for the
	// type (no schema default).
	dflt *defaultRule
}

var typeMappings map[uint32]typeMapping

func init() {
	str := func(name string, version int) func(cp *colPlan, s *settings) error {
		return func(cp *colPlan, s *settings) error {
			cp.schema = fieldSchema{typ: "string", name: name, version: version}
			cp.decode = decText
			cp.fallback = val{k: kString, b: []byte{}}
			cp.toast = toastPlaceholder
			return nil
		}
	}
	integer := func(typ string, bits uint) func(cp *colPlan, s *settings) error {
		return func(cp *colPlan, s *settings) error {
			cp.schema = fieldSchema{typ: typ}
			cp.bits = bits
			cp.decode = decInt
			cp.plainInt = true
			cp.fallback = val{k: kInt}
			return nil
		}
	}
	typeMappings = map[uint32]typeMapping{
		oidBool: {setup: func(cp *colPlan, s *settings) error {
			cp.schema = fieldSchema{typ: "boolean"}
			cp.decode = decBool
			cp.fallback = val{k: kBool}
			return nil
		}, dflt: &ruleBool},
		oidInt2: {setup: integer("int16", 16), dflt: &ruleInt2},
		oidInt4: {setup: integer("int32", 32), dflt: &ruleInt4},
		oidInt8: {setup: integer("int64", 64), dflt: &ruleInt8},
		oidOID: {setup: func(cp *colPlan, s *settings) error {
			cp.schema = fieldSchema{typ: "int64"}
			cp.decode = decOID
			cp.fallback = val{k: kInt}
			return nil
		}},
		oidFloat4: {setup: func(cp *colPlan, s *settings) error {
			cp.schema = fieldSchema{typ: "float"}
			cp.decode = decFloat32
			cp.fallback = val{k: kFloat32}
			return nil
		}, dflt: &ruleFloat4},
		oidFloat8: {setup: func(cp *colPlan, s *settings) error {
			cp.schema = fieldSchema{typ: "double"}
			cp.decode = decFloat64
			cp.fallback = val{k: kFloat64}
			return nil
		}, dflt: &ruleFloat8},
		oidNumeric:     {setup: setupNumeric, dflt: &ruleNumeric},
		oidText:        {setup: str("", 0), dflt: &ruleString},
		oidVarchar:     {setup: str("", 0), dflt: &ruleString},
		oidBPChar:      {setup: str("", 0), dflt: &ruleString},
		oidName:        {setup: str("", 0)},
		oidJSON:        {setup: str(nameJSON, 1), dflt: &ruleJSON},
		oidJSONB:       {setup: str(nameJSON, 1), dflt: &ruleJSON},
		oidUUID:        {setup: str(nameUUID, 1), dflt: &ruleUUID},
		oidBytea:       {setup: setupBytea},
		oidDate:        {setup: setupDate, dflt: &ruleDate},
		oidTime:        {setup: setupTime, dflt: &ruleTime},
		oidTimestamp:   {setup: setupTimestamp, dflt: &ruleTimestamp},
		oidTimestamptz: {setup: setupTimestamptz, dflt: &ruleTimestamptz},
	}
}

// timePrecision reads the precision of time, timestamp and timestamptz
// from the typmod; -1 (none) means 6, as PgJDBC reports it.
func timePrecision(typmod int32) int {
	if typmod < 0 {
		return 6
	}
	return int(typmod)
}

func setupNumeric(cp *colPlan, s *settings) error {
	cp.dec = s.dec
	if cp.typmod < 0 {
		cp.varScale = true
	} else {
		tm := cp.typmod - 4
		cp.precision = int((tm >> 16) & 0xFFFF)
		cp.scale = int((tm&0x7FF)^0x400) - 0x400 // 11-bit signed since PostgreSQL 15
	}
	switch s.dec {
	case decPrecise:
		if cp.varScale {
			// SchemaFactory.datatypeVariableScaleDecimalSchema sets a doc.
			cp.schema = fieldSchema{typ: "struct", name: nameVarDecimal, version: 1, doc: "Variable scaled decimal",
				fields: `[{"type":"int32","optional":false,"field":"scale"},{"type":"bytes","optional":false,"field":"value"}]`}
			cp.decode = decNumericVar
			cp.fallback = val{k: kVarDecimal, b: []byte{0}, d: []byte{'0'}}
		} else {
			cp.schema = fieldSchema{typ: "bytes", name: nameDecimal, version: 1, params: [][2]string{
				{"scale", strconv.Itoa(cp.scale)},
				{"connect.decimal.precision", strconv.Itoa(cp.precision)},
			}}
			cp.decode = decNumericPrecise
			cp.fallback = val{k: kDecimal, b: []byte{0}, d: []byte{'0'}, i: int64(cp.scale)}
		}
	case decDouble:
		cp.schema = fieldSchema{typ: "double"}
		cp.decode = decNumericDouble
		cp.fallback = val{k: kFloat64}
	case decStringMode:
		cp.schema = fieldSchema{typ: "string"}
		cp.decode = decNumericString
		// BigDecimal.ZERO with the column's scale, as plain text.
		cp.fallback = val{k: kString, b: appendPlainDecimal(nil, false, []byte{'0'}, max(cp.scale, 0))}
	}
	return nil
}

func setupBytea(cp *colPlan, s *settings) error {
	setupBinary(cp, s, decBytea)
	if s.bin == binBase64 || s.bin == binBase64URL {
		cp.toast = toastNull
	}
	return nil
}

// setupBinary maps a column whose value is bytes written per
// binary.handling.mode: bytes, or their base64, base64-url-safe or hex text.
func setupBinary(cp *colPlan, s *settings, decode decodeFunc) {
	cp.bin = s.bin
	cp.decode = decode
	if s.bin == binBytes {
		cp.schema = fieldSchema{typ: "bytes"}
		cp.fallback = val{k: kBytes, b: []byte{}}
		cp.toast = toastPlaceholderBytes
		return
	}
	cp.schema = fieldSchema{typ: "string"}
	cp.fallback = val{k: kString, b: []byte{}}
	cp.toast = toastPlaceholder
}

func setupTimestamptz(cp *colPlan, s *settings) error {
	cp.frac = timePrecision(cp.typmod)
	cp.schema = fieldSchema{typ: "string", name: nameZonedTimestamp, version: 1}
	cp.decode = decTimestamptz
	// JdbcValueConverters.fallbackTimestampWithTimeZone is formatted
	// without a fixed fraction width.
	cp.fallback = val{k: kString, b: []byte("1970-01-01T00:00:00Z")}
	return nil
}

// appendZonedUTC is appendZonedTimestamp for the text PostgreSQL writes
// for a timestamptz in UTC, "YYYY-MM-DD HH:MM:SS[.f]+00" with a year of
// four digits and the fraction's trailing zeros trimmed, rearranged
// rather than parsed: ok is false for any other text, which takes the
// long way (other offsets, BC, five-digit years, infinity).
func appendZonedUTC(dst, b []byte, frac int) (out []byte, ok bool) {
	n := len(b)
	if n < 22 || b[n-3] != '+' || b[n-2] != '0' || b[n-1] != '0' {
		return dst, false
	}
	body := b[:n-3]
	if body[4] != '-' || body[7] != '-' || body[10] != ' ' || body[13] != ':' || body[16] != ':' {
		return dst, false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if c := body[i]; c < '0' || c > '9' {
			return dst, false
		}
	}
	var fd []byte
	if len(body) > 19 {
		fd = body[20:]
		if body[19] != '.' || len(fd) == 0 || len(fd) > 6 || fd[len(fd)-1] == '0' {
			return dst, false
		}
		for _, c := range fd {
			if c < '0' || c > '9' {
				return dst, false
			}
		}
	}
	if frac >= 1 && frac <= 9 && len(fd) > frac {
		return dst, false
	}
	dst = append(dst, body[:10]...)
	dst = append(dst, 'T')
	dst = append(dst, body[11:19]...)
	switch {
	case frac >= 1 && frac <= 9:
		dst = append(dst, '.')
		dst = append(dst, fd...)
		for range frac - len(fd) {
			dst = append(dst, '0')
		}
	case len(fd) > 0:
		dst = append(dst, '.')
		dst = append(dst, fd...)
	}
	return append(dst, 'Z'), true
}

// Converters. Errors are wrapped with the column by the caller.

// Fixed texts some converters return; never written to.
var (
	// SpecialValueDecimal.toString: the enum constant names.
	textNAN         = []byte("NAN")
	textPosInfinity = []byte("POSITIVE_INFINITY")
	textNegInfinity = []byte("NEGATIVE_INFINITY")
	// ZonedTimestamp for timestamptz 'infinity' / '-infinity'.
	textInfinity = []byte("infinity")
	textNegInf   = []byte("-infinity")
)

var (
	errNumericSpecial = errors.New("got a special value (NaN/Infinity) for Decimal type but current mode does not handle it; " +
		"if you need to support it then set decimal.handling.mode to 'string' (Debezium fails the same way)")
	errRounding = errors.New("value has more fraction digits than the column's scale")
)

func decText(e *Encoder, cp *colPlan, b []byte) (val, error) {
	return val{k: kString, b: b}, nil
}

func decBool(e *Encoder, cp *colPlan, b []byte) (val, error) {
	if parseBool(b) {
		return val{k: kBool, i: 1}, nil
	}
	return val{k: kBool}, nil
}

// canonicalInt reports whether b, the text of an integer of a column of
// bits bits, is already what JsonConverter writes for it: an optional
// minus sign and digits without a leading zero, short enough to be in
// range whatever they are. PostgreSQL's int2out, int4out and int8out
// write every value so, except the extremes of int8, which take the
// long way.
func canonicalInt(b []byte, bits uint) bool {
	d := b
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	max := 18
	switch bits {
	case 16:
		max = 4
	case 32:
		max = 9
	}
	if len(d) == 0 || len(d) > max || (d[0] == '0' && (len(d) > 1 || len(b) > 1)) {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func decInt(e *Encoder, cp *colPlan, b []byte) (val, error) {
	v, err := parseInt(b, cp.bits)
	return val{k: kInt, i: v}, err
}

func decOID(e *Encoder, cp *colPlan, b []byte) (val, error) {
	v, err := parseUint32(b)
	return val{k: kInt, i: v}, err
}

func decFloat32(e *Encoder, cp *colPlan, b []byte) (val, error) {
	f, err := parseFloat(b, 32)
	return val{k: kFloat32, f: f}, err
}

func decFloat64(e *Encoder, cp *colPlan, b []byte) (val, error) {
	f, err := parseFloat(b, 64)
	return val{k: kFloat64, f: f}, err
}

// rescale returns the unscaled digits of n at the given scale (into
// e.digits), like BigDecimal.setScale without rounding.
func (e *Encoder) rescale(neg bool, intPart, frac []byte, scale int) ([]byte, error) {
	d := append(e.digits[:0], intPart...)
	d = append(d, frac...)
	cur := len(frac)
	if scale >= cur {
		for i := cur; i < scale; i++ {
			d = append(d, '0')
		}
	} else {
		drop := cur - scale
		for i := 0; i < drop; i++ {
			if i >= len(d) {
				break
			}
			if d[len(d)-1-i] != '0' {
				return nil, errRounding
			}
		}
		if drop >= len(d) {
			d = d[:0]
		} else {
			d = d[:len(d)-drop]
		}
	}
	if len(d) == 0 {
		d = append(d, '0')
	}
	e.digits = d
	return d, nil
}

func decNumericPrecise(e *Encoder, cp *colPlan, b []byte) (val, error) {
	n, err := parseNumeric(b)
	if err != nil {
		return val{}, err
	}
	if n.special != numFinite {
		return val{}, errNumericSpecial
	}
	d, err := e.rescale(n.neg, n.intPart, n.frac, cp.scale)
	if err != nil {
		return val{}, err
	}
	e.tmp = appendUnscaled(e.tmp[:0], n.neg, d, &e.big)
	return val{k: kDecimal, b: e.tmp, i: int64(cp.scale), d: d, neg: n.neg}, nil
}

func decNumericVar(e *Encoder, cp *colPlan, b []byte) (val, error) {
	n, err := parseNumeric(b)
	if err != nil {
		return val{}, err
	}
	if n.special != numFinite {
		return val{}, errNumericSpecial
	}
	// stripTrailingZeros, and a negative scale set back to 0.
	frac := n.frac
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	d, _ := e.rescale(n.neg, n.intPart, frac, len(frac))
	scale := len(frac)
	if isZero(d) {
		scale = 0
	}
	e.tmp = appendUnscaled(e.tmp[:0], n.neg, d, &e.big)
	return val{k: kVarDecimal, b: e.tmp, i: int64(scale), d: d, neg: n.neg}, nil
}

func isZero(d []byte) bool {
	for _, c := range d {
		if c != '0' {
			return false
		}
	}
	return true
}

func decNumericDouble(e *Encoder, cp *colPlan, b []byte) (val, error) {
	n, err := parseNumeric(b)
	if err != nil {
		return val{}, err
	}
	if n.special == numFinite && !cp.varScale {
		// The scale adjustment can fail before the conversion.
		if _, err := e.rescale(n.neg, n.intPart, n.frac, cp.scale); err != nil {
			return val{}, err
		}
	}
	f, err := parseFloat(b, 64)
	return val{k: kFloat64, f: f}, err
}

func decNumericString(e *Encoder, cp *colPlan, b []byte) (val, error) {
	n, err := parseNumeric(b)
	if err != nil {
		return val{}, err
	}
	switch n.special {
	case numNaN:
		return val{k: kString, b: textNAN}, nil
	case numPosInf:
		return val{k: kString, b: textPosInfinity}, nil
	case numNegInf:
		return val{k: kString, b: textNegInfinity}, nil
	}
	scale := len(n.frac)
	if !cp.varScale {
		scale = cp.scale
	}
	d, err := e.rescale(n.neg, n.intPart, n.frac, scale)
	if err != nil {
		return val{}, err
	}
	e.tmp = appendPlainDecimal(e.tmp[:0], n.neg, d, scale)
	return val{k: kString, b: e.tmp}, nil
}

// appendPlainDecimal is BigDecimal.toPlainString of ±digits × 10^-scale.
func appendPlainDecimal(dst []byte, neg bool, digits []byte, scale int) []byte {
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
	}
	if neg && !isZero(digits) {
		dst = append(dst, '-')
	}
	if scale <= 0 {
		dst = append(dst, digits...)
		if !isZero(digits) {
			for i := 0; i < -scale; i++ {
				dst = append(dst, '0')
			}
		}
		return dst
	}
	if len(digits) > scale {
		dst = append(dst, digits[:len(digits)-scale]...)
		dst = append(dst, '.')
		return append(dst, digits[len(digits)-scale:]...)
	}
	dst = append(dst, '0', '.')
	for i := len(digits); i < scale; i++ {
		dst = append(dst, '0')
	}
	return append(dst, digits...)
}

func decBytea(e *Encoder, cp *colPlan, b []byte) (val, error) {
	raw, err := parseByteaHex(e.tmp[:0], b)
	e.tmp = raw
	if err != nil {
		return val{}, err
	}
	return e.binaryVal(cp.bin, raw), nil
}

// binaryVal is raw as binary.handling.mode says: the bytes themselves, or
// their text in e.tmp2.
func (e *Encoder) binaryVal(mode binaryMode, raw []byte) val {
	if t, ok := e.binaryText(mode, raw); ok {
		return val{k: kString, b: t}
	}
	return val{k: kBytes, b: raw}
}

// binaryText writes raw's base64, base64-url-safe or hex text into e.tmp2
// as mode says; ok is false for bytes mode, which has no text form.
func (e *Encoder) binaryText(mode binaryMode, raw []byte) (t []byte, ok bool) {
	switch mode {
	case binBase64:
		e.tmp2 = base64.StdEncoding.AppendEncode(e.tmp2[:0], raw)
	case binBase64URL:
		e.tmp2 = base64.URLEncoding.AppendEncode(e.tmp2[:0], raw)
	case binHex:
		e.tmp2 = hex.AppendEncode(e.tmp2[:0], raw)
	default:
		return nil, false
	}
	return e.tmp2, true
}

func decTimestamptz(e *Encoder, cp *colPlan, b []byte) (val, error) {
	if out, ok := appendZonedUTC(e.tmp[:0], b, cp.frac); ok {
		e.tmp = out
		return val{k: kString, b: e.tmp}, nil
	}
	t, err := parseTimestamp(b, true)
	if err != nil {
		return val{}, err
	}
	switch t.inf {
	case posInf:
		return val{k: kString, b: textInfinity}, nil
	case negInf:
		return val{k: kString, b: textNegInf}, nil
	}
	e.tmp = appendZonedTimestamp(e.tmp[:0], t.secs, t.nanos, cp.frac)
	return val{k: kString, b: e.tmp}, nil
}
