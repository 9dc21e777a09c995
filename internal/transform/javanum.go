package transform

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/java"
)

// Java's numeric conversions, for Cast and MaskField.

func newBigInt(digits string) (*big.Int, bool) {
	return new(big.Int).SetString(digits, 10)
}

// javaNumber is a value that is a java.lang.Number: the integer types,
// the floating types, and a Decimal (BigDecimal).
type javaNumber struct {
	i       int64 // integer types
	f       float64
	isFloat bool
	dec     *big.Rat // BigDecimal
	scale   int32
	unscal  *big.Int
}

// asJavaNumber returns v as a java.lang.Number, with s telling a Decimal.
func asJavaNumber(s *cd.Schema, v any) (javaNumber, bool) {
	if scale, ok := cd.DecimalScaleOf(s); ok {
		if b, ok := v.([]byte); ok {
			u := cd.UnscaledInt(b)
			den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(max(scale, 0))), nil)
			num := new(big.Int).Set(u)
			if scale < 0 {
				num.Mul(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-scale)), nil))
			}
			return javaNumber{dec: new(big.Rat).SetFrac(num, den), scale: scale, unscal: u}, true
		}
	}
	switch x := v.(type) {
	case int8:
		return javaNumber{i: int64(x)}, true
	case int16:
		return javaNumber{i: int64(x)}, true
	case int32:
		return javaNumber{i: int64(x)}, true
	case int64:
		return javaNumber{i: x}, true
	case float32:
		return javaNumber{f: float64(x), isFloat: true}, true
	case float64:
		return javaNumber{f: x, isFloat: true}, true
	}
	return javaNumber{}, false
}

// longValue is Number.longValue.
func (n javaNumber) longValue() int64 {
	switch {
	case n.dec != nil:
		q := new(big.Int).Quo(n.dec.Num(), n.dec.Denom())
		return int64(new(big.Int).And(q, new(big.Int).SetUint64(math.MaxUint64)).Uint64())
	case n.isFloat:
		return java.DoubleToLong(n.f)
	}
	return n.i
}

// intValue is Number.intValue.
func (n javaNumber) intValue() int32 {
	if n.isFloat && n.dec == nil {
		return java.DoubleToInt(n.f)
	}
	return int32(n.longValue())
}

// doubleValue is Number.doubleValue.
func (n javaNumber) doubleValue() float64 {
	switch {
	case n.dec != nil:
		f, _ := n.dec.Float64()
		return f
	case n.isFloat:
		return n.f
	}
	return float64(n.i)
}

// floatValue is Number.floatValue.
func (n javaNumber) floatValue() float32 {
	switch {
	case n.dec != nil:
		f, _ := n.dec.Float32()
		return f
	case n.isFloat:
		return float32(n.f)
	}
	return float32(n.i)
}

// javaToString is Object.toString of a value (Cast to string).
func javaToString(s *cd.Schema, v any) string {
	if ms, ok := cd.LogicalMillis(s, v); ok {
		return cd.JavaDateString(ms)
	}
	if scale, ok := cd.DecimalScaleOf(s); ok {
		if b, ok := v.([]byte); ok {
			return cd.DecimalString(b, scale)
		}
	}
	b, err := cd.HeaderValue(nil, v)
	if err != nil {
		return ""
	}
	return string(b)
}

// parseJavaInt is Byte/Short/Integer/Long.parseX: no blanks, an optional
// sign.
func parseJavaInt(s string, bits int) (int64, bool) {
	if s == "" || strings.TrimSpace(s) != s {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, bits)
	if err != nil || strings.HasPrefix(s, "+-") || strings.HasPrefix(s, "+") && len(s) == 1 {
		return 0, false
	}
	return n, true
}
