package debezium

import (
	"errors"
	"math"
	"strconv"
	"unsafe"
)

// Parsers for PostgreSQL's text output format, as pgoutput and a text
// SELECT produce it with DateStyle=ISO, TimeZone=UTC,
// IntervalStyle=postgres, extra_float_digits=1 and bytea_output=hex. They
// never allocate and never panic on malformed input.

var (
	errSyntax = errors.New("invalid syntax")
	errRange  = errors.New("value out of range")
)

// bstr views b as a string without copying, for strconv calls that do not
// keep their argument.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// parseBool reads a boolean the way Debezium's pgoutput decoder does
// ("t".equalsIgnoreCase(value)): anything else is false. PostgreSQL only
// sends t and f.
func parseBool(b []byte) bool {
	return len(b) == 1 && (b[0] == 't' || b[0] == 'T')
}

// parseInt reads an optionally signed decimal integer that must fit in bits.
func parseInt(b []byte, bits uint) (int64, error) {
	if len(b) == 0 {
		return 0, errSyntax
	}
	neg := false
	switch b[0] {
	case '-':
		neg = true
		b = b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 20 {
		return 0, errSyntax
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errSyntax
		}
		d := uint64(c - '0')
		if u > (math.MaxUint64-d)/10 {
			return 0, errRange
		}
		u = u*10 + d
	}
	limit := uint64(1) << (bits - 1)
	if neg {
		if u > limit {
			return 0, errRange
		}
		return -int64(u-1) - 1, nil
	}
	if u >= limit {
		return 0, errRange
	}
	return int64(u), nil
}

// parseUint32 reads an unsigned 32-bit decimal (oid).
func parseUint32(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 10 {
		return 0, errSyntax
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errSyntax
		}
		u = u*10 + uint64(c-'0')
	}
	if u > math.MaxUint32 {
		return 0, errRange
	}
	return int64(u), nil
}

// parseFloat reads float4/float8 output: digits with an optional exponent,
// NaN, Infinity and -Infinity (Java's Float.valueOf/Double.valueOf accept
// those). A value beyond the range is ±Infinity as in Java.
func parseFloat(b []byte, bits int) (float64, error) {
	if len(b) == 0 || len(b) > 1100 {
		return 0, errSyntax
	}
	switch bstr(b) {
	case "NaN":
		return math.NaN(), nil
	case "Infinity", "+Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	// Only decimal forms: strconv also takes "inf", hex and underscores.
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E', c == '+', c == '-':
		default:
			return 0, errSyntax
		}
	}
	f, err := strconv.ParseFloat(bstr(b), bits)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, nil
		}
		return 0, errSyntax
	}
	return f, nil
}

// numericSpecial marks NaN and the infinities of numeric.
type numericSpecial uint8

const (
	numFinite numericSpecial = iota
	numNaN
	numPosInf
	numNegInf
)

// numericText is a parsed numeric: sign, integer digits and fraction
// digits, both slices of the input.
type numericText struct {
	special numericSpecial
	neg     bool
	intPart []byte
	frac    []byte
}

// parseNumeric reads numeric output: [-]digits[.digits], NaN, Infinity,
// -Infinity.
func parseNumeric(b []byte) (numericText, error) {
	var n numericText
	switch bstr(b) {
	case "NaN":
		n.special = numNaN
		return n, nil
	case "Infinity":
		n.special = numPosInf
		return n, nil
	case "-Infinity":
		n.special = numNegInf
		return n, nil
	}
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		n.neg = b[0] == '-'
		b = b[1:]
	}
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	n.intPart = b[:i]
	if i < len(b) {
		if b[i] != '.' {
			return n, errSyntax
		}
		j := i + 1
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j != len(b) {
			return n, errSyntax
		}
		n.frac = b[i+1 : j]
	}
	if len(n.intPart) == 0 && len(n.frac) == 0 {
		return n, errSyntax
	}
	return n, nil
}

// Temporal values.

const (
	secondsPerDay = 86400
	// unixToCivil is days from 0000-03-01 to 1970-01-01 in the proleptic
	// Gregorian calendar (Hinnant's days_from_civil).
	unixToCivil = 719468
)

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date; the year may be zero or negative (year 0 is 1 BC).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - unixToCivil
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += unixToCivil
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// infinity marks infinity/-infinity for dates and timestamps.
type infinity int8

const (
	finite infinity = 0
	posInf infinity = 1
	negInf infinity = -1
)

func parseInfinity(b []byte) infinity {
	switch bstr(b) {
	case "infinity":
		return posInf
	case "-infinity":
		return negInf
	}
	return finite
}

// digitsN reads exactly n decimal digits.
func digitsN(b []byte, n int) (int64, bool) {
	if len(b) < n {
		return 0, false
	}
	var v int64
	for _, c := range b[:n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// parseDatePart reads YYYY-MM-DD at the start of b (four or more year
// digits, as year-of-era) and returns the rest.
func parseDatePart(b []byte) (y, m, d int64, rest []byte, err error) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i < 4 || i > 9 {
		return 0, 0, 0, nil, errSyntax
	}
	y, _ = digitsN(b, i)
	b = b[i:]
	if len(b) < 6 || b[0] != '-' || b[3] != '-' {
		return 0, 0, 0, nil, errSyntax
	}
	var ok1, ok2 bool
	m, ok1 = digitsN(b[1:], 2)
	d, ok2 = digitsN(b[4:], 2)
	if !ok1 || !ok2 || m < 1 || m > 12 || d < 1 {
		return 0, 0, 0, nil, errSyntax
	}
	if y == 0 {
		return 0, 0, 0, nil, errSyntax // year-of-era starts at 1
	}
	return y, m, d, b[6:], nil
}

// finishDate turns a year-of-era into a proleptic year when bc is set,
// checks the day of month and returns the days since the epoch.
func finishDate(y, m, d int64, bc bool) (int64, error) {
	if bc {
		y = 1 - y
	}
	if d > daysIn(y, m) {
		return 0, errRange
	}
	return daysFromCivil(y, m, d), nil
}

// parseDate reads date output: YYYY-MM-DD, optionally followed by " BC".
// It returns the days since the epoch, or the infinity.
func parseDate(b []byte) (int64, infinity, error) {
	if inf := parseInfinity(b); inf != finite {
		return 0, inf, nil
	}
	y, m, d, rest, err := parseDatePart(b)
	if err != nil {
		return 0, finite, err
	}
	bc := false
	switch bstr(rest) {
	case "":
	case " BC":
		bc = true
	case " AD":
	default:
		return 0, finite, errSyntax
	}
	days, err := finishDate(y, m, d, bc)
	return days, finite, err
}

// parseClock reads HH:MM:SS[.fraction] at the start of b and returns the
// nanoseconds since midnight (hours may exceed 23, as in 24:00:00) and the
// rest of b. A fraction has 1 to 9 digits.
func parseClock(b []byte) (int64, []byte, error) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i < 2 || i > 6 {
		return 0, nil, errSyntax
	}
	h, _ := digitsN(b, i)
	b = b[i:]
	if len(b) < 6 || b[0] != ':' || b[3] != ':' {
		return 0, nil, errSyntax
	}
	mi, ok1 := digitsN(b[1:], 2)
	s, ok2 := digitsN(b[4:], 2)
	if !ok1 || !ok2 || mi > 59 || s > 60 {
		return 0, nil, errSyntax
	}
	b = b[6:]
	var nanos int64
	if len(b) > 0 && b[0] == '.' {
		j := 1
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		nd := j - 1
		if nd == 0 || nd > 9 {
			return 0, nil, errSyntax
		}
		f, _ := digitsN(b[1:], nd)
		for k := nd; k < 9; k++ {
			f *= 10
		}
		nanos = f
		b = b[j:]
	}
	return ((h*60+mi)*60+s)*1e9 + nanos, b, nil
}

// parseTime reads time output (HH:MM:SS[.ffffff], up to 24:00:00) and
// returns nanoseconds since midnight.
func parseTime(b []byte) (int64, error) {
	ns, rest, err := parseClock(b)
	if err != nil {
		return 0, err
	}
	if len(rest) != 0 {
		return 0, errSyntax
	}
	return ns, nil
}

// parseOffset reads a UTC offset ±HH[:MM[:SS]] (or ±HHMM) at the start of b
// and returns it in seconds east of UTC with the rest of b.
func parseOffset(b []byte) (int64, []byte, error) {
	if len(b) < 3 || (b[0] != '+' && b[0] != '-') {
		return 0, nil, errSyntax
	}
	sign := int64(1)
	if b[0] == '-' {
		sign = -1
	}
	h, ok := digitsN(b[1:], 2)
	if !ok {
		return 0, nil, errSyntax
	}
	off := h * 3600
	b = b[3:]
	for unit := int64(60); unit >= 1 && len(b) > 0; unit /= 60 {
		k := 0
		if b[0] == ':' {
			k = 1
		}
		v, ok := digitsN(b[k:], 2)
		if !ok {
			break
		}
		off += v * unit
		b = b[k+2:]
		if unit == 1 {
			break
		}
	}
	if h > 18 {
		return 0, nil, errRange
	}
	return sign * off, b, nil
}

// timestampText is a parsed timestamp: seconds since the epoch (UTC
// wall clock for timestamp, the instant for timestamptz) and nanoseconds.
type timestampText struct {
	inf   infinity
	secs  int64
	nanos int64
}

// parseTimestamp reads timestamp output ("2018-06-20 15:13:16.945104",
// optionally " BC"); withZone reads timestamptz output, which has an offset
// after the time ("+00", "+05:30") and converts to UTC.
func parseTimestamp(b []byte, withZone bool) (timestampText, error) {
	var t timestampText
	if inf := parseInfinity(b); inf != finite {
		t.inf = inf
		return t, nil
	}
	y, m, d, rest, err := parseDatePart(b)
	if err != nil {
		return t, err
	}
	if len(rest) == 0 || (rest[0] != ' ' && rest[0] != 'T') {
		return t, errSyntax
	}
	ns, rest, err := parseClock(rest[1:])
	if err != nil {
		return t, err
	}
	var off int64
	if withZone {
		off, rest, err = parseOffset(rest)
		if err != nil {
			return t, err
		}
	}
	bc := false
	switch bstr(rest) {
	case "":
	case " BC":
		bc = true
	case " AD":
	default:
		return t, errSyntax
	}
	days, err := finishDate(y, m, d, bc)
	if err != nil {
		return t, err
	}
	t.secs = days*secondsPerDay + ns/1e9 - off
	t.nanos = ns % 1e9
	return t, nil
}

// javaMicros is Debezium's Conversions.toEpochMicros: TimeUnit.SECONDS
// .toMicros saturates, the nanosecond part is then added (wrapping).
func javaMicros(secs, nanos int64) int64 {
	var us int64
	switch {
	case secs > math.MaxInt64/1_000_000:
		us = math.MaxInt64
	case secs < math.MinInt64/1_000_000:
		us = math.MinInt64
	default:
		us = secs * 1e6
	}
	return us + nanos/1e3
}

// javaMillis is Instant.toEpochMilli (secs*1000 + nanos/1e6).
func javaMillis(secs, nanos int64) int64 {
	return secs*1000 + nanos/1e6
}

// parseByteaHex decodes bytea hex output (\x0102ff) into dst.
func parseByteaHex(dst, b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != '\\' || b[1] != 'x' {
		return dst, errors.New(`bytea value is not in hex format (\x...); only bytea_output=hex is supported`)
	}
	b = b[2:]
	if len(b)%2 != 0 {
		return dst, errSyntax
	}
	for i := 0; i < len(b); i += 2 {
		hi, ok1 := unhex(b[i])
		lo, ok2 := unhex(b[i+1])
		if !ok1 || !ok2 {
			return dst, errSyntax
		}
		dst = append(dst, hi<<4|lo)
	}
	return dst, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendZonedTimestamp appends io.debezium.time.ZonedTimestamp's string for
// an instant: ISO-8601 in UTC with a Z. For 1 <= frac <= 9 the fraction has
// exactly frac digits (truncated); otherwise DateTimeFormatter's
// ISO_OFFSET_DATE_TIME rules apply: no fraction when it is zero, else the
// digits without trailing zeros. Years beyond 9999 get a '+', years before
// 1 are written as negative proleptic years (ISO_LOCAL_DATE).
func appendZonedTimestamp(dst []byte, secs, nanos int64, frac int) []byte {
	days := secs / secondsPerDay
	sod := secs % secondsPerDay
	if sod < 0 {
		sod += secondsPerDay
		days--
	}
	y, m, d := civilFromDays(days)
	dst = appendISOYear(dst, y)
	dst = append(dst, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10), 'T')
	h, mi, s := sod/3600, sod/60%60, sod%60
	dst = append(dst, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10))
	dst = appendFraction(dst, nanos, frac)
	return append(dst, 'Z')
}

// appendFraction appends the nanoseconds as java.time's fraction printer
// does (see appendZonedTimestamp).
func appendFraction(dst []byte, nanos int64, frac int) []byte {
	var digits [9]byte
	v := nanos
	for i := 8; i >= 0; i-- {
		digits[i] = byte('0' + v%10)
		v /= 10
	}
	if frac >= 1 && frac <= 9 {
		dst = append(dst, '.')
		return append(dst, digits[:frac]...)
	}
	if nanos == 0 {
		return dst
	}
	n := 9
	for n > 1 && digits[n-1] == '0' {
		n--
	}
	dst = append(dst, '.')
	return append(dst, digits[:n]...)
}

func appendISOYear(dst []byte, y int64) []byte {
	switch {
	case y > 9999:
		dst = append(dst, '+')
		return strconv.AppendInt(dst, y, 10)
	case y < 0:
		dst = append(dst, '-')
		y = -y
	}
	if y < 1000 {
		dst = append(dst, '0')
		if y < 100 {
			dst = append(dst, '0')
			if y < 10 {
				dst = append(dst, '0')
			}
		}
	}
	return strconv.AppendInt(dst, y, 10)
}
