package connectdata

import "github.com/pgmotion/pgmotion/internal/jsonw"

// JSON is written by internal/jsonw, which the Debezium encoder shares, so
// the bytes of both agree with Kafka's JsonConverter.

func appendJSONStr(dst []byte, s string) []byte     { return jsonw.AppendStr(dst, s) }
func appendBase64(dst []byte, b []byte) []byte      { return jsonw.AppendBase64(dst, b) }
func appendJavaDouble(dst []byte, f float64) []byte { return jsonw.AppendJavaDouble(dst, f) }
func appendJavaFloat(dst []byte, f float32) []byte  { return jsonw.AppendJavaFloat(dst, f) }
func appendJSONDouble(dst []byte, f float64, bits int) []byte {
	return jsonw.AppendDouble(dst, f, bits)
}
func appendBigDecimalString(dst []byte, neg bool, digits []byte, scale int) []byte {
	return jsonw.AppendBigDecimalString(dst, neg, digits, scale)
}
