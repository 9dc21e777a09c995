// Package snapshot holds the incremental snapshot's state machine and the
// signals that drive it, and the initial snapshot's decisions and resumable
// progress (initial.go). The task that streams (internal/pipeline) feeds
// it the stream's changes and ticks, stores the state it reports in the
// source offset, and gives it what it needs from PostgreSQL and Kafka
// through two small interfaces, Source and Task; this package imports
// nothing of pipeline's.
package snapshot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/pgsource"
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
// Progress is kept in the source offset (OffsetKeys), so that a snapshot
// resumes after a restart: Debezium's incremental_snapshot_collections
// and incremental_snapshot_correlation_id, and, instead of Debezium's
// incremental_snapshot_primary_key and incremental_snapshot_maximum_key
// (hex of a Java-serialized Object[], which pgmotion neither reads nor
// writes), pgmotion_incremental_snapshot_primary_key and
// pgmotion_incremental_snapshot_maximum_key, each a JSON array of the key
// values in PostgreSQL's text form. A snapshot Debezium left half done
// thus goes on under pgmotion from the start of the table it was reading,
// and one pgmotion left half done goes on under Debezium the same way.

// ChunkReader reads the tables of an incremental snapshot: what it needs
// of PostgreSQL besides the watermarks. *pgsource.Source implements it.
type ChunkReader interface {
	// ListTables lists the tables a signal may name.
	ListTables(ctx context.Context) ([]pgsource.TableName, error)
	// PrepareChunkTable looks a table up, with the columns chunks follow.
	PrepareChunkTable(ctx context.Context, t pgsource.TableName, surrogateKey string) (*pgsource.ChunkTable, error)
	// MaxKey returns the largest chunk key of the rows cond selects, nil
	// when there is none.
	MaxKey(ctx context.Context, ct *pgsource.ChunkTable, cond string) ([]string, error)
	// ReadChunk reads up to limit rows, in key order, with keys after
	// after (nil: from the first) up to max, that cond selects.
	ReadChunk(ctx context.Context, ct *pgsource.ChunkTable, after, max []string, cond string, limit int) ([]*change.Change, error)
	// MetaOK reports whether the connection is still open: after an
	// error, it tells a failed statement from a lost connection.
	MetaOK() bool
}

// Watermarks writes the watermarks that bound a window: rows of the signal
// table, or, read-only, the transaction snapshots around a chunk's read.
// *pgsource.Source implements it.
type Watermarks interface {
	InsertSignal(ctx context.Context, table pgsource.TableName, id, typ, data string) error
	DeleteSignal(ctx context.Context, table pgsource.TableName, id string) error
	// CurrentSnapshot returns pg_current_snapshot() and the WAL position.
	CurrentSnapshot(ctx context.Context) (pgsource.XactSnapshot, change.LSN, error)
}

// Source is what an incremental snapshot needs of PostgreSQL.
type Source interface {
	ChunkReader
	Watermarks
}

// Task is what an incremental snapshot needs of the task it runs in.
type Task interface {
	// Emit sends a row through the task's emit path, as its next record.
	Emit(c *change.Change) error
	// Checkpoint closes the task's open batch, so that the offsets take
	// the snapshot's state (OffsetKeys) once Kafka holds the batch.
	Checkpoint()
	// Blocking runs a blocking snapshot of tables at pos while streaming
	// waits, and returns the rows it emitted.
	Blocking(ctx context.Context, tables []pgsource.TableName, pos change.LSN) (int64, error)
	// OffsetJSON returns the current source offset, for the log signal.
	OffsetJSON() []byte
}

// Config is how a task runs its incremental snapshots.
type Config struct {
	// ChunkSize is incremental.snapshot.chunk.size.
	ChunkSize int
	// DeleteWatermark is incremental.snapshot.watermarking.strategy=
	// insert_delete: a window closes by deleting its open row.
	DeleteWatermark bool
	// ReadOnly is read.only: no watermark writes (PostgreSQL 13+).
	ReadOnly bool
	// SourceSignals says that signal.enabled.channels includes source:
	// the signal table's rows other than watermarks are signals.
	SourceSignals bool
	// Poll is signal.poll.interval.ms: how often the kafka channel's
	// signals are picked up.
	Poll time.Duration
	// SignalTable is the signal table as the catalog spells it; Schema is
	// "" when there is none. SignalEvents reports whether the connector's
	// filters capture it, so that its rows become events.
	SignalTable  pgsource.TableName
	SignalEvents bool
	// Include is the connector's table filter; nil captures every table.
	Include func(schema, table string) bool
	// Disabled, if set, says why incremental snapshots cannot run.
	Disabled string
}

// Incremental is a task's incremental snapshot: the DBLog window, the
// state kept in the offsets, and the signals that start, stop, pause and
// resume it. It belongs to the streaming goroutine; it is not safe for
// concurrent use.
type Incremental struct {
	cfg  Config
	src  Source
	task Task
	log  *slog.Logger
	// ctx is the task's: the handlers that call in here have none.
	ctx context.Context

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

	kafka      *kafkaSignals
	kafkaTopic string
	lastPoll   time.Time
}

// NewIncremental returns the incremental snapshot machinery of a task;
// ctx is the task's. It starts nothing: Restore resumes the snapshot of a
// stored offset, and StartKafka the kafka channel's consumer.
func NewIncremental(ctx context.Context, cfg Config, src Source, task Task, log *slog.Logger) *Incremental {
	return &Incremental{cfg: cfg, src: src, task: task, log: log, ctx: ctx}
}

// Restore resumes the incremental snapshot a stored offset holds, if any,
// reading its next chunk.
func (inc *Incremental) Restore(off OffsetKeys) error {
	state, warn, err := loadIncState(&off)
	if err != nil {
		inc.log.Warn("ignoring the incremental snapshot of the stored offset", "err", err)
		return nil
	}
	if !state.running() {
		return nil
	}
	if warn != "" {
		inc.log.Warn(warn)
	}
	if inc.cfg.Disabled != "" {
		inc.log.Warn("the stored offset holds an incremental snapshot in progress that cannot go on", "collections", off.Collections)
		return nil
	}
	inc.state = state
	inc.started = time.Now()
	inc.log.Info("resuming the incremental snapshot of the stored offset", "tables", len(state.colls), "table", state.colls[0].ID, "after_key", strings.Join(state.lastKey, ","))
	return inc.readChunk()
}

// OffsetKeys returns the state to store in the source offset; all empty
// when no snapshot runs.
func (inc *Incremental) OffsetKeys() OffsetKeys {
	var k OffsetKeys
	k.Collections, k.CorrelationID, k.PrimaryKey, k.MaximumKey = inc.state.offsetFields()
	return k
}

// StartKafka starts the kafka channel's consumer of the signal topic,
// whose signals Tick acts on; Close stops it.
func (inc *Incremental) StartKafka(ctx context.Context, seeds []string, topic, group, prefix string, fetchWait time.Duration, opts ...kgo.Opt) {
	inc.kafkaTopic = topic
	inc.kafka = newKafkaSignals(seeds, topic, group, prefix, fetchWait, inc.log, opts...)
	inc.kafka.start(ctx)
}

// Close stops the kafka channel's consumer.
func (inc *Incremental) Close() {
	if inc.kafka != nil {
		inc.kafka.Close()
	}
}

// failed decides what a database error during the snapshot means: the
// task fails when the connection is gone (it resumes from the offsets
// after a restart), otherwise the error is only the snapshot's.
func (inc *Incremental) failed(err error) error {
	if !inc.src.MetaOK() || inc.ctx.Err() != nil {
		return err
	}
	return nil
}

// Change is told each change of the stream, before it is emitted: it acts
// on the signal table's rows and removes from the window the rows
// streamed events supersede. skip says the change is the signal table's
// and the filters exclude it.
func (inc *Incremental) Change(c *change.Change) (skip bool, err error) {
	sigTable := inc.cfg.SignalTable
	if sigTable.Schema != "" && c.Rel.Namespace == sigTable.Schema && c.Rel.Name == sigTable.Name {
		return !inc.cfg.SignalEvents, inc.signalRow(c)
	}
	if !inc.pending {
		return false, nil
	}
	if inc.cfg.ReadOnly && inc.passedHigh(c) {
		if err := inc.closeWindow(c.LSN); err != nil {
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
func (inc *Incremental) passedHigh(c *change.Change) bool {
	if inc.highLSN != 0 && c.LSN >= inc.highLSN {
		return true
	}
	return c.HasXid && extendXid(c.Xid, inc.low.Xmin) > max(inc.high.Xmax, inc.low.Xmax)
}

// streamIdentity returns the indexes of the identity columns in the
// stream's relation of the table, or nil if it lacks one.
func (inc *Incremental) streamIdentity(rel *change.Relation) []int {
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

// signalRow acts on a row of the signal table: a watermark of the window
// in flight, or a signal.
func (inc *Incremental) signalRow(c *change.Change) error {
	switch c.Op {
	case change.OpCreate:
		sig, err := signalFromRow(c.Rel, c.After)
		if err != nil {
			inc.log.Warn("ignoring a row of the signal table that is not a signal", "table", inc.cfg.SignalTable.String(), "signal_id", sig.ID, "err", err)
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
				return inc.closeWindow(c.LSN)
			}
			return nil
		}
		if !inc.cfg.SourceSignals {
			inc.log.Warn("ignoring a signal written to the signal table: signal.enabled.channels does not include source", "signal_id", sig.ID, "signal_type", sig.Type)
			return nil
		}
		return inc.onSignal(sig, c.LSN)
	case change.OpDelete:
		if !inc.cfg.DeleteWatermark || !inc.pending || inc.cfg.ReadOnly || c.Before == nil {
			return nil
		}
		if id, ok := signalRowID(c.Rel, c.Before); ok && id == inc.chunkID+"-open" {
			return inc.closeWindow(c.LSN)
		}
	}
	return nil
}

// Tick is told the stream's ticks: it closes a read-only window once the
// stream is idle past its watermark, and acts on the kafka channel's
// signals (inside a transaction too: a signal's effects do not depend on
// it). idle is the last WAL position the stream reported idle at, commit
// the last commit's.
func (inc *Incremental) Tick(now time.Time, inTxn bool, idle, commit change.LSN) error {
	if inc.pending && inc.cfg.ReadOnly && !inTxn && inc.highLSN != 0 && max(idle, commit) >= inc.highLSN {
		if err := inc.closeWindow(commit); err != nil {
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
				inc.log.Warn("ignoring a record of the signal topic that is not a signal", "topic", inc.kafkaTopic, "offset", ks.sig.Offset, "err", ks.err)
			} else {
				err = inc.onSignal(ks.sig, commit)
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

// onSignal acts on one signal. Problems with the signal are logged, not
// returned: only a lost database connection or Kafka failure ends the
// task.
func (inc *Incremental) onSignal(sig signal, pos change.LSN) error {
	log := inc.log.With("signal_id", sig.ID, "signal_type", sig.Type, "channel", sig.Channel)
	if sig.Channel == ChannelKafka {
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
			return inc.blocking(req, pos, log)
		}
		return inc.execute(sig, req, log)
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
		return inc.readChunk()
	case sigLog:
		msg, err := parseLogSignal(sig.Data)
		if err != nil {
			log.Warn("ignoring the log signal: "+err.Error(), "data", string(sig.Data))
			return nil
		}
		inc.log.Info(strings.Replace(msg, "{}", string(inc.task.OffsetJSON()), 1), "signal_id", sig.ID, "channel", sig.Channel)
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

// tables lists the tables a snapshot signal may name: the captured ones,
// not the signal table, as schema.table.
func (inc *Incremental) tables() ([]string, map[string]bool, error) {
	all, err := inc.src.ListTables(inc.ctx)
	if err != nil {
		return nil, nil, err
	}
	var captured []string
	exists := map[string]bool{}
	for _, tb := range all {
		exists[tb.String()] = true
		if tb == inc.cfg.SignalTable {
			continue
		}
		if inc.cfg.Include == nil || inc.cfg.Include(tb.Schema, tb.Name) {
			captured = append(captured, tb.String())
		}
	}
	return captured, exists, nil
}

// resolve expands a signal's data-collections, logging the entries that
// name no captured table.
func (inc *Incremental) resolve(req snapshotRequest, log *slog.Logger) ([]string, error) {
	captured, exists, err := inc.tables()
	if err != nil {
		return nil, err
	}
	matched, unmatched := expandCollections(req.Collections, captured)
	for _, u := range unmatched {
		switch {
		case inc.cfg.SignalTable.Schema != "" && u == inc.cfg.SignalTable.String():
			log.Warn("the signal table cannot be snapshotted", "collection", u)
		case exists[u]:
			log.Warn("not snapshotting a table the connector does not capture: add it to the include lists first", "collection", u)
		default:
			log.Warn("data-collections entry matches no captured table (entries are schema.table names or regular expressions on them, case-sensitive)", "collection", u)
		}
	}
	return matched, nil
}

// execute queues the tables of an incremental execute-snapshot signal,
// and starts reading when no snapshot was running.
func (inc *Incremental) execute(sig signal, req snapshotRequest, log *slog.Logger) error {
	if inc.cfg.Disabled != "" {
		log.Warn("ignoring the execute-snapshot signal: " + inc.cfg.Disabled)
		return nil
	}
	tables, err := inc.resolve(req, log)
	if err != nil {
		return inc.failed(err)
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
	return inc.readChunk()
}

// blocking runs a blocking snapshot: streaming waits while the listed
// tables are read in one transaction and emitted with the markers of an
// initial snapshot.
func (inc *Incremental) blocking(req snapshotRequest, pos change.LSN, log *slog.Logger) error {
	if len(req.Conditions) > 0 {
		log.Warn("ignoring the blocking execute-snapshot signal: pgmotion does not support additional-conditions for blocking snapshots; use type incremental, whose additional-conditions filter rows")
		return nil
	}
	tables, err := inc.resolve(req, log)
	if err != nil {
		return inc.failed(err)
	}
	if len(tables) == 0 {
		log.Warn("blocking execute-snapshot signal names no captured table; nothing to do", "collections", strings.Join(req.Collections, ","))
		return nil
	}
	names := make([]pgsource.TableName, len(tables))
	for i, tb := range tables {
		names[i], _ = ParseTableName(tb)
	}
	log.Info("blocking snapshot starting: streaming waits until it is done", "tables", strings.Join(tables, ","))
	start := time.Now()
	rows, err := inc.task.Blocking(inc.ctx, names, pos)
	if err != nil {
		if ferr := inc.failed(err); ferr != nil || !pgsource.IsSQLError(err) {
			return err
		}
		log.Warn("blocking snapshot failed; streaming goes on", "rows", rows, "err", err)
		return nil
	}
	log.Info("blocking snapshot done", "tables", len(tables), "rows", rows, "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// applyStops acts on the stop-snapshot requests, between chunks.
func (inc *Incremental) applyStops() {
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

func (inc *Incremental) resetTable() {
	inc.table, inc.tableRows = nil, 0
	inc.state.lastKey, inc.state.maxKey = nil, nil
	inc.identity, inc.identNames, inc.streamRel, inc.streamCols = nil, nil, nil, nil
}

// nextTable ends the table being read.
func (inc *Incremental) nextTable(status string, args ...any) {
	if len(inc.state.colls) == 0 {
		return
	}
	inc.log.Info("incremental snapshot of table "+status, append([]any{"table", inc.state.colls[0].ID, "rows", inc.tableRows}, args...)...)
	inc.state.colls = inc.state.colls[1:]
	inc.resetTable()
}

// finish logs the end of the snapshot.
func (inc *Incremental) finish() {
	if inc.started.IsZero() {
		return
	}
	inc.log.Info("incremental snapshot completed", "rows", inc.totalRows, "elapsed", time.Since(inc.started).Round(time.Millisecond))
	inc.started, inc.paused, inc.state.correlationID = time.Time{}, false, ""
}

// watermarkData is the data of a watermark row, as Debezium writes it.
func (inc *Incremental) watermarkData(open time.Time, close time.Time, table string) string {
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

// readChunk reads the next chunk into the window, between its
// watermarks, moving past tables that are done, empty or unreadable.
func (inc *Incremental) readChunk() error {
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
		low, _, err := inc.src.CurrentSnapshot(inc.ctx)
		if err != nil {
			return inc.abort(err)
		}
		inc.low = low
	} else if err := inc.src.InsertSignal(inc.ctx, inc.cfg.SignalTable, openID, sigWindowOpen, inc.watermarkData(openedAt, time.Time{}, openedTable)); err != nil {
		return inc.abort(err)
	}
	if err := inc.fill(); err != nil {
		return err
	}
	if !inc.state.running() {
		// Nothing left to read: no window to close.
		inc.chunkID = ""
		if inc.cfg.DeleteWatermark && !inc.cfg.ReadOnly {
			if err := inc.src.DeleteSignal(inc.ctx, inc.cfg.SignalTable, openID); err != nil {
				if err := inc.failed(err); err != nil {
					return err
				}
			}
		}
		inc.finish()
		return nil
	}
	inc.pending = true
	if inc.cfg.ReadOnly {
		high, lsn, err := inc.src.CurrentSnapshot(inc.ctx)
		if err != nil {
			return inc.abort(err)
		}
		inc.high, inc.highLSN = high, lsn
		return nil
	}
	var err error
	if inc.cfg.DeleteWatermark {
		err = inc.src.DeleteSignal(inc.ctx, inc.cfg.SignalTable, openID)
	} else {
		err = inc.src.InsertSignal(inc.ctx, inc.cfg.SignalTable, inc.chunkID+"-close", sigWindowClose, inc.watermarkData(openedAt, time.Now(), openedTable))
	}
	if err != nil {
		return inc.abort(err)
	}
	return nil
}

// fill reads the next chunk of rows into the window, moving past tables
// that are done, empty or unreadable; it leaves no table running when
// there is nothing left to read.
func (inc *Incremental) fill() error {
	// The table is looked up again for every chunk, so that chunks follow
	// its columns as they change.
	inc.table = nil
	for inc.state.running() {
		coll := inc.state.colls[0]
		if inc.table == nil {
			ok, err := inc.prepareTable(coll)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		if inc.state.maxKey == nil {
			maxKey, err := inc.src.MaxKey(inc.ctx, inc.table, coll.Condition)
			if err != nil {
				if err := inc.skipTable(coll, err); err != nil {
					return err
				}
				continue
			}
			if maxKey == nil {
				inc.nextTable("done: it is empty")
				continue
			}
			inc.state.maxKey = maxKey
		}
		rows, err := inc.src.ReadChunk(inc.ctx, inc.table, inc.state.lastKey, inc.state.maxKey, coll.Condition, inc.cfg.ChunkSize)
		if err != nil {
			if err := inc.skipTable(coll, err); err != nil {
				return err
			}
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
		return nil
	}
	return nil
}

// prepareTable looks up the table coll names, reporting false when it was
// skipped.
func (inc *Incremental) prepareTable(coll incCollection) (bool, error) {
	name, ok := ParseTableName(coll.ID)
	if !ok {
		inc.nextTable("skipped: its name is not schema.table")
		return false, nil
	}
	ct, err := inc.src.PrepareChunkTable(inc.ctx, name, coll.SurrogateKey)
	if err != nil {
		return false, inc.skipTable(coll, err)
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
	return true, nil
}

// skipTable moves past a table that cannot be read, unless the error is
// the connection's, which fails the task.
func (inc *Incremental) skipTable(coll incCollection, err error) error {
	if err := inc.failed(err); err != nil {
		return err
	}
	inc.log.Warn("incremental snapshot of table skipped", "table", coll.ID, "err", err)
	inc.nextTable("skipped")
	return nil
}

// abort ends the snapshot after a failed watermark: without its
// watermarks no window can close.
func (inc *Incremental) abort(err error) error {
	if err := inc.failed(err); err != nil {
		return err
	}
	inc.log.Warn("incremental snapshot aborted: its watermarks cannot be written or read; the connector's user needs INSERT and DELETE on the signal table (or, with read.only=true, PostgreSQL 13 or later)",
		"table", inc.cfg.SignalTable.String(), "err", err)
	inc.pending, inc.open, inc.chunkID = false, false, ""
	inc.win.reset()
	inc.state.colls = nil
	inc.resetTable()
	inc.finish()
	return nil
}

// closeWindow emits the window's rows at pos and reads the next chunk.
func (inc *Incremental) closeWindow(pos change.LSN) error {
	inc.pending, inc.open = false, false
	now := time.Now().UnixMicro()
	var n int64
	for _, r := range inc.win.rows {
		if r == nil {
			continue
		}
		r.LSN, r.TsMicros = pos, now
		if err := inc.task.Emit(r); err != nil {
			return err
		}
		n++
	}
	read := len(inc.win.rows)
	inc.win.reset()
	inc.tableRows += n
	inc.totalRows += n
	inc.state.lastKey = inc.chunkEnd
	inc.task.Checkpoint()
	if len(inc.state.colls) > 0 {
		inc.log.Info("incremental snapshot chunk emitted", "table", inc.state.colls[0].ID, "rows", n, "superseded", int64(read)-n, "table_rows", inc.tableRows, "up_to_key", strings.Join(inc.chunkEnd, ","))
	}
	return inc.readChunk()
}
