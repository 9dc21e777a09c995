package options

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pgmotion/pgmotion/internal/java"
)

// SnapshotMode is the effective snapshot.mode (legacy values and accepted
// but unimplemented values already mapped).
type SnapshotMode string

// The snapshot modes pgmotion implements.
const (
	SnapshotInitial     SnapshotMode = "initial"
	SnapshotAlways      SnapshotMode = "always"
	SnapshotNoData      SnapshotMode = "no_data"
	SnapshotInitialOnly SnapshotMode = "initial_only"
	// SnapshotWhenNeeded and SnapshotConfigurationBased are resolved by
	// the task, which knows whether the stored position can be served.
	SnapshotWhenNeeded         SnapshotMode = "when_needed"
	SnapshotConfigurationBased SnapshotMode = "configuration_based"
)

// AutocreateMode is publication.autocreate.mode.
type AutocreateMode string

// The publication.autocreate.mode values.
const (
	AutocreateAllTables AutocreateMode = "all_tables"
	AutocreateFiltered  AutocreateMode = "filtered"
	AutocreateDisabled  AutocreateMode = "disabled"
	AutocreateNoTables  AutocreateMode = "no_tables"
)

// DecimalHandling is decimal.handling.mode.
type DecimalHandling string

// The decimal.handling.mode values.
const (
	DecimalPrecise DecimalHandling = "precise"
	DecimalString  DecimalHandling = "string"
	DecimalDouble  DecimalHandling = "double"
)

// BinaryHandling is binary.handling.mode.
type BinaryHandling string

// The binary.handling.mode values.
const (
	BinaryBytes         BinaryHandling = "bytes"
	BinaryBase64        BinaryHandling = "base64"
	BinaryBase64URLSafe BinaryHandling = "base64-url-safe"
	BinaryHex           BinaryHandling = "hex"
)

// TimePrecision is time.precision.mode.
type TimePrecision string

// The time.precision.mode values (Debezium's main-branch "structured" mode
// is not one of them).
const (
	TimeAdaptive                 TimePrecision = "adaptive"
	TimeAdaptiveTimeMicroseconds TimePrecision = "adaptive_time_microseconds"
	TimeConnect                  TimePrecision = "connect"
	TimeIsoString                TimePrecision = "isostring"
	TimeMicroseconds             TimePrecision = "microseconds"
	TimeNanoseconds              TimePrecision = "nanoseconds"
)

// HstoreHandling is hstore.handling.mode.
type HstoreHandling string

// The hstore.handling.mode values.
const (
	HstoreJSON HstoreHandling = "json"
	HstoreMap  HstoreHandling = "map"
)

// IntervalHandling is interval.handling.mode.
type IntervalHandling string

// The interval.handling.mode values.
const (
	IntervalNumeric IntervalHandling = "numeric"
	IntervalString  IntervalHandling = "string"
)

// SkipNone is the skipped.operations value that skips nothing.
const SkipNone = "none"

// OpSet is a set of Debezium operation letters (c, u, d, t, r).
type OpSet map[string]bool

// Has reports whether op is in the set.
func (s OpSet) Has(op string) bool { return s[op] }

// KeyColumns is one entry of message.key.columns: the columns that key the
// tables matched by Table.
type KeyColumns struct {
	// Table is the table expression as written (matched against
	// schema.table).
	Table   string
	Columns []string
	// res holds one anchored, case-insensitive expression per column:
	// Debezium joins "<table regex>.<column>" and matches it against
	// schema.table.column.
	res []*regexp.Regexp
}

// parseKeyColumns parses message.key.columns.
func parseKeyColumns(v string) ([]KeyColumns, error) {
	var out []KeyColumns
	for _, entry := range java.Split(v, ";") {
		m := msgKeyColumnsRE.FindStringSubmatch(entry)
		if m == nil {
			return nil, fmt.Errorf("%s has an invalid format (expecting '%s')", entry, msgKeyColumnsPattern)
		}
		kc := KeyColumns{Table: m[1]}
		if _, err := regexp.Compile(m[1]); err != nil {
			return nil, fmt.Errorf("table expression %q of %s: %w", m[1], PropMessageKeyColumns, err)
		}
		for _, col := range strings.Split(m[2], ",") {
			col = strings.TrimSpace(col)
			re, err := CompileAnchored(m[1] + "." + col)
			if err != nil {
				return nil, fmt.Errorf("column %q of %s: %w", col, PropMessageKeyColumns, err)
			}
			kc.Columns = append(kc.Columns, col)
			kc.res = append(kc.res, re)
		}
		out = append(out, kc)
	}
	return out, nil
}

// PostgresConfig is the typed configuration of the PostgreSQL connector, as
// the rest of pgmotion uses it. Build it with ParsePostgres. It is immutable
// after parsing and safe for concurrent use.
type PostgresConfig struct {
	// Name is the connector name.
	Name     string
	Hostname string
	Port     int
	User     string
	Password Secret
	DBName   string
	// SSLMode is database.sslmode (libpq's names, which pgx shares).
	SSLMode     string
	SSLCert     string
	SSLKey      string
	SSLRootCert string
	SSLPassword Secret

	SlotName              string
	SlotDropOnStop        bool
	PublicationName       string
	PublicationAutocreate AutocreateMode
	TopicPrefix           string
	TopicDelimiter        string

	// Filters: anchored, case-insensitive expressions, matched against the
	// schema name and against "schema.table". At most one of each
	// include/exclude pair is set.
	SchemaInclude, SchemaExclude []*regexp.Regexp
	TableInclude, TableExclude   []*regexp.Regexp
	IgnoreBuiltinTables          bool
	MessageKeyColumns            []KeyColumns

	// TableIncludeList holds the entries of table.include.list as typed,
	// one per expression of TableInclude, for messages.
	TableIncludeList []string

	SnapshotMode         SnapshotMode
	SnapshotFetchSize    int
	DecimalHandling      DecimalHandling
	BinaryHandling       BinaryHandling
	TimePrecision        TimePrecision
	TombstonesOnDelete   bool
	SkippedOps           OpSet
	StatusUpdateInterval time.Duration
	ExtendedHeaders      bool

	// KeyConverter and ValueConverter are the converter classes set on the
	// connector, "" to use the worker's.
	KeyConverter, ValueConverter string
	KeySchemas, ValueSchemas     bool

	// TopicCreation reports whether topic.creation.* is configured; then
	// TopicPartitions and TopicReplication hold the default group's
	// settings (-1 = the broker's default).
	TopicCreation    bool
	TopicPartitions  int32
	TopicReplication int16

	// Warnings from parsing; they never contain secrets.
	Warnings []string
	// Config is the full parsed configuration (transforms, pass-through
	// properties, accepted options).
	Config *Config
}

// ParsePostgres validates a PostgreSQL connector configuration (the "config"
// map of a Kafka Connect request) and returns its typed form. An invalid
// configuration yields a *ValidationError listing every problem, in Kafka
// Connect's 400 wording.
func ParsePostgres(raw map[string]string) (*PostgresConfig, error) {
	c, err := Postgres.Parse(raw)
	if err != nil {
		return nil, err
	}
	return newPostgresConfig(c)
}

func newPostgresConfig(c *Config) (*PostgresConfig, error) {
	p := &PostgresConfig{
		Name:                  c.Str(PropName),
		Hostname:              c.Str(PropHostname),
		Port:                  c.Int(PropPort),
		User:                  c.Str(PropUser),
		Password:              c.Password(PropPassword),
		DBName:                c.Str(PropDBName),
		SSLMode:               c.Str(PropSSLMode),
		SSLCert:               c.Str(PropSSLCert),
		SSLKey:                c.Str(PropSSLKey),
		SSLRootCert:           c.Str(PropSSLRootCert),
		SSLPassword:           c.Password(PropSSLPassword),
		SlotName:              c.Str(PropSlotName),
		SlotDropOnStop:        c.Bool(PropSlotDropOnStop),
		PublicationName:       c.Str(PropPublicationName),
		PublicationAutocreate: AutocreateMode(c.Str(PropPublicationAutocreate)),
		TopicPrefix:           c.Str(PropTopicPrefix),
		TopicDelimiter:        c.Str(PropTopicDelimiter),
		IgnoreBuiltinTables:   c.Bool(PropTableIgnoreBuiltin),
		SnapshotMode:          SnapshotMode(c.Str(PropSnapshotMode)),
		SnapshotFetchSize:     c.Int(PropSnapshotFetchSize),
		DecimalHandling:       DecimalHandling(c.Str(PropDecimalHandling)),
		BinaryHandling:        BinaryHandling(c.Str(PropBinaryHandling)),
		TimePrecision:         TimePrecision(c.Str(PropTimePrecision)),
		TombstonesOnDelete:    c.Bool(PropTombstonesOnDelete),
		StatusUpdateInterval:  c.Duration(PropStatusUpdateInterval),
		ExtendedHeaders:       c.Bool(PropExtendedHeaders),
		KeyConverter:          c.Str(PropKeyConverter),
		ValueConverter:        c.Str(PropValueConverter),
		KeySchemas:            c.Bool(PropKeySchemasEnable),
		ValueSchemas:          c.Bool(PropValueSchemasEnable),
		Warnings:              c.Warnings(),
		Config:                c,
	}
	var err error
	for _, l := range []struct {
		prop string
		dst  *[]*regexp.Regexp
	}{
		{PropSchemaInclude, &p.SchemaInclude}, {PropSchemaExclude, &p.SchemaExclude},
		{PropTableInclude, &p.TableInclude}, {PropTableExclude, &p.TableExclude},
	} {
		if *l.dst, err = compileRegexList(c.values[l.prop]); err != nil {
			return nil, fmt.Errorf("%s: %w", l.prop, err) // unreachable: validated
		}
	}
	p.TableIncludeList = SplitRegexList(c.values[PropTableInclude])
	if c.IsSet(PropMessageKeyColumns) {
		if p.MessageKeyColumns, err = parseKeyColumns(c.Str(PropMessageKeyColumns)); err != nil {
			return nil, err // unreachable: validated
		}
	}
	p.SkippedOps = OpSet{}
	if ops := strings.TrimSpace(c.values[PropSkippedOperations]); ops != SkipNone {
		for _, op := range java.Split(ops, ",") {
			if op = strings.TrimSpace(op); op != SkipNone && op != "" {
				p.SkippedOps[op] = true
			}
		}
	}
	if c.IsSet(PropTopicPartitions) || c.IsSet(PropTopicReplication) {
		p.TopicCreation = true
		p.TopicPartitions = int32(c.Int(PropTopicPartitions))
		p.TopicReplication = int16(c.Int(PropTopicReplication))
	}
	return p, nil
}

// matchAny reports whether any expression matches s.
func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

var builtinSchemas = map[string]bool{"pg_catalog": true, "information_schema": true}

// TableIncluded applies the schema and table filters the way Debezium's
// Selectors do: the schema filter (include list, else exclude list) and the
// table filter (on "schema.table"), plus table.ignore.builtin.
func (p *PostgresConfig) TableIncluded(schema, table string) bool {
	if p.IgnoreBuiltinTables {
		if builtinSchemas[strings.ToLower(schema)] || strings.HasPrefix(schema, "pg_temp") || strings.EqualFold(table, "spatial_ref_sys") {
			return false
		}
	}
	switch {
	case len(p.SchemaInclude) > 0 && !matchAny(p.SchemaInclude, schema):
		return false
	case len(p.SchemaInclude) == 0 && len(p.SchemaExclude) > 0 && matchAny(p.SchemaExclude, schema):
		return false
	}
	full := schema + "." + table
	switch {
	case len(p.TableInclude) > 0:
		return matchAny(p.TableInclude, full)
	case len(p.TableExclude) > 0:
		return !matchAny(p.TableExclude, full)
	}
	return true
}

// KeyColumnsFor returns the columns message.key.columns assigns to a table,
// in Debezium's order (per configured column, then table column order), or
// nil when the table is keyed by its primary key.
func (p *PostgresConfig) KeyColumnsFor(schema, table string, columns []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, kc := range p.MessageKeyColumns {
		for _, re := range kc.res {
			for _, col := range columns {
				if !seen[col] && re.MatchString(schema+"."+table+"."+col) {
					seen[col] = true
					out = append(out, col)
				}
			}
		}
	}
	return out
}

// ConnString returns a keyword/value connection string for pgx
// (pgconn.ParseConfig) with the password, wrapped so that it cannot be
// printed by accident; call Reveal to pass it on. replication adds
// replication=database, as logical replication needs.
func (p *PostgresConfig) ConnString(replication bool) Secret {
	return NewSecret(p.connString(replication, false))
}

// RedactedConnString is ConnString with passwords replaced by "xxxxx", for
// logs and error messages.
func (p *PostgresConfig) RedactedConnString(replication bool) string {
	return p.connString(replication, true)
}

func (p *PostgresConfig) connString(replication, redact bool) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+quoteConnValue(v))
		}
	}
	secret := func(k string, s Secret) {
		if !s.IsEmpty() {
			v := s.Reveal()
			if redact {
				v = "xxxxx"
			}
			add(k, v)
		}
	}
	add("host", p.Hostname)
	add("port", strconv.Itoa(p.Port))
	add("user", p.User)
	secret("password", p.Password)
	add("dbname", p.DBName)
	add("sslmode", p.SSLMode)
	add("sslcert", p.SSLCert)
	add("sslkey", p.SSLKey)
	add("sslrootcert", p.SSLRootCert)
	secret("sslpassword", p.SSLPassword)
	add("application_name", "pgmotion")
	if replication {
		add("replication", "database")
	}
	return strings.Join(parts, " ")
}

// quoteConnValue quotes a keyword/value connection string value: single
// quotes, with backslash and quote escaped.
func quoteConnValue(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(v) + "'"
}
