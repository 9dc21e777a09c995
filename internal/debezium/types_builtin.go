package debezium

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/java"
)

// How a column's type is resolved to a mapping (domains, enums, arrays,
// extension types by name), and the built-in types beyond the core table
// of types.go: enum, interval, money, bit, timetz, point, the network and
// range types, xml and tsvector.

// Type OIDs of the built-in types beyond the core table of types.go.
const (
	oidXML         = 142
	oidPoint       = 600
	oidCIDR        = 650
	oidMacaddr8    = 774
	oidMoney       = 790
	oidMacaddr     = 829
	oidInet        = 869
	oidTimetz      = 1266
	oidInterval    = 1186
	oidBit         = 1560
	oidVarbit      = 1562
	oidTsvector    = 3614
	oidInt4Range   = 3904
	oidNumRange    = 3906
	oidTsRange     = 3908
	oidTstzRange   = 3910
	oidDateRange   = 3912
	oidInt8Range   = 3926
	pseudoEnumOID  = 0xFFFFFFF0 // keys of mappings chosen by other means
	pseudoCitext   = 0xFFFFFFF1
	pseudoLtree    = 0xFFFFFFF2
	pseudoArrayOID = 0xFFFFFFF3
)

// More Connect logical type names.
const (
	nameEnum          = "io.debezium.data.Enum"
	nameXML           = "io.debezium.data.Xml"
	nameLtree         = "io.debezium.data.Ltree"
	nameTsvector      = "io.debezium.data.Tsvector"
	nameBits          = "io.debezium.data.Bits"
	nameZonedTime     = "io.debezium.time.ZonedTime"
	nameMicroDuration = "io.debezium.time.MicroDuration"
	nameInterval      = "io.debezium.time.Interval"
	namePoint         = "io.debezium.data.geometry.Point"
)

// intervalMode is interval.handling.mode.
type intervalMode uint8

const (
	intervalNumeric intervalMode = iota
	intervalString
)

func init() {
	plain := typeMapping{setup: setupString("", 0)}
	for _, oid := range []uint32{oidInet, oidCIDR, oidMacaddr, oidMacaddr8,
		oidInt4Range, oidNumRange, oidTsRange, oidTstzRange, oidDateRange, oidInt8Range} {
		typeMappings[oid] = plain
	}
	typeMappings[oidXML] = typeMapping{setup: setupString(nameXML, 1), dflt: &ruleXML}
	typeMappings[oidTsvector] = typeMapping{setup: setupString(nameTsvector, 1)}
	typeMappings[pseudoCitext] = typeMapping{setup: setupString("", 0)}
	typeMappings[pseudoLtree] = typeMapping{setup: setupString(nameLtree, 1)}
	typeMappings[pseudoEnumOID] = typeMapping{setup: setupEnum, dflt: &ruleEnum}
	typeMappings[pseudoArrayOID] = typeMapping{setup: setupArray}
	typeMappings[oidInterval] = typeMapping{setup: setupInterval, dflt: &ruleInterval}
	typeMappings[oidMoney] = typeMapping{setup: setupMoney}
	typeMappings[oidBit] = typeMapping{setup: setupBits, dflt: &ruleBit}
	typeMappings[oidVarbit] = typeMapping{setup: setupBits, dflt: &ruleVarbit}
	typeMappings[oidTimetz] = typeMapping{setup: setupTimetz}
	typeMappings[oidPoint] = typeMapping{setup: setupPoint}
}

// extensionTypes are types of extensions, found by name since their OIDs
// differ per database.
var extensionTypes = map[string]uint32{"citext": pseudoCitext, "ltree": pseudoLtree}

// resolveType picks the mapping of a column: domains map as their base
// type with the base type's modifier (one level, as Debezium inherits
// modifiers), enums as io.debezium.data.Enum, extension types by name,
// arrays by their element type. It returns the OID and typmod the
// mapping's setup sees.
func resolveType(col *change.Column) (typeMapping, uint32, int32, bool) {
	oid, typmod, name := col.TypeOID, col.TypeMod, col.TypeName
	if col.TypeType == 'd' {
		oid, typmod, name = col.BaseTypeOID, col.BaseTypeMod, col.BaseTypeName
		if oid == 0 {
			return typeMapping{}, 0, 0, false
		}
		if tm, ok := typeMappings[oid]; ok {
			return tm, oid, typmod, true
		}
		if x, ok := extensionTypes[name]; ok {
			return typeMappings[x], x, typmod, true
		}
		// A domain over an enum, an array or another domain: the
		// column carries no details of those, so it is left out.
		return typeMapping{}, 0, 0, false
	}
	if col.TypeType == 'e' {
		return typeMappings[pseudoEnumOID], pseudoEnumOID, typmod, true
	}
	if tm, ok := typeMappings[oid]; ok {
		return tm, oid, typmod, true
	}
	if x, ok := extensionTypes[name]; ok {
		return typeMappings[x], x, typmod, true
	}
	if col.ElemTypeOID != 0 {
		if _, ok := arrayElementOID(col); ok {
			return typeMappings[pseudoArrayOID], pseudoArrayOID, typmod, true
		}
	}
	return typeMapping{}, 0, 0, false
}

// arrayElements are the element types whose arrays Debezium maps (the
// explicit *_ARRAY cases of PostgresValueConverter); enum, citext and
// ltree arrays are found by other means. money, name, interval, varbit,
// xml and point arrays are not mapped, nor are arrays of domains.
var arrayElements = map[uint32]bool{
	oidInt2: true, oidInt4: true, oidInt8: true, oidOID: true, oidText: true, oidVarchar: true, oidBPChar: true,
	oidInet: true, oidCIDR: true, oidMacaddr: true, oidMacaddr8: true, oidTsRange: true, oidTstzRange: true,
	oidDateRange: true, oidInt4Range: true, oidNumRange: true, oidInt8Range: true, oidNumeric: true,
	oidFloat4: true, oidFloat8: true, oidBool: true, oidDate: true, oidUUID: true, oidJSON: true, oidJSONB: true,
	oidTime: true, oidTimetz: true, oidTimestamp: true, oidTimestamptz: true, oidBytea: true,
}

// arrayExtensions are the extension types whose arrays Debezium maps
// (citext, ltree, hstore; not the pgvector types).
var arrayExtensions = map[uint32]bool{pseudoCitext: true, pseudoLtree: true, pseudoHstore: true}

// arrayElementOID returns the mapping key of an array column's elements.
func arrayElementOID(col *change.Column) (uint32, bool) {
	if arrayElements[col.ElemTypeOID] {
		return col.ElemTypeOID, true
	}
	if x, ok := extensionTypes[col.ElemTypeName]; ok && arrayExtensions[x] {
		return x, true
	}
	if len(col.EnumValues) > 0 {
		return pseudoEnumOID, true
	}
	return 0, false
}

func setupString(name string, version int) func(cp *colPlan, s *settings) error {
	return func(cp *colPlan, s *settings) error {
		cp.schema = fieldSchema{typ: "string", name: name, version: version}
		cp.decode = decText
		cp.fallback = val{k: kString, b: []byte{}}
		cp.toast = toastPlaceholder
		return nil
	}
}

// setupEnum: io.debezium.data.Enum with the labels in EnumValues order.
func setupEnum(cp *colPlan, s *settings) error {
	var labels []string
	if cp.col != nil {
		labels = cp.col.EnumValues
	}
	cp.schema = fieldSchema{typ: "string", name: nameEnum, version: 1,
		params: [][2]string{{"allowed", strings.Join(labels, ",")}}}
	cp.decode = decText
	cp.fallback = val{k: kString, b: []byte{}}
	cp.toast = toastPlaceholder
	return nil
}

func setupInterval(cp *colPlan, s *settings) error {
	cp.interval = s.interval
	cp.decode = decInterval
	if s.interval == intervalString {
		cp.schema = fieldSchema{typ: "string", name: nameInterval, version: 1}
		cp.fallback = val{k: kString, b: []byte("P0Y0M0DT0H0M0S")}
		return nil
	}
	cp.schema = fieldSchema{typ: "int64", name: nameMicroDuration, version: 1}
	cp.fallback = val{k: kInt}
	return nil
}

func setupMoney(cp *colPlan, s *settings) error {
	cp.dec = s.dec
	cp.scale = s.moneyDigits
	cp.decode = decMoney
	switch s.dec {
	case decPrecise:
		cp.schema = fieldSchema{typ: "bytes", name: nameDecimal, version: 1,
			params: [][2]string{{"scale", strconv.Itoa(cp.scale)}}}
		cp.fallback = val{k: kDecimal, b: []byte{0}, d: []byte{'0'}, i: int64(cp.scale)}
	case decDouble:
		cp.schema = fieldSchema{typ: "double"}
		cp.fallback = val{k: kFloat64}
	default:
		cp.schema = fieldSchema{typ: "string"}
		cp.fallback = val{k: kString, b: appendPlainDecimal(nil, false, []byte{'0'}, cp.scale)}
	}
	return nil
}

// setupBits: bit(1) and varbit(1) are booleans; longer ones
// io.debezium.data.Bits with the length (varbit without one: 2^31-1, as
// PgJDBC reports it).
func setupBits(cp *colPlan, s *settings) error {
	n := int64(cp.typmod)
	if cp.typmod < 0 {
		n = math.MaxInt32
		if cp.oid == oidBit {
			n = 1
		}
	}
	if n <= 1 {
		cp.schema = fieldSchema{typ: "boolean"}
		cp.decode = decBitBool
		cp.fallback = val{k: kBool}
		return nil
	}
	cp.schema = fieldSchema{typ: "bytes", name: nameBits, version: 1,
		params: [][2]string{{"length", strconv.FormatInt(n, 10)}}}
	cp.decode = decBits
	cp.fallback = val{k: kBytes, b: []byte{}}
	return nil
}

func setupTimetz(cp *colPlan, s *settings) error {
	cp.schema = fieldSchema{typ: "string", name: nameZonedTime, version: 1}
	cp.decode = decTimetz
	// JdbcValueConverters.fallbackTimeWithTimeZone: 00:00Z formatted.
	cp.fallback = val{k: kString, b: []byte("00:00:00Z")}
	return nil
}

const pointFields = `[{"type":"double","optional":false,"field":"x"},{"type":"double","optional":false,"field":"y"},` +
	`{"type":"bytes","optional":true,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}]`

func setupPoint(cp *colPlan, s *settings) error {
	cp.schema = fieldSchema{typ: "struct", name: namePoint, version: 1, doc: "Geometry (POINT)", fields: pointFields}
	cp.decode = decPoint
	cp.fallback = pointVal(nil, 0, 0)
	return nil
}

var errBits = errors.New("bit string has a character other than 0 and 1")

func decBitBool(e *Encoder, cp *colPlan, b []byte) (val, error) {
	// Integer.valueOf(s, 2) != 0.
	if len(b) == 0 {
		return val{}, errSyntax
	}
	on := false
	for _, c := range b {
		switch c {
		case '1':
			on = true
		case '0':
		default:
			return val{}, errBits
		}
	}
	if on {
		return val{k: kBool, i: 1}, nil
	}
	return val{k: kBool}, nil
}

// decBits is PostgresValueConverter.convertBits for text: the last
// character is bit 0 of a little-endian BitSet, and the bytes are
// BitSet.toByteArray (as many as the highest set bit needs; none for all
// zeros).
func decBits(e *Encoder, cp *colPlan, b []byte) (val, error) {
	out := e.tmp[:0]
	n := len(b)
	last := -1
	for i := n - 1; i >= 0; i-- {
		bit := n - 1 - i
		if bit%8 == 0 {
			out = append(out, 0)
		}
		switch b[i] {
		case '1':
			out[bit/8] |= 1 << (bit % 8)
			last = bit
		case '0':
		default:
			e.tmp = out
			return val{}, errBits
		}
	}
	out = out[:(last+8)/8]
	e.tmp = out
	return val{k: kBytes, b: out}, nil
}

// decTimetz parses HH:MM:SS[.ffffff]±HH[:MM[:SS]] and writes the UTC time
// as DateTimeFormatter.ISO_OFFSET_TIME does (ZonedTime.toIsoString).
func decTimetz(e *Encoder, cp *colPlan, b []byte) (val, error) {
	ns, rest, err := parseClock(b)
	if err != nil {
		return val{}, err
	}
	off, rest, err := parseOffset(rest)
	if err != nil {
		return val{}, err
	}
	if len(rest) != 0 || ns > 86400e9 {
		return val{}, errSyntax
	}
	if ns == 86400e9 {
		// java.time has no 24:00; PostgresTimeBoundary maps the end
		// of day to 24:00:00Z in UTC.
		if off == 0 {
			e.tmp = append(e.tmp[:0], "24:00:00Z"...)
			return val{k: kString, b: e.tmp}, nil
		}
		return val{}, errRange
	}
	const day = 86400e9
	ns -= off * 1e9
	ns %= day
	if ns < 0 {
		ns += day
	}
	e.tmp = appendISOTime(e.tmp[:0], ns)
	e.tmp = append(e.tmp, 'Z')
	return val{k: kString, b: e.tmp}, nil
}

// appendISOTime is ISO_LOCAL_TIME: HH:mm:ss and the fraction without
// trailing zeros, none when zero.
func appendISOTime(dst []byte, ns int64) []byte {
	s := ns / 1e9
	h, mi, sec := s/3600, s/60%60, s%60
	dst = append(dst, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+sec/10), byte('0'+sec%10))
	return appendFraction(dst, ns%1e9, 0)
}

// decPoint parses PGpoint's "(x,y)".
func decPoint(e *Encoder, cp *colPlan, b []byte) (val, error) {
	if len(b) < 5 || b[0] != '(' || b[len(b)-1] != ')' {
		return val{}, errSyntax
	}
	inner := b[1 : len(b)-1]
	comma := -1
	for i, c := range inner {
		if c == ',' {
			comma = i
			break
		}
	}
	if comma < 0 {
		return val{}, errSyntax
	}
	x, err := parseFloat(trimSpace(inner[:comma]), 64)
	if err != nil {
		return val{}, err
	}
	y, err := parseFloat(trimSpace(inner[comma+1:]), 64)
	if err != nil {
		return val{}, err
	}
	e.tmp = pointJSON(e.tmp[:0], x, y, false)
	e.tmp2 = pointJSON(e.tmp2[:0], x, y, true)
	return val{k: kRaw, b: e.tmp, d: e.tmp2}, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

// pointVal is a point value that owns its bytes.
func pointVal(_ []byte, x, y float64) val {
	return val{k: kRaw, b: pointJSON(nil, x, y, false), d: pointJSON(nil, x, y, true)}
}

// pointJSON writes the Point struct: x, y, the WKB of Point.createValue
// (byte order mark 1, then type 1, x and y little-endian) and a null srid.
// header selects Values.append's form.
func pointJSON(dst []byte, x, y float64, header bool) []byte {
	var wkb [21]byte
	wkb[0] = 1
	binary.LittleEndian.PutUint32(wkb[1:], 1)
	binary.LittleEndian.PutUint64(wkb[5:], math.Float64bits(x))
	binary.LittleEndian.PutUint64(wkb[13:], math.Float64bits(y))
	dst = append(dst, `{"x":`...)
	if header {
		dst = appendJavaDouble(dst, x)
	} else {
		dst = appendJSONDouble(dst, x, 64)
	}
	dst = append(dst, `,"y":`...)
	if header {
		dst = appendJavaDouble(dst, y)
	} else {
		dst = appendJSONDouble(dst, y, 64)
	}
	dst = append(dst, `,"wkb":`...)
	dst = appendBase64(dst, wkb[:])
	return append(dst, `,"srid":null}`...)
}

// Money.

// decMoney follows Debezium's streaming path: PGmoney parses the text
// ("$1,234.56", "-$1,234.56" read as "($1,234.56)") into a double, which
// precise mode turns into BigDecimal.valueOf(d).setScale(digits,
// HALF_UP), double mode writes as is and string mode writes as
// String.valueOf(double).
func decMoney(e *Encoder, cp *colPlan, b []byte) (val, error) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	if len(b) < 2 || b[0] != '$' {
		return val{}, errors.New("money value is not in the form $1,234.56; set lc_monetary=C on the server")
	}
	num := e.digits[:0]
	for _, c := range b[1:] {
		if c == ',' {
			continue
		}
		if (c < '0' || c > '9') && c != '.' {
			e.digits = num
			return val{}, errSyntax
		}
		num = append(num, c)
	}
	e.digits = num
	f, err := parseFloat(num, 64)
	if err != nil {
		return val{}, err
	}
	if neg {
		f = -f
	}
	switch cp.dec {
	case decDouble:
		return val{k: kFloat64, f: f}, nil
	case decStringMode:
		e.tmp = appendJavaDouble(e.tmp[:0], f)
		return val{k: kString, b: e.tmp}, nil
	}
	// BigDecimal.valueOf(d) is new BigDecimal(Double.toString(d)).
	txt := appendJavaDouble(e.tmp2[:0], f)
	e.tmp2 = txt
	dneg, digits, scale, ok := javaDecimalDigits(e.digits[:0], txt)
	if !ok {
		return val{}, errSyntax
	}
	digits = roundHalfUp(digits, scale, cp.scale)
	e.digits = digits
	e.tmp = appendUnscaled(e.tmp[:0], dneg, digits, &e.big)
	return val{k: kDecimal, b: e.tmp, i: int64(cp.scale), d: digits, neg: dneg}, nil
}

// javaDecimalDigits splits Double.toString output ("-1.5E10") into the
// sign, the unscaled digits (appended to dst) and the scale.
func javaDecimalDigits(dst, s []byte) (neg bool, digits []byte, scale int, ok bool) {
	if len(s) > 0 && s[0] == '-' {
		neg = true
		s = s[1:]
	}
	frac := false
	i := 0
	for ; i < len(s) && s[i] != 'E'; i++ {
		switch {
		case s[i] == '.' && !frac:
			frac = true
		case s[i] >= '0' && s[i] <= '9':
			dst = append(dst, s[i])
			if frac {
				scale++
			}
		default:
			return false, dst, 0, false
		}
	}
	if i < len(s) {
		exp, err := parseInt(s[i+1:], 32)
		if err != nil {
			return false, dst, 0, false
		}
		scale -= int(exp)
	}
	return neg, dst, scale, len(dst) > 0
}

// roundHalfUp rescales digits × 10^-from to scale `to` with
// RoundingMode.HALF_UP (on the magnitude), in place.
func roundHalfUp(d []byte, from, to int) []byte {
	for from < to {
		d = append(d, '0')
		from++
	}
	if from == to {
		return d
	}
	drop := from - to
	if drop > len(d) {
		return append(d[:0], '0')
	}
	up := d[len(d)-drop] >= '5'
	d = d[:len(d)-drop]
	if up {
		i := len(d) - 1
		for ; i >= 0; i-- {
			if d[i] == '9' {
				d[i] = '0'
				continue
			}
			d[i]++
			break
		}
		if i < 0 {
			d = append(d, 0)
			copy(d[1:], d)
			d[0] = '1'
		}
	}
	if len(d) == 0 {
		d = append(d, '0')
	}
	return d
}

// Interval.

// intervalParts is a PGInterval: the int fields and the seconds as
// wholeSeconds + microSeconds/1e6.
type intervalParts struct {
	years, months, days, hours, minutes int32
	whole, micros                       int32
}

func (p *intervalParts) seconds() float64 {
	return float64(p.whole) + float64(p.micros)/1e6
}

var errInterval = errors.New("interval is not in IntervalStyle=postgres output form")

// parseInterval reads IntervalStyle=postgres output ("1 year 2 mons
// -3 days +04:05:06.78", "00:00:00") as PGInterval does.
func parseInterval(b []byte) (intervalParts, error) {
	var p intervalParts
	var secs float64
	seen := false
	for len(b) > 0 {
		for len(b) > 0 && b[0] == ' ' {
			b = b[1:]
		}
		end := 0
		for end < len(b) && b[end] != ' ' {
			end++
		}
		tok := b[:end]
		b = b[end:]
		if len(tok) == 0 {
			break
		}
		seen = true
		if colon := indexByte(tok, ':'); colon >= 0 {
			negTime := tok[0] == '-'
			t := tok
			if negTime {
				t = t[1:]
			}
			c1 := indexByte(t, ':')
			h, err := parseInt(t[:c1], 32)
			if err != nil {
				return p, errInterval
			}
			rest := t[c1+1:]
			c2 := indexByte(rest, ':')
			if c2 != 2 {
				return p, errInterval
			}
			m, err := parseInt(rest[:2], 32)
			if err != nil || rest[0] == '-' || rest[0] == '+' {
				return p, errInterval
			}
			s, err := parseFloat(rest[3:], 64)
			if err != nil || math.IsNaN(s) || math.IsInf(s, 0) || len(rest) < 4 || rest[3] == '-' || rest[3] == '+' {
				return p, errInterval
			}
			if negTime {
				h, m, s = -h, -m, -s
			}
			p.hours, p.minutes, secs = int32(h), int32(m), s
			continue
		}
		n, err := parseInt(tok, 32)
		if err != nil {
			return p, errInterval
		}
		for len(b) > 0 && b[0] == ' ' {
			b = b[1:]
		}
		end = 0
		for end < len(b) && b[end] != ' ' {
			end++
		}
		unit := bstr(b[:end])
		b = b[end:]
		switch unit {
		case "year", "years":
			p.years = int32(n)
		case "mon", "mons":
			p.months = int32(n)
		case "day", "days":
			p.days = int32(n)
		default:
			return p, errInterval
		}
	}
	if !seen {
		return p, errInterval
	}
	// PGInterval.setSeconds.
	p.whole = int32(java.DoubleToInt(secs))
	p.micros = int32(java.Round((secs - float64(p.whole)) * 1e6))
	return p, nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// daysPerMonthAvg is MicroDuration.DAYS_PER_MONTH_AVG.
const daysPerMonthAvg = 365.25 / 12.0

// durationMicros is MicroDuration.durationMicros; every step is rounded
// to float64 as Java does (the conversions stop Go from fusing them).
func durationMicros(p *intervalParts) int64 {
	months := int32(p.years*12 + p.months) // int arithmetic in Java
	days := float64(float64(months)*daysPerMonthAvg) + float64(p.days)
	secs := float64(float64(float64(float64(float64(float64(days*24)+float64(p.hours))*60)+float64(p.minutes))*60) + p.seconds())
	return java.DoubleToLong(float64(secs * 1e6))
}

func decInterval(e *Encoder, cp *colPlan, b []byte) (val, error) {
	p, err := parseInterval(b)
	if err != nil {
		return val{}, err
	}
	if cp.interval == intervalNumeric {
		return val{k: kInt, i: durationMicros(&p)}, nil
	}
	// Interval.toIsoString with BigDecimal.valueOf(getSeconds()).
	d := e.tmp[:0]
	d = append(d, 'P')
	d = strconv.AppendInt(d, int64(p.years), 10)
	d = append(d, 'Y')
	d = strconv.AppendInt(d, int64(p.months), 10)
	d = append(d, 'M')
	d = strconv.AppendInt(d, int64(p.days), 10)
	d = append(d, "DT"...)
	d = strconv.AppendInt(d, int64(p.hours), 10)
	d = append(d, 'H')
	d = strconv.AppendInt(d, int64(p.minutes), 10)
	d = append(d, 'M')
	e.tmp2 = appendJavaDouble(e.tmp2[:0], p.seconds())
	neg, digits, scale, ok := javaDecimalDigits(e.digits[:0], e.tmp2)
	if !ok {
		return val{}, errSyntax
	}
	if scale > 6 { // setScale(6, DOWN)
		cut := scale - 6
		if cut >= len(digits) {
			digits = append(digits[:0], '0')
		} else {
			digits = digits[:len(digits)-cut]
		}
		scale = 6
	}
	// stripTrailingZeros
	if isZero(digits) {
		digits, scale = append(digits[:0], '0'), 0
	} else {
		for len(digits) > 1 && digits[len(digits)-1] == '0' {
			digits = digits[:len(digits)-1]
			scale--
		}
	}
	e.digits = digits
	d = appendPlainDecimal(d, neg, digits, scale)
	d = append(d, 'S')
	e.tmp = d
	return val{k: kString, b: d}, nil
}
