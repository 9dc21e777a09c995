package connect

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
)

// slotPollInterval is how often the slot monitor reads the slot, and
// slotQueryTimeout bounds each read (connecting included).
const (
	slotPollInterval = 5 * time.Second
	slotQueryTimeout = 4 * time.Second
	slotFirstRead    = 2 * time.Second
)

// The wal_status values of pg_replication_slots (PostgreSQL 13+).
var walStatuses = []string{"reserved", "extended", "unreserved", "lost"}

// slotMonitor reads a connector's replication slot from PostgreSQL every
// few seconds, on a connection of its own (not the replication one), and
// serves what it read as the pgmotion_slot_* metrics. A read that fails
// or times out leaves the slot's series out of the next scrapes until one
// succeeds; it never touches the stream.
type slotMonitor struct {
	conn      *pgconn.Config
	slot      string
	connector string
	log       *slog.Logger
	now       func() time.Time

	lagBytes, retainedBytes, safeWalSize *prometheus.Desc
	walStatus, active, confirmedAge      *prometheus.Desc

	mu        sync.Mutex
	st        *slotState // nil: no successful read yet, or the last failed
	confirmed string     // confirmed_flush_lsn at the last read
	movedAt   time.Time  // when confirmed_flush_lsn was last seen to move
}

// slotState is one read of pg_replication_slots.
type slotState struct {
	lag, retained     float64 // bytes, when hasLag and hasRetain
	safeWalSize       *float64
	walStatus         string // "" before PostgreSQL 13
	active            bool
	hasLag, hasRetain bool
}

func newSlotMonitor(conn *pgconn.Config, slot, connector string, log *slog.Logger) *slotMonitor {
	l := prometheus.Labels{"connector": connector, "slot": slot}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, l)
	}
	c := conn.Copy()
	if c.RuntimeParams == nil {
		c.RuntimeParams = map[string]string{}
	}
	delete(c.RuntimeParams, "replication")
	c.RuntimeParams["application_name"] = "pgmotion-metrics"
	return &slotMonitor{
		conn: c, slot: slot, connector: connector, log: log, now: time.Now,
		lagBytes: d("pgmotion_slot_lag_bytes",
			"Bytes of WAL between the server's current position (pg_current_wal_lsn()) and the slot's confirmed_flush_lsn: what the connector has yet to confirm."),
		retainedBytes: d("pgmotion_slot_wal_retained_bytes",
			"Bytes of WAL between the server's current position and the slot's restart_lsn: the WAL the slot makes the server keep."),
		safeWalSize: d("pgmotion_slot_safe_wal_size_bytes",
			"pg_replication_slots.safe_wal_size: bytes of WAL that can still be written before the slot is in danger of being lost (max_slot_wal_keep_size); absent when unlimited or before PostgreSQL 13."),
		walStatus: d("pgmotion_slot_wal_status",
			"pg_replication_slots.wal_status (PostgreSQL 13+): 1 for the slot's current status (reserved, extended, unreserved or lost), 0 for the others.", "status"),
		active: d("pgmotion_slot_active",
			"Whether a connection is streaming from the slot (pg_replication_slots.active): 1 or 0."),
		confirmedAge: d("pgmotion_slot_confirmed_age_seconds",
			"Seconds since the slot's confirmed_flush_lsn was last seen to move (counted from the connector's start); grows also when the server writes no WAL at all."),
	}
}

// Run reads the slot every slotPollInterval until ctx ends.
func (s *slotMonitor) Run(ctx context.Context) {
	var pc *pgconn.PgConn
	defer func() {
		if pc != nil {
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			pc.Close(cctx)
			cancel()
		}
	}()
	tick := time.NewTicker(slotPollInterval)
	defer tick.Stop()
	var lastErr string
	// The first read waits a little: the task creates the slot as it
	// starts.
	select {
	case <-ctx.Done():
		return
	case <-time.After(slotFirstRead):
	}
	for {
		qctx, cancel := context.WithTimeout(ctx, slotQueryTimeout)
		st, err := s.read(qctx, &pc)
		cancel()
		if err != nil {
			if pc != nil {
				pc.Close(context.Background())
				pc = nil
			}
			if ctx.Err() != nil {
				return
			}
			if msg := err.Error(); msg != lastErr {
				s.log.Warn("cannot read the replication slot for its metrics; retrying", "slot", s.slot, "err", err)
				lastErr = msg
			}
		} else {
			lastErr = ""
		}
		s.mu.Lock()
		s.st = st
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// read runs one query, connecting first when needed.
func (s *slotMonitor) read(ctx context.Context, pc **pgconn.PgConn) (*slotState, error) {
	if *pc == nil {
		c, err := pgconn.ConnectConfig(ctx, s.conn)
		if err != nil {
			return nil, err
		}
		*pc = c
	}
	ver, _ := strconv.Atoi((*pc).ParameterStatus("server_version_num"))
	if ver == 0 {
		// Before PostgreSQL 12 the parameter is not reported; the
		// major version still is.
		v := (*pc).ParameterStatus("server_version")
		if n, err := strconv.Atoi(v[:min(len(v), 2)]); err == nil {
			ver = n * 10000
		}
	}
	q := `SELECT (w.lsn - confirmed_flush_lsn)::int8::text, (w.lsn - restart_lsn)::int8::text, active::text, confirmed_flush_lsn::text`
	if ver >= 130000 {
		q += `, wal_status, safe_wal_size::text`
	}
	q += ` FROM pg_replication_slots, (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END AS lsn) w WHERE slot_name = $1`
	res := (*pc).ExecParams(ctx, q, [][]byte{[]byte(s.slot)}, nil, nil, nil).Read()
	if res.Err != nil {
		return nil, res.Err
	}
	if len(res.Rows) == 0 {
		return nil, errors.New("the slot does not exist")
	}
	row := res.Rows[0]
	st := &slotState{active: string(row[2]) == "true"}
	if row[0] != nil {
		st.lag, _ = strconv.ParseFloat(string(row[0]), 64)
		st.hasLag = true
	}
	if row[1] != nil {
		st.retained, _ = strconv.ParseFloat(string(row[1]), 64)
		st.hasRetain = true
	}
	if len(row) > 4 {
		st.walStatus = string(row[4])
		if row[5] != nil {
			v, _ := strconv.ParseFloat(string(row[5]), 64)
			st.safeWalSize = &v
		}
	}
	now := s.now()
	s.mu.Lock()
	if s.movedAt.IsZero() || string(row[3]) != s.confirmed {
		s.confirmed, s.movedAt = string(row[3]), now
	}
	s.mu.Unlock()
	return st, nil
}

// Describe implements prometheus.Collector.
func (s *slotMonitor) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{s.lagBytes, s.retainedBytes, s.safeWalSize, s.walStatus, s.active, s.confirmedAge} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (s *slotMonitor) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	st, movedAt := s.st, s.movedAt
	s.mu.Unlock()
	if st == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if st.hasLag {
		gauge(s.lagBytes, st.lag)
	}
	if st.hasRetain {
		gauge(s.retainedBytes, st.retained)
	}
	if st.safeWalSize != nil {
		gauge(s.safeWalSize, *st.safeWalSize)
	}
	if st.walStatus != "" {
		for _, w := range walStatuses {
			v := 0.0
			if w == st.walStatus {
				v = 1
			}
			gauge(s.walStatus, v, w)
		}
	}
	act := 0.0
	if st.active {
		act = 1
	}
	gauge(s.active, act)
	gauge(s.confirmedAge, s.now().Sub(movedAt).Seconds())
}
