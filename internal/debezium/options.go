package debezium

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/options"
)

// DebeziumVersion is the Debezium release whose wire format the encoder
// reproduces, and the default source.version.
const DebeziumVersion = "3.4.0.Final"

// The option values, as internal/options declares them, in the string form
// Options holds.
const (
	// hstore.handling.mode
	HstoreJSON = string(options.HstoreJSON)
	HstoreMap  = string(options.HstoreMap)
	// interval.handling.mode
	IntervalNumeric = string(options.IntervalNumeric)
	IntervalString  = string(options.IntervalString)
	// decimal.handling.mode
	DecimalPrecise = string(options.DecimalPrecise)
	DecimalDouble  = string(options.DecimalDouble)
	DecimalString  = string(options.DecimalString)
	// binary.handling.mode
	BinaryBytes         = string(options.BinaryBytes)
	BinaryBase64        = string(options.BinaryBase64)
	BinaryBase64URLSafe = string(options.BinaryBase64URLSafe)
	BinaryHex           = string(options.BinaryHex)
	// time.precision.mode (reference §3)
	TimeAdaptive                 = string(options.TimeAdaptive)
	TimeAdaptiveTimeMicroseconds = string(options.TimeAdaptiveTimeMicroseconds)
	TimeConnect                  = string(options.TimeConnect)
	TimeIsoString                = string(options.TimeIsoString)
	TimeMicroseconds             = string(options.TimeMicroseconds)
	TimeNanoseconds              = string(options.TimeNanoseconds)
)

// The defaults of the options the encoder reads, from their declarations
// in internal/options.
var (
	// DefaultMoneyFractionDigits is money.fraction.digits' default.
	DefaultMoneyFractionDigits = declaredInt(options.PropMoneyFractionDigits)
	// DefaultUnavailablePlaceholder is unavailable.value.placeholder's
	// default: the value written for an unchanged TOASTed column.
	DefaultUnavailablePlaceholder = declared(options.PropUnavailablePlaceholder)
	// DefaultTransactionTopic is topic.transaction's default.
	DefaultTransactionTopic = declared(options.PropTopicTransaction)

	defaultTopicDelimiter  = declared(options.PropTopicDelimiter)
	defaultHeartbeatPrefix = declared(options.PropTopicHeartbeatPrefix)
)

// declared returns the declared default of a PostgreSQL connector option.
func declared(prop string) string { return options.Postgres.Default(prop) }

func declaredInt(prop string) int {
	n, err := strconv.Atoi(declared(prop))
	if err != nil {
		panic(fmt.Sprintf("debezium: the default of %s is not a number", prop)) // a declaration error, caught by every test
	}
	return n
}

func declaredBool(prop string) bool { return strings.EqualFold(declared(prop), "true") }

// Options configure an Encoder. Start from DefaultOptions: the zero value
// turns off schemas, tombstones and extended headers. An empty string
// field takes its documented default.
type Options struct {
	// ConnectorName is the Kafka Connect connector name ("name"). Debezium
	// 3.4 does not write it into records: the connectorName header carries
	// the plugin name, "postgresql".
	ConnectorName string
	// TopicPrefix is topic.prefix: the first part of every topic, schema
	// name and source.name. Required.
	TopicPrefix string
	// Database is database.dbname, written as source.db.
	Database string
	// DecimalHandling is decimal.handling.mode: precise (default), double
	// or string.
	DecimalHandling string
	// BinaryHandling is binary.handling.mode: bytes (default), base64,
	// base64-url-safe or hex.
	BinaryHandling string
	// IntervalHandling is interval.handling.mode: numeric (default,
	// io.debezium.time.MicroDuration) or string (io.debezium.time.Interval).
	IntervalHandling string
	// MoneyFractionDigits is money.fraction.digits: the scale of money
	// columns in precise mode. DefaultOptions sets 2.
	MoneyFractionDigits int
	// TimePrecision is time.precision.mode: adaptive (default),
	// adaptive_time_microseconds, connect, isostring, microseconds or
	// nanoseconds. It changes date, time and timestamp columns; timetz,
	// timestamptz and interval are the same in every mode.
	TimePrecision string
	// HstoreHandling is hstore.handling.mode: json (default, a JSON
	// string) or map (map<string, optional string>).
	HstoreHandling string
	// IncludeUnknownDatatypes is include.unknown.datatypes: columns of
	// types with no mapping are written as their text's bytes (per
	// BinaryHandling) instead of being left out with a warning.
	IncludeUnknownDatatypes bool
	// ColumnIncluded is column.include.list / column.exclude.list: it
	// reports whether the column schema.table.column goes into events.
	// nil includes every column; key columns are always included.
	ColumnIncluded func(schema, table, column string) bool
	// ColumnMasks are the column.mask.with.<n>.chars options, and
	// ColumnTruncates the column.truncate.to.<n>.chars options: Match is
	// called with schema.table.column. They apply to string columns.
	ColumnMasks, ColumnTruncates []ColumnChars
	// ColumnHashes are the column.mask.hash[.v2].<algorithm>.with.salt.<salt>
	// options.
	ColumnHashes []ColumnHash
	// PropagateSourceType is column.propagate.source.type (called with
	// schema.table.column) and PropagateDataType is
	// datatype.propagate.source.type (called with the type name): a
	// matching column's schema gets the __debezium.source.column.type,
	// .length and .scale parameters.
	PropagateSourceType func(column string) bool
	PropagateDataType   func(typeName string) bool
	// KeySchemas and ValueSchemas are key.converter.schemas.enable and
	// value.converter.schemas.enable.
	KeySchemas, ValueSchemas bool
	// Transforms is the connector's transformation chain, nil for none.
	// With one, records are built as Connect data, run through the chain
	// and written by the JsonConverter last, in Kafka Connect's order
	// (chain.go).
	Transforms Chain
	// TombstonesOnDelete is tombstones.on.delete.
	TombstonesOnDelete bool
	// Skipped is skipped.operations: records of these operations are left
	// out. Only c, u, d and t may be listed.
	Skipped map[change.Op]bool
	// ExtendedHeaders is extended.headers.enabled (Debezium 3.3+).
	ExtendedHeaders bool
	// TaskID is the task number written in __debezium.context.taskId
	// ("0" by default; PostgreSQL connectors have one task).
	TaskID string
	// RunID is written in __debezium.context.runId (added in Debezium
	// 3.4): an identifier of this run of the task. Empty means a new
	// UUIDv7, as Debezium makes one per task start.
	RunID string
	// TopicDelimiter is topic.delimiter ("." by default).
	TopicDelimiter string
	// Version is written as source.version (DebeziumVersion by default).
	Version string
	// UnavailablePlaceholder is unavailable.value.placeholder
	// (DefaultUnavailablePlaceholder when empty); a "hex:" prefix gives the
	// bytes in hexadecimal.
	UnavailablePlaceholder string
	// MessagePrefixInclude and MessagePrefixExclude are
	// message.prefix.include.list and message.prefix.exclude.list, compiled
	// anchored (options.CompileAnchored): a logical decoding message is
	// emitted when its prefix matches an include pattern (or there are
	// none) and no exclude pattern.
	MessagePrefixInclude, MessagePrefixExclude []*regexp.Regexp
	// OutboxMessagePrefix, when set (pgmotion.outbox.source=message), turns
	// the logical decoding messages of this prefix into outbox rows: a
	// create event whose row holds the members of the JSON object the
	// message carries, for the outbox EventRouter (message.go).
	OutboxMessagePrefix string
	// DDLMessagePrefix, when set (pgmotion.ddl.capture=true), turns the
	// logical decoding messages of this prefix, which pgmotion's DDL
	// capture event trigger writes, into DDL events on
	// <topic.prefix>.ddl (ddl.go). They are not subject to the message
	// prefix lists.
	DDLMessagePrefix string
	// TransactionMetadata is provide.transaction.metadata: BEGIN and END
	// records on TransactionTopic and a transaction block in each streamed
	// event (txmeta.go).
	TransactionMetadata bool
	// TransactionTopic is topic.transaction (DefaultTransactionTopic when
	// empty): the topic is <topic.prefix><topic.delimiter><topic.transaction>.
	TransactionTopic string
}

// DefaultOptions returns Debezium's defaults, as internal/options declares
// them; TopicPrefix still has to be set.
func DefaultOptions() Options {
	skipped := map[change.Op]bool{}
	for _, op := range strings.Split(declared(options.PropSkippedOperations), ",") {
		if op = strings.TrimSpace(op); len(op) == 1 {
			skipped[change.Op(op[0])] = true
		}
	}
	return Options{
		DecimalHandling:        declared(options.PropDecimalHandling),
		BinaryHandling:         declared(options.PropBinaryHandling),
		TimePrecision:          declared(options.PropTimePrecision),
		IntervalHandling:       declared(options.PropIntervalHandling),
		MoneyFractionDigits:    DefaultMoneyFractionDigits,
		HstoreHandling:         declared(options.PropHstoreHandling),
		KeySchemas:             declaredBool(options.PropKeySchemasEnable),
		ValueSchemas:           declaredBool(options.PropValueSchemasEnable),
		TombstonesOnDelete:     declaredBool(options.PropTombstonesOnDelete),
		Skipped:                skipped,
		ExtendedHeaders:        declaredBool(options.PropExtendedHeaders),
		TaskID:                 defaultTaskID,
		TopicDelimiter:         defaultTopicDelimiter,
		Version:                DebeziumVersion,
		UnavailablePlaceholder: DefaultUnavailablePlaceholder,
	}
}

// defaultTaskID is the task number of a PostgreSQL connector, which has
// one task.
const defaultTaskID = "0"

type decimalMode uint8

const (
	decPrecise decimalMode = iota
	decDouble
	decStringMode
)

// ColumnChars is one column.mask.with.<n>.chars or
// column.truncate.to.<n>.chars option.
type ColumnChars struct {
	Chars int
	Match func(column string) bool
}

// ColumnHash is one column.mask.hash[.v2].<algorithm>.with.salt.<salt>
// option: Algorithm is a Java MessageDigest name (MD5, SHA-1, SHA-224,
// SHA-256, SHA-384, SHA-512, SHA-512/224, SHA-512/256, SHA3-224,
// SHA3-256, SHA3-384, SHA3-512), V2 selects the v2 byte strategy.
type ColumnHash struct {
	Algorithm string
	Salt      []byte
	V2        bool
	Match     func(column string) bool
	newHash   func() hash.Hash
}

// hashAlgorithms are the MessageDigest names the hash masks support.
var hashAlgorithms = map[string]func() hash.Hash{
	"MD5": md5.New, "SHA-1": sha1.New, "SHA-224": sha256.New224, "SHA-256": sha256.New,
	"SHA-384": sha512.New384, "SHA-512": sha512.New, "SHA-512/224": sha512.New512_224, "SHA-512/256": sha512.New512_256,
	"SHA3-224": func() hash.Hash { return sha3.New224() }, "SHA3-256": func() hash.Hash { return sha3.New256() },
	"SHA3-384": func() hash.Hash { return sha3.New384() }, "SHA3-512": func() hash.Hash { return sha3.New512() },
}

type binaryMode uint8

const (
	binBytes binaryMode = iota
	binBase64
	binBase64URL
	binHex
)

// settings is the validated, parsed form of Options.
type settings struct {
	dec          decimalMode
	bin          binaryMode
	interval     intervalMode
	time         timeMode
	hstoreMap    bool
	unknown      bool
	moneyDigits  int
	placeholder  []byte // unavailable.value.placeholder as bytes
	runID        string
	version      string
	delimiter    string
	taskID       string
	skipped      [256]bool
	keySchemas   bool
	valueSchemas bool
	tombstones   bool
	extHeaders   bool
}

// The encoder's modes for the values of the enumerated options.
var (
	decimalModes  = map[string]decimalMode{DecimalPrecise: decPrecise, DecimalDouble: decDouble, DecimalString: decStringMode}
	binaryModes   = map[string]binaryMode{BinaryBytes: binBytes, BinaryBase64: binBase64, BinaryBase64URLSafe: binBase64URL, BinaryHex: binHex}
	intervalModes = map[string]intervalMode{IntervalNumeric: intervalNumeric, IntervalString: intervalString}
	timeModes     = map[string]timeMode{TimeAdaptive: timeAdaptive, TimeAdaptiveTimeMicroseconds: timeAdaptiveMicros, TimeConnect: timeConnect,
		TimeIsoString: timeISO, TimeMicroseconds: timeMicros, TimeNanoseconds: timeNanos}
	hstoreModes = map[string]bool{HstoreJSON: false, HstoreMap: true}
)

// modeOf returns the mode of an enumerated option's value; "" stands for
// the declared default. The values were checked by internal/options when
// they come from a connector configuration; one it does not declare comes
// from a caller that built Options by hand.
func modeOf[M any](prop, v string, modes map[string]M) (M, error) {
	if v == "" {
		v = declared(prop)
	}
	m, ok := modes[v]
	if !ok {
		f, _ := options.Postgres.Field(prop)
		return m, fmt.Errorf("%s: %q is not one of %s", prop, v, strings.Join(f.AllowedValues(), ", "))
	}
	return m, nil
}

// validate checks the options and fills in defaults.
func (o *Options) validate() (settings, error) {
	var s settings
	if o.TopicPrefix == "" {
		return s, fmt.Errorf("%s is required: set it to the logical name of the database server, such as dbserver1", options.PropTopicPrefix)
	}
	var err error
	if s.dec, err = modeOf(options.PropDecimalHandling, o.DecimalHandling, decimalModes); err != nil {
		return s, err
	}
	if s.bin, err = modeOf(options.PropBinaryHandling, o.BinaryHandling, binaryModes); err != nil {
		return s, err
	}
	if s.interval, err = modeOf(options.PropIntervalHandling, o.IntervalHandling, intervalModes); err != nil {
		return s, err
	}
	// money.fraction.digits is a SHORT in the spec; this bound is the
	// encoder's own.
	if o.MoneyFractionDigits < 0 || o.MoneyFractionDigits > 1000 {
		return s, fmt.Errorf("%s: %d is not between 0 and 1000", options.PropMoneyFractionDigits, o.MoneyFractionDigits)
	}
	s.moneyDigits = o.MoneyFractionDigits
	if s.time, err = modeOf(options.PropTimePrecision, o.TimePrecision, timeModes); err != nil {
		return s, err
	}
	if s.hstoreMap, err = modeOf(options.PropHstoreHandling, o.HstoreHandling, hstoreModes); err != nil {
		return s, err
	}
	for _, m := range append(append([]ColumnChars(nil), o.ColumnMasks...), o.ColumnTruncates...) {
		if m.Chars < 0 || m.Match == nil {
			return s, fmt.Errorf("column mask or truncate option with %d chars and no column pattern", m.Chars)
		}
	}
	o.ColumnHashes = append([]ColumnHash(nil), o.ColumnHashes...) // filled in below
	for i := range o.ColumnHashes {
		h := &o.ColumnHashes[i]
		nh, ok := hashAlgorithms[strings.ToUpper(h.Algorithm)]
		if !ok || h.Match == nil {
			return s, fmt.Errorf("column.mask.hash: %q is not a supported MessageDigest algorithm; use MD5, SHA-1, SHA-256, SHA-384, SHA-512 or SHA3-256", h.Algorithm)
		}
		h.newHash = nh
	}
	s.unknown = o.IncludeUnknownDatatypes
	for op, on := range o.Skipped {
		switch op {
		case change.OpCreate, change.OpUpdate, change.OpDelete, change.OpTruncate:
			s.skipped[op] = on
		default:
			// The spec also allows r, which the encoder cannot skip.
			return s, fmt.Errorf("%s: %q is not one of c, u, d, t", options.PropSkippedOperations, op.String())
		}
	}
	ph := o.UnavailablePlaceholder
	if ph == "" {
		ph = DefaultUnavailablePlaceholder
	}
	if h, ok := strings.CutPrefix(ph, "hex:"); ok {
		b, err := hex.DecodeString(h)
		if err != nil {
			return s, fmt.Errorf("%s: %q after hex: is not hexadecimal: %w", options.PropUnavailablePlaceholder, h, err)
		}
		s.placeholder = b
	} else {
		s.placeholder = []byte(ph)
	}
	s.version = o.Version
	if s.version == "" {
		s.version = DebeziumVersion
	}
	s.delimiter = o.TopicDelimiter
	if s.delimiter == "" {
		s.delimiter = defaultTopicDelimiter
	}
	s.taskID = o.TaskID
	if s.taskID == "" {
		s.taskID = defaultTaskID
	}
	s.runID = o.RunID
	if s.runID == "" {
		s.runID = newUUIDv7(time.Now())
	}
	s.keySchemas = o.KeySchemas
	s.valueSchemas = o.ValueSchemas
	s.tombstones = o.TombstonesOnDelete
	s.extHeaders = o.ExtendedHeaders
	return s, nil
}

// newUUIDv7 makes a UUIDv7 as Debezium's UUIDUtils.generateNewUUID does.
func newUUIDv7(t time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[6:])
	ms := uint64(t.UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = 0x70 | b[6]&0x0F
	b[8] = 0x80 | b[8]&0x3F
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}
