package debezium

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// appendJSONBText appends the text PostgreSQL's jsonb output gives for the
// JSON document raw (jsonb_out): object keys sorted shorter first, then
// bytewise, the last of duplicate keys kept, ", " and ": " separators,
// numbers as numeric_out writes them, and strings escaped as escape_json
// does. An outbox payload sent in a logical decoding message thus reads
// exactly as the same payload read from a jsonb column.
func appendJSONBText(dst, raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dst, err := appendJSONBValue(dst, dec, 0)
	if err != nil {
		return dst, err
	}
	if _, err := dec.Token(); err == nil {
		return dst, fmt.Errorf("data after the JSON value")
	}
	return dst, nil
}

// maxJSONBDepth bounds nesting, as PostgreSQL's stack depth check does.
const maxJSONBDepth = 1000

func appendJSONBValue(dst []byte, dec *json.Decoder, depth int) ([]byte, error) {
	if depth > maxJSONBDepth {
		return dst, fmt.Errorf("JSON nested deeper than %d levels", maxJSONBDepth)
	}
	t, err := dec.Token()
	if err != nil {
		return dst, err
	}
	switch v := t.(type) {
	case json.Delim:
		if v == '[' {
			dst = append(dst, '[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					dst = append(dst, ", "...)
				}
				if dst, err = appendJSONBValue(dst, dec, depth+1); err != nil {
					return dst, err
				}
			}
			_, err = dec.Token()
			return append(dst, ']'), err
		}
		type pair struct {
			key string
			val []byte
		}
		var pairs []pair
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return dst, err
			}
			key, _ := kt.(string)
			val, err := appendJSONBValue(nil, dec, depth+1)
			if err != nil {
				return dst, err
			}
			pairs = append(pairs, pair{key, val})
		}
		if _, err := dec.Token(); err != nil {
			return dst, err
		}
		// A stable sort keeps duplicates in input order; the last wins.
		slices.SortStableFunc(pairs, func(a, b pair) int {
			if len(a.key) != len(b.key) {
				return len(a.key) - len(b.key)
			}
			return strings.Compare(a.key, b.key)
		})
		dst = append(dst, '{')
		n := 0
		for i, p := range pairs {
			if i+1 < len(pairs) && pairs[i+1].key == p.key {
				continue
			}
			if n > 0 {
				dst = append(dst, ", "...)
			}
			n++
			dst = appendJSONBString(dst, p.key)
			dst = append(dst, ": "...)
			dst = append(dst, p.val...)
		}
		return append(dst, '}'), nil
	case string:
		return appendJSONBString(dst, v), nil
	case json.Number:
		return appendNumericText(dst, string(v)), nil
	case bool:
		if v {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case nil:
		return append(dst, "null"...), nil
	}
	return dst, fmt.Errorf("unexpected JSON token %v", t)
}

// appendJSONBString is PostgreSQL's escape_json.
func appendJSONBString(dst []byte, s string) []byte {
	const hexLower = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c < 0x20 {
				dst = append(dst, '\\', 'u', '0', '0', hexLower[c>>4], hexLower[c&0xF])
			} else {
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '"')
}

// appendNumericText writes a JSON number as numeric_out does after
// numeric_in: positional notation with max(0, fraction digits - exponent)
// decimal places, no negative zero. An exponent too large to write out
// keeps the number as it is.
func appendNumericText(dst []byte, num string) []byte {
	s := num
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expStr, hasExp := strings.Cut(strings.ToLower(s), "e")
	exp := 0
	if hasExp {
		var n int
		if _, err := fmt.Sscanf(expStr, "%d", &n); err != nil || n > 1000 || n < -1000 {
			return append(dst, num...)
		}
		exp = n
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	point := len(intPart) + exp
	scale := max(0, len(frac)-exp)
	var ip, fp string
	switch {
	case point >= len(digits):
		ip = digits + strings.Repeat("0", point-len(digits))
	case point <= 0:
		ip, fp = "0", strings.Repeat("0", -point)+digits
	default:
		ip, fp = digits[:point], digits[point:]
	}
	ip = strings.TrimLeft(ip, "0")
	if ip == "" {
		ip = "0"
	}
	if len(fp) > scale {
		fp = fp[:scale]
	}
	if neg && strings.Trim(ip+fp, "0") != "" {
		dst = append(dst, '-')
	}
	dst = append(dst, ip...)
	if scale > 0 {
		dst = append(dst, '.')
		dst = append(dst, fp...)
	}
	return dst
}
