package debezium

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pgmotion/pgmotion/internal/change"
)

// colPlan is one captured column, compiled for a relation.
type colPlan struct {
	idx     int            // position in the relation's columns and tuples
	col     *change.Column // the column, for enum labels and array elements
	oid     uint32         // the type the mapping was chosen by (a domain's base type)
	name    string         // column name
	pgType  string         // type name, for messages
	jsonKey []byte         // `"name":`
	hdrKey  []byte         // the name as Values.append writes it, with ':'
	typmod  int32
	notNull bool

	schema   fieldSchema
	decode   decodeFunc
	fallback val       // JdbcValueConverters' value for null in a NOT NULL column
	toast    toastMode // what an unchanged TOASTed value becomes
	toastVal val       // the value of toastFixed
	masked   *val      // column.mask.with.<n>.chars: the value of nulls too
	// nullVal is what a null is written as: the schema default if there
	// is one (the converter for NOT NULL columns, JsonConverter's
	// replace.null.with.default otherwise), else null or the fallback.
	nullVal  val
	hasDflt  bool
	dfltJSON []byte

	// type details the converters read
	bits      uint
	scale     int
	precision int
	varScale  bool
	frac      int
	millis    bool     // Time/Timestamp: milliseconds
	tunit     timeUnit // the unit of date, time and timestamp values
	dec       decimalMode
	bin       binaryMode
	interval  intervalMode
	// elem is the element converter of an array column.
	elem *colPlan
	// plainInt says decode is decInt, whose JSON is the text itself when
	// that is canonical (canonicalInt): appendStruct then copies it.
	plainInt bool
}

// plan is everything precomputed for one Relation value.
type plan struct {
	rel   *change.Relation
	topic string
	cols  []colPlan // captured columns in table order
	key   []int     // indexes into cols, in key order; nil for a null key
	all   []int     // 0..len(cols)-1: the row struct's fields

	keySchema []byte // {"type":"struct",...,"name":"<topic>.Key"}
	envSchema []byte // the Envelope schema
	srcTable  []byte // `,"schema":"public","table":"t","txId":`
	// estimate is an upper guess of the bytes one change needs.
	estimate int
	// cs are the schemas as Connect data, for a transformation chain
	// (chain.go); nil until first used.
	cs *connectSchemas
}

// compile builds the plan of rel.
func (e *Encoder) compile(rel *change.Relation) (*plan, error) {
	p := &plan{rel: rel, topic: e.topicName(rel)}
	var unsupported []string
	inKey := make(map[int]bool, len(rel.Key))
	for _, k := range rel.Key {
		if k < 0 || k >= len(rel.Columns) {
			return nil, fmt.Errorf("relation %s: key column index %d out of range (%d columns)", rel.QualifiedName(), k, len(rel.Columns))
		}
		inKey[k] = true
	}
	colAt := make(map[int]int, len(rel.Columns))
	for i := range rel.Columns {
		col := &rel.Columns[i]
		if !inKey[i] && e.opts.ColumnIncluded != nil && !e.opts.ColumnIncluded(rel.Namespace, rel.Name, col.Name) {
			continue // column.include.list / column.exclude.list
		}
		tm, oid, typmod, ok := resolveType(col)
		if !ok && e.s.unknown {
			tm, oid, typmod, ok = typeMapping{setup: setupUnknown}, col.TypeOID, col.TypeMod, true
		}
		if !ok {
			if inKey[i] {
				return nil, fmt.Errorf("relation %s: key column %q has type %s (oid %d), which is not supported yet",
					rel.QualifiedName(), col.Name, col.TypeName, col.TypeOID)
			}
			unsupported = append(unsupported, rel.QualifiedName()+"."+col.Name+" ("+typeLabel(col)+")")
			continue
		}
		cp := colPlan{idx: i, name: col.Name, pgType: typeLabel(col), typmod: typmod, notNull: col.NotNull, oid: oid, col: col}
		if err := tm.setup(&cp, &e.s); err != nil {
			return nil, fmt.Errorf("relation %s column %q: %w", rel.QualifiedName(), col.Name, err)
		}
		e.applyColumnOptions(&cp, rel, col)
		cp.jsonKey = appendJSONStr(nil, col.Name)
		cp.jsonKey = append(cp.jsonKey, ':')
		cp.hdrKey = appendValuesString(nil, []byte(col.Name))
		cp.hdrKey = append(cp.hdrKey, ':')
		if v, ok := e.parseDefault(&cp, columnDefaultRule(tm, col.TypeType), col.Default); ok {
			cp.hasDflt = true
			cp.nullVal = v
			cp.dfltJSON = v.appendJSON(nil)
		} else if cp.notNull {
			cp.nullVal = cp.fallback
		}
		if cp.masked != nil {
			cp.nullVal = *cp.masked // the mask converter sees nulls too
		}
		colAt[i] = len(p.cols)
		p.all = append(p.all, len(p.cols))
		p.cols = append(p.cols, cp)
	}
	if len(unsupported) > 0 {
		e.log.Warn("columns of unsupported types are left out of events, as Debezium does; set include.unknown.datatypes=true to get their text as bytes",
			"table", rel.QualifiedName(), "columns", strings.Join(unsupported, ", "))
	}
	for _, k := range rel.Key {
		p.key = append(p.key, colAt[k])
	}

	// Schemas.
	var fields []byte
	for i := range p.cols {
		if i > 0 {
			fields = append(fields, ',')
		}
		fields = e.appendFieldSchema(fields, &p.cols[i])
	}
	valueStruct := []byte(`{"type":"struct","fields":[`)
	valueStruct = append(valueStruct, fields...)
	valueStruct = append(valueStruct, `],"optional":true,"name":`...)
	valueStruct = appendJSONStr(valueStruct, p.topic+".Value")

	env := []byte(`{"type":"struct","fields":[`)
	env = append(env, valueStruct...)
	env = append(env, `,"field":"before"},`...)
	env = append(env, valueStruct...)
	env = append(env, `,"field":"after"},`...)
	env = append(env, sourceSchema...)
	env = append(env, ',')
	env = append(env, transactionSchema...)
	env = append(env, `,{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},`+
		`{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"}],"optional":false,"name":`...)
	env = appendJSONStr(env, p.topic+".Envelope")
	env = append(env, `,"version":2}`...)
	p.envSchema = env

	if len(p.key) > 0 {
		ks := []byte(`{"type":"struct","fields":[`)
		for i, k := range p.key {
			if i > 0 {
				ks = append(ks, ',')
			}
			ks = e.appendFieldSchema(ks, &p.cols[k])
		}
		ks = append(ks, `],"optional":false,"name":`...)
		ks = appendJSONStr(ks, p.topic+".Key")
		ks = append(ks, '}')
		p.keySchema = ks
	}

	src := []byte(`,"schema":`)
	src = appendJSONStr(src, rel.Namespace)
	src = append(src, `,"table":`...)
	src = appendJSONStr(src, rel.Name)
	src = append(src, `,"txId":`...)
	p.srcTable = src

	p.estimate = 2*len(p.envSchema) + 2*len(p.keySchema) + 1024 + 256*len(p.cols)
	return p, nil
}

func typeLabel(col *change.Column) string {
	if col.TypeName != "" {
		return col.TypeName
	}
	return "oid " + strconv.FormatUint(uint64(col.TypeOID), 10)
}

// appendFieldSchema appends the schema of one struct member in
// JsonConverter's key order: type, fields, optional, name, version, doc,
// parameters, default, field.
func (e *Encoder) appendFieldSchema(dst []byte, cp *colPlan) []byte {
	fs := &cp.schema
	dst = append(dst, `{"type":"`...)
	dst = append(dst, fs.typ...)
	dst = append(dst, '"')
	dst = appendSchemaChildren(dst, fs)
	if cp.notNull && !fs.optional {
		dst = append(dst, `,"optional":false`...)
	} else {
		dst = append(dst, `,"optional":true`...)
	}
	if fs.name != "" {
		dst = append(dst, `,"name":`...)
		dst = appendJSONStr(dst, fs.name)
	}
	if fs.version != 0 {
		dst = append(dst, `,"version":`...)
		dst = strconv.AppendInt(dst, int64(fs.version), 10)
	}
	// Only the logical type's own doc: Debezium's PostgreSQL connector
	// never reads column comments (no ColumnEditor.comment call in
	// PostgresConnection or PgOutputMessageDecoder), so
	// include.schema.comments changes nothing.
	if fs.doc != "" {
		dst = append(dst, `,"doc":`...)
		dst = appendJSONStr(dst, fs.doc)
	}
	dst = appendParams(dst, fs.params)
	if cp.hasDflt {
		dst = append(dst, `,"default":`...)
		dst = append(dst, cp.dfltJSON...)
	}
	dst = append(dst, `,"field":`...)
	dst = appendJSONStr(dst, cp.name)
	return append(dst, '}')
}

// The Source and transaction block schemas of Debezium 3.1-3.4.
const (
	sourceSchema = `{"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},` +
		`{"type":"string","optional":false,"field":"connector"},{"type":"string","optional":false,"field":"name"},` +
		`{"type":"int64","optional":false,"field":"ts_ms"},{"type":"string","optional":true,"name":"io.debezium.data.Enum",` +
		`"version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},` +
		`"default":"false","field":"snapshot"},{"type":"string","optional":false,"field":"db"},` +
		`{"type":"string","optional":true,"field":"sequence"},{"type":"int64","optional":true,"field":"ts_us"},` +
		`{"type":"int64","optional":true,"field":"ts_ns"},{"type":"string","optional":false,"field":"schema"},` +
		`{"type":"string","optional":false,"field":"table"},{"type":"int64","optional":true,"field":"txId"},` +
		`{"type":"int64","optional":true,"field":"lsn"},{"type":"int64","optional":true,"field":"xmin"}],` +
		`"optional":false,"name":"io.debezium.connector.postgresql.Source","version":1,"field":"source"}`
	transactionSchema = `{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},` +
		`{"type":"int64","optional":false,"field":"total_order"},{"type":"int64","optional":false,"field":"data_collection_order"}],` +
		`"optional":true,"name":"event.block","version":1,"field":"transaction"}`
)

// topicName is SchemaTopicNamingStrategy.dataChangeTopic: prefix, schema
// and table joined by the delimiter (blank parts left out), then
// sanitized: every UTF-16 unit outside [A-Za-z0-9._-] becomes '_', the
// name is cut at 249 units, and "." or ".." become "_" or "__".
func (e *Encoder) topicName(rel *change.Relation) string {
	var parts []string
	for _, s := range []string{e.opts.TopicPrefix, rel.Namespace, rel.Name} {
		if strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	return sanitizeTopic(strings.Join(parts, e.s.delimiter))
}

const maxTopicLength = 249

func sanitizeTopic(name string) string {
	var b strings.Builder
	units := 0
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if c == '.' || c == '_' || c == '-' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
				b.WriteByte(c)
			} else {
				b.WriteByte('_')
			}
			units++
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(name[i:])
		b.WriteByte('_')
		units++
		if r > 0xFFFF {
			b.WriteByte('_') // a surrogate pair in Java
			units++
		}
		i += n
	}
	s := b.String()
	switch {
	case units > maxTopicLength:
		s = s[:maxTopicLength]
	case s == ".":
		s = "_"
	case s == "..":
		s = "__"
	}
	return s
}

// appendParams appends a schema's "parameters" object, if it has any.
func appendParams(dst []byte, params [][2]string) []byte {
	if len(params) == 0 {
		return dst
	}
	dst = append(dst, `,"parameters":{`...)
	for i, kv := range params {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONStr(dst, kv[0])
		dst = append(dst, ':')
		dst = appendJSONStr(dst, kv[1])
	}
	return append(dst, '}')
}
