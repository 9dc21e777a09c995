package pgsource

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/options"
)

// DDL capture (pgmotion.ddl.capture=true): an event trigger on
// ddl_command_end, and one on sql_drop for DROP statements, writes each DDL
// statement of the database into the WAL with pg_logical_emit_message,
// transactional, so that it reaches the stream inside the DDL's own
// transaction at its place in the WAL. The connector emits these messages
// as DDL events (internal/debezium/ddl.go).
//
// ddlcapture.sql holds the function and the triggers. It is the one
// source of both: pgmotion runs it, and a superuser may run it by hand so
// that a connector whose user is not a superuser can use the option.

// DDLMessagePrefix is the prefix of the logical decoding messages the DDL
// capture trigger writes. It does not depend on the connector: the trigger
// serves every connector on the database.
const DDLMessagePrefix = "pgmotion.ddl"

// The objects ddlcapture.sql creates.
const (
	ddlFunction    = "public.pgmotion_ddl_capture()"
	ddlTrigger     = "pgmotion_ddl_capture"
	ddlDropTrigger = "pgmotion_ddl_capture_drop"
	// ddlOption names the option in errors.
	ddlOption = options.PropDDLCapture
	// ddlLockKey serializes installations on one database
	// (pg_advisory_lock), so that connectors starting together do not
	// race on CREATE OR REPLACE FUNCTION.
	ddlLockKey = "hashtext('pgmotion.ddl.capture')"
)

//go:embed ddlcapture.sql
var ddlCaptureSQL string

// ddlFunctionBody is the function's source as pg_proc.prosrc holds it:
// the text between the first two $pgmotion$ quotes of ddlcapture.sql.
func ddlFunctionBody() string {
	const q = "$pgmotion$"
	_, rest, _ := strings.Cut(ddlCaptureSQL, q)
	body, _, _ := strings.Cut(rest, q)
	return body
}

// ddlState is what the database has of the DDL capture.
type ddlState struct {
	superuser bool
	current   bool // the function exists with ddlcapture.sql's body
	triggers  int  // how many of the two event triggers exist
	disabled  bool // one of them is disabled
}

func (s *Source) ddlState(ctx context.Context) (ddlState, error) {
	row, err := s.queryOne(ctx, `SELECT
		(SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
		coalesce((SELECT prosrc = $1 FROM pg_proc WHERE oid = to_regprocedure($2)), false),
		(SELECT count(*) FROM pg_event_trigger WHERE evtname IN ($3, $4)),
		EXISTS (SELECT FROM pg_event_trigger WHERE evtname IN ($3, $4) AND evtenabled = 'D')`,
		ddlFunctionBody(), ddlFunction, ddlTrigger, ddlDropTrigger)
	if err != nil {
		return ddlState{}, fmt.Errorf("look up the DDL capture event triggers: %w", err)
	}
	n, _ := strconv.Atoi(string(row[2]))
	return ddlState{
		superuser: string(row[0]) == "t",
		current:   string(row[1]) == "t",
		triggers:  n,
		disabled:  string(row[3]) == "t",
	}, nil
}

// ensureDDLCapture installs the DDL capture function and event triggers
// unless they are there already. Creating an event trigger takes a
// superuser; a connector whose user is not one can use triggers a
// superuser installed.
func (s *Source) ensureDDLCapture(ctx context.Context) error {
	if s.serverVersion < pg14 {
		return fmt.Errorf("%s=true needs PostgreSQL 14 or later, whose pgoutput sends logical decoding messages; this server is version %d: set %s=false",
			ddlOption, s.serverVersion, ddlOption)
	}
	st, err := s.ddlState(ctx)
	if err != nil {
		return err
	}
	if !(st.current && st.triggers == 2) {
		if !st.superuser {
			if st.triggers == 2 {
				s.log.Warn("the DDL capture function differs from this pgmotion version's; a superuser can update it by running internal/pgsource/ddlcapture.sql",
					"function", ddlFunction)
			} else {
				u := s.cfg.Conn.User
				return fmt.Errorf("%s=true needs an event trigger, and user %q is not a superuser, which creating one takes: "+
					"start the connector once as a superuser, or have a superuser run pgmotion's internal/pgsource/ddlcapture.sql in database %q (see the README), or set %s=false",
					ddlOption, u, s.dbName, ddlOption)
			}
		} else if err := s.installDDLCapture(ctx); err != nil {
			return err
		}
	}
	if st.disabled {
		s.log.Warn("a DDL capture event trigger is disabled: DDL statements are not captured until ALTER EVENT TRIGGER ... ENABLE",
			"triggers", ddlTrigger+","+ddlDropTrigger)
	}
	return nil
}

// installDDLCapture runs ddlcapture.sql under an advisory lock. A
// concurrent installation by a session that does not take the lock (a
// superuser running the script by hand) may still make a CREATE fail with
// 42710 or 23505; the objects then exist, which is what was wanted.
func (s *Source) installDDLCapture(ctx context.Context) error {
	if _, err := s.meta.Exec(ctx, "SELECT pg_advisory_lock("+ddlLockKey+")").ReadAll(); err != nil {
		return fmt.Errorf("install DDL capture (%s): %w", ddlOption, err)
	}
	defer func() {
		// Ending the session would release it too.
		s.meta.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+ddlLockKey+")").ReadAll()
	}()
	// Another connector may have installed it while this one waited.
	if st, err := s.ddlState(ctx); err != nil {
		return err
	} else if st.current && st.triggers == 2 {
		return nil
	}
	// The script runs as one implicit transaction: all of it or nothing.
	if _, err := s.meta.Exec(ctx, ddlCaptureSQL).ReadAll(); err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || !(pgErr.Code == "42710" || pgErr.Code == "42723" || pgErr.Code == "23505") {
			return fmt.Errorf("install DDL capture (%s): %w", ddlOption, explain(err, s.cfg.Conn.User, s.dbName))
		}
		st, serr := s.ddlState(ctx)
		if serr != nil || st.triggers != 2 {
			return fmt.Errorf("install DDL capture (%s): %w", ddlOption, err)
		}
		return nil
	}
	s.log.Info("installed DDL capture event triggers", "function", ddlFunction, "triggers", ddlTrigger+","+ddlDropTrigger)
	return nil
}
