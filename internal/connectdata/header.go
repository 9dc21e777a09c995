package connectdata

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/pgmotion/pgmotion/internal/jsonw"
)

// HeaderValue returns the bytes Kafka's SimpleHeaderConverter writes for a
// header value with schema s (Values.convertToString): nil for null;
// strings as they are; numbers and booleans as Java prints them; bytes as
// base64; arrays, maps and structs in Values' own syntax ({"id":1},
// [1,2], {"k":"v"}), where embedded strings are quoted with only \ and "
// escaped; Date, Time and Timestamp values as ISO-8601 text in UTC;
// decimals as BigDecimal.toString.
func HeaderValue(s *Schema, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return appendValues(nil, s, v, false)
}

const msPerDay = 24 * 60 * 60 * 1000

// appendValues is Kafka's Values.append, typed by the schema where Go's
// types alone do not tell a logical type.
func appendValues(dst []byte, s *Schema, v any, embedded bool) ([]byte, error) {
	if v == nil {
		return append(dst, "null"...), nil
	}
	if s != nil {
		switch s.logical {
		case logicalDecimal:
			if b, ok := v.([]byte); ok {
				return appendDecimal(dst, b, s.scale), nil
			}
		case logicalDate:
			if n, ok := v.(int32); ok {
				return appendJavaDate(dst, int64(n)*msPerDay), nil
			}
		case logicalTime:
			if n, ok := v.(int32); ok {
				return appendJavaDate(dst, int64(n)), nil
			}
		case logicalTimestamp:
			if n, ok := v.(int64); ok {
				return appendJavaDate(dst, n), nil
			}
		}
	}
	switch x := v.(type) {
	case int8:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float32:
		return appendJavaFloat(dst, x), nil
	case float64:
		return appendJavaDouble(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case string:
		if embedded {
			return appendValuesStr(dst, x), nil
		}
		return append(dst, x...), nil
	case []byte:
		if embedded {
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, x)
			return append(dst, '"'), nil
		}
		return base64.StdEncoding.AppendEncode(dst, x), nil
	case []any:
		var elem *Schema
		if s != nil {
			elem = s.Elem
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValues(dst, elem, e, true); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case Map:
		var ks, vs *Schema
		if s != nil {
			ks, vs = s.Key, s.Elem
		}
		dst = append(dst, '{')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValues(dst, ks, e.Key, true); err != nil {
				return dst, err
			}
			dst = append(dst, ':')
			if dst, err = appendValues(dst, vs, e.Value, true); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case *Struct:
		dst = append(dst, '{')
		for i, f := range x.schema.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValuesStr(dst, f.Name)
			dst = append(dst, ':')
			var err error
			if dst, err = appendValues(dst, f.Schema, x.GetOrDefault(i), true); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}
	return dst, dataErrorf("Failed to serialize unexpected value type %T: %v", v, v)
}

// appendValuesStr writes an embedded string as Values.append does: in
// double quotes, with only '\\' and '"' escaped.
func appendValuesStr(dst []byte, s string) []byte { return jsonw.AppendValuesString(dst, []byte(s)) }

// appendJavaDate formats epoch milliseconds as Values.dateFormatFor picks:
// HH:mm:ss.SSS'Z' below one day, yyyy-MM-dd on whole days, else
// yyyy-MM-dd'T'HH:mm:ss.SSS'Z', in UTC (the time zone of Debezium's
// images; SimpleDateFormat uses the JVM's default zone).
func appendJavaDate(dst []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	switch {
	case ms < msPerDay:
		return t.AppendFormat(dst, "15:04:05.000Z")
	case ms%msPerDay == 0:
		return t.AppendFormat(dst, "2006-01-02")
	}
	return t.AppendFormat(dst, "2006-01-02T15:04:05.000Z")
}

// JavaDateString is appendJavaDate as a string (Cast to string of Date,
// Time and Timestamp values).
func JavaDateString(ms int64) string { return string(appendJavaDate(nil, ms)) }

// LogicalMillis returns the epoch milliseconds of a Date, Time or Timestamp
// value of schema s, and false for other schemas.
func LogicalMillis(s *Schema, v any) (int64, bool) {
	if s == nil {
		return 0, false
	}
	switch s.logical {
	case logicalDate:
		if n, ok := v.(int32); ok {
			return int64(n) * msPerDay, true
		}
	case logicalTime:
		if n, ok := v.(int32); ok {
			return int64(n), true
		}
	case logicalTimestamp:
		if n, ok := v.(int64); ok {
			return n, true
		}
	}
	return 0, false
}

// IsDecimal reports whether s is Connect's Decimal logical type.
func IsDecimal(s *Schema) bool { return s != nil && s.logical == logicalDecimal }
