package pipeline

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/debezium"
	"github.com/pgmotion/pgmotion/internal/kafkasink"
	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/pgsource"
	"github.com/pgmotion/pgmotion/internal/snapshot"
	"github.com/pgmotion/pgmotion/internal/transform"
)

// ValidateConfig parses a connector config as RunConnector would and
// returns its warnings; the error lists every bad field.
func ValidateConfig(name string, raw map[string]string) ([]string, error) {
	_, warnings, err := ConfigFrom(name, raw)
	return warnings, err
}

// ConfigFrom turns a connector's config map into a Config. The
// option declarations in internal/options do the parsing; this maps the
// typed result onto the parts of the pipeline.
func ConfigFrom(name string, raw map[string]string) (Config, []string, error) {
	cfg := make(map[string]string, len(raw)+1)
	for k, v := range raw {
		cfg[k] = v
	}
	if n, ok := cfg[options.PropName]; ok && n != name {
		//lint:ignore ST1005 Kafka Connect's exact text
		return Config{}, nil, fmt.Errorf("Connector name configuration (%s) doesn't match connector name in the URL (%s)", n, name)
	}
	cfg[options.PropName] = name
	if class := cfg[options.PropConnectorClass]; class != "" {
		if _, ok := options.Lookup(class); !ok {
			return Config{}, nil, fmt.Errorf("unknown %s %q: pgmotion runs %s (aliases %s)", options.PropConnectorClass, class, options.PostgresClass, strings.Join(options.Postgres.Aliases, " and "))
		}
	}
	pc, err := options.ParsePostgres(cfg)
	if err != nil {
		return Config{}, nil, err
	}
	conn, err := pgconn.ParseConfig(pc.ConnString(false).Reveal())
	if err != nil {
		// The message of a parse error may quote the connection string:
		// build our own, without the password.
		return Config{}, nil, fmt.Errorf("database connection settings (%s) are not valid", pc.RedactedConnString(false))
	}
	skipped := map[change.Op]bool{}
	for op := range pc.SkippedOps {
		if len(op) == 1 {
			skipped[change.Op(op[0])] = true
		}
	}
	snap, err := snapshotConfigFrom(pc)
	if err != nil {
		return Config{}, nil, err
	}
	var tags map[string]string
	for _, kv := range pc.Config.List(options.PropCustomMetricTags) {
		k, v, _ := strings.Cut(kv, "=") // the form is validated
		if tags == nil {
			tags = map[string]string{}
		}
		tags[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	enc := debezium.DefaultOptions()
	enc.ConnectorName = name
	enc.TopicPrefix = pc.TopicPrefix
	enc.Database = pc.DBName
	enc.DecimalHandling = string(pc.DecimalHandling)
	enc.BinaryHandling = string(pc.BinaryHandling)
	enc.TimePrecision = string(pc.TimePrecision)
	enc.KeySchemas, enc.ValueSchemas = pc.KeySchemas, pc.ValueSchemas
	chain, err := transform.NewChain(pc.Config, transform.Options{})
	if err != nil {
		return Config{}, nil, err
	}
	if chain != nil {
		// The encoder runs the chain between building a record and
		// converting it, as Kafka Connect does.
		enc.Transforms = chain
	}
	enc.TombstonesOnDelete = pc.TombstonesOnDelete
	enc.Skipped = skipped
	enc.ExtendedHeaders = pc.ExtendedHeaders
	enc.TopicDelimiter = pc.TopicDelimiter
	enc.IntervalHandling = pc.Config.Str(options.PropIntervalHandling)
	enc.MoneyFractionDigits = pc.Config.Int(options.PropMoneyFractionDigits)
	enc.HstoreHandling = pc.Config.Str(options.PropHstoreHandling)
	enc.IncludeUnknownDatatypes = pc.Config.Bool(options.PropIncludeUnknownDatatypes)
	enc.TransactionMetadata = pc.Config.Bool(options.PropProvideTransactionMetadata)
	enc.TransactionTopic = pc.Config.Str(options.PropTopicTransaction)
	if err := columnOptions(pc.Config, &enc); err != nil {
		return Config{}, nil, err
	}
	if err := messageOptions(pc.Config, &enc); err != nil {
		return Config{}, nil, err
	}

	partitions, replication := int32(-1), int16(-1)
	if pc.TopicCreation {
		partitions, replication = pc.TopicPartitions, pc.TopicReplication
	}
	skipLSNs, err := parseSkipLSNs(pc.Config.List(options.PropSkipLSN))
	if err != nil {
		return Config{}, nil, err
	}
	tc := Config{
		SkipLSNs:        skipLSNs,
		Name:            name,
		TopicPrefix:     pc.TopicPrefix,
		Snapshot:        snap,
		MetricTags:      tags,
		ToastFill:       pc.Config.Str(options.PropToastFill),
		ToastCacheBytes: pc.Config.Long(options.PropToastCacheMaxBytes),
		Source: pgsource.Config{
			Conn:            conn,
			Slot:            pc.SlotName,
			Publication:     pc.PublicationName,
			PublicationMode: string(pc.PublicationAutocreate),
			Include:         pc.TableIncluded,
			TableInclude:    includeEntries(pc.TableIncludeList, pc.TableInclude),
			KeyColumns:      pc.KeyColumnsFor,
			StatusInterval:  pc.StatusUpdateInterval,
			DropSlotOnStop:  pc.SlotDropOnStop,
			BufferMemory:    pc.Config.Long(options.PropBufferMemory),
			DDLCapture:      pc.Config.Bool(options.PropDDLCapture),
		},
		Encoder:         enc,
		Topics:          kafkasink.TopicSpec{Partitions: partitions, Replication: replication},
		Heartbeat:       pc.Config.Duration(options.PropHeartbeatInterval),
		HeartbeatQuery:  pc.Config.Str(options.PropHeartbeatActionQuery),
		HeartbeatPrefix: pc.Config.Str(options.PropTopicHeartbeatPrefix),
		HeartbeatName:   pc.Config.Str(options.PropTopicHeartbeatName),
		SlotRetries:     pc.Config.Int(options.PropSlotMaxRetries),
		SlotRetryDelay:  pc.Config.Duration(options.PropSlotRetryDelay),
		MaxRetries:      pc.Config.Int(options.PropErrorsMaxRetries),
		RetryWait:       pc.Config.Duration(options.PropRetriableRestartWait),
		Incremental:     incrementalConfigFrom(pc),
		QueueCapacity:   pc.Config.Long(options.PropMaxQueueSize),
		MaxQueueBytes:   pc.Config.Long(options.PropMaxQueueSizeBytes),
		EOS:             eosConfigFrom(pc.Config),
	}
	return tc, pc.Warnings, nil
}

// includeEntries pairs the entries of an include list, as typed, with
// their compiled expressions.
func includeEntries(typed []string, res []*regexp.Regexp) []pgsource.IncludeEntry {
	out := make([]pgsource.IncludeEntry, len(res))
	for i, re := range res {
		out[i] = pgsource.IncludeEntry{Entry: re.String(), Re: re}
		if i < len(typed) {
			out[i].Entry = typed[i]
		}
	}
	return out
}

// messageOptions reads the logical decoding message options: the prefix
// filters, the outbox message source (internal/debezium/message.go) and
// DDL capture (internal/debezium/ddl.go).
func messageOptions(c *options.Config, enc *debezium.Options) error {
	for _, l := range []struct {
		prop string
		dst  *[]*regexp.Regexp
	}{{options.PropMsgPrefixInclude, &enc.MessagePrefixInclude}, {options.PropMsgPrefixExclude, &enc.MessagePrefixExclude}} {
		for _, expr := range c.List(l.prop) {
			if expr = strings.TrimSpace(expr); expr == "" {
				continue
			}
			re, err := options.CompileAnchored(expr)
			if err != nil {
				return fmt.Errorf("%s: %q: %w", l.prop, expr, err) // unreachable: validated
			}
			*l.dst = append(*l.dst, re)
		}
	}
	if c.Bool(options.PropDDLCapture) {
		enc.DDLMessagePrefix = pgsource.DDLMessagePrefix
	}
	if c.Str(options.PropOutboxSource) == options.OutboxSourceMessage {
		enc.OutboxMessagePrefix = c.Str(options.PropOutboxMessagePrefix)
		if enc.OutboxMessagePrefix == "" {
			return fmt.Errorf("%s=%s needs %s: set it to the prefix the application passes to pg_logical_emit_message, such as outbox",
				options.PropOutboxSource, options.OutboxSourceMessage, options.PropOutboxMessagePrefix)
		}
	}
	return nil
}

// snapshotConfigFrom reads the snapshot options.
func snapshotConfigFrom(pc *options.PostgresConfig) (snapshot.InitialConfig, error) {
	c := pc.Config
	sc := snapshot.InitialConfig{
		Mode:              string(pc.SnapshotMode),
		ConfigData:        c.Bool(options.PropSnapshotConfigData),
		ConfigStream:      c.Bool(options.PropSnapshotConfigStream),
		ConfigOnDataError: c.Bool(options.PropSnapshotConfigOnDataError),
		Threads:           c.Int(options.PropSnapshotMaxThreads),
		Delay:             c.Duration(options.PropSnapshotDelay),
		StreamDelay:       c.Duration(options.PropStreamingDelay),
	}
	for _, expr := range c.List(options.PropSnapshotIncludeCollections) {
		re, err := options.CompileAnchored(expr)
		if err != nil {
			return sc, fmt.Errorf("%s: %q: %w", options.PropSnapshotIncludeCollections, expr, err) // unreachable: validated
		}
		sc.Include = append(sc.Include, re)
	}
	const overrides = options.PropSnapshotSelectOverrides
	sqls := c.WithPrefix(overrides + ".")
	for _, table := range strings.Split(c.Str(overrides), ",") {
		if table = strings.TrimSpace(table); table == "" {
			continue
		}
		sql := strings.TrimSpace(sqls[table])
		if sql == "" {
			return sc, fmt.Errorf("%s lists %s, but %s.%s is not set: give the SELECT to use for that table, or remove it from the list", overrides, table, overrides, table)
		}
		if sc.Overrides == nil {
			sc.Overrides = map[string]string{}
		}
		sc.Overrides[table] = sql
	}
	return sc, nil
}

// columnOptions reads the column.* options into the encoder's: include and
// exclude lists, masks, truncation and propagated source types, all
// anchored case-insensitive regexes on schema.table.column (type names for
// datatype.propagate.source.type).
func columnOptions(c *options.Config, enc *debezium.Options) error {
	compile := func(prop string, exprs []string) (func(string) bool, error) {
		var res []*regexp.Regexp
		for _, expr := range exprs {
			if expr = strings.TrimSpace(expr); expr == "" {
				continue
			}
			re, err := options.CompileAnchored(expr)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", prop, expr, err)
			}
			res = append(res, re)
		}
		if len(res) == 0 {
			return nil, nil
		}
		return func(s string) bool {
			for _, re := range res {
				if re.MatchString(s) {
					return true
				}
			}
			return false
		}, nil
	}
	include, err := compile(options.PropColumnInclude, c.List(options.PropColumnInclude))
	if err != nil {
		return err
	}
	exclude, err := compile(options.PropColumnExclude, c.List(options.PropColumnExclude))
	if err != nil {
		return err
	}
	if include != nil || exclude != nil {
		enc.ColumnIncluded = func(schema, table, column string) bool {
			fq := schema + "." + table + "." + column
			if include != nil {
				return include(fq)
			}
			return !exclude(fq)
		}
	}
	if enc.PropagateSourceType, err = compile(options.PropColumnPropagateSourceType, c.List(options.PropColumnPropagateSourceType)); err != nil {
		return err
	}
	if enc.PropagateDataType, err = compile(options.PropDatatypePropagateSourceType, c.List(options.PropDatatypePropagateSourceType)); err != nil {
		return err
	}
	for _, o := range []struct {
		prefix string
		dst    *[]debezium.ColumnChars
	}{{options.PrefixColumnMaskWith, &enc.ColumnMasks}, {options.PrefixColumnTruncateTo, &enc.ColumnTruncates}} {
		opts := c.WithPrefix(o.prefix)
		names := make([]string, 0, len(opts))
		for rest := range opts {
			names = append(names, rest)
		}
		sort.Strings(names)
		for _, rest := range names {
			list := opts[rest]
			n, ok := strings.CutSuffix(rest, ".chars")
			chars, err := strconv.Atoi(n)
			if !ok || err != nil || chars < 0 {
				continue // not this option's form; the spec warns about it
			}
			match, err := compile(o.prefix+rest, options.SplitRegexList(list))
			if err != nil {
				return err
			}
			if match != nil {
				*o.dst = append(*o.dst, debezium.ColumnChars{Chars: chars, Match: match})
			}
		}
	}
	hashes := c.WithPrefix(options.PrefixColumnMaskHash)
	names := make([]string, 0, len(hashes))
	for rest := range hashes {
		names = append(names, rest)
	}
	sort.Strings(names)
	for _, rest := range names {
		// [v2.]<algorithm>.with.salt.<salt>
		v2 := false
		spec2 := rest
		if r, ok := strings.CutPrefix(rest, "v2."); ok {
			v2, spec2 = true, r
		}
		algo, salt, ok := strings.Cut(spec2, ".with.salt.")
		if !ok || algo == "" {
			return fmt.Errorf("%s%s: expected %s[.v2].<algorithm>.with.salt.<salt>", options.PrefixColumnMaskHash, rest, strings.TrimSuffix(options.PrefixColumnMaskHash, "."))
		}
		match, err := compile(options.PrefixColumnMaskHash+rest, options.SplitRegexList(hashes[rest]))
		if err != nil {
			return err
		}
		if match != nil {
			enc.ColumnHashes = append(enc.ColumnHashes, debezium.ColumnHash{Algorithm: algo, Salt: []byte(salt), V2: v2, Match: match})
		}
	}
	return nil
}
