package pgsource

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgmotion/pgmotion/internal/change"
)

// errSlotNotFound is SlotReader.Read's error when there is no such slot.
var errSlotNotFound = errors.New("the slot does not exist")

// SlotStatus is one read of a replication slot's row in
// pg_replication_slots. The WAL distances are measured from the server's
// current position: pg_current_wal_lsn(), or pg_last_wal_receive_lsn() on
// a standby.
type SlotStatus struct {
	// ConfirmedFlush is confirmed_flush_lsn; 0 when it is null.
	ConfirmedFlush change.LSN
	// LagBytes is the WAL between the server's position and
	// confirmed_flush_lsn: what the slot's consumer has yet to confirm.
	// HasLag is false when either position is null.
	LagBytes int64
	HasLag   bool
	// RetainedBytes is the WAL between the server's position and
	// restart_lsn: the WAL the slot makes the server keep. HasRetained is
	// false when either position is null.
	RetainedBytes int64
	HasRetained   bool
	// SafeWALSize is safe_wal_size (PostgreSQL 13+): the WAL that can
	// still be written before the slot is in danger of being lost.
	// HasSafeWALSize is false when it is null (max_slot_wal_keep_size is
	// unlimited) and before PostgreSQL 13.
	SafeWALSize    int64
	HasSafeWALSize bool
	// WALStatus is wal_status (PostgreSQL 13+): reserved, extended,
	// unreserved or lost; "" when null and before PostgreSQL 13.
	WALStatus string
	// Active says whether a connection is streaming from the slot.
	Active bool
}

// SlotReader reads one replication slot's status on a connection of its
// own, not a replication one, which it keeps open between reads and makes
// again on the read after one that failed. It is not safe for concurrent
// use.
type SlotReader struct {
	cfg  *pgconn.Config
	slot string
	conn *pgconn.PgConn // nil: not connected
}

// NewSlotReader returns a reader of slot over connections made with a copy
// of cfg, without its replication parameter and with application_name set
// to application. It connects on the first Read.
func NewSlotReader(cfg *pgconn.Config, slot, application string) *SlotReader {
	c := cfg.Copy()
	if c.RuntimeParams == nil {
		c.RuntimeParams = map[string]string{}
	}
	delete(c.RuntimeParams, "replication")
	c.RuntimeParams["application_name"] = application
	return &SlotReader{cfg: c, slot: slot}
}

// Read reads the slot's status, connecting first when needed; ctx bounds
// both. After an error the connection is closed and the next Read makes a
// new one. A slot that does not exist is an error.
func (r *SlotReader) Read(ctx context.Context) (SlotStatus, error) {
	if r.conn == nil {
		c, err := pgconn.ConnectConfig(ctx, r.cfg)
		if err != nil {
			return SlotStatus{}, err
		}
		r.conn = c
	}
	st, err := readSlotStatus(ctx, r.conn, r.slot)
	if err != nil {
		r.conn.Close(context.WithoutCancel(ctx))
		r.conn = nil
	}
	return st, err
}

// Close closes the reader's connection, if it has one; ctx bounds the
// goodbye to the server. Safe to repeat.
func (r *SlotReader) Close(ctx context.Context) {
	if r.conn != nil {
		r.conn.Close(ctx)
		r.conn = nil
	}
}

// readSlotStatus reads slot's row of pg_replication_slots on conn.
func readSlotStatus(ctx context.Context, conn *pgconn.PgConn, slot string) (SlotStatus, error) {
	ver, _ := strconv.Atoi(conn.ParameterStatus("server_version_num"))
	if ver == 0 {
		// Before PostgreSQL 12 the parameter is not reported; the
		// major version still is.
		v := conn.ParameterStatus("server_version")
		if n, err := strconv.Atoi(v[:min(len(v), 2)]); err == nil {
			ver = n * 10000
		}
	}
	q := `SELECT (w.lsn - confirmed_flush_lsn)::int8::text, (w.lsn - restart_lsn)::int8::text, active::text, confirmed_flush_lsn::text`
	if ver >= PG13 {
		q += `, wal_status, safe_wal_size::text`
	}
	q += ` FROM pg_replication_slots, (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END AS lsn) w WHERE slot_name = $1`
	res := conn.ExecParams(ctx, q, [][]byte{[]byte(slot)}, nil, nil, nil).Read()
	if res.Err != nil {
		return SlotStatus{}, res.Err
	}
	if len(res.Rows) == 0 {
		return SlotStatus{}, errSlotNotFound
	}
	row := res.Rows[0]
	st := SlotStatus{Active: string(row[2]) == "true"}
	var err error
	if row[0] != nil {
		if st.LagBytes, err = strconv.ParseInt(string(row[0]), 10, 64); err != nil {
			return SlotStatus{}, fmt.Errorf("slot lag: %w", err)
		}
		st.HasLag = true
	}
	if row[1] != nil {
		if st.RetainedBytes, err = strconv.ParseInt(string(row[1]), 10, 64); err != nil {
			return SlotStatus{}, fmt.Errorf("slot retained WAL: %w", err)
		}
		st.HasRetained = true
	}
	if row[3] != nil {
		if st.ConfirmedFlush, err = change.ParseLSN(string(row[3])); err != nil {
			return SlotStatus{}, fmt.Errorf("slot confirmed_flush_lsn: %w", err)
		}
	}
	if len(row) > 4 {
		st.WALStatus = string(row[4])
		if row[5] != nil {
			if st.SafeWALSize, err = strconv.ParseInt(string(row[5]), 10, 64); err != nil {
				return SlotStatus{}, fmt.Errorf("slot safe_wal_size: %w", err)
			}
			st.HasSafeWALSize = true
		}
	}
	return st, nil
}
