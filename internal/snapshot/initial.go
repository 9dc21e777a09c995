package snapshot

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pgmotion/pgmotion/internal/options"
	"github.com/pgmotion/pgmotion/internal/pgsource"
)

// The initial snapshot (snapshot.mode): whether a start snapshots and
// streams, and the progress a parallel snapshot keeps in the offset so
// that a restarted worker reads only the ranges Kafka does not hold. The
// task (internal/pipeline) reads the ranges and delivers the rows.

// The initial snapshot's modes (snapshot.mode, legacy values mapped).
const (
	ModeInitial            = string(options.SnapshotInitial)
	ModeInitialOnly        = string(options.SnapshotInitialOnly)
	ModeNoData             = string(options.SnapshotNoData)
	ModeAlways             = string(options.SnapshotAlways)
	ModeWhenNeeded         = string(options.SnapshotWhenNeeded)
	ModeConfigurationBased = string(options.SnapshotConfigurationBased)
)

// InitialConfig is what the initial snapshot's options say.
type InitialConfig struct {
	Mode string
	// The snapshot.mode.configuration.based.* options that matter for
	// PostgreSQL (it keeps no schema history).
	ConfigData, ConfigStream, ConfigOnDataError bool
	// Include is snapshot.include.collection.list; empty snapshots every
	// captured table.
	Include []*regexp.Regexp
	// Overrides maps schema.table to the SELECT that replaces its default
	// (snapshot.select.statement.overrides).
	Overrides map[string]string
	Threads   int
	// Delay is snapshot.delay.ms; StreamDelay is streaming.delay.ms.
	Delay, StreamDelay time.Duration
}

// Decision is what a start does: snapshot or not, stream or not, and why
// (for the log).
type Decision struct {
	Snapshot, Stream bool
	Why              string
}

// Stored is what the stored offset says of the initial snapshot.
type Stored int

const (
	// NoOffset: no offset is stored.
	NoOffset Stored = iota
	// Unfinished: a snapshot began and did not finish.
	Unfinished
	// Finished: the snapshot finished, or streaming began without one.
	Finished
)

// Decide applies snapshot.mode to the stored offset and to what opening
// the source found: slotCreated tells that the slot did not exist, so a
// stored position cannot be served (Debezium's "data error").
func Decide(cfg InitialConfig, stored Stored, slotCreated bool) Decision {
	noOffset := stored == NoOffset
	unfinished := stored == Unfinished
	dataError := stored == Finished && slotCreated
	switch cfg.Mode {
	case ModeAlways:
		return Decision{true, true, "snapshot.mode=always"}
	case ModeNoData:
		return Decision{false, true, "snapshot.mode=no_data"}
	case ModeWhenNeeded:
		switch {
		case noOffset:
			return Decision{true, true, "no stored offset"}
		case unfinished:
			return Decision{true, true, "the previous snapshot did not finish"}
		case dataError:
			return Decision{true, true, "the stored position can no longer be served: the replication slot was missing"}
		}
		return Decision{false, true, "the stored offset is usable"}
	case ModeConfigurationBased:
		switch {
		case cfg.ConfigData:
			return Decision{true, cfg.ConfigStream, "snapshot.mode.configuration.based.snapshot.data=true"}
		case dataError && cfg.ConfigOnDataError:
			return Decision{true, cfg.ConfigStream, "the replication slot was missing and snapshot.mode.configuration.based.snapshot.on.data.error=true"}
		}
		return Decision{false, cfg.ConfigStream, "snapshot.mode.configuration.based.snapshot.data=false"}
	}
	// initial and initial_only (and custom, which falls back to initial).
	stream := cfg.Mode != ModeInitialOnly
	switch {
	case noOffset:
		return Decision{true, stream, "no stored offset"}
	case unfinished:
		return Decision{true, stream, "the previous snapshot did not finish"}
	}
	return Decision{false, stream, "the snapshot is complete"}
}

// snapshotProgress is the offset key pgmotion keeps while a snapshot runs:
// the ranges of each table and which of them Kafka holds. Debezium ignores
// the key and would start the snapshot over.
type snapshotProgress struct {
	Tables []tableProgress `json:"tables"`
}

type tableProgress struct {
	Table  string `json:"table"`
	Step   int64  `json:"step,omitempty"`
	Ranges int    `json:"ranges"`
	// Done lists the delivered ranges as "0-3,5".
	Done string `json:"done"`
}

// EncodeProgress is the offset key pgmotion keeps while a snapshot runs
// (pgmotion_snapshot_progress): which ranges of plan Kafka holds.
func EncodeProgress(plan []*pgsource.SnapshotTable) string {
	p := snapshotProgress{Tables: make([]tableProgress, len(plan))}
	for i, t := range plan {
		p.Tables[i] = tableProgress{Table: t.Table.String(), Step: t.Step, Ranges: t.Ranges, Done: formatSet(t.Done)}
	}
	b, _ := json.Marshal(p)
	return string(b)
}

func decodeProgress(s string) (map[string]tableProgress, error) {
	var p snapshotProgress
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return nil, err
	}
	m := make(map[string]tableProgress, len(p.Tables))
	for _, t := range p.Tables {
		m[t.Table] = t
	}
	return m, nil
}

// formatSet writes the true indexes of done as ranges: "0-3,5".
func formatSet(done []bool) string {
	var b strings.Builder
	for i := 0; i < len(done); i++ {
		if !done[i] {
			continue
		}
		j := i
		for j+1 < len(done) && done[j+1] {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(j))
		}
		i = j
	}
	return b.String()
}

// parseSet reads formatSet's output for n ranges.
func parseSet(s string, n int) ([]bool, error) {
	done := make([]bool, n)
	if s == "" {
		return done, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("range set %q: %q is not a number", s, lo)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("range set %q: %q is not a number", s, hi)
			}
		}
		if a < 0 || b < a || b >= n {
			return nil, fmt.Errorf("range set %q: %q is outside 0-%d", s, part, n-1)
		}
		for i := a; i <= b; i++ {
			done[i] = true
		}
	}
	return done, nil
}

// ResumePlan marks the ranges of plan that stored, the progress of a
// snapshot cut short (EncodeProgress), says Kafka holds, and reports
// whether any did. A progress that cannot be read is logged, and its
// tables are read again.
func ResumePlan(plan []*pgsource.SnapshotTable, stored string, log *slog.Logger) bool {
	prog, err := decodeProgress(stored)
	if err != nil {
		log.Warn("the stored snapshot progress is not readable; the snapshot starts over", "err", err)
		return false
	}
	resumed := false
	for _, st := range plan {
		p, ok := prog[st.Table.String()]
		if !ok || p.Ranges < 1 || (p.Step == 0) != (st.Select != "" || p.Ranges == 1) {
			continue
		}
		done, err := parseSet(p.Done, p.Ranges)
		if err != nil {
			log.Warn("the stored snapshot progress of a table is not readable; the table is read again", "table", p.Table, "err", err)
			continue
		}
		// The stored ranges, not today's sizes, so that a range means the
		// same pages as before.
		st.Step, st.Ranges, st.Done = p.Step, p.Ranges, done
		log.Info("snapshot resumes table", "table", p.Table, "ranges", p.Ranges, "pages_per_range", p.Step, "done", p.Done)
		resumed = true
	}
	return resumed
}
