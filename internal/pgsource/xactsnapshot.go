package pgsource

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/pgmotion/pgmotion/internal/change"
)

// XactSnapshot is a transaction snapshot as pg_current_snapshot() gives
// it: every transaction below Xmin has ended, none from Xmax on has, and
// Xip lists those in between still in progress. Ids are 64-bit
// (epoch and xid), as xid8.
type XactSnapshot struct {
	Xmin, Xmax uint64
	Xip        []uint64
}

// ParseXactSnapshot parses pg_snapshot's text form "xmin:xmax:xip,xip".
func ParseXactSnapshot(s string) (XactSnapshot, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return XactSnapshot{}, fmt.Errorf("parse pg_snapshot %q: want xmin:xmax:xip_list", s)
	}
	var snap XactSnapshot
	var err error
	if snap.Xmin, err = strconv.ParseUint(parts[0], 10, 64); err != nil {
		return XactSnapshot{}, fmt.Errorf("parse pg_snapshot %q: xmin: %w", s, err)
	}
	if snap.Xmax, err = strconv.ParseUint(parts[1], 10, 64); err != nil {
		return XactSnapshot{}, fmt.Errorf("parse pg_snapshot %q: xmax: %w", s, err)
	}
	if parts[2] != "" {
		for _, x := range strings.Split(parts[2], ",") {
			v, err := strconv.ParseUint(x, 10, 64)
			if err != nil {
				return XactSnapshot{}, fmt.Errorf("parse pg_snapshot %q: xip: %w", s, err)
			}
			snap.Xip = append(snap.Xip, v)
		}
	}
	if snap.Xmin > snap.Xmax {
		return XactSnapshot{}, fmt.Errorf("parse pg_snapshot %q: xmin above xmax", s)
	}
	return snap, nil
}

// String formats the snapshot as PostgreSQL does.
func (x XactSnapshot) String() string {
	ip := make([]string, len(x.Xip))
	for i, v := range x.Xip {
		ip[i] = strconv.FormatUint(v, 10)
	}
	return strconv.FormatUint(x.Xmin, 10) + ":" + strconv.FormatUint(x.Xmax, 10) + ":" + strings.Join(ip, ",")
}

// CurrentSnapshot returns pg_current_snapshot() and the WAL position at
// that moment (the insert position, or the replayed one on a standby):
// every transaction the snapshot sees as committed has its commit record
// below that position. It writes nothing; it needs PostgreSQL 13 or later.
func (s *Source) CurrentSnapshot(ctx context.Context) (XactSnapshot, change.LSN, error) {
	row, err := s.queryOne(ctx, `SELECT pg_current_snapshot()::text,
		(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text`)
	if err != nil {
		return XactSnapshot{}, 0, fmt.Errorf("read the read-only watermark (pg_current_snapshot, PostgreSQL 13 or later): %w", err)
	}
	snap, err := ParseXactSnapshot(string(row[0]))
	if err != nil {
		return XactSnapshot{}, 0, err
	}
	var lsn change.LSN
	if row[1] != nil {
		if lsn, err = change.ParseLSN(string(row[1])); err != nil {
			return XactSnapshot{}, 0, err
		}
	}
	return snap, lsn, nil
}
