// Package pgsource reads a PostgreSQL database through logical replication
// with pgoutput: it checks the server, manages the publication and the
// replication slot, reads the initial snapshot under the slot's exported
// snapshot, and streams row changes in commit order. It confirms a position
// to the slot only when its caller says Kafka holds everything before it.
package pgsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/options"
)

// PG13 is the server_version_num of PostgreSQL 13, the first release
// whose pg_replication_slots has wal_status and safe_wal_size, and that
// has pg_current_snapshot (incremental snapshots with read.only=true).
const PG13 = 130000

// pg14 is the server_version_num of PostgreSQL 14, the first release whose
// pgoutput sends logical decoding messages and streams large transactions
// (protocol 2), and that scans TID ranges.
const pg14 = 140000

// The publication.autocreate.mode values, as internal/options declares them.
const (
	autocreateAllTables = string(options.AutocreateAllTables)
	autocreateFiltered  = string(options.AutocreateFiltered)
	autocreateDisabled  = string(options.AutocreateDisabled)
	autocreateNoTables  = string(options.AutocreateNoTables)
)

// Config says what to read and how. Build it with the connector's parsed
// options; New checks it.
type Config struct {
	// Conn is a parsed connection config for the database; the replication
	// connection is derived from it.
	Conn *pgconn.Config

	Slot        string
	Publication string
	// PublicationMode is publication.autocreate.mode: all_tables,
	// filtered, disabled or no_tables.
	PublicationMode string

	// Include reports whether a table is captured (the connector's schema
	// and table include and exclude lists); nil captures every table.
	Include func(schema, table string) bool
	// TableInclude is table.include.list, used only to report entries
	// that match no table.
	TableInclude []IncludeEntry
	// KeyColumns picks the key columns of a table from its columns
	// (message.key.columns); nil, or an empty result, keeps the primary
	// key.
	KeyColumns func(schema, table string, columns []string) []string

	// StatusInterval is how often a standby status update goes out when
	// nothing changed (status.update.interval.ms). Confirmed positions go
	// out within a second whatever it says.
	StatusInterval time.Duration
	DropSlotOnStop bool

	// SpillDir is where streamed transactions larger than BufferMemory
	// are written until their commit (txbuffer.go). It must belong to this
	// connector alone: files left in it are removed when streaming starts.
	// Empty uses a directory under os.TempDir named after the slot.
	SpillDir string
	// BufferMemory is pgmotion.buffer.memory.bytes: the memory, in bytes,
	// that open streamed transactions may take before they spill; 0 means
	// DefaultBufferMemory.
	BufferMemory int64
	// Held, if not nil, is told each change, in bytes, of the memory the
	// streamed-transaction buffers hold: they take memory as transactions
	// stream in, up to BufferMemory, and give it back at their end, so
	// that the process's memory limit can follow what is held rather
	// than reserve the whole budget up front. It is called on the
	// streaming goroutine.
	Held func(delta int64)
	// DDLCapture is pgmotion.ddl.capture: Open installs the event
	// triggers that write each DDL statement into the WAL as a message
	// of prefix DDLMessagePrefix (ddlcapture.go).
	DDLCapture bool

	Log *slog.Logger
}

// sessionParams make the server print values the way the encoder reads
// them, whatever the database's defaults are.
var sessionParams = map[string]string{
	"DateStyle":          "ISO",
	"TimeZone":           "UTC",
	"IntervalStyle":      "postgres",
	"extra_float_digits": "1",
	"bytea_output":       "hex",
	"application_name":   "pgmotion",
}

// Source is one connector's view of its database. Open it, optionally
// Snapshot, then Stream; Close ends it. Confirm may be called from any
// goroutine; the other methods belong to one goroutine.
type Source struct {
	cfg  Config
	log  *slog.Logger
	meta *pgconn.PgConn // catalog queries and snapshots
	// filterChecked keeps checkFilter's answer per filter (filter.go).
	filterChecked map[string]error
	repl          *pgconn.PgConn // replication protocol

	rels     map[uint32]*change.Relation
	excluded map[uint32]string

	confirmed syncLSN
	// filtered counts changes of tables that are not captured.
	filtered  atomic.Int64
	closeOnce sync.Once
	// slotHeld is set once Open has the slot: only then may Close drop it
	// (a slot another process holds is not this source's to drop).
	slotHeld bool
	dbName   string
	// serverVersion is server_version_num, known after Open.
	serverVersion int
}

// New checks cfg and returns a Source that is not connected yet.
func New(cfg Config) (*Source, error) {
	if cfg.Conn == nil {
		return nil, errors.New("pgsource: Config.Conn is required")
	}
	if cfg.Slot == "" || cfg.Publication == "" {
		return nil, errors.New("pgsource: slot and publication names are required")
	}
	switch cfg.PublicationMode {
	case autocreateAllTables, autocreateFiltered, autocreateDisabled, autocreateNoTables:
	default:
		return nil, fmt.Errorf("pgsource: publication.autocreate.mode %q: want all_tables, filtered, disabled or no_tables", cfg.PublicationMode)
	}
	if cfg.StatusInterval <= 0 {
		cfg.StatusInterval = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Source{
		cfg:      cfg,
		log:      cfg.Log,
		rels:     map[uint32]*change.Relation{},
		excluded: map[uint32]string{},
		dbName:   cfg.Conn.Database,
	}, nil
}

// SlotInfo describes the replication slot after Open.
type SlotInfo struct {
	// Created is true when Open created the slot. Then SnapshotName names
	// the snapshot it exported, usable until Stream starts, and
	// ConsistentPoint is where its stream begins.
	Created         bool
	SnapshotName    string
	ConsistentPoint change.LSN
	// ConfirmedFlush and RestartLSN are the slot's positions when it
	// already existed.
	ConfirmedFlush change.LSN
	RestartLSN     change.LSN
}

func (s *Source) connConfig(replication bool) *pgconn.Config {
	c := s.cfg.Conn.Copy()
	if c.RuntimeParams == nil {
		c.RuntimeParams = map[string]string{}
	}
	for k, v := range sessionParams {
		c.RuntimeParams[k] = v
	}
	if replication {
		c.RuntimeParams["replication"] = "database"
	}
	return c
}

// Open connects, checks that the server can do logical replication for
// this user, and makes sure the DDL capture triggers (with DDLCapture),
// the publication and the slot exist.
func (s *Source) Open(ctx context.Context) (*SlotInfo, error) {
	user, db := s.cfg.Conn.User, s.cfg.Conn.Database
	var err error
	s.meta, err = pgconn.ConnectConfig(ctx, s.connConfig(false))
	if err != nil {
		return nil, explain(err, user, db)
	}
	if err := s.checkServer(ctx); err != nil {
		return nil, err
	}
	if s.cfg.DDLCapture {
		// Before the slot, so that no DDL after its start goes uncaptured.
		if err := s.ensureDDLCapture(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.ensurePublication(ctx); err != nil {
		return nil, err
	}
	s.repl, err = pgconn.ConnectConfig(ctx, s.connConfig(true))
	if err != nil {
		return nil, explain(err, user, db)
	}
	info, err := s.ensureSlot(ctx)
	if err != nil {
		return nil, err
	}
	// Once the slot is ours, so that waiting for a busy slot does not
	// repeat it.
	if err := s.logCapture(ctx); err != nil {
		return nil, err
	}
	return info, nil
}

// queryOne runs sql with args on the catalog connection and returns its
// first row (nil when there is none).
func (s *Source) queryOne(ctx context.Context, sql string, args ...string) ([][]byte, error) {
	params := make([][]byte, len(args))
	for i, a := range args {
		params[i] = []byte(a)
	}
	res := s.meta.ExecParams(ctx, sql, params, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, res.Err
	}
	if len(res.Rows) == 0 {
		return nil, nil
	}
	return res.Rows[0], nil
}

// MetaOK reports whether the catalog connection is still open: after an
// error, it tells a failed statement from a lost connection.
func (s *Source) MetaOK() bool { return s.meta != nil && !s.meta.IsClosed() }

func (s *Source) checkServer(ctx context.Context) error {
	row, err := s.queryOne(ctx, `SELECT current_setting('wal_level'), current_setting('server_version_num')::int,
		(SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user)`)
	if err != nil {
		return fmt.Errorf("check server settings: %w", err)
	}
	s.serverVersion, _ = strconv.Atoi(string(row[1]))
	if wal := string(row[0]); wal != "logical" {
		return fmt.Errorf("the server's wal_level is %q, and logical replication needs wal_level=logical: set it in postgresql.conf (or ALTER SYSTEM SET wal_level = logical) and restart PostgreSQL", wal)
	}
	if string(row[2]) != "t" {
		u := s.cfg.Conn.User
		return fmt.Errorf("user %q has no REPLICATION privilege: run ALTER ROLE %s WITH REPLICATION, or connect as a role that has it", u, u)
	}
	return nil
}

// TableName is a schema-qualified table name.
type TableName struct{ Schema, Name string }

func (t TableName) String() string { return t.Schema + "." + t.Name }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (s *Source) ensurePublication(ctx context.Context) error {
	name := s.cfg.Publication
	row, err := s.queryOne(ctx, `SELECT puballtables FROM pg_publication WHERE pubname = $1`, name)
	if err != nil {
		return fmt.Errorf("look up publication %q: %w", name, err)
	}
	exists := row != nil
	switch s.cfg.PublicationMode {
	case autocreateDisabled:
		if !exists {
			return fmt.Errorf("publication %q does not exist and publication.autocreate.mode is disabled: create it (CREATE PUBLICATION %s FOR ALL TABLES) or set publication.autocreate.mode to all_tables or filtered", name, quoteIdent(name))
		}
		return nil
	case autocreateAllTables:
		if exists {
			return nil
		}
		return s.execMeta(ctx, "CREATE PUBLICATION "+quoteIdent(name)+" FOR ALL TABLES", "create publication "+name)
	case autocreateNoTables:
		if exists {
			return nil
		}
		return s.execMeta(ctx, "CREATE PUBLICATION "+quoteIdent(name), "create publication "+name)
	}
	// filtered: the publication lists exactly the captured tables.
	tables, err := s.Tables(ctx)
	if err != nil {
		return err
	}
	if len(tables) == 0 {
		return fmt.Errorf("publication.autocreate.mode is filtered but the include and exclude lists capture no table: check schema.include.list and table.include.list")
	}
	list := make([]string, len(tables))
	for i, t := range tables {
		list[i] = quoteIdent(t.Schema) + "." + quoteIdent(t.Name)
	}
	if !exists {
		return s.execMeta(ctx, "CREATE PUBLICATION "+quoteIdent(name)+" FOR TABLE "+strings.Join(list, ", "), "create publication "+name)
	}
	if string(row[0]) == "t" {
		return fmt.Errorf("publication %q is FOR ALL TABLES, but publication.autocreate.mode=filtered needs a table list: drop it or use publication.autocreate.mode=all_tables", name)
	}
	return s.execMeta(ctx, "ALTER PUBLICATION "+quoteIdent(name)+" SET TABLE "+strings.Join(list, ", "), "update publication "+name)
}

func (s *Source) execMeta(ctx context.Context, sql, what string) error {
	if _, err := s.meta.Exec(ctx, sql).ReadAll(); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && createdMeanwhile(pgErr) {
			// Another connector created it between our lookup and our CREATE.
			return nil
		}
		return fmt.Errorf("%s: %w", what, explain(err, s.cfg.Conn.User, s.dbName))
	}
	s.log.Info(what, "sql", sql)
	return nil
}

// createdMeanwhile reports whether a CREATE failed because a concurrent
// session created the same object: PostgreSQL says 42710 when the object was
// committed before our CREATE began, and 23505 on its catalog's unique index
// when both CREATEs ran at once.
func createdMeanwhile(e *pgconn.PgError) bool {
	return e.Code == "42710" || (e.Code == "23505" && e.ConstraintName == "pg_publication_pubname_index")
}

func (s *Source) ensureSlot(ctx context.Context) (*SlotInfo, error) {
	slot := s.cfg.Slot
	row, err := s.queryOne(ctx, `SELECT plugin, database, active, coalesce(active_pid, 0)::text,
		coalesce(confirmed_flush_lsn::text, ''), coalesce(restart_lsn::text, ''), coalesce(wal_status, '')
		FROM pg_replication_slots WHERE slot_name = $1`, slot)
	if err != nil {
		return nil, fmt.Errorf("look up replication slot %q: %w", slot, err)
	}
	if row == nil {
		res, err := pglogrepl.CreateReplicationSlot(ctx, s.repl, slot, "pgoutput",
			pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "EXPORT_SNAPSHOT"})
		if err != nil {
			return nil, fmt.Errorf("create replication slot %q: %w", slot, explain(err, s.cfg.Conn.User, s.dbName))
		}
		cp, err := change.ParseLSN(res.ConsistentPoint)
		if err != nil {
			return nil, fmt.Errorf("create replication slot %q: %w", slot, err)
		}
		s.log.Info("created replication slot", "slot", slot, "lsn", cp.String())
		s.slotHeld = true
		return &SlotInfo{Created: true, SnapshotName: res.SnapshotName, ConsistentPoint: cp}, nil
	}
	plugin, db, active, pid := string(row[0]), string(row[1]), string(row[2]), string(row[3])
	if plugin != "pgoutput" {
		return nil, fmt.Errorf("replication slot %q uses output plugin %q, and pgmotion reads pgoutput: drop the slot or set another slot.name", slot, plugin)
	}
	if db != s.dbName {
		return nil, fmt.Errorf("replication slot %q belongs to database %q, not %q: set another slot.name", slot, db, s.dbName)
	}
	if string(row[6]) == "lost" {
		return nil, fmt.Errorf("replication slot %q is lost: the server removed WAL it still needed (max_slot_wal_keep_size); drop it and start again with a snapshot", slot)
	}
	if active == "t" {
		var p int32
		fmt.Sscanf(pid, "%d", &p)
		return nil, &SlotInUseError{Slot: slot, PID: p}
	}
	s.slotHeld = true
	info := &SlotInfo{}
	if v := string(row[4]); v != "" {
		info.ConfirmedFlush, _ = change.ParseLSN(v)
	}
	if v := string(row[5]); v != "" {
		info.RestartLSN, _ = change.ParseLSN(v)
	}
	return info, nil
}

// Exec runs sql on the source's catalog connection (heartbeat.action.query).
// It belongs to the streaming goroutine, like the stream itself.
func (s *Source) Exec(ctx context.Context, sql string) error {
	if _, err := s.meta.Exec(ctx, sql).ReadAll(); err != nil {
		return fmt.Errorf("run %q: %w", sql, err)
	}
	return nil
}

// Confirm records that Kafka holds every event up to lsn. The position
// reaches the slot with the next standby status update. Positions never
// move backwards.
func (s *Source) Confirm(lsn change.LSN) { s.confirmed.advance(lsn) }

// Confirmed returns the last position passed to Confirm.
func (s *Source) Confirmed() change.LSN { return s.confirmed.load() }

// Close disconnects; with DropSlotOnStop it then drops the slot, if this
// source held it. The drop waits, within ctx (10s when ctx has no
// deadline), for the slot's walsender to end: the server releases the slot
// only once the backend of the closed replication connection has exited.
// A slot that cannot be dropped gives a *SlotDropError, which says how to
// drop it by hand. Close is safe to call more than once.
func (s *Source) Close(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() {
		if s.repl != nil {
			s.repl.Close(ctx)
		}
		if s.cfg.DropSlotOnStop && s.slotHeld {
			err = s.dropSlot(ctx)
		}
		if s.meta != nil {
			s.meta.Close(ctx)
		}
	})
	return err
}

// Filtered returns the number of changes dropped because their table is
// not captured (NumberOfEventsFiltered). Safe from any goroutine.
func (s *Source) Filtered() int64 { return s.filtered.Load() }

// dropSlotTimeout bounds the wait for the walsender when Close's context
// has no deadline.
const dropSlotTimeout = 10 * time.Second

// dropSlot drops the source's slot (dropSlotOn), on the catalog
// connection or, when a query cut short by the stop left that closed, on
// a new one.
func (s *Source) dropSlot(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dropSlotTimeout)
		defer cancel()
	}
	conn := s.meta
	if conn == nil || conn.IsClosed() || conn.IsBusy() {
		var err error
		if conn, err = pgconn.ConnectConfig(ctx, s.connConfig(false)); err != nil {
			return &SlotDropError{Slot: s.cfg.Slot, Err: explain(err, s.cfg.Conn.User, s.dbName)}
		}
		defer conn.Close(context.WithoutCancel(ctx))
	}
	attempts, err := dropSlotOn(ctx, conn, s.cfg.Slot)
	if err == nil {
		s.log.Info("dropped replication slot", "slot", s.cfg.Slot, "attempts", attempts)
	}
	return err
}

// DropSlot drops a replication slot, if it exists, over a connection of
// its own made with cfg (a copy), as dropSlotOn does. It bounds the wait
// by dropSlotTimeout when ctx has no deadline.
func DropSlot(ctx context.Context, cfg *pgconn.Config, slot string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dropSlotTimeout)
		defer cancel()
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return &SlotDropError{Slot: slot, Err: explain(err, cfg.User, cfg.Database)}
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = dropSlotOn(ctx, conn, slot)
	return err
}

// dropSlotOn drops the slot on conn, retrying with a short backoff while
// the server still counts it active (SQLSTATE 55006, "replication slot …
// is active for PID …"): the walsender of a connection just closed takes
// a moment to exit. A slot that does not exist counts as dropped. It
// returns the attempts made; its error is a *SlotDropError.
func dropSlotOn(ctx context.Context, conn *pgconn.PgConn, slot string) (int, error) {
	fail := func(pid int32, err error) error { return &SlotDropError{Slot: slot, PID: pid, Err: err} }
	delay := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err := conn.ExecParams(ctx, "SELECT pg_drop_replication_slot($1)", [][]byte{[]byte(slot)}, nil, nil, nil).Close()
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			return attempt, nil
		case errors.As(err, &pgErr) && pgErr.Code == "42704":
			// undefined_object: someone dropped it already.
			return attempt, nil
		case !errors.As(err, &pgErr) || pgErr.Code != "55006":
			return attempt, fail(0, err)
		}
		pid := pidFromMessage(pgErr.Message)
		select {
		case <-ctx.Done():
			return attempt, fail(pid, fmt.Errorf("still active after %d attempts: %w", attempt, err))
		case <-time.After(delay):
		}
		delay = min(2*delay, 250*time.Millisecond)
	}
}

// ConfirmedFlushLSN returns the slot's confirmed_flush_lsn, read over a
// connection of its own made with cfg; ok is false when there is no such
// slot (or it has confirmed nothing yet).
func ConfirmedFlushLSN(ctx context.Context, cfg *pgconn.Config, slot string) (lsn change.LSN, ok bool, err error) {
	conn, err := pgconn.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return 0, false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	res := conn.ExecParams(ctx, `SELECT coalesce(confirmed_flush_lsn::text, '') FROM pg_replication_slots WHERE slot_name = $1`, [][]byte{[]byte(slot)}, nil, nil, nil).Read()
	if res.Err != nil {
		return 0, false, res.Err
	}
	if len(res.Rows) == 0 || len(res.Rows[0][0]) == 0 {
		return 0, false, nil
	}
	lsn, err = change.ParseLSN(string(res.Rows[0][0]))
	return lsn, err == nil, err
}
