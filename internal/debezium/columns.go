package debezium

import (
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/pgmotion/pgmotion/internal/change"
)

// Column options: column.mask.with.<n>.chars, column.mask.hash.*,
// column.truncate.to.<n>.chars, column.propagate.source.type and
// datatype.propagate.source.type.

// applyColumnOptions adds what the column.* options ask for to a compiled
// column, as Debezium's column mappers do: each matching mapper changes the
// schema (alterFieldSchema), and the converted value goes through the
// mapper's converter, nulls included.
//   - TruncateStrings: when the column length is unknown or above n, the
//     parameter truncateLength=n, and string values cut to n UTF-16 units.
//   - MaskStrings (mask.with and mask.hash): the parameter masked=true on
//     every matching column; the value changes only for character columns
//     (text, varchar, char, name: JDBC CHAR/VARCHAR). mask.with writes n
//     asterisks whatever the value, null included; mask.hash writes the
//     lower-case hex digest of salt + value (v1: the Java-serialized
//     String; v2: its UTF-8 bytes), cut to the column length, and keeps
//     nulls.
//   - PropagateSourceTypeToSchemaParameter: __debezium.source.column.type,
//     .length (when set) and .scale.
func (e *Encoder) applyColumnOptions(cp *colPlan, rel *change.Relation, col *change.Column) {
	fq := rel.Namespace + "." + rel.Name + "." + col.Name
	length, scale := sourceLengthScale(col)
	addParam := func(k, v string) {
		cp.schema.params = append(cp.schema.params[:len(cp.schema.params):len(cp.schema.params)], [2]string{k, v})
	}
	charType := false
	switch cp.oid {
	case oidText, oidVarchar, oidBPChar, oidName:
		charType = col.TypeType != 'd'
	}
	for _, t := range e.opts.ColumnTruncates {
		if t.Chars > 0 && t.Match(fq) && (length < 0 || length > t.Chars) {
			addParam("truncateLength", strconv.Itoa(t.Chars))
			inner, n := cp.decode, t.Chars
			cp.decode = func(e *Encoder, cp *colPlan, b []byte) (val, error) {
				v, err := inner(e, cp, b)
				if err == nil && v.k == kString {
					v.b = truncateUTF16(v.b, n)
				}
				return v, err
			}
		}
	}
	for _, m := range e.opts.ColumnMasks {
		if m.Match(fq) {
			addParam("masked", "true")
			if charType {
				mask := val{k: kString, b: []byte(strings.Repeat("*", m.Chars))}
				cp.decode = func(e *Encoder, cp *colPlan, b []byte) (val, error) { return mask, nil }
				cp.masked = &mask
				cp.toast, cp.toastVal = toastFixed, mask // the placeholder is masked too
			}
		}
	}
	for _, h := range e.opts.ColumnHashes {
		if h.Match(fq) {
			addParam("masked", "true")
			if charType {
				inner, h, maxLen := cp.decode, h, length
				cp.decode = func(e *Encoder, cp *colPlan, b []byte) (val, error) {
					v, err := inner(e, cp, b)
					if err != nil || v.k != kString {
						return v, err
					}
					out := h.hash(v.b)
					if maxLen > 0 && len(out) > maxLen {
						out = out[:maxLen]
					}
					return val{k: kString, b: out}, nil
				}
			}
		}
	}
	if (e.opts.PropagateSourceType != nil && e.opts.PropagateSourceType(fq)) ||
		(e.opts.PropagateDataType != nil && e.opts.PropagateDataType(col.TypeName)) {
		addParam("__debezium.source.column.type", strings.ToUpper(col.TypeName))
		if length != -1 {
			addParam("__debezium.source.column.length", strconv.Itoa(length))
		}
		addParam("__debezium.source.column.scale", strconv.Itoa(scale))
	}
}

// hash is MaskStrings.HashValueConverter.toHash: the digest of the salt
// and the value, in lower-case hex.
func (h *ColumnHash) hash(s []byte) []byte {
	d := h.newHash()
	d.Write(h.Salt)
	if h.V2 {
		d.Write(s)
	} else {
		d.Write(javaSerializedString(s))
	}
	return hex.AppendEncode(nil, d.Sum(nil))
}

// javaSerializedString is ObjectOutputStream.writeObject of a String:
// the stream header, then TC_STRING with a 2-byte length (TC_LONGSTRING
// with 8 bytes past 65535) and the modified UTF-8 (NUL as C0 80,
// supplementary characters as two 3-byte surrogates).
func javaSerializedString(s []byte) []byte {
	var m []byte
	for _, r := range string(s) {
		switch {
		case r == 0:
			m = append(m, 0xC0, 0x80)
		case r < 0x80:
			m = append(m, byte(r))
		case r < 0x800:
			m = append(m, byte(0xC0|r>>6), byte(0x80|r&0x3F))
		case r < 0x10000:
			m = append(m, byte(0xE0|r>>12), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
		default:
			r1, r2 := utf16.EncodeRune(r)
			for _, u := range []rune{r1, r2} {
				m = append(m, byte(0xE0|u>>12), byte(0x80|(u>>6)&0x3F), byte(0x80|u&0x3F))
			}
		}
	}
	out := []byte{0xAC, 0xED, 0x00, 0x05}
	if len(m) <= 0xFFFF {
		out = append(out, 0x74, byte(len(m)>>8), byte(len(m)))
	} else {
		out = append(out, 0x7C)
		for i := 7; i >= 0; i-- {
			out = append(out, byte(uint64(len(m))>>(8*i)))
		}
	}
	return append(out, m...)
}

// truncateUTF16 cuts s to n UTF-16 units (String.substring(0, n)).
func truncateUTF16(s []byte, n int) []byte {
	units := 0
	for i, r := range string(s) {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if units+w > n {
			return s[:i]
		}
		units += w
	}
	return s
}

// sourceLengthScale is the column length and scale Debezium reads from
// PgJDBC's TypeInfoCache for a pgoutput relation column: getPrecision
// (or getDisplaySize when that is 0) and getScale of the type and its
// modifier (the base type's for a domain). -1 is "unset".
func sourceLengthScale(col *change.Column) (length, scale int) {
	oid, mod := col.TypeOID, col.TypeMod
	if col.TypeType == 'd' {
		oid, mod = col.BaseTypeOID, col.BaseTypeMod
	}
	const unknown = 2147483647
	secondSize := func() int {
		switch {
		case mod == -1:
			return 7
		case mod > 0:
			return int(mod) + 1
		}
		return 0
	}
	switch oid {
	case oidInt2:
		return 5, 0
	case oidInt4, oidOID:
		return 10, 0
	case oidInt8:
		return 19, 0
	case oidFloat4:
		return 8, 8
	case oidFloat8:
		return 17, 17
	case oidNumeric:
		if mod == -1 {
			return 131089, 0
		}
		return int((mod - 4) >> 16 & 0xFFFF), int((mod - 4) & 0xFFFF)
	case oidBool:
		return 1, 0
	case oidBPChar, oidVarchar:
		if mod == -1 {
			return unknown, 0
		}
		return int(mod - 4), 0
	case oidBit:
		return int(mod), 0
	case oidVarbit:
		if mod == -1 {
			return unknown, 0
		}
		return int(mod), 0
	}
	timeScale := 6
	if mod != -1 {
		timeScale = int(mod)
	}
	switch oid {
	case oidDate:
		return 13, 0
	case oidTime:
		return 8 + secondSize(), timeScale
	case oidTimetz:
		return 8 + secondSize() + 6, timeScale
	case oidTimestamp:
		return 22 + secondSize(), timeScale
	case oidTimestamptz:
		return 22 + secondSize() + 6, timeScale
	case oidInterval:
		if mod != -1 {
			timeScale = int(mod & 0xFFFF)
		}
		return 49, timeScale
	}
	return unknown, 0
}
