package debezium

import "github.com/pgmotion/pgmotion/internal/jsonw"

// The encoder's JSON writing is internal/jsonw's, under the names the
// package has always used.

func appendJSONString(dst []byte, s []byte) []byte   { return jsonw.AppendString(dst, s) }
func appendJSONStr(dst []byte, s string) []byte      { return jsonw.AppendStr(dst, s) }
func appendValuesString(dst []byte, s []byte) []byte { return jsonw.AppendValuesString(dst, s) }
func appendBase64(dst []byte, b []byte) []byte       { return jsonw.AppendBase64(dst, b) }
func appendJavaDouble(dst []byte, f float64) []byte  { return jsonw.AppendJavaDouble(dst, f) }
func appendJavaFloat(dst []byte, f float32) []byte   { return jsonw.AppendJavaFloat(dst, f) }
func appendJSONDouble(dst []byte, f float64, bits int) []byte {
	return jsonw.AppendDouble(dst, f, bits)
}
func appendJavaFloating(dst []byte, f float64, bits int) []byte {
	return jsonw.AppendJavaFloating(dst, f, bits)
}
func appendBigDecimalString(dst []byte, neg bool, digits []byte, scale int) []byte {
	return jsonw.AppendBigDecimalString(dst, neg, digits, scale)
}
