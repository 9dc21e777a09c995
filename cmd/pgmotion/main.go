// Command pgmotion captures PostgreSQL changes into Kafka as Debezium
// events. Each subcommand lives in its own file and registers itself in
// init(), so this file stays the wiring only.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pgmotion/pgmotion/internal/logging"
	"github.com/pgmotion/pgmotion/internal/record"
)

// subcommands is filled by the init() of each subcommand's file.
var subcommands []func(*globals) *cobra.Command

// globals holds what every subcommand shares.
type globals struct {
	logLevel   string
	logFormat  string
	cpuProfile string
	log        *slog.Logger
	// levels are the loggers' levels, which the REST API's admin/loggers
	// endpoints change at run time.
	levels *logging.Levels
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	g := &globals{}
	root := &cobra.Command{
		Use:           "pgmotion",
		Short:         "PostgreSQL change data capture into Kafka, Debezium-compatible, in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			l, levels, err := newLogger(g.logLevel, g.logFormat)
			if err != nil {
				return err
			}
			g.log, g.levels = l, levels
			if g.cpuProfile != "" {
				f, err := os.Create(g.cpuProfile)
				if err != nil {
					return fmt.Errorf("--cpu-profile: %w", err)
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("--cpu-profile: %w", err)
				}
			}
			return nil
		},
		PersistentPostRun: func(*cobra.Command, []string) { pprof.StopCPUProfile() },
		Version:           versionLine(readBuildInfo()),
	}
	root.SetVersionTemplate("{{.Version}}")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpu-profile", "", "write a CPU profile to this file until the command ends")
	for _, sc := range subcommands {
		root.AddCommand(sc(g))
	}
	root.SetArgs(args)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return 0
		}
		fmt.Fprintln(os.Stderr, "pgmotion:", err)
		return 1
	}
	return 0
}

// newLogger returns the process's logger and the table of its loggers'
// levels, all at --log-level to begin with (see internal/logging).
func newLogger(level, format string) (*slog.Logger, *logging.Levels, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	// The level table filters; the handler itself lets everything through.
	opts := &slog.HandlerOptions{Level: slog.Level(math.MinInt32)}
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(os.Stderr, opts)
	case "json":
		h = slog.NewJSONHandler(os.Stderr, opts)
	default:
		return nil, nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
	levels := logging.NewLevels(logging.FromSlog(lv))
	return slog.New(logging.NewHandler(h, levels)), levels, nil
}

// tuneGC trades a little memory for a lot less garbage-collection work on
// the streaming path, where every event is a few kilobytes of short-lived
// JSON: collect at 4x the live heap instead of 2x, but keep the heap under
// a soft limit so that peak RSS stays bounded, and give memory back to the
// kernel once a burst is over (giveBack). GOGC and GOMEMLIMIT in the
// environment win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(baseMemoryLimit)
	}
	giveBackOnce.Do(func() { go giveBack(giveBackEvery) })
}

var giveBackOnce sync.Once

// giveBackEvery is how often giveBack looks at the heap.
const giveBackEvery = 2 * time.Second

// giveBackSlack is how much more than the live heap the process may keep
// from the kernel before giveBack returns it; giveBackBusy is what the
// process may allocate in a period and count as quiet: streaming 2,000
// rows/s allocates about 1 MB/s, draining a backlog several times that.
const (
	giveBackSlack = 16 << 20
	giveBackBusy  = 4 << 20
)

// giveBack returns memory to the kernel after a burst (a backlog drained,
// a large transaction delivered). With GOGC at 400 the heap may grow to
// five times what is live before a collection, and once the burst is
// over so little is allocated that no collection comes to free that
// garbage: the runtime keeps its pages. So do the encoders' pooled slabs
// (record.TrimSlabs). While the process is busy it is left to its
// collector: returning pages it would fault in again at once only slows
// it. In a quiet period it drops the slabs that stayed unused (all of
// them in the first quiet period after a busy one), and if the heap then
// holds more than giveBackSlack beyond what is live, it collects and
// returns the free pages (debug.FreeOSMemory): a collection of the live
// heap, a few milliseconds of CPU.
func giveBack(period time.Duration) {
	var g giveBacker
	for range time.Tick(period) {
		g.look()
	}
}

// giveBacker is giveBack's state between looks.
type giveBacker struct {
	allocs uint64
	busy   bool // the last period was
}

// look is one look of giveBack; it reports whether it returned memory.
func (g *giveBacker) look() bool {
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"}, {Name: "/memory/classes/heap/free:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(samples)
	var v [5]uint64
	for i, s := range samples {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	live, held, allocs := v[0], v[1]+v[2]+v[3], v[4]
	busy, wasBusy := allocs-g.allocs > giveBackBusy, g.busy
	g.allocs, g.busy = allocs, busy
	if busy {
		return false
	}
	// Trimmed slabs were live at the last collection.
	trimmed := uint64(record.TrimSlabs(wasBusy))
	if held+trimmed <= live+giveBackSlack {
		return false
	}
	debug.FreeOSMemory()
	return true
}

// baseMemoryLimit is the soft memory limit of a process running no
// connector; each running connector adds its memory budgets to it
// (reserveMemory).
const baseMemoryLimit = 64 << 20

var reserved struct {
	sync.Mutex
	bytes int64
}

// reserveMemory raises the soft memory limit by n bytes until the
// returned function is called: a connector's buffer and TOAST cache are
// live data that the garbage collector cannot free, and under a limit
// that does not count them it would collect without pause. A GOMEMLIMIT
// in the environment is left alone.
func reserveMemory(n int64) (release func()) {
	if os.Getenv("GOMEMLIMIT") != "" || n <= 0 {
		return func() {}
	}
	add := func(d int64) {
		reserved.Lock()
		defer reserved.Unlock()
		reserved.bytes += d
		debug.SetMemoryLimit(baseMemoryLimit + reserved.bytes)
	}
	add(n)
	var once sync.Once
	return func() { once.Do(func() { add(-n) }) }
}
