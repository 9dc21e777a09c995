package connect

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/pgsource"
	"github.com/pgmotion/pgmotion/internal/spec"
)

// Incremental snapshots (reference §5) read captured tables again while
// the stream flows, in chunks ordered by key, following the DBLog
// watermark algorithm: for each chunk an open watermark row is written to
// the signal table, the chunk is read into a window keyed by the rows'
// event keys, and a close watermark is written. When the stream shows the
// open watermark the window opens; each streamed event whose key is in the
// window removes that row (the streamed event is newer or as new); when
// the close watermark arrives, the rows left are emitted as op "r" with
// source.snapshot "incremental", and the next chunk is read. With
// read.only=true nothing is written: pg_current_snapshot() before and
// after each chunk, and the WAL position after it, bound the window
// instead.
//
// All of it runs on the streaming goroutine: Change, Tick and the signal
// handlers below. Rows are emitted through the task's normal path, so
// their positions reach the offsets only once Kafka holds them.
//
// Progress is kept in the source offset, so that a snapshot resumes after
// a restart: Debezium's incremental_snapshot_collections and
// incremental_snapshot_correlation_id, and, instead of Debezium's
// incremental_snapshot_primary_key and incremental_snapshot_maximum_key
// (hex of a Java-serialized Object[], which pgmotion neither reads nor
// writes), pgmotion_incremental_snapshot_primary_key and
// pgmotion_incremental_snapshot_maximum_key, each a JSON array of the key
// values in PostgreSQL's text form. A snapshot Debezium left half done
// thus goes on under pgmotion from the start of the table it was reading,
// and one pgmotion left half done goes on under Debezium the same way.

// IncrementalConfig configures signals and incremental snapshots.
type IncrementalConfig struct {
	// SignalTable is signal.data.collection (schema.table), "" for none.
	SignalTable string
	// Channels is signal.enabled.channels: "source" and/or "kafka".
	Channels []string
	// Poll is signal.poll.interval.ms: how often the kafka channel's
	// signals are picked up.
	Poll time.Duration
	// KafkaTopic is signal.kafka.topic; KafkaBrokers is
	// signal.kafka.bootstrap.servers, empty for the worker's Kafka;
	// KafkaGroup is signal.kafka.groupId; KafkaPollTimeout is
	// signal.kafka.poll.timeout.ms, the consumer's longest fetch wait.
	KafkaTopic       string
	KafkaBrokers     []string
	KafkaGroup       string
	KafkaPollTimeout time.Duration
	// ChunkSize is incremental.snapshot.chunk.size.
	ChunkSize int
	// DeleteWatermark is incremental.snapshot.watermarking.strategy=
	// insert_delete: a window closes by deleting its open row.
	DeleteWatermark bool
	// ReadOnly is read.only: no watermark writes (PostgreSQL 13+).
	ReadOnly bool
}

func (c *IncrementalConfig) channel(name string) bool {
	for _, ch := range c.Channels {
		if strings.EqualFold(strings.TrimSpace(ch), name) {
			return true
		}
	}
	return false
}

// incCollection is a table queued for an incremental snapshot, as
// Debezium's DataCollection. Condition is kept in parentheses, as
// Debezium writes it to the offsets.
type incCollection struct {
	ID            string
	Condition     string
	SurrogateKey  string
	CorrelationID string
}

// The keys of incremental_snapshot_collections' entries.
const (
	keyCollID        = "incremental_snapshot_collections_id"
	keyCollCondition = "incremental_snapshot_collections_additional_condition"
	keyCollSurrogate = "incremental_snapshot_collections_surrogate_key"
	keyCollCorrID    = "incremental_snapshot_collections_correlation_id"
)

// incState is the part of an incremental snapshot that the offsets keep.
type incState struct {
	// colls are the tables left, the one being read first.
	colls []incCollection
	// lastKey is the key of the last chunk emitted from colls[0]; nil
	// means the table starts from its first row.
	lastKey []string
	// maxKey is colls[0]'s largest key when its snapshot began; nil until
	// it is read.
	maxKey []string
	// correlationID is the id of the signal that last added tables.
	correlationID string
}

func (s *incState) running() bool { return len(s.colls) > 0 }

// offsetFields returns the offset's incremental snapshot keys; all empty
// when no snapshot runs.
func (s *incState) offsetFields() (colls, corr, pk, max string) {
	if !s.running() {
		return "", "", "", ""
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, c := range s.colls {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		for j, kv := range [...]struct{ k, v string }{
			{keyCollID, c.ID}, {keyCollCondition, c.Condition}, {keyCollSurrogate, c.SurrogateKey}, {keyCollCorrID, c.CorrelationID},
		} {
			if j > 0 {
				b.WriteByte(',')
			}
			b.Write(jsonString(kv.k))
			b.WriteByte(':')
			if kv.v == "" && kv.k != keyCollID {
				b.WriteString("null")
			} else {
				b.Write(jsonString(kv.v))
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	colls = b.String()
	if s.lastKey != nil {
		k, _ := json.Marshal(s.lastKey)
		pk = string(k)
	}
	if s.maxKey != nil {
		k, _ := json.Marshal(s.maxKey)
		max = string(k)
	}
	return colls, s.correlationID, pk, max
}

// jsonString encodes s as a JSON string, without Go's HTML escaping.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// loadIncState reads the incremental snapshot keys of a stored offset.
// The warning, if any, says that the table being read starts again.
func loadIncState(off *Offset) (incState, string, error) {
	var s incState
	if off == nil || off.IncrementalCollections == "" {
		return s, "", nil
	}
	var entries []map[string]*string
	if err := json.Unmarshal([]byte(off.IncrementalCollections), &entries); err != nil {
		return s, "", fmt.Errorf("offset key incremental_snapshot_collections is not a JSON list of collections: %w", err)
	}
	str := func(m map[string]*string, k string) string {
		if v := m[k]; v != nil {
			return *v
		}
		return ""
	}
	for _, e := range entries {
		id := str(e, keyCollID)
		if id == "" {
			return s, "", errors.New("offset key incremental_snapshot_collections holds an entry without incremental_snapshot_collections_id")
		}
		s.colls = append(s.colls, incCollection{ID: id, Condition: str(e, keyCollCondition), SurrogateKey: str(e, keyCollSurrogate), CorrelationID: str(e, keyCollCorrID)})
	}
	s.correlationID = off.IncrementalCorrelationID
	if len(s.colls) == 0 {
		return s, "", nil
	}
	var warn string
	if off.IncrementalPrimaryKey != "" {
		if err := json.Unmarshal([]byte(off.IncrementalPrimaryKey), &s.lastKey); err != nil {
			return s, "", fmt.Errorf("offset key pgmotion_incremental_snapshot_primary_key is not a JSON list of strings: %w", err)
		}
	}
	if off.IncrementalMaximumKey != "" {
		if err := json.Unmarshal([]byte(off.IncrementalMaximumKey), &s.maxKey); err != nil {
			return s, "", fmt.Errorf("offset key pgmotion_incremental_snapshot_maximum_key is not a JSON list of strings: %w", err)
		}
	}
	if off.IncrementalPrimaryKey == "" && off.DebeziumPrimaryKey != "" {
		warn = "the stored offset holds Debezium's incremental snapshot position (a Java-serialized key, which pgmotion does not read): the snapshot of " + s.colls[0].ID + " starts again from its first row"
		s.maxKey = nil
	}
	return s, warn, nil
}

// window holds the rows of the chunk in flight, keyed by their event key,
// in key order.
type window struct {
	rows  []*change.Change // nil once removed
	index map[string]int
	live  int
}

func (w *window) reset() {
	clear(w.rows)
	w.rows = w.rows[:0]
	if w.index == nil {
		w.index = map[string]int{}
	}
	clear(w.index)
	w.live = 0
}

// add appends a row; a row whose key is already present replaces it.
func (w *window) add(key string, c *change.Change) {
	if w.index == nil {
		w.index = map[string]int{}
	}
	if i, ok := w.index[key]; ok {
		if w.rows[i] == nil {
			w.live++
		}
		w.rows[i] = c
		return
	}
	w.index[key] = len(w.rows)
	w.rows = append(w.rows, c)
	w.live++
}

// evict removes the row with key, reporting whether there was one.
func (w *window) evict(key string) bool {
	i, ok := w.index[key]
	if !ok || w.rows[i] == nil {
		return false
	}
	w.rows[i] = nil
	w.live--
	return true
}

// rowKey appends the identity of a row, the values of cols, to buf: each
// value as its kind, its length and its bytes. ok is false when a column
// is missing from the row (an unchanged TOAST value, a short tuple).
func rowKey(buf []byte, row change.Tuple, cols []int) ([]byte, bool) {
	for _, c := range cols {
		if c >= len(row) {
			return buf, false
		}
		v := row[c]
		if v.Kind == change.KindUnchangedToast {
			return buf, false
		}
		buf = append(buf, byte(v.Kind))
		buf = binary.AppendUvarint(buf, uint64(len(v.Data)))
		buf = append(buf, v.Data...)
	}
	return buf, true
}

// extendXid turns a 32-bit xid from the stream into the 64-bit form
// pg_current_snapshot() uses, taking the epoch nearest to ref.
func extendXid(xid uint32, ref uint64) uint64 {
	full := ref&^0xFFFFFFFF | uint64(xid)
	switch {
	case full > ref && full-ref > 1<<31 && full >= 1<<32:
		full -= 1 << 32
	case full < ref && ref-full > 1<<31:
		full += 1 << 32
	}
	return full
}

// expandCollections matches the data-collections of a signal against the
// tables (schema.table): each entry is a regular expression on the whole
// name, as in Debezium (whose plain names are expressions too). Entries
// matching nothing are returned apart, in order.
func expandCollections(patterns, tables []string) (matched, unmatched []string) {
	seen := map[string]bool{}
	for _, p := range patterns {
		re, err := regexp.Compile(`^(?:` + p + `)$`)
		n := 0
		for _, t := range tables {
			if (err == nil && re.MatchString(t)) || t == p {
				n++
				if !seen[t] {
					seen[t] = true
					matched = append(matched, t)
				}
			}
		}
		if n == 0 {
			unmatched = append(unmatched, p)
		}
	}
	return matched, unmatched
}

// collectionMatches reports whether a stop-snapshot entry names id.
func collectionMatches(pattern, id string) bool {
	if pattern == id {
		return true
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	return err == nil && re.MatchString(id)
}

// parseTableName splits schema.table.
func parseTableName(s string) (pgsource.TableName, bool) {
	schema, table, ok := strings.Cut(strings.TrimSpace(s), ".")
	if !ok || schema == "" || table == "" || strings.Contains(table, ".") {
		return pgsource.TableName{}, false
	}
	return pgsource.TableName{Schema: schema, Name: table}, true
}

func newChunkID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// incremental is a task's incremental snapshot machinery. It belongs to
// the streaming goroutine.
type incremental struct {
	cfg IncrementalConfig
	log *slog.Logger
	// ctx is the task's: the handlers that call in here have none.
	ctx context.Context

	// signal is the signal table as the catalog spells it; Schema is ""
	// when there is none. signalEvents reports whether the connector's
	// filters capture it, so that its rows become events.
	signal       pgsource.TableName
	signalEvents bool
	// disabled, if set, says why incremental snapshots cannot run.
	disabled string

	state  incState
	paused bool
	// stops are stop-snapshot requests waiting for the window in flight:
	// lists of data-collections, an empty list for all.
	stops [][]string

	// The table being read, and its rows emitted so far.
	table     *pgsource.ChunkTable
	tableRows int64
	// identity indexes table.Rel.Columns: the columns of the event key
	// (the key, else the chunk key). identNames names them, to find them
	// in the stream's relation.
	identity   []int
	identNames []string
	streamRel  *change.Relation
	streamCols []int

	// The window in flight: pending is set from the chunk's read to its
	// emission; open once the stream reached the open watermark.
	pending  bool
	open     bool
	chunkID  string
	chunkEnd []string
	win      window
	keyBuf   []byte
	// Read-only watermarks: the snapshots before and after the read, and
	// the WAL position after it.
	low, high pgsource.XactSnapshot
	highLSN   change.LSN

	started   time.Time
	totalRows int64

	kafka    *kafkaSignals
	lastPoll time.Time
}

// startIncremental sets signals and incremental snapshots up, before the
// stream starts: it finds the signal table (adding it to a filtered
// publication), resumes a snapshot the stored offset holds, and starts the
// kafka channel's consumer.
func (t *task) startIncremental(ctx context.Context, off *Offset) error {
	cfg := t.cfg.Incremental
	kafkaOn := cfg.channel(channelKafka)
	if cfg.SignalTable == "" && !kafkaOn {
		if off != nil && off.IncrementalCollections != "" {
			t.log.Warn("the stored offset holds an incremental snapshot in progress, but no signal channel is configured: it cannot go on; set signal.data.collection", "collections", off.IncrementalCollections)
		}
		return nil
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 1024
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	inc := &incremental{cfg: cfg, log: t.log.With("component", "incremental-snapshot"), ctx: ctx}
	t.inc = inc
	if cfg.SignalTable != "" {
		name, ok := parseTableName(cfg.SignalTable)
		if !ok {
			return fmt.Errorf("signal.data.collection %q: want schema.table", cfg.SignalTable)
		}
		info, err := t.src.CheckSignalTable(ctx, name, t.cfg.Source.PublicationMode == "filtered" && !cfg.ReadOnly)
		switch {
		case err != nil && info == nil && !t.src.MetaOK():
			return err
		case err != nil && info == nil:
			inc.log.Warn("signals from the signal table are off", "err", err)
		default:
			inc.signal = info.Name
			t.src.CaptureSignalTable(info.Name)
			inc.signalEvents = t.cfg.Source.Include == nil || t.cfg.Source.Include(info.Name.Schema, info.Name.Name)
			if err != nil {
				inc.log.Warn("cannot add the signal table to the publication; signals written to it will not be seen", "table", info.Name.String(), "publication", t.cfg.Source.Publication, "err", err)
			} else if info.Added {
				inc.log.Info("added the signal table to the publication", "table", info.Name.String(), "publication", t.cfg.Source.Publication)
			} else if !info.Published {
				inc.log.Warn("the publication does not cover the signal table: signals written to it, and the watermarks of incremental snapshots, will not be seen; add it (ALTER PUBLICATION ... ADD TABLE)",
					"table", info.Name.String(), "publication", t.cfg.Source.Publication)
			}
			if info.Columns < 3 {
				inc.log.Warn("the signal table needs the columns id, type and data, in that order", "table", info.Name.String(), "columns", info.Columns)
			}
		}
	}
	switch {
	case cfg.ReadOnly:
		v, err := t.src.ServerVersion(ctx)
		if err != nil {
			return err
		}
		if v < 130000 {
			inc.disabled = fmt.Sprintf("read.only=true needs PostgreSQL 13 or later (pg_current_snapshot), and the server is %d", v)
		}
	case inc.signal.Schema == "":
		inc.disabled = "incremental snapshots need a signal table to write their watermarks to: set signal.data.collection to an existing schema.table, or read.only=true"
	}
	if inc.disabled != "" {
		inc.log.Warn("incremental snapshots are off: " + inc.disabled)
	}

	state, warn, err := loadIncState(off)
	if err != nil {
		inc.log.Warn("ignoring the incremental snapshot of the stored offset", "err", err)
	} else if state.running() {
		if warn != "" {
			inc.log.Warn(warn)
		}
		if inc.disabled != "" {
			inc.log.Warn("the stored offset holds an incremental snapshot in progress that cannot go on", "collections", off.IncrementalCollections)
		} else {
			inc.state = state
			inc.started = time.Now()
			inc.log.Info("resuming the incremental snapshot of the stored offset", "tables", len(state.colls), "table", state.colls[0].ID, "after_key", strings.Join(state.lastKey, ","))
			if err := t.incReadChunk(); err != nil {
				return err
			}
		}
	}

	if kafkaOn {
		seeds := cfg.KafkaBrokers
		var conn []kgo.Opt
		if len(seeds) == 0 {
			seeds = t.sink.Client().OptValue(kgo.SeedBrokers).([]string)
			conn = connOpts(t.sink.Client())
		}
		// The consumer's security settings (signal.consumer.* over the
		// worker's consumer.*), over the sink's own connection when the
		// signals are on the sink's cluster (the embedded broker's TLS
		// and SASL, say).
		inc.kafka = newKafkaSignals(seeds, cfg.KafkaTopic, cfg.KafkaGroup, t.cfg.TopicPrefix, cfg.KafkaPollTimeout, inc.log, append(conn, t.signalOpts...)...)
		inc.kafka.start(ctx)
	}
	return nil
}

// stopIncremental stops the kafka channel's consumer.
func (t *task) stopIncremental() {
	if t.inc != nil && t.inc.kafka != nil {
		t.inc.kafka.Close()
	}
}

// incOffset fills an offset's incremental snapshot keys from the state.
func (t *task) incOffset(off Offset) Offset {
	off.IncrementalCollections, off.IncrementalCorrelationID, off.IncrementalPrimaryKey, off.IncrementalMaximumKey = "", "", "", ""
	off.DebeziumPrimaryKey = ""
	if t.inc != nil {
		off.IncrementalCollections, off.IncrementalCorrelationID, off.IncrementalPrimaryKey, off.IncrementalMaximumKey = t.inc.state.offsetFields()
	}
	return off
}

// incSeal closes the open batch at the last sealed position, so that the
// offsets take the snapshot's progress once Kafka holds the batch. Before
// any position is known it does nothing; the next batch carries it.
func (t *task) incSeal() {
	if t.lastOff.LSN == 0 && t.lastOff.LSNProc == 0 && t.lastOff.LSNCommit == 0 {
		return
	}
	t.seal(t.lastOff)
	t.inBatch = 0
}

// incFailed decides what a database error during the snapshot means: the
// task fails when the connection is gone (it resumes from the offsets
// after a restart), otherwise the error is only the snapshot's.
func (t *task) incFailed(err error) error {
	if !t.src.MetaOK() || t.inc.ctx.Err() != nil {
		return err
	}
	return nil
}

// incChange is the Change hook: it acts on the signal table's rows and
// removes from the window the rows streamed events supersede. skip says
// the change is the signal table's and the filters exclude it.
func (t *task) incChange(c *change.Change) (skip bool, err error) {
	inc := t.inc
	if inc.signal.Schema != "" && c.Rel.Namespace == inc.signal.Schema && c.Rel.Name == inc.signal.Name {
		return !inc.signalEvents, t.incSignalRow(c)
	}
	if !inc.pending {
		return false, nil
	}
	if inc.cfg.ReadOnly && inc.passedHigh(c) {
		if err := t.incCloseWindow(c.LSN); err != nil {
			return false, err
		}
		if !inc.pending {
			return false, nil
		}
	}
	if (inc.open || inc.cfg.ReadOnly) && inc.table != nil && c.Rel.ID == inc.table.Rel.ID && inc.win.live > 0 {
		if c.Op == change.OpTruncate {
			// Every row read may be gone: what follows comes from the stream.
			for i, r := range inc.win.rows {
				if r != nil {
					inc.win.rows[i] = nil
					inc.win.live--
				}
			}
			return false, nil
		}
		cols := inc.streamIdentity(c.Rel)
		if cols == nil {
			return false, nil
		}
		for _, row := range []change.Tuple{c.Before, c.After} {
			if row == nil {
				continue
			}
			var ok bool
			if inc.keyBuf, ok = rowKey(inc.keyBuf[:0], row, cols); ok {
				inc.win.evict(string(inc.keyBuf))
			}
		}
	}
	return false, nil
}

// passedHigh reports, in read-only mode, whether the stream has passed
// everything the chunk's snapshot saw: a change at or after the WAL
// position read after the chunk, or of a transaction that began after
// both watermarks (Debezium's test).
func (inc *incremental) passedHigh(c *change.Change) bool {
	if inc.highLSN != 0 && c.LSN >= inc.highLSN {
		return true
	}
	return c.HasXid && extendXid(c.Xid, inc.low.Xmin) > max(inc.high.Xmax, inc.low.Xmax)
}

// streamIdentity returns the indexes of the identity columns in the
// stream's relation of the table, or nil if it lacks one.
func (inc *incremental) streamIdentity(rel *change.Relation) []int {
	if rel == inc.table.Rel {
		return inc.identity
	}
	if rel == inc.streamRel {
		return inc.streamCols
	}
	cols := make([]int, 0, len(inc.identNames))
	for _, n := range inc.identNames {
		idx := -1
		for i, c := range rel.Columns {
			if c.Name == n {
				idx = i
				break
			}
		}
		if idx < 0 {
			cols = nil
			break
		}
		cols = append(cols, idx)
	}
	inc.streamRel, inc.streamCols = rel, cols
	return cols
}

// incSignalRow acts on a row of the signal table: a watermark of the
// window in flight, or a signal.
func (t *task) incSignalRow(c *change.Change) error {
	inc := t.inc
	switch c.Op {
	case change.OpCreate:
		sig, err := signalFromRow(c.Rel, c.After)
		if err != nil {
			inc.log.Warn("ignoring a row of the signal table that is not a signal", "table", inc.signal.String(), "signal_id", sig.ID, "err", err)
			return nil
		}
		switch sig.Type {
		case sigWindowOpen:
			if inc.pending && !inc.cfg.ReadOnly && sig.ID == inc.chunkID+"-open" {
				inc.open = true
			}
			return nil
		case sigWindowClose:
			if inc.pending && !inc.cfg.ReadOnly && strings.HasPrefix(sig.ID, inc.chunkID) {
				return t.incCloseWindow(c.LSN)
			}
			return nil
		}
		if !inc.cfg.channel(channelSource) {
			inc.log.Warn("ignoring a signal written to the signal table: signal.enabled.channels does not include source", "signal_id", sig.ID, "signal_type", sig.Type)
			return nil
		}
		return t.incSignal(sig, c.LSN)
	case change.OpDelete:
		if !inc.cfg.DeleteWatermark || !inc.pending || inc.cfg.ReadOnly || c.Before == nil {
			return nil
		}
		if id, ok := signalRowID(c.Rel, c.Before); ok && id == inc.chunkID+"-open" {
			return t.incCloseWindow(c.LSN)
		}
	}
	return nil
}

// incTick is the Tick hook: it closes a read-only window once the stream
// is idle past its watermark, and acts on the kafka channel's signals
// (inside a transaction too: a signal's effects do not depend on it).
func (t *task) incTick(now time.Time, inTxn bool) error {
	inc := t.inc
	if inc.pending && inc.cfg.ReadOnly && !inTxn && inc.highLSN != 0 && max(t.lastIdle, t.lastCommit) >= inc.highLSN {
		if err := t.incCloseWindow(t.lastCommit); err != nil {
			return err
		}
	}
	if inc.kafka == nil || now.Sub(inc.lastPoll) < inc.cfg.Poll {
		return nil
	}
	inc.lastPoll = now
	for {
		select {
		case ks := <-inc.kafka.out:
			var err error
			if ks.err != nil {
				inc.log.Warn("ignoring a record of the signal topic that is not a signal", "topic", inc.cfg.KafkaTopic, "offset", ks.sig.Offset, "err", ks.err)
			} else {
				err = t.incSignal(ks.sig, t.lastCommit)
			}
			close(ks.done)
			if err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// incSignal acts on one signal. Problems with the signal are logged, not
// returned: only a lost database connection or Kafka failure ends the
// task.
func (t *task) incSignal(sig signal, pos change.LSN) error {
	inc := t.inc
	log := inc.log.With("signal_id", sig.ID, "signal_type", sig.Type, "channel", sig.Channel)
	if sig.Channel == channelKafka {
		log = log.With("offset", sig.Offset)
	}
	switch sig.Type {
	case sigExecuteSnapshot:
		req, err := parseExecuteSnapshot(sig.Data)
		for _, w := range req.Warnings {
			log.Warn(w)
		}
		if err != nil {
			log.Warn("ignoring the execute-snapshot signal: "+err.Error(), "data", string(sig.Data))
			return nil
		}
		if req.Type == snapshotBlocking {
			return t.incBlocking(req, pos, log)
		}
		return t.incExecute(sig, req, log)
	case sigStopSnapshot:
		req, err := parseStopSnapshot(sig.Data)
		if err != nil {
			log.Warn("ignoring the stop-snapshot signal: "+err.Error(), "data", string(sig.Data))
			return nil
		}
		if req.Type == snapshotBlocking {
			log.Warn("ignoring the stop-snapshot signal: a blocking snapshot cannot be stopped (nor can it in Debezium); only type incremental is acted on")
			return nil
		}
		if !inc.state.running() {
			log.Warn("no incremental snapshot is running; stop-snapshot ignored")
			return nil
		}
		log.Info("incremental snapshot stop requested", "collections", strings.Join(req.Collections, ","))
		inc.stops = append(inc.stops, req.Collections)
		if !inc.pending {
			inc.applyStops()
			if !inc.state.running() {
				inc.finish()
			}
		}
		return nil
	case sigPauseSnapshot:
		if !inc.state.running() || inc.paused {
			log.Warn("no incremental snapshot is running, or it is paused already; pause-snapshot ignored")
			return nil
		}
		inc.paused = true
		log.Info("incremental snapshot paused: the chunk in flight is emitted, and no other is read until resume-snapshot", "table", inc.state.colls[0].ID)
		return nil
	case sigResumeSnapshot:
		if !inc.state.running() || !inc.paused {
			log.Warn("no incremental snapshot is paused; resume-snapshot ignored")
			return nil
		}
		inc.paused = false
		log.Info("incremental snapshot resumed", "table", inc.state.colls[0].ID)
		if inc.pending {
			return nil
		}
		return t.incReadChunk()
	case sigLog:
		msg, err := parseLogSignal(sig.Data)
		if err != nil {
			log.Warn("ignoring the log signal: "+err.Error(), "data", string(sig.Data))
			return nil
		}
		off, _ := t.incOffset(t.lastOff).MarshalJSON()
		inc.log.Info(strings.Replace(msg, "{}", string(off), 1), "signal_id", sig.ID, "channel", sig.Channel)
		return nil
	case sigSchemaChanges:
		log.Info("ignoring the schema-changes signal: the PostgreSQL connector takes table schemas from the stream")
		return nil
	case sigWindowOpen, sigWindowClose:
		log.Warn("ignoring a watermark signal that did not come from the signal table")
		return nil
	}
	log.Warn(fmt.Sprintf("ignoring signal %s: its type is not recognized; pgmotion acts on %s", sig, knownSignals))
	return nil
}

// incTables lists the tables a snapshot signal may name: the captured
// ones, not the signal table, as schema.table.
func (t *task) incTables() ([]string, map[string]bool, error) {
	all, err := t.src.ListTables(t.inc.ctx)
	if err != nil {
		return nil, nil, err
	}
	inc := t.inc
	var captured []string
	exists := map[string]bool{}
	for _, tb := range all {
		exists[tb.String()] = true
		if tb == inc.signal {
			continue
		}
		if t.cfg.Source.Include == nil || t.cfg.Source.Include(tb.Schema, tb.Name) {
			captured = append(captured, tb.String())
		}
	}
	return captured, exists, nil
}

// incResolve expands a signal's data-collections, logging the entries that
// name no captured table.
func (t *task) incResolve(req snapshotRequest, log *slog.Logger) ([]string, error) {
	captured, exists, err := t.incTables()
	if err != nil {
		return nil, err
	}
	matched, unmatched := expandCollections(req.Collections, captured)
	for _, u := range unmatched {
		switch {
		case t.inc.signal.Schema != "" && u == t.inc.signal.String():
			log.Warn("the signal table cannot be snapshotted", "collection", u)
		case exists[u]:
			log.Warn("not snapshotting a table the connector does not capture: add it to the include lists first", "collection", u)
		default:
			log.Warn("data-collections entry matches no captured table (entries are schema.table names or regular expressions on them, case-sensitive)", "collection", u)
		}
	}
	return matched, nil
}

// incExecute queues the tables of an incremental execute-snapshot signal,
// and starts reading when no snapshot was running.
func (t *task) incExecute(sig signal, req snapshotRequest, log *slog.Logger) error {
	inc := t.inc
	if inc.disabled != "" {
		log.Warn("ignoring the execute-snapshot signal: " + inc.disabled)
		return nil
	}
	tables, err := t.incResolve(req, log)
	if err != nil {
		return t.incFailed(err)
	}
	wasRunning := inc.state.running()
	var added []string
	for _, tb := range tables {
		dup := false
		for _, c := range inc.state.colls {
			if c.ID == tb {
				dup = true
			}
		}
		if dup {
			log.Info("table already queued for the incremental snapshot", "table", tb)
			continue
		}
		cond := req.conditionFor(tb)
		if cond != "" {
			cond = "(" + cond + ")"
		}
		inc.state.colls = append(inc.state.colls, incCollection{ID: tb, Condition: cond, SurrogateKey: req.SurrogateKey, CorrelationID: sig.ID})
		added = append(added, tb)
	}
	if len(added) == 0 {
		log.Warn("execute-snapshot signal names no table to add; nothing to do", "collections", strings.Join(req.Collections, ","))
		return nil
	}
	inc.state.correlationID = sig.ID
	log.Info("incremental snapshot requested", "tables", strings.Join(added, ","), "surrogate_key", req.SurrogateKey, "conditions", len(req.Conditions))
	if wasRunning {
		return nil
	}
	inc.started, inc.totalRows = time.Now(), 0
	inc.log.Info("incremental snapshot starting", "tables", len(inc.state.colls), "chunk_size", inc.cfg.ChunkSize, "read_only", inc.cfg.ReadOnly)
	return t.incReadChunk()
}

// applyStops acts on the stop-snapshot requests, between chunks.
func (inc *incremental) applyStops() {
	for _, req := range inc.stops {
		if len(req) == 0 {
			if inc.state.running() {
				inc.log.Info("incremental snapshot stopped", "tables_left", len(inc.state.colls), "rows", inc.totalRows)
			}
			inc.state.colls = nil
			inc.resetTable()
			continue
		}
		kept := inc.state.colls[:0]
		for i, c := range inc.state.colls {
			stop := false
			for _, p := range req {
				if collectionMatches(p, c.ID) {
					stop = true
				}
			}
			if !stop {
				kept = append(kept, c)
				continue
			}
			inc.log.Info("table removed from the incremental snapshot", "table", c.ID)
			if i == 0 {
				inc.resetTable()
			}
		}
		inc.state.colls = kept
	}
	inc.stops = nil
}

func (inc *incremental) resetTable() {
	inc.table, inc.tableRows = nil, 0
	inc.state.lastKey, inc.state.maxKey = nil, nil
	inc.identity, inc.identNames, inc.streamRel, inc.streamCols = nil, nil, nil, nil
}

// nextTable ends the table being read.
func (inc *incremental) nextTable(status string, args ...any) {
	if len(inc.state.colls) == 0 {
		return
	}
	inc.log.Info("incremental snapshot of table "+status, append([]any{"table", inc.state.colls[0].ID, "rows", inc.tableRows}, args...)...)
	inc.state.colls = inc.state.colls[1:]
	inc.resetTable()
}

// finish logs the end of the snapshot.
func (inc *incremental) finish() {
	if inc.started.IsZero() {
		return
	}
	inc.log.Info("incremental snapshot completed", "rows", inc.totalRows, "elapsed", time.Since(inc.started).Round(time.Millisecond))
	inc.started, inc.paused, inc.state.correlationID = time.Time{}, false, ""
}

// watermarkData is the data of a watermark row, as Debezium writes it.
func (inc *incremental) watermarkData(open time.Time, close time.Time, table string) string {
	var b strings.Builder
	b.WriteString(`{"openWindowTimestamp": `)
	b.Write(jsonString(open.UTC().Format(time.RFC3339Nano)))
	if !close.IsZero() {
		b.WriteString(`, "closeWindowTimestamp": `)
		b.Write(jsonString(close.UTC().Format(time.RFC3339Nano)))
	}
	if len(inc.state.colls) > 0 && inc.state.colls[0].CorrelationID != "" {
		b.WriteString(`, "correlationId": `)
		b.Write(jsonString(inc.state.colls[0].CorrelationID))
	}
	if table != "" {
		b.WriteString(`, "dataCollectionId": `)
		b.Write(jsonString(table))
	}
	b.WriteByte('}')
	return b.String()
}

// incReadChunk reads the next chunk into the window, between its
// watermarks, moving past tables that are done, empty or unreadable.
func (t *task) incReadChunk() error {
	inc := t.inc
	ctx := inc.ctx
	inc.applyStops()
	if !inc.state.running() {
		inc.finish()
		return nil
	}
	if inc.paused {
		return nil
	}
	inc.chunkID = newChunkID()
	openID := inc.chunkID + "-open"
	inc.open, inc.highLSN = false, 0
	inc.win.reset()
	openedAt, openedTable := time.Now(), inc.state.colls[0].ID
	if inc.cfg.ReadOnly {
		low, _, err := t.src.CurrentSnapshot(ctx)
		if err != nil {
			return t.incAbort(err)
		}
		inc.low = low
	} else if err := t.src.InsertSignal(ctx, inc.signal, openID, sigWindowOpen, inc.watermarkData(openedAt, time.Time{}, openedTable)); err != nil {
		return t.incAbort(err)
	}
	// The table is looked up again for every chunk, so that chunks follow
	// its columns as they change.
	inc.table = nil
	for inc.state.running() {
		coll := inc.state.colls[0]
		if inc.table == nil {
			name, ok := parseTableName(coll.ID)
			if !ok {
				inc.nextTable("skipped: its name is not schema.table")
				continue
			}
			ct, err := t.src.PrepareChunkTable(ctx, name, coll.SurrogateKey)
			if err != nil {
				if err := t.incFailed(err); err != nil {
					return err
				}
				inc.log.Warn("incremental snapshot of table skipped", "table", coll.ID, "err", err)
				inc.nextTable("skipped")
				continue
			}
			inc.table = ct
			inc.identity = ct.Rel.Key
			if len(inc.identity) == 0 {
				inc.identity = ct.Order
			}
			inc.identNames = make([]string, len(inc.identity))
			for i, c := range inc.identity {
				inc.identNames[i] = ct.Rel.Columns[c].Name
			}
			if inc.state.maxKey == nil {
				inc.log.Info("incremental snapshot of table starting", "table", coll.ID, "key", strings.Join(ct.OrderColumns(), ","), "condition", coll.Condition)
			}
		}
		if inc.state.maxKey == nil {
			maxKey, err := t.src.MaxKey(ctx, inc.table, coll.Condition)
			if err != nil {
				if err := t.incFailed(err); err != nil {
					return err
				}
				inc.log.Warn("incremental snapshot of table skipped", "table", coll.ID, "err", err)
				inc.nextTable("skipped")
				continue
			}
			if maxKey == nil {
				inc.nextTable("done: it is empty")
				continue
			}
			inc.state.maxKey = maxKey
		}
		rows, err := t.src.ReadChunk(ctx, inc.table, inc.state.lastKey, inc.state.maxKey, coll.Condition, inc.cfg.ChunkSize)
		if err != nil {
			if err := t.incFailed(err); err != nil {
				return err
			}
			inc.log.Warn("incremental snapshot of table skipped", "table", coll.ID, "err", err)
			inc.nextTable("skipped")
			continue
		}
		if len(rows) == 0 {
			inc.nextTable("done")
			continue
		}
		for _, r := range rows {
			var ok bool
			inc.keyBuf, ok = rowKey(inc.keyBuf[:0], r.After, inc.identity)
			if ok {
				inc.win.add(string(inc.keyBuf), r)
			}
		}
		inc.chunkEnd = inc.table.ChunkKey(rows[len(rows)-1])
		break
	}
	if !inc.state.running() {
		// Nothing left to read: no window to close.
		inc.chunkID = ""
		if inc.cfg.DeleteWatermark && !inc.cfg.ReadOnly {
			if err := t.src.DeleteSignal(ctx, inc.signal, openID); err != nil {
				if err := t.incFailed(err); err != nil {
					return err
				}
			}
		}
		inc.finish()
		return nil
	}
	inc.pending = true
	if inc.cfg.ReadOnly {
		high, lsn, err := t.src.CurrentSnapshot(ctx)
		if err != nil {
			return t.incAbort(err)
		}
		inc.high, inc.highLSN = high, lsn
		return nil
	}
	var err error
	if inc.cfg.DeleteWatermark {
		err = t.src.DeleteSignal(ctx, inc.signal, openID)
	} else {
		err = t.src.InsertSignal(ctx, inc.signal, inc.chunkID+"-close", sigWindowClose, inc.watermarkData(openedAt, time.Now(), openedTable))
	}
	if err != nil {
		return t.incAbort(err)
	}
	return nil
}

// incAbort ends the snapshot after a failed watermark: without its
// watermarks no window can close.
func (t *task) incAbort(err error) error {
	if err := t.incFailed(err); err != nil {
		return err
	}
	inc := t.inc
	inc.log.Warn("incremental snapshot aborted: its watermarks cannot be written or read; the connector's user needs INSERT and DELETE on the signal table (or, with read.only=true, PostgreSQL 13 or later)",
		"table", inc.signal.String(), "err", err)
	inc.pending, inc.open, inc.chunkID = false, false, ""
	inc.win.reset()
	inc.state.colls = nil
	inc.resetTable()
	inc.finish()
	return nil
}

// incCloseWindow emits the window's rows at pos and reads the next chunk.
func (t *task) incCloseWindow(pos change.LSN) error {
	inc := t.inc
	inc.pending, inc.open = false, false
	now := time.Now().UnixMicro()
	var n int64
	for _, r := range inc.win.rows {
		if r == nil {
			continue
		}
		r.LSN, r.LastCommitLSN, r.TsMicros = pos, t.lastCommit, now
		if err := t.emit(r); err != nil {
			return err
		}
		n++
		if t.inBatch >= partialEvery {
			t.incSeal()
		}
	}
	read := len(inc.win.rows)
	inc.win.reset()
	inc.tableRows += n
	inc.totalRows += n
	inc.state.lastKey = inc.chunkEnd
	t.incSeal()
	if len(inc.state.colls) > 0 {
		inc.log.Info("incremental snapshot chunk emitted", "table", inc.state.colls[0].ID, "rows", n, "superseded", int64(read)-n, "table_rows", inc.tableRows, "up_to_key", strings.Join(inc.chunkEnd, ","))
	}
	return t.incReadChunk()
}

// incBlocking runs a blocking snapshot: streaming waits while the listed
// tables are read in one transaction and emitted with the markers of an
// initial snapshot.
func (t *task) incBlocking(req snapshotRequest, pos change.LSN, log *slog.Logger) error {
	if len(req.Conditions) > 0 {
		log.Warn("ignoring the blocking execute-snapshot signal: pgmotion does not support additional-conditions for blocking snapshots; use type incremental, whose additional-conditions filter rows")
		return nil
	}
	tables, err := t.incResolve(req, log)
	if err != nil {
		return t.incFailed(err)
	}
	if len(tables) == 0 {
		log.Warn("blocking execute-snapshot signal names no captured table; nothing to do", "collections", strings.Join(req.Collections, ","))
		return nil
	}
	names := make([]pgsource.TableName, len(tables))
	for i, tb := range tables {
		names[i], _ = parseTableName(tb)
	}
	log.Info("blocking snapshot starting: streaming waits until it is done", "tables", strings.Join(tables, ","))
	start := time.Now()
	plan, err := t.src.PlanSnapshot(t.inc.ctx, names, 1, nil)
	sink := &blockingSink{t: t}
	if err == nil {
		// One reader: its goroutine emits while this one waits, so the
		// task's state is used by one goroutine at a time.
		err = t.src.RunSnapshot(t.inc.ctx, plan, pgsource.SnapshotOptions{LSN: pos, Threads: 1}, sink)
	}
	t.incSeal()
	rows := sink.rows
	if err != nil {
		if ferr := t.incFailed(err); ferr != nil || !pgsource.IsSQLError(err) {
			return err
		}
		log.Warn("blocking snapshot failed; streaming goes on", "rows", rows, "err", err)
		return nil
	}
	log.Info("blocking snapshot done", "tables", len(tables), "rows", rows, "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// blockingSink emits a blocking snapshot's rows through the task.
type blockingSink struct {
	t    *task
	rows int64
}

func (b *blockingSink) Row(_ int, _ pgsource.Range, c *change.Change) error {
	b.rows++
	c.LastCommitLSN = b.t.lastCommit
	if err := b.t.emit(c); err != nil {
		return err
	}
	if b.t.inBatch >= partialEvery {
		b.t.incSeal()
	}
	return nil
}

func (b *blockingSink) RangeDone(int, pgsource.Range, int64) error { return nil }

// incrementalConfigFrom reads the signal and incremental snapshot options.
func incrementalConfigFrom(pc *spec.PostgresConfig) IncrementalConfig {
	c := pc.Config
	ic := IncrementalConfig{
		Poll:             time.Duration(c.Long("signal.poll.interval.ms")) * time.Millisecond,
		KafkaTopic:       strings.TrimSpace(c.Str("signal.kafka.topic")),
		KafkaGroup:       c.Str("signal.kafka.groupId"),
		KafkaPollTimeout: time.Duration(c.Int("signal.kafka.poll.timeout.ms")) * time.Millisecond,
		ChunkSize:        c.Int("incremental.snapshot.chunk.size"),
		DeleteWatermark:  strings.EqualFold(c.Str("incremental.snapshot.watermarking.strategy"), "insert_delete"),
		ReadOnly:         c.Bool("read.only"),
	}
	if tables := c.List("signal.data.collection"); len(tables) > 0 {
		ic.SignalTable = tables[0] // validated: one schema.table
	}
	for _, ch := range c.List("signal.enabled.channels") {
		if ch = strings.ToLower(strings.TrimSpace(ch)); ch != "" {
			ic.Channels = append(ic.Channels, ch)
		}
	}
	if ic.KafkaTopic == "" {
		ic.KafkaTopic = pc.TopicPrefix + "-signal"
	}
	for _, b := range strings.Split(c.Str("signal.kafka.bootstrap.servers"), ",") {
		if b = strings.TrimSpace(b); b != "" {
			ic.KafkaBrokers = append(ic.KafkaBrokers, b)
		}
	}
	return ic
}
