package debezium

import (
	"math/big"
	"strconv"
)

// vkind is the Kafka Connect shape of a converted column value.
type vkind uint8

const (
	kNull       vkind = iota
	kBool             // i: 0 or 1
	kInt              // i
	kFloat32          // f
	kFloat64          // f
	kString           // b: UTF-8 text
	kBytes            // b: raw bytes (BYTES schema)
	kDecimal          // b: unscaled two's complement; i: scale; d, neg: unscaled digits
	kVarDecimal       // io.debezium.data.VariableScaleDecimal; as kDecimal
	kRaw              // arrays and structs, already written: b as JSON, d as Values.append
)

// val is one converted value. Its slices point into the input or into the
// Encoder's scratch buffers and are valid until the next conversion.
type val struct {
	k   vkind
	neg bool
	i   int64
	f   float64
	b   []byte
	d   []byte
}

// clone copies the slices so the value outlives the scratch buffers.
func (v val) clone() val {
	if v.b != nil {
		v.b = append([]byte{}, v.b...)
	}
	if v.d != nil {
		v.d = append([]byte{}, v.d...)
	}
	return v
}

// appendJSON appends v as Kafka's JsonConverter writes it.
func (v *val) appendJSON(dst []byte) []byte {
	switch v.k {
	case kBool:
		if v.i != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case kInt:
		return strconv.AppendInt(dst, v.i, 10)
	case kFloat32:
		return appendJSONDouble(dst, float64(float32(v.f)), 32)
	case kFloat64:
		return appendJSONDouble(dst, v.f, 64)
	case kString:
		return appendJSONString(dst, v.b)
	case kBytes, kDecimal:
		return appendBase64(dst, v.b)
	case kVarDecimal:
		dst = append(dst, `{"scale":`...)
		dst = strconv.AppendInt(dst, v.i, 10)
		dst = append(dst, `,"value":`...)
		dst = appendBase64(dst, v.b)
		return append(dst, '}')
	case kRaw:
		return append(dst, v.b...)
	}
	return append(dst, "null"...)
}

// appendHeader appends v as Kafka's Values.append writes an embedded value,
// which is what SimpleHeaderConverter produces for the fields of a struct
// header (__debezium.oldkey / __debezium.newkey).
func (v *val) appendHeader(dst []byte) []byte {
	switch v.k {
	case kBool, kInt:
		return v.appendJSON(dst)
	case kFloat32:
		return appendJavaFloat(dst, float32(v.f))
	case kFloat64:
		return appendJavaDouble(dst, v.f)
	case kString:
		return appendValuesString(dst, v.b)
	case kBytes:
		return appendBase64(dst, v.b)
	case kDecimal:
		return appendBigDecimalString(dst, v.neg, v.d, int(v.i))
	case kVarDecimal:
		dst = append(dst, `{"scale":`...)
		dst = strconv.AppendInt(dst, v.i, 10)
		dst = append(dst, `,"value":`...)
		dst = appendBase64(dst, v.b)
		return append(dst, '}')
	case kRaw:
		return append(dst, v.d...)
	}
	return append(dst, "null"...)
}

// appendUnscaled appends the minimal big-endian two's-complement bytes of
// the integer ±digits (BigInteger.toByteArray, which Connect's Decimal and
// VariableScaleDecimal use). digits are decimal without sign.
func appendUnscaled(dst []byte, neg bool, digits []byte, tmp *big.Int) []byte {
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	if len(digits) <= 18 {
		var u int64
		for _, c := range digits {
			u = u*10 + int64(c-'0')
		}
		if neg {
			u = -u
		}
		return appendInt64Bytes(dst, u)
	}
	tmp.SetString(string(digits), 10)
	if neg {
		tmp.Neg(tmp)
	}
	return appendBigIntBytes(dst, tmp)
}

// appendInt64Bytes appends v in the fewest bytes that keep its sign.
func appendInt64Bytes(dst []byte, v int64) []byte {
	n := 1
	for n < 8 {
		lim := int64(1) << (8*n - 1)
		if v >= -lim && v < lim {
			break
		}
		n++
	}
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
}

// appendBigIntBytes appends x as BigInteger.toByteArray would.
func appendBigIntBytes(dst []byte, x *big.Int) []byte {
	if x.Sign() >= 0 {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			dst = append(dst, 0)
		}
		return append(dst, b...)
	}
	// Two's complement of -m in n bytes is 2^(8n) - m; n is the least
	// count with m <= 2^(8n-1).
	m := new(big.Int).Neg(x)
	n := (m.BitLen() + 7) / 8
	if n == 0 {
		n = 1
	}
	half := new(big.Int).Lsh(big.NewInt(1), uint(8*n-1))
	if m.Cmp(half) > 0 {
		n++
	}
	t := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	t.Sub(t, m)
	b := t.Bytes()
	for i := len(b); i < n; i++ {
		dst = append(dst, 0)
	}
	return append(dst, b...)
}
