// Package logging gives pgmotion's log/slog loggers Kafka Connect's
// logger names and levels that change at run time, for the admin/loggers
// endpoints of the REST API (KIP-495, KIP-976).
//
// A Handler wraps the real slog.Handler and names each logger from the
// attributes it was derived with (slog.Logger.With):
//
//	component=rest                  org.apache.kafka.connect.runtime.rest
//	component=broker                kafka (the embedded broker)
//	component=kafka-client          org.apache.kafka.clients (franz-go)
//	component=debezium              io.debezium.connector.postgresql.encoder
//	component=incremental-snapshot  io.debezium.pipeline.source.snapshot.incremental
//	component=postgres, pglocal     pgmotion.postgres (the demo's PostgreSQL)
//	component=C (any other)         pgmotion.C
//	connector=NAME, no component    io.debezium.connector.postgresql (a connector's task)
//	neither                         org.apache.kafka.connect.runtime (the worker)
//
// A record is written when its level is at least the effective level of
// its logger: the level last set on the logger itself or, failing that, on
// its nearest dotted ancestor, and finally on root. Levels are log4j's
// (OFF, FATAL, ERROR, WARN, INFO, DEBUG, TRACE, ALL); TRACE is
// slog.LevelDebug-4, FATAL slog.LevelError+4.
package logging

import (
	"context"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Root is the root logger's name, as Kafka Connect spells it.
const Root = "root"

// The loggers pgmotion's components log to.
const (
	Connect    = "org.apache.kafka.connect"
	Runtime    = "org.apache.kafka.connect.runtime"
	REST       = "org.apache.kafka.connect.runtime.rest"
	Postgres   = "io.debezium.connector.postgresql"
	Encoder    = "io.debezium.connector.postgresql.encoder"
	Increments = "io.debezium.pipeline.source.snapshot.incremental"
	Broker     = "kafka"
	Clients    = "org.apache.kafka.clients"
	LocalPG    = "pgmotion.postgres"
)

// componentLoggers maps a "component" attribute to its logger.
var componentLoggers = map[string]string{
	"rest":                 REST,
	"broker":               Broker,
	"kafka-client":         Clients,
	"debezium":             Encoder,
	"incremental-snapshot": Increments,
	"postgres":             LocalPG,
	"pglocal":              LocalPG,
}

// known are the loggers that exist from the start, besides root.
var known = []string{Connect, Runtime, REST, Postgres, Encoder, Increments, Broker, Clients, LocalPG}

// Level is a log4j level.
type Level int8

// The log4j levels, from the most to the least severe.
const (
	Off Level = iota
	Fatal
	Error
	Warn
	Info
	Debug
	Trace
	All
)

var levelNames = [...]string{"OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL"}

func (l Level) String() string {
	if l < Off || l > All {
		return "INFO"
	}
	return levelNames[l]
}

// slog is the lowest slog level a logger at l writes.
func (l Level) slog() slog.Level {
	switch l {
	case Off:
		return math.MaxInt32
	case Fatal:
		return slog.LevelError + 4
	case Error:
		return slog.LevelError
	case Warn:
		return slog.LevelWarn
	case Info:
		return slog.LevelInfo
	case Debug:
		return slog.LevelDebug
	case Trace:
		return slog.LevelDebug - 4
	}
	return math.MinInt32
}

// ParseLevel reads a log4j level name in any case, as log4j's
// Level.getLevel does; ok is false for anything else.
func ParseLevel(s string) (Level, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	for i, n := range levelNames {
		if n == s {
			return Level(i), true
		}
	}
	return 0, false
}

// FromSlog is the log4j level whose threshold is the nearest at or below l.
func FromSlog(l slog.Level) Level {
	switch {
	case l < slog.LevelDebug:
		return Trace
	case l < slog.LevelInfo:
		return Debug
	case l < slog.LevelWarn:
		return Info
	case l < slog.LevelError:
		return Warn
	case l < slog.LevelError+4:
		return Error
	}
	return Fatal
}

// LoggerLevel is one logger's level and when this process last changed it
// (epoch milliseconds, nil if never).
type LoggerLevel struct {
	Level        string `json:"level"`
	LastModified *int64 `json:"last_modified"`
}

// Levels is the table of logger levels. It is safe for concurrent use.
type Levels struct {
	now func() time.Time

	mu       sync.Mutex
	explicit map[string]Level // levels set on a logger; root always has one
	modified map[string]int64
	known    map[string]bool // loggers that exist: pgmotion's, and any that was set
	nodes    map[string]*node
}

// node holds the threshold handlers of one logger read on every record.
type node struct{ min atomic.Int64 }

// NewLevels returns a table with root at root and nothing else set.
func NewLevels(root Level) *Levels {
	l := &Levels{now: time.Now, explicit: map[string]Level{Root: root}, modified: map[string]int64{},
		known: map[string]bool{}, nodes: map[string]*node{}}
	for _, n := range known {
		l.known[n] = true
	}
	return l
}

// WithClock makes l date its changes with now instead of time.Now; it
// returns l. Use it before l is shared.
func (l *Levels) WithClock(now func() time.Time) *Levels {
	l.now = now
	return l
}

// effective is the level of name: its own, or its nearest dotted
// ancestor's, or root's. l.mu is held.
func (l *Levels) effective(name string) Level {
	for n := name; ; {
		if lv, ok := l.explicit[n]; ok {
			return lv
		}
		i := strings.LastIndexByte(n, '.')
		if i < 0 {
			return l.explicit[Root]
		}
		n = n[:i]
	}
}

// node returns the threshold of name, creating it.
func (l *Levels) node(name string) *node {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, ok := l.nodes[name]
	if !ok {
		l.known[name] = true // a logger in use exists, as in log4j
		n = &node{}
		n.min.Store(int64(l.effective(name).slog()))
		l.nodes[name] = n
	}
	return n
}

func (l *Levels) levelOf(name string) LoggerLevel {
	ll := LoggerLevel{Level: l.effective(name).String()}
	if ms, ok := l.modified[name]; ok {
		ll.LastModified = &ms
	}
	return ll
}

// All lists every logger whose level is not OFF, root included, as Kafka
// Connect 4's GET /admin/loggers does.
func (l *Levels) All() map[string]LoggerLevel {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]LoggerLevel{}
	for _, n := range append(l.names(), Root) {
		if l.effective(n) != Off {
			out[n] = l.levelOf(n)
		}
	}
	return out
}

// names lists the known loggers but root. l.mu is held.
func (l *Levels) names() []string {
	out := make([]string, 0, len(l.known))
	for n := range l.known {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Get is one logger's level; ok is false for a logger that does not
// exist. "root" in any case, and "", name the root logger.
func (l *Levels) Get(name string) (LoggerLevel, bool) {
	if isRoot(name) {
		name = Root
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if name != Root && !l.known[name] {
		return LoggerLevel{}, false
	}
	return l.levelOf(name), true
}

func isRoot(name string) bool { return name == "" || strings.EqualFold(name, Root) }

// Set sets the level of namespace and of every known logger whose name
// starts with it (root: every logger), as Kafka Connect does, creating
// the namespace's logger if needed. It returns the sorted names of the
// loggers whose level changed; their last_modified becomes now.
func (l *Levels) Set(namespace string, lv Level) []string {
	if isRoot(namespace) {
		namespace = Root
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var targets []string
	created := false
	if namespace == Root {
		targets = append(l.names(), Root)
	} else {
		for _, n := range l.names() {
			if strings.HasPrefix(n, namespace) {
				targets = append(targets, n)
			}
		}
		if !l.known[namespace] {
			targets = append(targets, namespace)
			l.known[namespace] = true
			created = true
		}
	}
	before := make(map[string]Level, len(targets))
	for _, n := range targets {
		before[n] = l.effective(n)
	}
	for _, n := range targets {
		l.explicit[n] = lv
	}
	now := l.now().UnixMilli()
	changed := []string{}
	for _, n := range targets {
		// A logger this call creates counts as changed, as in Kafka
		// Connect, whose new logger had no level before.
		if before[n] != lv || created && n == namespace {
			l.modified[n] = now
			changed = append(changed, n)
		}
	}
	sort.Strings(changed)
	for name, nd := range l.nodes {
		nd.min.Store(int64(l.effective(name).slog()))
	}
	return changed
}

// Handler is a slog.Handler that writes a record only when its logger's
// level allows it; see the package comment for how loggers are named.
// Give the handler it wraps the lowest level, since this one filters.
type Handler struct {
	inner   slog.Handler
	levels  *Levels
	name    string
	named   bool // named by a component
	grouped bool // attributes added now belong to a group
	node    *node
}

// NewHandler wraps inner; records go through levels' table.
func NewHandler(inner slog.Handler, levels *Levels) *Handler {
	return &Handler{inner: inner, levels: levels, name: Runtime, node: levels.node(Runtime)}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, lv slog.Level) bool {
	return int64(lv) >= h.node.min.Load() && h.inner.Enabled(ctx, lv)
}

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	return h.inner.Handle(ctx, r)
}

// WithAttrs implements slog.Handler: a component or connector attribute
// names the derived logger.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.inner = h.inner.WithAttrs(attrs)
	if !h.grouped {
		for _, a := range attrs {
			switch a.Key {
			case "component":
				comp := a.Value.String()
				if n, ok := componentLoggers[comp]; ok {
					c.name = n
				} else {
					c.name = "pgmotion." + comp
				}
				c.named = true
			case "connector":
				if !c.named {
					c.name = Postgres
				}
			}
		}
	}
	if c.name != h.name {
		c.node = h.levels.node(c.name)
	}
	return &c
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	c.inner = h.inner.WithGroup(name)
	c.grouped = true
	return &c
}
