// Package jsonw writes JSON the way Kafka's JsonConverter does through
// Jackson, and numbers the way Java prints them, appending to byte slices
// without allocating. The Debezium encoder and the Connect data model both
// write with it, so their bytes agree.
package jsonw

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"
)

// Jackson string escaping (CharTypes.sOutputEscapes128): '"' and '\\' get a
// backslash; 0x08 0x09 0x0A 0x0C 0x0D use the short forms \b \t \n \f \r;
// every other byte below 0x20 becomes \u00XX with upper-case hex; '/' and
// 0x7F are written as they are; everything from U+0080 up is written raw as
// UTF-8. Java strings cannot hold invalid UTF-8 (PgJDBC decodes with
// replacement), so an invalid byte here becomes U+FFFD.

const hexUpper = "0123456789ABCDEF"

// jsonEscape holds, for each ASCII byte, 0 when it is written as is, the
// short escape letter, or 'u' for the \u00XX form.
var jsonEscape = func() (t [128]byte) {
	for i := 0; i < 0x20; i++ {
		t[i] = 'u'
	}
	t['"'] = '"'
	t['\\'] = '\\'
	t['\b'] = 'b'
	t['\t'] = 't'
	t['\n'] = 'n'
	t['\f'] = 'f'
	t['\r'] = 'r'
	return t
}()

var utf8Replacement = []byte("\uFFFD")

// AppendString appends s as a quoted JSON string.
func AppendString(dst []byte, s []byte) []byte {
	dst = append(dst, '"')
	dst = AppendStringBody(dst, s)
	return append(dst, '"')
}

// AppendStr is AppendString for a Go string.
func AppendStr(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if esc := jsonEscape[c]; esc != 0 {
				dst = appendEscape(dst, c, esc)
			} else {
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, utf8Replacement...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

func appendEscape(dst []byte, c, esc byte) []byte {
	if esc == 'u' {
		return append(dst, '\\', 'u', '0', '0', hexUpper[c>>4], hexUpper[c&0xF])
	}
	return append(dst, '\\', esc)
}

// AppendStringBody appends the escaped contents of s without quotes.
func AppendStringBody(dst []byte, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if esc := jsonEscape[c]; esc != 0 {
				dst = append(dst, s[start:i]...)
				dst = appendEscape(dst, c, esc)
				i++
				start = i
				continue
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, utf8Replacement...)
			i++
			start = i
			continue
		}
		i += n
	}
	return append(dst, s[start:]...)
}

// AppendValuesString appends s the way Kafka's Values.append writes an
// embedded string (used by SimpleHeaderConverter for struct headers): in
// double quotes, with only '\\' and '"' escaped.
func AppendValuesString(dst []byte, s []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == '\\' || c == '"' {
				dst = append(dst, '\\')
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, utf8Replacement...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}

// AppendBase64 appends the standard, padded base64 form Jackson uses for
// binary nodes (Base64Variants.MIME_NO_LINEFEEDS), in quotes.
func AppendBase64(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// AppendJavaDouble appends f as Java's Double.toString prints it (JDK 19+,
// which prints the shortest decimal that round-trips; Debezium 3.x images
// run on JDK 21). NaN and the infinities come out as NaN, Infinity and
// -Infinity.
func AppendJavaDouble(dst []byte, f float64) []byte {
	return AppendJavaFloating(dst, f, 64)
}

// AppendJavaFloat appends f as Java's Float.toString prints it.
func AppendJavaFloat(dst []byte, f float32) []byte {
	return AppendJavaFloating(dst, float64(f), 32)
}

// AppendDouble appends f as Jackson writes a double: like
// Double.toString, but NaN and the infinities quoted
// (JsonWriteFeature.WRITE_NAN_AS_STRINGS is on by default).
func AppendDouble(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		dst = append(dst, '"')
		dst = AppendJavaFloating(dst, f, bits)
		return append(dst, '"')
	}
	return AppendJavaFloating(dst, f, bits)
}

func AppendJavaFloating(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var buf [40]byte
	var dbuf [24]byte
	s := strconv.AppendFloat(buf[:0], f, 'e', -1, bits)
	neg, n, exp := splitExp(s, &dbuf)
	if n == 1 {
		// Java picks, when one digit would do, the two-digit decimal
		// closest to the value (Double.toString javadoc, JDK 19+): 4.9E-324
		// rather than 5.0E-324, 2.0E23 for 2e23.
		s2 := strconv.AppendFloat(buf[:0], f, 'e', 1, bits)
		if back, err := strconv.ParseFloat(string(s2), bits); err == nil && back == f {
			neg, n, exp = splitExp(s2, &dbuf)
		}
	}
	for n > 1 && dbuf[n-1] == '0' {
		n--
	}
	return AppendJavaDecimal(dst, neg, dbuf[:n], exp)
}

// splitExp splits strconv's 'e' format ("-1.2345e+06") into the sign, the
// significant digits (copied to d, count returned) and the decimal exponent
// of the first digit.
func splitExp(s []byte, d *[24]byte) (neg bool, n int, exp int) {
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	e := len(s) - 1
	for s[e] != 'e' {
		e--
	}
	for _, c := range s[:e] {
		if c != '.' && n < len(d) {
			d[n] = c
			n++
		}
	}
	x := 0
	sign := 1
	for _, c := range s[e+1:] {
		switch c {
		case '-':
			sign = -1
		case '+':
		default:
			x = x*10 + int(c-'0')
		}
	}
	return neg, n, sign * x
}

// AppendJavaDecimal lays out digits × 10^exp (first digit at 10^exp) the
// way Double.toString does: plain notation with at least one fraction digit
// for 1e-3 <= |x| < 1e7, otherwise d.dddE±n.
func AppendJavaDecimal(dst []byte, neg bool, digits []byte, exp int) []byte {
	if neg {
		dst = append(dst, '-')
	}
	if exp >= -3 && exp < 7 {
		if exp < 0 {
			dst = append(dst, '0', '.')
			for i := 0; i < -exp-1; i++ {
				dst = append(dst, '0')
			}
			return append(dst, digits...)
		}
		intLen := exp + 1
		if len(digits) <= intLen {
			dst = append(dst, digits...)
			for i := len(digits); i < intLen; i++ {
				dst = append(dst, '0')
			}
			return append(dst, '.', '0')
		}
		dst = append(dst, digits[:intLen]...)
		dst = append(dst, '.')
		return append(dst, digits[intLen:]...)
	}
	dst = append(dst, digits[0], '.')
	if len(digits) > 1 {
		dst = append(dst, digits[1:]...)
	} else {
		dst = append(dst, '0')
	}
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(exp), 10)
}

// AppendBigDecimalString appends what java.math.BigDecimal.toString prints
// for the unscaled value ±digits and scale (digits: decimal, no sign).
func AppendBigDecimalString(dst []byte, neg bool, digits []byte, scale int) []byte {
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		digits = []byte{'0'}
	}
	if neg && !(len(digits) == 1 && digits[0] == '0') {
		dst = append(dst, '-')
	}
	if scale == 0 {
		return append(dst, digits...)
	}
	adjusted := -scale + (len(digits) - 1)
	if scale > 0 && adjusted >= -6 {
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
	dst = append(dst, digits[0])
	if len(digits) > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	if adjusted != 0 {
		dst = append(dst, 'E')
		if adjusted > 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(adjusted), 10)
	}
	return dst
}
