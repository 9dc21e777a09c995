package metrics

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// snapshotCollector turns a SnapshotMetrics into Prometheus metrics at
// scrape time, so that counting costs readers nothing but atomic adds.
type snapshotCollector struct {
	m *SnapshotMetrics

	totalTables, remainingTables                              *prometheus.Desc
	running, paused, aborted, completed, skipped              *prometheus.Desc
	duration, pausedDuration                                  *prometheus.Desc
	eventsSeen, sinceLastEvent                                *prometheus.Desc
	rowsScanned, chunkCounts, chunksCompleted, capturedTables *prometheus.Desc
	rowsEstimated, etaSeconds, progressRatio                  *prometheus.Desc
}

func newSnapshotCollector(m *SnapshotMetrics, l prometheus.Labels) *snapshotCollector {
	return &snapshotCollector{
		m: m,

		totalTables: gaugeDesc(debeziumName("TotalTableCount"),
			"The total number of tables that are being included in the snapshot.", l),
		remainingTables: gaugeDesc(debeziumName("RemainingTableCount"),
			"The number of tables that the snapshot has yet to copy.", l),
		running: gaugeDesc(debeziumName("SnapshotRunning"),
			"Whether the snapshot is running (1) or not (0); 0 while paused.", l),
		paused: gaugeDesc(debeziumName("SnapshotPaused"),
			"Whether the snapshot is paused (1) or not (0).", l),
		aborted: gaugeDesc(debeziumName("SnapshotAborted"),
			"Whether the snapshot was aborted (1) or not (0).", l),
		completed: gaugeDesc(debeziumName("SnapshotCompleted"),
			"Whether the snapshot completed (1) or not (0).", l),
		skipped: gaugeDesc(debeziumName("SnapshotSkipped"),
			"Whether the snapshot was skipped (1) or not (0).", l),
		duration: gaugeDesc(debeziumName("SnapshotDurationInSeconds"),
			"The total number of seconds that the snapshot has taken so far, even if not complete; includes the time when the snapshot was paused.", l),
		pausedDuration: gaugeDesc(debeziumName("SnapshotPausedDurationInSeconds"),
			"The total number of seconds that the snapshot was paused, the current pause included.", l),
		eventsSeen: gaugeDesc(debeziumName("TotalNumberOfEventsSeen"),
			helpEventsSeen, l),
		sinceLastEvent: gaugeDesc(debeziumName("MilliSecondsSinceLastEvent"), helpSinceLastEvent, l),

		rowsScanned: tableGaugeDesc(debeziumName("RowsScanned"),
			"The number of rows that have been scanned for each table in the snapshot, including rows read by an earlier run of a resumed snapshot.", l),
		chunkCounts: tableGaugeDesc(debeziumName("TableChunkCounts"),
			"The number of chunks (key ranges read in parallel) of each table in the snapshot; 0 when not known yet.", l),
		chunksCompleted: tableGaugeDesc(debeziumName("TableChunksCompletedCounts"),
			"The number of chunks of each table that the snapshot has read.", l),
		capturedTables: tableGaugeDesc(debeziumName("CapturedTables"),
			helpCapturedTables, l),

		rowsEstimated: tableGaugeDesc(pgmotionSnapshotPrefix+"rows_estimated",
			"The estimated number of rows of each table in the snapshot (pg_class.reltuples when the snapshot started); -1 when unknown.", l),
		etaSeconds: gaugeDesc(pgmotionSnapshotPrefix+"eta_seconds",
			"The estimated number of seconds until every table is read, at the rate of this run so far; 0 once done, -1 when unknown.", l),
		progressRatio: gaugeDesc(pgmotionSnapshotPrefix+"progress_ratio",
			"The share of the estimated rows of the snapshot that have been read, from 0 to 1; 1 only once every table is done, -1 when unknown.", l),
	}
}

func (c *snapshotCollector) descs() []*prometheus.Desc {
	return []*prometheus.Desc{
		c.totalTables, c.remainingTables,
		c.running, c.paused, c.aborted, c.completed, c.skipped,
		c.duration, c.pausedDuration,
		c.eventsSeen, c.sinceLastEvent,
		c.rowsScanned, c.chunkCounts, c.chunksCompleted, c.capturedTables,
		c.rowsEstimated, c.etaSeconds, c.progressRatio,
	}
}

// Describe implements prometheus.Collector.
func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs() {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	p := c.m.Progress()
	gauge := func(d *prometheus.Desc, v float64, table ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, table...)
	}
	flag := func(d *prometheus.Desc, on bool) {
		if on {
			gauge(d, 1)
		} else {
			gauge(d, 0)
		}
	}

	gauge(c.totalTables, float64(p.TotalTables))
	gauge(c.remainingTables, float64(p.RemainingTables))
	flag(c.running, p.State == StateRunning)
	flag(c.paused, p.State == StatePaused)
	flag(c.aborted, p.State == StateAborted)
	flag(c.completed, p.State == StateCompleted)
	flag(c.skipped, p.State == StateSkipped)
	gauge(c.duration, wholeSeconds(p.Elapsed))
	gauge(c.pausedDuration, wholeSeconds(p.Paused))
	gauge(c.eventsSeen, float64(p.EventsSeen()))
	if p.SinceLastEvent == Unknown {
		gauge(c.sinceLastEvent, Unknown)
	} else {
		gauge(c.sinceLastEvent, float64(p.SinceLastEvent.Milliseconds()))
	}

	for _, t := range p.Tables {
		gauge(c.rowsScanned, float64(t.Scanned), t.Name)
		gauge(c.chunkCounts, float64(t.Chunks), t.Name)
		gauge(c.chunksCompleted, float64(t.ChunksDone), t.Name)
		gauge(c.capturedTables, 1, t.Name)
		gauge(c.rowsEstimated, float64(t.Estimate), t.Name)
	}

	if p.ETA == Unknown {
		gauge(c.etaSeconds, Unknown)
	} else {
		gauge(c.etaSeconds, p.ETA.Seconds())
	}
	if p.Percent == Unknown {
		gauge(c.progressRatio, Unknown)
	} else {
		gauge(c.progressRatio, p.Percent/100)
	}
}

// wholeSeconds truncates d to seconds, as Debezium's …InSeconds
// attributes do.
func wholeSeconds(d time.Duration) float64 { return math.Floor(d.Seconds()) }
