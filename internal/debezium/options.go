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
	"strings"
	"time"

	"github.com/pgmotion/pgmotion/internal/change"
)

// DebeziumVersion is the Debezium release whose wire format the encoder
// reproduces, and the default source.version.
const DebeziumVersion = "3.4.0.Final"

// Debezium and Kafka Connect property names behind the options.
const (
	propTopicPrefix            = "topic.prefix"
	propDecimalHandling        = "decimal.handling.mode"
	propBinaryHandling         = "binary.handling.mode"
	propTimePrecision          = "time.precision.mode"
	propSkipped                = "skipped.operations"
	propUnavailablePlaceholder = "unavailable.value.placeholder"
	propIntervalHandling       = "interval.handling.mode"
	propMoneyFractionDigits    = "money.fraction.digits"
	propHstoreHandling         = "hstore.handling.mode"
)

// The values of hstore.handling.mode.
const (
	HstoreJSON = "json"
	HstoreMap  = "map"
)

// The values of interval.handling.mode.
const (
	IntervalNumeric = "numeric"
	IntervalString  = "string"
)

// DefaultMoneyFractionDigits is money.fraction.digits' default.
const DefaultMoneyFractionDigits = 2

// The values of decimal.handling.mode.
const (
	DecimalPrecise = "precise"
	DecimalDouble  = "double"
	DecimalString  = "string"
)

// The values of binary.handling.mode.
const (
	BinaryBytes         = "bytes"
	BinaryBase64        = "base64"
	BinaryBase64URLSafe = "base64-url-safe"
	BinaryHex           = "hex"
)

// The values of time.precision.mode (reference §3). Debezium's
// main-branch "structured" mode is not one of them.
const (
	TimeAdaptive                 = "adaptive"
	TimeAdaptiveTimeMicroseconds = "adaptive_time_microseconds"
	TimeConnect                  = "connect"
	TimeIsoString                = "isostring"
	TimeMicroseconds             = "microseconds"
	TimeNanoseconds              = "nanoseconds"
)

// DefaultUnavailablePlaceholder is unavailable.value.placeholder's default:
// the value written for an unchanged TOASTed column.
const DefaultUnavailablePlaceholder = "__debezium_unavailable_value"

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
	// anchored (spec.CompileAnchored): a logical decoding message is
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

// DefaultOptions returns Debezium's defaults; TopicPrefix still has to be
// set.
func DefaultOptions() Options {
	return Options{
		DecimalHandling:        DecimalPrecise,
		BinaryHandling:         BinaryBytes,
		TimePrecision:          TimeAdaptive,
		IntervalHandling:       IntervalNumeric,
		MoneyFractionDigits:    DefaultMoneyFractionDigits,
		HstoreHandling:         HstoreJSON,
		KeySchemas:             true,
		ValueSchemas:           true,
		TombstonesOnDelete:     true,
		Skipped:                map[change.Op]bool{change.OpTruncate: true},
		ExtendedHeaders:        true,
		TaskID:                 "0",
		TopicDelimiter:         ".",
		Version:                DebeziumVersion,
		UnavailablePlaceholder: DefaultUnavailablePlaceholder,
	}
}

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

func oneOf(prop, got string, allowed ...string) error {
	return fmt.Errorf("%s: %q is not one of %s", prop, got, strings.Join(allowed, ", "))
}

// validate checks the options and fills in defaults.
func (o *Options) validate() (settings, error) {
	var s settings
	if o.TopicPrefix == "" {
		return s, fmt.Errorf("%s is required: set it to the logical name of the database server, such as dbserver1", propTopicPrefix)
	}
	switch o.DecimalHandling {
	case "", DecimalPrecise:
		s.dec = decPrecise
	case DecimalDouble:
		s.dec = decDouble
	case DecimalString:
		s.dec = decStringMode
	default:
		return s, oneOf(propDecimalHandling, o.DecimalHandling, DecimalPrecise, DecimalDouble, DecimalString)
	}
	switch o.BinaryHandling {
	case "", BinaryBytes:
		s.bin = binBytes
	case BinaryBase64:
		s.bin = binBase64
	case BinaryBase64URLSafe:
		s.bin = binBase64URL
	case BinaryHex:
		s.bin = binHex
	default:
		return s, oneOf(propBinaryHandling, o.BinaryHandling, BinaryBytes, BinaryBase64, BinaryBase64URLSafe, BinaryHex)
	}
	switch o.IntervalHandling {
	case "", IntervalNumeric:
		s.interval = intervalNumeric
	case IntervalString:
		s.interval = intervalString
	default:
		return s, oneOf(propIntervalHandling, o.IntervalHandling, IntervalNumeric, IntervalString)
	}
	if o.MoneyFractionDigits < 0 || o.MoneyFractionDigits > 1000 {
		return s, fmt.Errorf("%s: %d is not between 0 and 1000", propMoneyFractionDigits, o.MoneyFractionDigits)
	}
	s.moneyDigits = o.MoneyFractionDigits
	switch o.TimePrecision {
	case "", TimeAdaptive:
		s.time = timeAdaptive
	case TimeAdaptiveTimeMicroseconds:
		s.time = timeAdaptiveMicros
	case TimeConnect:
		s.time = timeConnect
	case TimeIsoString:
		s.time = timeISO
	case TimeMicroseconds:
		s.time = timeMicros
	case TimeNanoseconds:
		s.time = timeNanos
	default:
		return s, oneOf(propTimePrecision, o.TimePrecision, TimeAdaptive, TimeAdaptiveTimeMicroseconds, TimeConnect,
			TimeIsoString, TimeMicroseconds, TimeNanoseconds)
	}
	switch o.HstoreHandling {
	case "", HstoreJSON:
	case HstoreMap:
		s.hstoreMap = true
	default:
		return s, oneOf(propHstoreHandling, o.HstoreHandling, HstoreJSON, HstoreMap)
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
			return s, fmt.Errorf("%s: %q is not one of c, u, d, t", propSkipped, op.String())
		}
	}
	ph := o.UnavailablePlaceholder
	if ph == "" {
		ph = DefaultUnavailablePlaceholder
	}
	if h, ok := strings.CutPrefix(ph, "hex:"); ok {
		b, err := hex.DecodeString(h)
		if err != nil {
			return s, fmt.Errorf("%s: %q after hex: is not hexadecimal: %w", propUnavailablePlaceholder, h, err)
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
		s.delimiter = "."
	}
	s.taskID = o.TaskID
	if s.taskID == "" {
		s.taskID = "0"
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
