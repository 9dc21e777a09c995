package pgsource

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
)

// Severity grades a preflight finding.
type Severity int

const (
	// OK is a check that passed.
	OK Severity = iota
	// Warn is a risk the connector runs with, such as WAL that an
	// inactive slot keeps without limit.
	Warn
	// Problem is something that stops the connector or loses data.
	Problem
)

func (s Severity) String() string {
	switch s {
	case OK:
		return "OK"
	case Warn:
		return "WARN"
	case Problem:
		return "PROBLEM"
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText writes the severity as String does, for JSON output.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is the result of one preflight check.
type Finding struct {
	// Check is a short, stable name of the check: wal_level,
	// replication_slots, replication_privilege and so on.
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	// What is what was found: for OK what passed, otherwise what is wrong.
	What string `json:"what"`
	// Fix says how to put it right; empty for OK.
	Fix string `json:"fix,omitempty"`
	// Tables lists every table a finding is about, when it is about
	// tables; What names the first few.
	Tables []string `json:"tables,omitempty"`
}

// PreflightOptions are the parts of a connector's configuration the
// preflight checks weigh that Config does not hold.
type PreflightOptions struct {
	// ToastFilled is true when pgmotion.toast.fill fills unchanged TOAST
	// values (cache or refetch).
	ToastFilled bool
}

// PreflightResult is what Preflight found.
type PreflightResult struct {
	Findings []Finding
	// Captured lists the tables the connector captures.
	Captured []TableName
}

// maxNamed bounds the table names one finding's text lists.
const maxNamed = 10

// Preflight checks, without changing anything, what the connector of cfg
// needs from the server: wal_level, free replication slots and WAL
// senders, the REPLICATION privilege, SELECT on each captured table, the
// publication, each table's REPLICA IDENTITY, the slot and the WAL other
// slots hold, and max_slot_wal_keep_size. An error means it could not
// connect or query the server; its text says how to fix it.
func Preflight(ctx context.Context, cfg Config, opts PreflightOptions) (*PreflightResult, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	s.meta, err = pgconn.ConnectConfig(ctx, s.connConfig(false))
	if err != nil {
		return nil, explain(err, cfg.Conn.User, cfg.Conn.Database)
	}
	defer s.meta.Close(context.WithoutCancel(ctx))
	p := &preflight{s: s, opts: opts, res: &PreflightResult{}}
	for _, check := range []func(context.Context) error{p.server, p.slots, p.replicationConn, p.tableChecks, p.publication, p.ddl} {
		if err := check(ctx); err != nil {
			return nil, err
		}
	}
	return p.res, nil
}

type preflight struct {
	s    *Source
	opts PreflightOptions
	res  *PreflightResult

	user           string
	superuser      bool
	replication    bool // may use replication: REPLICATION, superuser or rds_replication
	logical        bool // wal_level=logical
	walSendersFull bool
	canCreateInDB  bool
	serverVersion  int
	tables         []tableFacts // the captured tables
}

type tableFacts struct {
	name       TableName
	identity   byte // relreplident
	primaryKey bool
	selectable bool
	owned      bool
	toastable  []string
}

func (p *preflight) add(check string, sev Severity, what, fix string, tables ...string) {
	p.res.Findings = append(p.res.Findings, Finding{Check: check, Severity: sev, What: what, Fix: fix, Tables: tables})
}

func (p *preflight) ok(check, format string, args ...any) {
	p.add(check, OK, fmt.Sprintf(format, args...), "")
}

func (p *preflight) server(ctx context.Context) error {
	row, err := p.s.queryOne(ctx, `SELECT current_user, current_setting('server_version_num'), current_setting('wal_level'),
		r.rolsuper, r.rolreplication,
		EXISTS (SELECT FROM pg_roles g WHERE g.rolname = 'rds_replication' AND pg_has_role(current_user, g.oid, 'MEMBER')),
		has_database_privilege(current_database(), 'CREATE'),
		coalesce(current_setting('max_slot_wal_keep_size', true), '')
		FROM pg_roles r WHERE r.rolname = current_user`)
	if err != nil {
		return fmt.Errorf("check server settings: %w", err)
	}
	if row == nil {
		return fmt.Errorf("check server settings: the current user has no row in pg_roles")
	}
	p.user = string(row[0])
	p.serverVersion, _ = strconv.Atoi(string(row[1]))
	p.superuser = string(row[3]) == "t"
	p.replication = p.superuser || string(row[4]) == "t" || string(row[5]) == "t"
	p.canCreateInDB = string(row[6]) == "t"

	if wal := string(row[2]); wal == "logical" {
		p.logical = true
		p.ok("wal_level", "wal_level is logical")
	} else {
		p.add("wal_level", Problem, fmt.Sprintf("wal_level is %s, and logical replication needs logical", wal),
			"ALTER SYSTEM SET wal_level = logical (or set it in postgresql.conf) and restart PostgreSQL")
	}

	u := sqlIdent(p.user)
	switch {
	case p.superuser:
		p.ok("replication_privilege", "user %s is a superuser", p.user)
	case p.replication:
		p.ok("replication_privilege", "user %s may use replication", p.user)
	default:
		p.add("replication_privilege", Problem, fmt.Sprintf("user %s has no REPLICATION attribute", p.user),
			fmt.Sprintf("ALTER ROLE %s WITH REPLICATION (on Amazon RDS: GRANT rds_replication TO %s), or connect as a role that has it", u, u))
	}

	switch keep := string(row[7]); keep {
	case "":
		// Before PostgreSQL 13 a slot's WAL has no limit and no setting.
	case "-1":
		p.add("max_slot_wal_keep_size", Warn, "max_slot_wal_keep_size is -1 (unlimited): a slot nobody reads keeps WAL until the disk is full",
			"ALTER SYSTEM SET max_slot_wal_keep_size = '<what the disk can spare, e.g. 50GB>'; SELECT pg_reload_conf(); a slot past it is invalidated and its connector must snapshot again")
	default:
		p.ok("max_slot_wal_keep_size", "max_slot_wal_keep_size is %s", keep)
	}
	return nil
}

// slotRow is a row of pg_replication_slots.
type slotRow struct {
	name, plugin, slotType, database, walStatus string
	active                                      bool
	pid                                         string
	retained                                    int64
}

func (p *preflight) slots(ctx context.Context) error {
	res := p.s.meta.ExecParams(ctx, `SELECT slot_name, coalesce(plugin, ''), slot_type, coalesce(database, ''), active,
		coalesce(active_pid, 0)::text, coalesce(wal_status, ''),
		coalesce(pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END, restart_lsn), 0)::bigint
		FROM pg_replication_slots ORDER BY slot_name`, nil, nil, nil, nil).Read()
	if res.Err != nil {
		return fmt.Errorf("list replication slots: %w", res.Err)
	}
	var slots []slotRow
	for _, r := range res.Rows {
		n, _ := strconv.ParseInt(string(r[7]), 10, 64)
		slots = append(slots, slotRow{name: string(r[0]), plugin: string(r[1]), slotType: string(r[2]), database: string(r[3]),
			active: string(r[4]) == "t", pid: string(r[5]), walStatus: string(r[6]), retained: n})
	}
	row, err := p.s.queryOne(ctx, `SELECT current_setting('max_replication_slots')::int, current_setting('max_wal_senders')::int,
		(SELECT count(*) FROM pg_stat_replication)`)
	if err != nil {
		return fmt.Errorf("read max_replication_slots and max_wal_senders: %w", err)
	}
	maxSlots, _ := strconv.Atoi(string(row[0]))
	maxSenders, _ := strconv.Atoi(string(row[1]))
	senders, _ := strconv.Atoi(string(row[2]))

	name, db := p.s.cfg.Slot, p.s.dbName
	var own *slotRow
	for i := range slots {
		if slots[i].name == name {
			own = &slots[i]
		}
	}
	switch {
	case own != nil:
		p.ok("replication_slots", "%d of max_replication_slots=%d in use, one of them the connector's", len(slots), maxSlots)
	case len(slots) >= maxSlots:
		p.add("replication_slots", Problem, fmt.Sprintf("all %d replication slots are in use (max_replication_slots=%d), and the connector needs one for slot %s", len(slots), maxSlots, name),
			"drop a slot nothing reads (SELECT pg_drop_replication_slot('<name>')), or raise max_replication_slots and restart PostgreSQL")
	default:
		p.ok("replication_slots", "%d of max_replication_slots=%d in use", len(slots), maxSlots)
	}
	if senders >= maxSenders && (own == nil || !own.active) {
		p.walSendersFull = true
		p.add("max_wal_senders", Problem, fmt.Sprintf("all %d WAL senders are in use (max_wal_senders=%d), and the connector's stream needs one", senders, maxSenders),
			"raise max_wal_senders and restart PostgreSQL, or stop a replication client")
	} else {
		p.ok("max_wal_senders", "%d of max_wal_senders=%d in use", senders, maxSenders)
	}

	qname := quoteLiteral(name)
	if own == nil {
		p.ok("slot", "slot %s does not exist yet; the connector creates it (plugin pgoutput)", name)
	} else {
		switch {
		case own.slotType != "logical":
			p.add("slot", Problem, fmt.Sprintf("slot %s is a %s slot, and the connector needs a logical one", name, own.slotType),
				fmt.Sprintf("set slot.name to another name, or drop it (SELECT pg_drop_replication_slot(%s)) if nothing uses it", qname))
		case own.plugin != "pgoutput":
			p.add("slot", Problem, fmt.Sprintf("slot %s uses plugin %s, and pgmotion reads pgoutput", name, own.plugin),
				fmt.Sprintf("set slot.name to another name, or drop it (SELECT pg_drop_replication_slot(%s)) so that the connector creates it with pgoutput", qname))
		case own.database != db:
			p.add("slot", Problem, fmt.Sprintf("slot %s belongs to database %s, not %s", name, own.database, db),
				"set slot.name to a name no other database's connector uses")
		case own.walStatus == "lost":
			p.add("slot", Problem, fmt.Sprintf("slot %s has lost WAL it needs (wal_status=lost; max_slot_wal_keep_size removed it): the connector cannot resume from it", name),
				fmt.Sprintf("drop it (SELECT pg_drop_replication_slot(%s)) and start the connector with a snapshot (snapshot.mode=initial or when_needed)", qname))
		case own.active:
			p.add("slot", Problem, fmt.Sprintf("slot %s is in use by the process with PID %s: another connector (or pg_recvlogical) is reading it", name, own.pid),
				"stop that process, or give this connector its own slot.name")
		case own.walStatus == "unreserved":
			p.add("slot", Warn, fmt.Sprintf("slot %s holds %s of WAL, past max_slot_wal_keep_size (wal_status=unreserved): the next checkpoint may remove WAL it needs", name, formatBytes(own.retained)),
				"start the connector now so that it catches up, or raise max_slot_wal_keep_size")
		default:
			p.ok("slot", "slot %s exists (pgoutput, database %s) and holds %s of WAL; the connector resumes from it", name, db, formatBytes(own.retained))
		}
	}
	inactive := 0
	for _, sl := range slots {
		if sl.name == name || sl.active {
			continue
		}
		inactive++
		kind := "physical"
		if sl.slotType == "logical" {
			kind = sl.plugin + ", database " + sl.database
		}
		p.add("inactive_slot", Warn, fmt.Sprintf("slot %s (%s) is inactive and holds %s of WAL, which the server keeps until something reads it", sl.name, kind, formatBytes(sl.retained)),
			fmt.Sprintf("if nothing will resume from it, SELECT pg_drop_replication_slot(%s)", quoteLiteral(sl.name)))
	}
	if inactive == 0 {
		p.ok("inactive_slot", "no other slot is inactive")
	}
	return nil
}

// replicationConn opens a replication connection, as the connector's
// stream does, when nothing found so far rules it out.
func (p *preflight) replicationConn(ctx context.Context) error {
	if !p.logical || !p.replication || p.walSendersFull {
		return nil
	}
	conn, err := pgconn.ConnectConfig(ctx, p.s.connConfig(true))
	if err == nil {
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = pglogrepl.IdentifySystem(ctx, conn)
	}
	if err != nil {
		p.add("replication_connection", Problem, "a replication connection fails: "+explain(err, p.user, p.s.dbName).Error(),
			"allow the user a replication=database connection to the database in pg_hba.conf (a line for the database, not the 'replication' keyword)")
		return nil
	}
	p.ok("replication_connection", "a replication connection works")
	return nil
}

func (p *preflight) tableChecks(ctx context.Context) error {
	res := p.s.meta.ExecParams(ctx, `SELECT n.nspname, c.relname, c.relreplident,
		EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
		has_table_privilege(c.oid, 'SELECT'), pg_has_role(c.relowner, 'USAGE'),
		coalesce((SELECT string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_attribute a
			WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attlen = -1 AND a.attstorage IN ('x', 'e')), '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
		ORDER BY 1, 2`, nil, nil, nil, nil).Read()
	if res.Err != nil {
		return fmt.Errorf("list tables: %w", res.Err)
	}
	all := make([]TableName, len(res.Rows))
	facts := map[TableName]tableFacts{}
	for i, r := range res.Rows {
		t := TableName{Schema: string(r[0]), Name: string(r[1])}
		all[i] = t
		f := tableFacts{name: t, identity: r[2][0], primaryKey: string(r[3]) == "t", selectable: string(r[4]) == "t", owned: string(r[5]) == "t"}
		if cols := string(r[6]); cols != "" {
			f.toastable = strings.Split(cols, ",")
		}
		facts[t] = f
	}
	captured, unmatched := selectTables(all, p.s.included, p.s.cfg.TableInclude)
	p.res.Captured = captured
	for _, t := range captured {
		p.tables = append(p.tables, facts[t])
	}
	for _, e := range unmatched {
		p.add("table_include_list", Warn, fmt.Sprintf("table.include.list entry %q matches no table", e),
			"fix its spelling or create the table; entries are regular expressions matched against the whole schema.table name, case-insensitively")
	}
	if len(captured) == 0 {
		p.add("captured_tables", Problem, "the include and exclude lists capture no table",
			"check schema.include.list, table.include.list and their exclude lists against the database's tables")
		return nil
	}
	p.ok("captured_tables", "%s", tablesN(len(captured)))

	var noSelect, noKey, toast []string
	var toastDetail []string
	for _, f := range p.tables {
		q := sqlIdent(f.name.Schema) + "." + sqlIdent(f.name.Name)
		if !f.selectable {
			noSelect = append(noSelect, q)
		}
		if f.identity == 'n' || (f.identity == 'd' && !f.primaryKey) {
			noKey = append(noKey, q)
		}
		if len(f.toastable) > 0 && f.identity != 'f' {
			toast = append(toast, q)
			toastDetail = append(toastDetail, f.name.String()+" ("+strings.Join(f.toastable, ", ")+")")
		}
	}
	u := sqlIdent(p.user)
	if len(noSelect) > 0 {
		p.add("select_privilege", Problem, fmt.Sprintf("user %s may not SELECT from %s: %s", p.user, tablesN(len(noSelect)), named(noSelect)),
			fmt.Sprintf("GRANT SELECT ON %s TO %s (snapshots read the tables)", runnable(noSelect), u), noSelect...)
	} else {
		p.ok("select_privilege", "user %s may SELECT from every captured table", p.user)
	}
	if len(noKey) > 0 {
		p.add("replica_identity", Problem, fmt.Sprintf("%s without a primary key and with REPLICA IDENTITY DEFAULT or NOTHING: their updates and deletes carry no key, and once they are in the publication PostgreSQL refuses UPDATE and DELETE on them: %s", tablesN(len(noKey)), named(noKey)),
			"add a primary key, or ALTER TABLE "+oneOr(noKey)+" REPLICA IDENTITY FULL (or USING INDEX <unique index>)", noKey...)
	} else {
		p.ok("replica_identity", "every captured table has a primary key or a replica identity")
	}
	switch {
	case len(toast) > 0 && !p.opts.ToastFilled:
		p.add("toast", Warn, fmt.Sprintf("%s with TOAST-able columns and REPLICA IDENTITY other than FULL: an UPDATE that leaves a large value alone sends __debezium_unavailable_value in its place: %s", tablesN(len(toast)), named(toastDetail)),
			"set pgmotion.toast.fill=cache or refetch, or ALTER TABLE "+oneOr(toast)+" REPLICA IDENTITY FULL", toast...)
	case len(toast) > 0:
		p.ok("toast", "%s with TOAST-able columns, whose unchanged values pgmotion.toast.fill fills", tablesN(len(toast)))
	default:
		p.ok("toast", "no captured table sends TOAST placeholders")
	}
	return nil
}

func (p *preflight) publication(ctx context.Context) error {
	name, mode := p.s.cfg.Publication, p.s.cfg.PublicationMode
	qname := sqlIdent(name)
	row, err := p.s.queryOne(ctx, `SELECT puballtables, pg_get_userbyid(pubowner), pg_has_role(pubowner, 'USAGE') FROM pg_publication WHERE pubname = $1`, name)
	if err != nil {
		return fmt.Errorf("look up publication %q: %w", name, err)
	}
	var notOwned []string
	for _, f := range p.tables {
		if !f.owned {
			notOwned = append(notOwned, sqlIdent(f.name.Schema)+"."+sqlIdent(f.name.Name))
		}
	}
	if row == nil {
		switch {
		case mode == autocreateDisabled:
			p.add("publication", Problem, fmt.Sprintf("publication %s does not exist and publication.autocreate.mode is disabled", name),
				fmt.Sprintf("CREATE PUBLICATION %s FOR ALL TABLES (or FOR TABLE the captured tables), or set publication.autocreate.mode to all_tables or filtered", qname))
		case mode == autocreateAllTables && !p.superuser:
			p.add("publication", Problem, fmt.Sprintf("publication %s does not exist, and creating it FOR ALL TABLES (publication.autocreate.mode=all_tables) takes a superuser, which %s is not", name, p.user),
				fmt.Sprintf("have a superuser run CREATE PUBLICATION %s FOR ALL TABLES, or set publication.autocreate.mode=filtered", qname))
		case !p.canCreateInDB && !p.superuser:
			p.add("publication", Problem, fmt.Sprintf("publication %s does not exist, and user %s may not create it (no CREATE privilege on database %s)", name, p.user, p.s.dbName),
				fmt.Sprintf("GRANT CREATE ON DATABASE %s TO %s, or create the publication as its owner", sqlIdent(p.s.dbName), sqlIdent(p.user)))
		case mode == autocreateFiltered && len(notOwned) > 0 && !p.superuser:
			p.add("publication", Problem, fmt.Sprintf("publication %s does not exist, and creating it FOR TABLE takes owning the tables, which user %s does not own: %s", name, p.user, named(notOwned)),
				fmt.Sprintf("have their owner run CREATE PUBLICATION %s FOR TABLE %s and ALTER PUBLICATION %s OWNER TO %s, or make %s their owner", qname, runnable(notOwned), qname, sqlIdent(p.user), sqlIdent(p.user)), notOwned...)
		default:
			p.ok("publication", "publication %s does not exist yet; the connector creates it (publication.autocreate.mode=%s)", name, mode)
		}
		return nil
	}
	allTables, owner, owns := string(row[0]) == "t", string(row[1]), string(row[2]) == "t"
	if mode == autocreateFiltered {
		switch {
		case allTables:
			p.add("publication", Problem, fmt.Sprintf("publication %s is FOR ALL TABLES, but publication.autocreate.mode=filtered needs a table list", name),
				fmt.Sprintf("DROP PUBLICATION %s so that the connector creates it, or set publication.autocreate.mode=all_tables", qname))
		case !owns:
			p.add("publication", Problem, fmt.Sprintf("publication %s is owned by %s, and publication.autocreate.mode=filtered makes the connector alter it, which only its owner may", name, owner),
				fmt.Sprintf("ALTER PUBLICATION %s OWNER TO %s, or set publication.autocreate.mode=disabled and keep its tables yourself", qname, sqlIdent(p.user)))
		case len(notOwned) > 0 && !p.superuser:
			p.add("publication", Problem, fmt.Sprintf("publication.autocreate.mode=filtered makes the connector set publication %s's tables, which takes owning them, and user %s does not own: %s", name, p.user, named(notOwned)),
				fmt.Sprintf("make %s their owner, or set publication.autocreate.mode=disabled and have their owner ALTER PUBLICATION %s ADD TABLE them", sqlIdent(p.user), qname), notOwned...)
		default:
			p.ok("publication", "publication %s exists, owned by %s; the connector sets its tables", name, owner)
		}
		return nil
	}
	res := p.s.meta.ExecParams(ctx, `SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1`, [][]byte{[]byte(name)}, nil, nil, nil).Read()
	if res.Err != nil {
		return fmt.Errorf("list the tables of publication %q: %w", name, res.Err)
	}
	published := map[TableName]bool{}
	for _, r := range res.Rows {
		published[TableName{Schema: string(r[0]), Name: string(r[1])}] = true
	}
	var missing []string
	for _, f := range p.tables {
		if !published[f.name] {
			missing = append(missing, sqlIdent(f.name.Schema)+"."+sqlIdent(f.name.Name))
		}
	}
	if len(missing) > 0 {
		p.add("publication", Problem, fmt.Sprintf("publication %s does not publish %s, whose changes would not reach Kafka: %s", name, tablesN(len(missing)), named(missing)),
			fmt.Sprintf("ALTER PUBLICATION %s ADD TABLE %s (as the publication's owner, %s), or narrow table.include.list", qname, runnable(missing), owner), missing...)
		return nil
	}
	p.ok("publication", "publication %s exists, owned by %s, and publishes every captured table", name, owner)
	return nil
}

func (p *preflight) ddl(ctx context.Context) error {
	if !p.s.cfg.DDLCapture {
		return nil
	}
	if p.serverVersion < pg14 {
		p.add("ddl_capture", Problem, fmt.Sprintf("%s=true needs PostgreSQL 14 or later, and this server is version %d", ddlOption, p.serverVersion),
			"set "+ddlOption+"=false, or upgrade PostgreSQL")
		return nil
	}
	st, err := p.s.ddlState(ctx)
	if err != nil {
		return err
	}
	switch {
	case st.triggers < 2 && !st.superuser:
		p.add("ddl_capture", Problem, fmt.Sprintf("%s=true needs pgmotion's event triggers, which are not installed, and user %s is not a superuser, which creating them takes", ddlOption, p.user),
			fmt.Sprintf("start the connector once as a superuser, or have a superuser run internal/pgsource/ddlcapture.sql in database %s, or set %s=false", p.s.dbName, ddlOption))
	case st.disabled:
		p.add("ddl_capture", Warn, "a DDL capture event trigger is disabled, so DDL statements are not captured",
			"ALTER EVENT TRIGGER "+ddlTrigger+" ENABLE; ALTER EVENT TRIGGER "+ddlDropTrigger+" ENABLE")
	default:
		p.ok("ddl_capture", "DDL capture can run")
	}
	return nil
}

// oneOr names the table of a one-table list, or says <table>.
func oneOr(tables []string) string {
	if len(tables) == 1 {
		return tables[0]
	}
	return "<table>"
}

// tablesN says "1 captured table" or "n captured tables".
func tablesN(n int) string {
	if n == 1 {
		return "1 captured table"
	}
	return strconv.Itoa(n) + " captured tables"
}

// named lists the first maxNamed names and counts the rest.
func named(names []string) string {
	if len(names) <= maxNamed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxNamed], ", ") + fmt.Sprintf(" and %d more", len(names)-maxNamed)
}

// runnable lists names for a statement to paste: all of them up to
// maxStatementNames, and a placeholder for longer lists, which --json
// output lists in full.
func runnable(names []string) string {
	if len(names) <= maxStatementNames {
		return strings.Join(names, ", ")
	}
	return "<the tables listed>"
}

// maxStatementNames bounds the table names a fix's statement lists.
const maxStatementNames = 50

// sqlIdent quotes an identifier for a statement to paste, only when it
// needs quotes.
func sqlIdent(s string) string {
	if plainIdent.MatchString(s) && !reservedWords[s] {
		return s
	}
	return quoteIdent(s)
}

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// reservedWords are PostgreSQL's reserved key words, which need quotes as
// identifiers.
var reservedWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate
		collation column concurrently constraint create cross current_catalog current_date current_role current_schema current_time
		current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign freeze from full
		grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit localtime
		localtimestamp natural not notnull null offset on only or order outer overlaps placing primary references returning right
		select session_user similar some symmetric system_user table tablesample then to trailing true union unique user using
		variadic verbose when where window with`) {
		m[w] = true
	}
	return m
}()

func quoteLiteral(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// formatBytes prints n bytes in the largest binary unit that keeps it at
// least 1.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
