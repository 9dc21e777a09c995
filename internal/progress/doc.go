// Package progress shows a snapshot's progress to a person: the one-line
// progress bar redrawn in place on a terminal, and the periodic
// "snapshot progress" log lines with the snapshot's one end line,
// "snapshot done" or "snapshot aborted". Report does both.
//
// It reads the figures (counts, percentage, rate, ETA) from
// metrics.SnapshotMetrics.Progress and only formats them; package metrics,
// which serves the same figures to Prometheus, knows nothing of this one.
package progress
