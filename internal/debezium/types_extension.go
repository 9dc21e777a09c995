package debezium

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"

	"github.com/pgmotion/pgmotion/internal/java"
)

// The types of extensions, found by name since their OIDs differ per
// database (PostGIS, hstore, pgvector, isbn), and the columns of types
// with no mapping (include.unknown.datatypes). The per-column options are
// in columns.go.

// Mapping keys of extension types found by name.
const (
	pseudoHstore    = 0xFFFFFFF4
	pseudoVector    = 0xFFFFFFF5
	pseudoHalfvec   = 0xFFFFFFF6
	pseudoSparsevec = 0xFFFFFFF7
	pseudoIsbn      = 0xFFFFFFF8
	pseudoGeometry  = 0xFFFFFFF9
	pseudoGeography = 0xFFFFFFFA
)

// Logical names of the pgvector types (Debezium 3.x SchemaFactory).
const (
	nameDoubleVector       = "io.debezium.data.DoubleVector"
	nameFloatVector        = "io.debezium.data.FloatVector"
	nameSparseDoubleVector = "io.debezium.data.SparseDoubleVector"
)

func init() {
	typeMappings[pseudoHstore] = typeMapping{setup: setupHstore}
	typeMappings[pseudoVector] = typeMapping{setup: setupVector}
	typeMappings[pseudoHalfvec] = typeMapping{setup: setupVector}
	typeMappings[pseudoSparsevec] = typeMapping{setup: setupSparsevec}
	extensionTypes["hstore"] = pseudoHstore
	extensionTypes["vector"] = pseudoVector
	extensionTypes["halfvec"] = pseudoHalfvec
	extensionTypes["sparsevec"] = pseudoSparsevec
	// isn's isbn: a plain string of its text form
	// (PostgresValueConverter's typeRegistry.isbn() case), no default
	// mapper, arrays not mapped.
	typeMappings[pseudoIsbn] = typeMapping{setup: setupString("", 0)}
	extensionTypes["isbn"] = pseudoIsbn
	typeMappings[pseudoGeometry] = typeMapping{setup: setupPostgis}
	typeMappings[pseudoGeography] = typeMapping{setup: setupPostgis}
	extensionTypes["geometry"] = pseudoGeometry
	extensionTypes["geography"] = pseudoGeography
	arrayExtensions[pseudoGeometry] = true
	arrayExtensions[pseudoGeography] = true
}

// PostGIS.

const (
	nameGeometry  = "io.debezium.data.geometry.Geometry"
	nameGeography = "io.debezium.data.geometry.Geography"
	postgisFields = `[{"type":"bytes","optional":false,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}]`
)

// postgisEmpty is PostgisGeometry.createEmpty(): an empty
// GEOMETRYCOLLECTION, the value of a null in a NOT NULL column.
var postgisEmpty = []byte{0x01, 0x07, 0, 0, 0, 0, 0, 0, 0}

// setupPostgis: geometry is a struct io.debezium.data.geometry.Geometry
// v1, doc "Geometry", whose builder is already optional(), so the field
// is optional even for a NOT NULL column; geography is
// io.debezium.data.geometry.Geography v1, doc "Geography", optional as
// its column. Both have wkb (the whole EWKB, SRID included) and srid.
// PostGIS types have no default mapper.
func setupPostgis(cp *colPlan, s *settings) error {
	if cp.oid == pseudoGeography {
		cp.schema = fieldSchema{typ: "struct", name: nameGeography, version: 1, doc: "Geography", fields: postgisFields}
	} else {
		cp.schema = fieldSchema{typ: "struct", name: nameGeometry, version: 1, doc: "Geometry", fields: postgisFields, optional: true}
	}
	cp.decode = decPostgis
	b := postgisJSON(nil, postgisEmpty, false, 0)
	cp.fallback = val{k: kRaw, b: b, d: b}
	// Debezium feeds the placeholder text to the EWKB parser; null is
	// the closest well-defined outcome.
	cp.toast = toastNull
	return nil
}

var errEWKB = errors.New("geometry value is not hexadecimal EWKB of at least 9 bytes")

// decPostgis is PostgisGeometry.fromHexEwkb: the text output is the
// hexadecimal EWKB; the SRID is the int after the type when the type has
// the 0x20000000 flag, in the byte order the first byte gives.
func decPostgis(e *Encoder, cp *colPlan, b []byte) (val, error) {
	if len(b)%2 != 0 || len(b) < 18 {
		return val{}, errEWKB
	}
	ewkb := e.tmp2[:0]
	for i := 0; i < len(b); i += 2 {
		hi, ok1 := unhex(b[i])
		lo, ok2 := unhex(b[i+1])
		if !ok1 || !ok2 {
			e.tmp2 = ewkb
			return val{}, errEWKB
		}
		ewkb = append(ewkb, hi<<4|lo)
	}
	e.tmp2 = ewkb
	order := binary.ByteOrder(binary.BigEndian)
	if ewkb[0] != 0 {
		order = binary.LittleEndian
	}
	hasSRID := order.Uint32(ewkb[1:5])&0x20000000 != 0
	var srid int32
	if hasSRID {
		srid = int32(order.Uint32(ewkb[5:9]))
	}
	e.tmp = postgisJSON(e.tmp[:0], ewkb, hasSRID, srid)
	return val{k: kRaw, b: e.tmp, d: e.tmp}, nil
}

// postgisJSON writes {"wkb":<base64>,"srid":<int or null>}; the header
// form (Values.append) is the same.
func postgisJSON(dst, ewkb []byte, hasSRID bool, srid int32) []byte {
	dst = append(dst, `{"wkb":`...)
	dst = appendBase64(dst, ewkb)
	dst = append(dst, `,"srid":`...)
	if !hasSRID {
		return append(dst, "null}"...)
	}
	dst = strconv.AppendInt(dst, int64(srid), 10)
	return append(dst, '}')
}

// appendSchemaChildren writes the member schemas of an array, map or
// struct schema in JsonConverter's order: items | keys, values | fields.
func appendSchemaChildren(dst []byte, fs *fieldSchema) []byte {
	if fs.items != "" {
		dst = append(dst, `,"items":`...)
		dst = append(dst, fs.items...)
	}
	if fs.keys != "" {
		dst = append(dst, `,"keys":`...)
		dst = append(dst, fs.keys...)
		dst = append(dst, `,"values":`...)
		dst = append(dst, fs.values...)
	}
	if fs.fields != "" {
		dst = append(dst, `,"fields":`...)
		dst = append(dst, fs.fields...)
	}
	return dst
}

// hstore.

var errHstore = errors.New(`hstore value is not in the form "k"=>"v", "k2"=>NULL`)

// hstorePair is one parsed pair; null marks a NULL value.
type hstorePair struct {
	key, value []byte
	null       bool
}

// parseHstore reads hstore output: "k"=>"v" pairs separated by ", ",
// with \" and \\ escapes inside the quotes and NULL for a null value.
func parseHstore(b []byte) ([]hstorePair, error) {
	var pairs []hstorePair
	i := 0
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == ',') {
			i++
		}
	}
	quoted := func() ([]byte, bool) {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		i++
		var out []byte
		for i < len(b) {
			c := b[i]
			switch c {
			case '"':
				i++
				if out == nil {
					out = []byte{}
				}
				return out, true
			case '\\':
				i++
				if i >= len(b) {
					return nil, false
				}
				c = b[i]
			}
			out = append(out, c)
			i++
		}
		return nil, false
	}
	for skip(); i < len(b); skip() {
		k, ok := quoted()
		if !ok {
			return nil, errHstore
		}
		for i < len(b) && b[i] == ' ' {
			i++
		}
		if i+2 > len(b) || b[i] != '=' || b[i+1] != '>' {
			return nil, errHstore
		}
		i += 2
		for i < len(b) && b[i] == ' ' {
			i++
		}
		if i+4 <= len(b) && strings.EqualFold(string(b[i:i+4]), "NULL") {
			i += 4
			pairs = append(pairs, hstorePair{key: k, null: true})
			continue
		}
		v, ok := quoted()
		if !ok {
			return nil, errHstore
		}
		pairs = append(pairs, hstorePair{key: k, value: v})
	}
	return pairs, nil
}

// appendHstoreObject writes the pairs as a JSON object in the order of
// PgJDBC's HStoreConverter.fromString, a new HashMap(): a later pair with
// the same key replaces the value of the earlier one in its place.
func appendHstoreObject(dst []byte, pairs []hstorePair) []byte {
	var uniq []hstorePair
	seen := make(map[string]int, len(pairs))
	for _, p := range pairs {
		if j, ok := seen[string(p.key)]; ok {
			uniq[j] = p
			continue
		}
		seen[string(p.key)] = len(uniq)
		uniq = append(uniq, p)
	}
	hashes := make([]int32, len(uniq))
	for i, p := range uniq {
		hashes[i] = java.BytesHashCode(p.key)
	}
	dst = append(dst, '{')
	for n, i := range java.HashMapOrder(hashes, 16) {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, uniq[i].key)
		dst = append(dst, ':')
		if uniq[i].null {
			dst = append(dst, "null"...)
		} else {
			dst = appendJSONString(dst, uniq[i].value)
		}
	}
	return append(dst, '}')
}

// setupHstore: json mode (default): string io.debezium.data.Json holding
// {"k":"v"} (written with a Jackson generator); map mode: map<string,
// optional string>. An unchanged TOASTed hstore is {placeholder:
// placeholder} (reference §1.5).
func setupHstore(cp *colPlan, s *settings) error {
	ph := []byte(`{`)
	ph = appendJSONString(ph, s.placeholder)
	ph = append(ph, ':')
	ph = appendJSONString(ph, s.placeholder)
	ph = append(ph, '}')
	cp.toast = toastFixed
	if s.hstoreMap {
		cp.schema = fieldSchema{typ: "map", keys: `{"type":"string","optional":false}`, values: `{"type":"string","optional":true}`}
		cp.decode = decHstoreMap
		cp.fallback = val{k: kRaw, b: []byte("{}"), d: []byte("{}")}
		cp.toastVal = val{k: kRaw, b: ph, d: ph}
		return nil
	}
	cp.schema = fieldSchema{typ: "string", name: nameJSON, version: 1}
	cp.decode = decHstoreJSON
	cp.fallback = val{k: kString, b: []byte("{}")}
	cp.toastVal = val{k: kString, b: ph}
	return nil
}

func decHstoreJSON(e *Encoder, cp *colPlan, b []byte) (val, error) {
	pairs, err := parseHstore(b)
	if err != nil {
		return val{}, err
	}
	e.tmp = appendHstoreObject(e.tmp[:0], pairs)
	return val{k: kString, b: e.tmp}, nil
}

func decHstoreMap(e *Encoder, cp *colPlan, b []byte) (val, error) {
	pairs, err := parseHstore(b)
	if err != nil {
		return val{}, err
	}
	e.tmp = appendHstoreObject(e.tmp[:0], pairs)
	return val{k: kRaw, b: e.tmp, d: e.tmp}, nil
}

// pgvector.

// setupVector: vector is an array<double> io.debezium.data.DoubleVector,
// halfvec an array<float> io.debezium.data.FloatVector, both v1 with
// required elements (Vectors.fromVectorString: split at ',', then
// Double.parseDouble / Float.parseFloat).
func setupVector(cp *colPlan, s *settings) error {
	if cp.oid == pseudoHalfvec {
		cp.schema = fieldSchema{typ: "array", items: `{"type":"float","optional":false}`, name: nameFloatVector, version: 1}
		cp.bits = 32
	} else {
		cp.schema = fieldSchema{typ: "array", items: `{"type":"double","optional":false}`, name: nameDoubleVector, version: 1}
		cp.bits = 64
	}
	cp.decode = decVector
	cp.fallback = val{k: kRaw, b: []byte("[]"), d: []byte("[]")}
	return nil
}

var errVector = errors.New("vector value is not in the form [x,y,...]")

func decVector(e *Encoder, cp *colPlan, b []byte) (val, error) {
	b = trimSpace(b)
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return val{}, errVector
	}
	inner := b[1 : len(b)-1]
	js := append(e.arrJSON[:0], '[')
	hd := append(e.arrHdr[:0], '[')
	for n := 0; ; n++ {
		end := indexByte(inner, ',')
		if end < 0 {
			end = len(inner)
		}
		f, err := parseFloat(trimSpace(inner[:end]), int(cp.bits))
		if err != nil {
			e.arrJSON, e.arrHdr = js, hd
			return val{}, fmtElemErr(n, err)
		}
		if n > 0 {
			js = append(js, ',')
			hd = append(hd, ',')
		}
		js = appendJSONDouble(js, f, int(cp.bits))
		if cp.bits == 32 {
			hd = appendJavaFloat(hd, float32(f))
		} else {
			hd = appendJavaDouble(hd, f)
		}
		if end == len(inner) {
			break
		}
		inner = inner[end+1:]
	}
	js = append(js, ']')
	hd = append(hd, ']')
	e.arrJSON, e.arrHdr = js, hd
	return val{k: kRaw, b: js, d: hd}, nil
}

// setupSparsevec: struct io.debezium.data.SparseDoubleVector v1, doc
// "Sparse double vector": dimensions int16 and vector map<int16,
// double>, which JsonConverter writes as an array of [key, value] pairs
// because its keys are not strings.
func setupSparsevec(cp *colPlan, s *settings) error {
	cp.schema = fieldSchema{typ: "struct", name: nameSparseDoubleVector, version: 1, doc: "Sparse double vector",
		fields: `[{"type":"int16","optional":false,"field":"dimensions"},{"type":"map","keys":{"type":"int16","optional":false},` +
			`"values":{"type":"double","optional":false},"optional":false,"field":"vector"}]`}
	cp.decode = decSparsevec
	cp.fallback = val{k: kRaw, b: []byte(`{"dimensions":0,"vector":[]}`), d: []byte(`{"dimensions":0,"vector":[]}`)}
	return nil
}

// decSparsevec is Vectors.fromSparseVectorString: "{1:1.5,3:2}/5" into a
// HashMap<Short, Double>(n) (so the pairs come in hash order) and the
// dimensions as a short. A value it cannot split (such as the empty
// "{}/5") is null, as Debezium logs a warning and returns null.
func decSparsevec(e *Encoder, cp *colPlan, b []byte) (val, error) {
	b = trimSpace(b)
	slash := indexByte(b, '/')
	if slash < 0 || indexByte(b[slash+1:], '/') >= 0 {
		return cp.nullVal, nil
	}
	dims, err := parseInt(trimSpace(b[slash+1:]), 16)
	if err != nil {
		return val{}, err
	}
	vec := trimSpace(b[:slash])
	if len(vec) < 2 || vec[0] != '{' || vec[len(vec)-1] != '}' {
		return cp.nullVal, nil
	}
	inner := vec[1 : len(vec)-1]
	type entry struct {
		k int64
		v float64
	}
	var entries []entry
	idx := map[int64]int{}
	for len(inner) > 0 || entries == nil {
		end := indexByte(inner, ',')
		if end < 0 {
			end = len(inner)
		}
		el := inner[:end]
		colon := indexByte(el, ':')
		if colon < 0 || indexByte(el[colon+1:], ':') >= 0 {
			return cp.nullVal, nil
		}
		k, err := parseInt(trimSpace(el[:colon]), 16)
		if err != nil {
			return val{}, err
		}
		v, err := parseFloat(trimSpace(el[colon+1:]), 64)
		if err != nil {
			return val{}, err
		}
		if j, ok := idx[k]; ok {
			entries[j].v = v
		} else {
			idx[k] = len(entries)
			entries = append(entries, entry{k, v})
		}
		if end == len(inner) {
			break
		}
		inner = inner[end+1:]
	}
	hashes := make([]int32, len(entries))
	for i, en := range entries {
		hashes[i] = int32(int16(en.k)) // Short.hashCode
	}
	js := append(e.arrJSON[:0], `{"dimensions":`...)
	js = strconv.AppendInt(js, dims, 10)
	js = append(js, `,"vector":[`...)
	for n, i := range java.HashMapOrder(hashes, len(entries)) {
		if n > 0 {
			js = append(js, ',')
		}
		js = append(js, '[')
		js = strconv.AppendInt(js, entries[i].k, 10)
		js = append(js, ',')
		js = appendJSONDouble(js, entries[i].v, 64)
		js = append(js, ']')
	}
	js = append(js, "]}"...)
	e.arrJSON = js
	return val{k: kRaw, b: js, d: js}, nil
}

// Unknown types (include.unknown.datatypes=true).

// setupUnknown maps a column of a type with no mapping as Debezium does
// with include.unknown.datatypes: the bytes of its text form, written
// per binary.handling.mode.
func setupUnknown(cp *colPlan, s *settings) error {
	setupBinary(cp, s, decUnknown)
	return nil
}

func decUnknown(e *Encoder, cp *colPlan, b []byte) (val, error) {
	return e.binaryVal(cp.bin, b), nil
}
