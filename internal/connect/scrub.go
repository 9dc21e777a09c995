package connect

import (
	"context"
	"log/slog"
)

// A connector's errors, status traces and log lines never show a value
// that a config provider put into its config: the Worker's Config.Scrub
// builds, from the connector's config as written, a function that
// replaces each such value with its placeholder, and everything the
// connector reports goes through it.

// scrubber returns the scrub function for a connector's config as
// written; the identity when no Config.Scrub is set.
func (w *Worker) scrubber(raw map[string]string) func(string) string {
	if w.cfg.Scrub == nil {
		return func(s string) string { return s }
	}
	return w.cfg.Scrub(raw)
}

// scrubbedError has the text of err with provider values replaced; it
// unwraps to err so that callers still branch on its cause.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubErr returns err with its text scrubbed; nil stays nil, and err
// itself when scrubbing changes nothing.
func scrubErr(err error, scrub func(string) string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if s := scrub(msg); s != msg {
		return &scrubbedError{msg: s, err: err}
	}
	return err
}

// scrubHandler scrubs the message and every attribute of the records it
// passes on: strings, errors and anything else that prints as text.
type scrubHandler struct {
	next  slog.Handler
	scrub func(string) string
}

func newScrubLogger(log *slog.Logger, scrub func(string) string) *slog.Logger {
	return slog.New(&scrubHandler{next: log.Handler(), scrub: scrub})
}

func (h *scrubHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *scrubHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *scrubHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	scrubbed := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		scrubbed[i] = h.attr(a)
	}
	return &scrubHandler{next: h.next.WithAttrs(scrubbed), scrub: h.scrub}
}

func (h *scrubHandler) WithGroup(name string) slog.Handler {
	return &scrubHandler{next: h.next.WithGroup(name), scrub: h.scrub}
}

func (h *scrubHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.scrub(v.String()))
	case slog.KindGroup:
		group := v.Group()
		out := make([]slog.Attr, len(group))
		for i, g := range group {
			out[i] = h.attr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.Any(a.Key, scrubErr(x, h.scrub))
		case interface{ String() string }:
			if s := x.String(); h.scrub(s) != s {
				return slog.String(a.Key, h.scrub(s))
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
