package connectdata

import (
	"errors"
	"math/big"
	"strings"
)

// Decimal values are held as their unscaled value in big-endian two's
// complement, the form Kafka's Decimal.fromLogical writes
// (BigInteger.toByteArray: the shortest form, at least one byte).

// canonicalUnscaled drops redundant leading sign bytes, as
// BigInteger.toByteArray would not write them. It returns b itself when
// nothing is dropped.
func canonicalUnscaled(b []byte) []byte {
	i := 0
	for i+1 < len(b) {
		if (b[i] == 0x00 && b[i+1]&0x80 == 0) || (b[i] == 0xFF && b[i+1]&0x80 != 0) {
			i++
			continue
		}
		break
	}
	return b[i:]
}

// UnscaledInt returns the unscaled value of a Decimal as a big.Int.
func UnscaledInt(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return n
}

// UnscaledBytes returns the two's complement form of n (BigInteger.toByteArray).
func UnscaledBytes(n *big.Int) []byte {
	switch n.Sign() {
	case 0:
		return []byte{0}
	case 1:
		b := n.Bytes()
		if b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// Negative: 2^(8k) + n for the smallest k that keeps the sign bit.
	k := (n.BitLen() + 8) / 8
	m := new(big.Int).Lsh(big.NewInt(1), uint(8*k))
	m.Add(m, n)
	b := m.Bytes()
	for len(b) < k {
		b = append([]byte{0}, b...)
	}
	return canonicalUnscaled(b)
}

var errDecimalScale = errors.New("BigDecimal has mismatching scale value for given Decimal schema")

// unscaledFromText converts a JSON number to the unscaled value at scale,
// as Kafka does for decimal.format=NUMERIC input (the number must be exact
// at that scale).
func unscaledFromText(text string, scale int32) ([]byte, error) {
	mant, exp, ok := splitNumber([]byte(text))
	if !ok {
		return nil, errors.New("invalid number")
	}
	exp += int64(scale)
	if exp > maxDecimalDigits || exp < -maxDecimalDigits || len(mant) > maxDecimalDigits {
		return nil, errors.New("decimal out of range")
	}
	n, _ := new(big.Int).SetString(string(mant), 10)
	if exp >= 0 {
		n.Mul(n, pow10(int(exp)))
	} else {
		var rem big.Int
		n.QuoRem(n, pow10(int(-exp)), &rem)
		if rem.Sign() != 0 {
			return nil, errDecimalScale
		}
	}
	if strings.HasPrefix(text, "-") {
		n.Neg(n)
	}
	return UnscaledBytes(n), nil
}

// maxDecimalDigits bounds the numbers read as decimals, so that a short
// input cannot ask for a huge power of ten.
const maxDecimalDigits = 10000

func pow10(n int) *big.Int {
	if n < 0 {
		n = 0
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// appendDecimal appends what BigDecimal.toString prints for the unscaled
// value b at scale.
func appendDecimal(dst []byte, b []byte, scale int32) []byte {
	n := UnscaledInt(b)
	digits := n.Text(10)
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	return appendBigDecimalString(dst, neg, []byte(digits), int(scale))
}

// DecimalString returns BigDecimal.toString of a Decimal value.
func DecimalString(unscaled []byte, scale int32) string {
	return string(appendDecimal(nil, unscaled, scale))
}

// DecimalScaleOf returns the scale of a Decimal schema.
func DecimalScaleOf(s *Schema) (int32, bool) {
	if s == nil || s.logical != logicalDecimal {
		return 0, false
	}
	return s.scale, true
}
