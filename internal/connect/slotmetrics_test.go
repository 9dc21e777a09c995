package connect

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pgmotion/pgmotion/internal/pgsource"
)

// TestSlotMonitorCollect checks the pgmotion_slot_* series served for a
// slot status: their names, labels and values, and which are left out.
func TestSlotMonitorCollect(t *testing.T) {
	const header = `
# HELP pgmotion_slot_active Whether a connection is streaming from the slot (pg_replication_slots.active): 1 or 0.
# TYPE pgmotion_slot_active gauge
pgmotion_slot_active{connector="c1",slot="s1"} %ACTIVE%
# HELP pgmotion_slot_confirmed_age_seconds Seconds since the slot's confirmed_flush_lsn was last seen to move (counted from the connector's start); grows also when the server writes no WAL at all.
# TYPE pgmotion_slot_confirmed_age_seconds gauge
pgmotion_slot_confirmed_age_seconds{connector="c1",slot="s1"} %AGE%
`
	const lag = `# HELP pgmotion_slot_lag_bytes Bytes of WAL between the server's current position (pg_current_wal_lsn()) and the slot's confirmed_flush_lsn: what the connector has yet to confirm.
# TYPE pgmotion_slot_lag_bytes gauge
pgmotion_slot_lag_bytes{connector="c1",slot="s1"} 1234
`
	const retained = `# HELP pgmotion_slot_wal_retained_bytes Bytes of WAL between the server's current position and the slot's restart_lsn: the WAL the slot makes the server keep.
# TYPE pgmotion_slot_wal_retained_bytes gauge
pgmotion_slot_wal_retained_bytes{connector="c1",slot="s1"} 5678
`
	const safe = `# HELP pgmotion_slot_safe_wal_size_bytes pg_replication_slots.safe_wal_size: bytes of WAL that can still be written before the slot is in danger of being lost (max_slot_wal_keep_size); absent when unlimited or before PostgreSQL 13.
# TYPE pgmotion_slot_safe_wal_size_bytes gauge
pgmotion_slot_safe_wal_size_bytes{connector="c1",slot="s1"} 1.048576e+06
`
	const walStatus = `# HELP pgmotion_slot_wal_status pg_replication_slots.wal_status (PostgreSQL 13+): 1 for the slot's current status (reserved, extended, unreserved or lost), 0 for the others.
# TYPE pgmotion_slot_wal_status gauge
pgmotion_slot_wal_status{connector="c1",slot="s1",status="extended"} 1
pgmotion_slot_wal_status{connector="c1",slot="s1",status="lost"} 0
pgmotion_slot_wal_status{connector="c1",slot="s1",status="reserved"} 0
pgmotion_slot_wal_status{connector="c1",slot="s1",status="unreserved"} 0
`
	full := pgsource.SlotStatus{ConfirmedFlush: 0x1000, LagBytes: 1234, HasLag: true, RetainedBytes: 5678, HasRetained: true,
		SafeWALSize: 1 << 20, HasSafeWALSize: true, WALStatus: "extended", Active: true}
	for _, tc := range []struct {
		name string
		// reads are the statuses read in turn, 10 s apart; nil is a
		// failed read.
		reads []*pgsource.SlotStatus
		want  string // "" for no series at all
	}{
		{"no read", nil, ""},
		{"failed read", []*pgsource.SlotStatus{&full, nil}, ""},
		{"PostgreSQL 13+", []*pgsource.SlotStatus{&full},
			strings.NewReplacer("%ACTIVE%", "1", "%AGE%", "5").Replace(header) + lag + safe + walStatus + retained},
		{"before PostgreSQL 13, inactive", []*pgsource.SlotStatus{{ConfirmedFlush: 0x1000, LagBytes: 1234, HasLag: true, RetainedBytes: 5678, HasRetained: true}},
			strings.NewReplacer("%ACTIVE%", "0", "%AGE%", "5").Replace(header) + lag + retained},
		{"no positions", []*pgsource.SlotStatus{{}},
			strings.NewReplacer("%ACTIVE%", "0", "%AGE%", "5").Replace(header)},
		{"confirmed position still", []*pgsource.SlotStatus{&full, &full, &full},
			strings.NewReplacer("%ACTIVE%", "1", "%AGE%", "25").Replace(header) + lag + safe + walStatus + retained},
		{"confirmed position moved", []*pgsource.SlotStatus{&full, {ConfirmedFlush: 0x2000}, {ConfirmedFlush: 0x2000}},
			strings.NewReplacer("%ACTIVE%", "0", "%AGE%", "15").Replace(header)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := pgconn.ParseConfig("postgres://u@localhost/db")
			if err != nil {
				t.Fatal(err)
			}
			m := newSlotMonitor(cfg, "s1", "c1", slog.New(slog.DiscardHandler))
			clock := time.Unix(1000, 0)
			m.now = func() time.Time { return clock }
			for _, st := range tc.reads {
				if st != nil {
					m.observe(*st)
				}
				m.st = st
				clock = clock.Add(10 * time.Second)
			}
			clock = clock.Add(-5 * time.Second)
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(m)
			if err := testutil.GatherAndCompare(reg, strings.NewReader(tc.want)); err != nil {
				t.Error(err)
			}
		})
	}
}
