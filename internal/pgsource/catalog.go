package pgsource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pgmotion/pgmotion/internal/change"
)

// This file reads the system catalogs on the catalog connection: a
// table's columns, types and key (for the Relations of the stream and of
// snapshots), the list of tables, and the server's version.

// catalogColumn is what the catalog says of one column.
type catalogColumn struct {
	change.Column
	generated bool
}

// loadColumns reads a table's live columns in attnum order, with the facts
// the Relation message leaves out: nullability, defaults, type names.
func (s *Source) loadColumns(ctx context.Context, relid uint32) (schema, table string, replIdent byte, cols []catalogColumn, key []string, err error) {
	id := strconv.FormatUint(uint64(relid), 10)
	res := s.meta.ExecParams(ctx, `SELECT n.nspname, c.relname, c.relreplident::text, a.attname, a.atttypid::int8::text, a.atttypmod::text,
			t.typname, a.attnotnull::text, coalesce(pg_get_expr(d.adbin, d.adrelid), ''), coalesce(col_description(c.oid, a.attnum), ''),
			(a.attgenerated <> '')::text, t.typtype::text,
			t.typbasetype::int8::text, t.typtypmod::text, coalesce(bt.typname, ''),
			coalesce(et.oid::int8::text, '0'), coalesce(et.typname, ''),
			coalesce((SELECT string_agg(e.enumlabel, E'\n' ORDER BY e.enumsortorder) FROM pg_enum e
				WHERE e.enumtypid = CASE WHEN t.typtype = 'e' THEN t.oid WHEN et.typtype = 'e' THEN et.oid END), '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		JOIN pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_type bt ON bt.oid = t.typbasetype AND t.typtype = 'd'
		LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE c.oid = $1::oid ORDER BY a.attnum`, [][]byte{[]byte(id)}, nil, nil, nil).Read()
	if res.Err != nil {
		return "", "", 0, nil, nil, fmt.Errorf("read columns of relation %d: %w", relid, res.Err)
	}
	if len(res.Rows) == 0 {
		return "", "", 0, nil, nil, fmt.Errorf("relation %d: %w", relid, errRelationGone)
	}
	for _, r := range res.Rows {
		schema, table = string(r[0]), string(r[1])
		if len(r[2]) > 0 {
			replIdent = r[2][0]
		}
		oid, _ := strconv.ParseUint(string(r[4]), 10, 32)
		mod, _ := strconv.ParseInt(string(r[5]), 10, 32)
		base, _ := strconv.ParseUint(string(r[12]), 10, 32)
		baseMod, _ := strconv.ParseInt(string(r[13]), 10, 32)
		elem, _ := strconv.ParseUint(string(r[15]), 10, 32)
		col := change.Column{
			Name: string(r[3]), TypeOID: uint32(oid), TypeMod: int32(mod), TypeName: string(r[6]),
			NotNull: string(r[7]) == "true", Default: string(r[8]), Comment: string(r[9]),
			BaseTypeOID: uint32(base), BaseTypeMod: int32(baseMod), BaseTypeName: string(r[14]),
			ElemTypeOID: uint32(elem), ElemTypeName: string(r[16]),
		}
		if len(r[11]) > 0 {
			col.TypeType = r[11][0]
		}
		if col.TypeType != 'd' {
			col.BaseTypeOID, col.BaseTypeMod = 0, 0
		}
		if len(r[17]) > 0 {
			col.EnumValues = strings.Split(string(r[17]), "\n")
		}
		cols = append(cols, catalogColumn{Column: col, generated: string(r[10]) == "true"})
	}
	res = s.meta.ExecParams(ctx, `SELECT a.attname FROM pg_index i
		CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY k.ord`, [][]byte{[]byte(id)}, nil, nil, nil).Read()
	if res.Err != nil {
		return "", "", 0, nil, nil, fmt.Errorf("read primary key of %s.%s: %w", schema, table, res.Err)
	}
	for _, r := range res.Rows {
		key = append(key, string(r[0]))
	}
	return schema, table, replIdent, cols, key, nil
}

// buildRelation makes the Relation for a table. names lists the columns
// in the order the data comes (pgoutput's, or the snapshot SELECT's);
// typeOIDs and typeMods may override the catalog with the message's view.
func (s *Source) buildRelation(relid uint32, schema, table string, replIdent byte, cols []catalogColumn, pk []string, names []string) (*change.Relation, error) {
	byName := make(map[string]*catalogColumn, len(cols))
	for i := range cols {
		byName[cols[i].Name] = &cols[i]
	}
	rel := &change.Relation{ID: relid, Namespace: schema, Name: table, ReplicaIdentity: replIdent}
	for _, n := range names {
		c, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("column %s.%s.%s is in the stream but not in the catalog (was it dropped meanwhile?)", schema, table, n)
		}
		rel.Columns = append(rel.Columns, c.Column)
	}
	key := pk
	if s.cfg.KeyColumns != nil {
		if k := s.cfg.KeyColumns(schema, table, names); len(k) > 0 {
			key = k
		}
	}
	for _, k := range key {
		idx := -1
		for i, c := range rel.Columns {
			if c.Name == k {
				idx = i
				break
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("key column %q of %s.%s is not a captured column (check message.key.columns)", k, schema, table)
		}
		rel.Key = append(rel.Key, idx)
	}
	return rel, nil
}

// selectAll returns "SELECT <every column of rel> FROM <its table>".
func selectAll(rel *change.Relation) string {
	cols := make([]string, len(rel.Columns))
	for i, c := range rel.Columns {
		cols[i] = quoteIdent(c.Name)
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteIdent(rel.Namespace) + "." + quoteIdent(rel.Name)
}

// relationFromMessage turns a RELATION message into a Relation, reading
// the catalog for what the message leaves out. The message is the truth
// for the stream: it lists the columns the tuples carry, with their types
// at this point of the WAL. The catalog is read now, and may be ahead: a
// column dropped or retyped since, or the whole table dropped, is taken
// from the message, its type looked up by OID, as nullable and without a
// default.
func (s *Source) relationFromMessage(ctx context.Context, m *RelationMsg) (*change.Relation, error) {
	_, _, _, cols, pk, err := s.loadColumns(ctx, m.ID)
	if err != nil && !errors.Is(err, errRelationGone) {
		return nil, err
	}
	byName := make(map[string]catalogColumn, len(cols))
	for _, c := range cols {
		byName[c.Name] = c
	}
	names := make([]string, len(m.Columns))
	streamCols := make([]catalogColumn, len(m.Columns))
	for i, mc := range m.Columns {
		names[i] = mc.Name
		c, ok := byName[mc.Name]
		if !ok || c.TypeOID != mc.TypeOID {
			if c, err = s.columnOfType(ctx, mc.Name, mc.TypeOID); err != nil {
				return nil, fmt.Errorf("column %s.%s.%s: %w", m.Namespace, m.Name, mc.Name, err)
			}
			s.log.Debug("column differs from the catalog; using the stream's type", "table", m.Namespace+"."+m.Name, "column", mc.Name, "type", c.TypeName)
		}
		c.TypeMod = mc.TypeMod
		streamCols[i] = c
	}
	for _, k := range pk {
		if _, ok := byName[k]; !ok || !slices.Contains(names, k) {
			pk = nil // the key changed since: the message's key flags say
			break
		}
	}
	if pk == nil {
		for _, mc := range m.Columns {
			if mc.Key {
				pk = append(pk, mc.Name)
			}
		}
	}
	return s.buildRelation(m.ID, m.Namespace, m.Name, m.ReplicaIdentity, streamCols, pk, names)
}

// errRelationGone says a relation is no longer in the catalog.
var errRelationGone = errors.New("relation is gone from the catalog")

// columnOfType describes a column from its type alone, for a column the
// catalog no longer has as the stream does.
func (s *Source) columnOfType(ctx context.Context, name string, typeOID uint32) (catalogColumn, error) {
	id := strconv.FormatUint(uint64(typeOID), 10)
	res := s.meta.ExecParams(ctx, `SELECT t.typname, t.typtype::text, t.typbasetype::int8::text, t.typtypmod::text, coalesce(bt.typname, ''),
			coalesce(et.oid::int8::text, '0'), coalesce(et.typname, ''),
			coalesce((SELECT string_agg(e.enumlabel, E'\n' ORDER BY e.enumsortorder) FROM pg_enum e
				WHERE e.enumtypid = CASE WHEN t.typtype = 'e' THEN t.oid WHEN et.typtype = 'e' THEN et.oid END), '')
		FROM pg_type t
		LEFT JOIN pg_type bt ON bt.oid = t.typbasetype AND t.typtype = 'd'
		LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
		WHERE t.oid = $1::oid`, [][]byte{[]byte(id)}, nil, nil, nil).Read()
	if res.Err != nil {
		return catalogColumn{}, fmt.Errorf("look up type %d: %w", typeOID, res.Err)
	}
	if len(res.Rows) == 0 {
		return catalogColumn{}, fmt.Errorf("type %d is gone from the catalog", typeOID)
	}
	r := res.Rows[0]
	base, _ := strconv.ParseUint(string(r[2]), 10, 32)
	baseMod, _ := strconv.ParseInt(string(r[3]), 10, 32)
	elem, _ := strconv.ParseUint(string(r[5]), 10, 32)
	col := change.Column{Name: name, TypeOID: typeOID, TypeName: string(r[0]),
		BaseTypeOID: uint32(base), BaseTypeMod: int32(baseMod), BaseTypeName: string(r[4]),
		ElemTypeOID: uint32(elem), ElemTypeName: string(r[6])}
	if len(r[1]) > 0 {
		col.TypeType = r[1][0]
	}
	if col.TypeType != 'd' {
		col.BaseTypeOID, col.BaseTypeMod = 0, 0
	}
	if len(r[7]) > 0 {
		col.EnumValues = strings.Split(string(r[7]), "\n")
	}
	return catalogColumn{Column: col}, nil
}

// relationForSnapshot builds the Relation of a table from the catalog,
// with the columns pgoutput would send (generated columns left out).
func (s *Source) relationForSnapshot(ctx context.Context, t TableName) (*change.Relation, error) {
	row, err := s.queryOne(ctx, `SELECT c.oid::int8::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, t.Schema, t.Name)
	if err != nil {
		return nil, fmt.Errorf("look up table %s: %w", t, err)
	}
	if row == nil {
		return nil, fmt.Errorf("table %s does not exist", t)
	}
	oid, _ := strconv.ParseUint(string(row[0]), 10, 32)
	schema, table, replIdent, cols, pk, err := s.loadColumns(ctx, uint32(oid))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range cols {
		if !c.generated {
			names = append(names, c.Name)
		}
	}
	return s.buildRelation(uint32(oid), schema, table, replIdent, cols, pk, names)
}

// ListTables lists the tables (ordinary and partitioned, not partitions)
// outside the system schemas, sorted, whether captured or not.
func (s *Source) ListTables(ctx context.Context) ([]TableName, error) {
	res := s.meta.ExecParams(ctx, `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
		ORDER BY 1, 2`, nil, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, fmt.Errorf("list tables: %w", res.Err)
	}
	out := make([]TableName, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = TableName{Schema: string(r[0]), Name: string(r[1])}
	}
	return out, nil
}

// ServerVersion returns server_version_num, such as 160004: the one Open
// read (checkServer), or, before Open, read now.
func (s *Source) ServerVersion(ctx context.Context) (int, error) {
	if s.serverVersion != 0 {
		return s.serverVersion, nil
	}
	row, err := s.queryOne(ctx, `SELECT current_setting('server_version_num')`)
	if err != nil {
		return 0, fmt.Errorf("read server_version_num: %w", err)
	}
	return strconv.Atoi(string(row[0]))
}
