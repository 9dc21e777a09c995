package connect

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/pgsource"
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
// few seconds (pgsource.SlotReader, on a connection of its own, not the
// replication one), and serves what it read as the pgmotion_slot_*
// metrics. A read that fails or times out leaves the slot's series out of
// the next scrapes until one succeeds; it never touches the stream.
type slotMonitor struct {
	reader    *pgsource.SlotReader // owned by Run
	slot      string
	connector string
	log       *slog.Logger
	now       func() time.Time

	lagBytes, retainedBytes, safeWalSize *prometheus.Desc
	walStatus, active, confirmedAge      *prometheus.Desc

	mu        sync.Mutex
	st        *pgsource.SlotStatus // nil: no successful read yet, or the last failed
	confirmed change.LSN           // confirmed_flush_lsn at the last read
	movedAt   time.Time            // when confirmed_flush_lsn was last seen to move
}

func newSlotMonitor(conn *pgconn.Config, slot, connector string, log *slog.Logger) *slotMonitor {
	l := prometheus.Labels{"connector": connector, "slot": slot}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, l)
	}
	return &slotMonitor{
		reader: pgsource.NewSlotReader(conn, slot, "pgmotion-metrics"),
		slot:   slot, connector: connector, log: log, now: time.Now,
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
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s.reader.Close(cctx)
		cancel()
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
		st, err := s.read(qctx)
		cancel()
		if err != nil {
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

// read reads the slot once and notes when its confirmed_flush_lsn moved.
func (s *slotMonitor) read(ctx context.Context) (*pgsource.SlotStatus, error) {
	st, err := s.reader.Read(ctx)
	if err != nil {
		return nil, err
	}
	s.observe(st)
	return &st, nil
}

// observe notes when st's confirmed_flush_lsn differs from the last read's.
func (s *slotMonitor) observe(st pgsource.SlotStatus) {
	now := s.now()
	s.mu.Lock()
	if s.movedAt.IsZero() || st.ConfirmedFlush != s.confirmed {
		s.confirmed, s.movedAt = st.ConfirmedFlush, now
	}
	s.mu.Unlock()
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
	if st.HasLag {
		gauge(s.lagBytes, float64(st.LagBytes))
	}
	if st.HasRetained {
		gauge(s.retainedBytes, float64(st.RetainedBytes))
	}
	if st.HasSafeWALSize {
		gauge(s.safeWalSize, float64(st.SafeWALSize))
	}
	if st.WALStatus != "" {
		for _, w := range walStatuses {
			v := 0.0
			if w == st.WALStatus {
				v = 1
			}
			gauge(s.walStatus, v, w)
		}
	}
	act := 0.0
	if st.Active {
		act = 1
	}
	gauge(s.active, act)
	gauge(s.confirmedAge, s.now().Sub(movedAt).Seconds())
}
