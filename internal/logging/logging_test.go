package logging

import (
	"bytes"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseLevel(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Level
		ok   bool
	}{
		{"DEBUG", Debug, true}, {"debug", Debug, true}, {" Warn ", Warn, true}, {"off", Off, true},
		{"all", All, true}, {"FATAL", Fatal, true}, {"trace", Trace, true},
		{"HIGH", 0, false}, {"", 0, false}, {"WARNING", 0, false},
	} {
		got, ok := ParseLevel(tt.in)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFromSlog(t *testing.T) {
	for _, tt := range []struct {
		in   slog.Level
		want Level
	}{
		{slog.LevelDebug - 4, Trace}, {slog.LevelDebug, Debug}, {slog.LevelInfo, Info}, {slog.LevelInfo + 2, Info},
		{slog.LevelWarn, Warn}, {slog.LevelError, Error}, {slog.LevelError + 4, Fatal},
	} {
		if got := FromSlog(tt.in); got != tt.want {
			t.Errorf("FromSlog(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func newTestLogger(root Level) (*slog.Logger, *Levels, *bytes.Buffer) {
	var buf bytes.Buffer
	lv := NewLevels(root)
	inner := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.Level(-1 << 20),
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}})
	return slog.New(NewHandler(inner, lv)), lv, &buf
}

// TestHandlerFollowsLevels changes levels at run time and checks what
// each component's logger writes.
func TestHandlerFollowsLevels(t *testing.T) {
	log, lv, buf := newTestLogger(Info)
	worker := log
	task := log.With("connector", "inventory")
	enc := task.With("component", "debezium")
	rest := log.With("component", "rest")
	other := log.With("component", "gizmo")
	grouped := log.WithGroup("g").With("component", "rest") // in a group: not the component

	emit := func() string {
		buf.Reset()
		worker.Debug("worker debug")
		task.Debug("task debug")
		enc.Debug("encoder debug")
		rest.Debug("rest debug")
		other.Debug("gizmo debug")
		grouped.Debug("grouped debug")
		task.Info("task info")
		return buf.String()
	}
	lines := func(s string) int { return strings.Count(s, "\n") }

	if out := emit(); lines(out) != 1 || !strings.Contains(out, "task info") {
		t.Fatalf("at INFO:\n%s", out)
	}
	if got := lv.Set(Postgres, Debug); !reflect.DeepEqual(got, []string{Postgres, Encoder}) {
		t.Errorf("Set(postgres) changed %q", got)
	}
	out := emit()
	if !strings.Contains(out, "task debug") || !strings.Contains(out, "encoder debug") || strings.Contains(out, "worker debug") || strings.Contains(out, "rest debug") {
		t.Fatalf("with %s at DEBUG:\n%s", Postgres, out)
	}
	if got := lv.Set(Encoder, Error); !reflect.DeepEqual(got, []string{Encoder}) {
		t.Errorf("Set(encoder) changed %q", got)
	}
	if out := emit(); strings.Contains(out, "encoder debug") || !strings.Contains(out, "task debug") {
		t.Fatalf("encoder at ERROR:\n%s", out)
	}
	lv.Set(Connect, Trace)
	if out := emit(); !strings.Contains(out, "worker debug") || !strings.Contains(out, "rest debug") || strings.Contains(out, "gizmo debug") || !strings.Contains(out, "grouped debug") {
		t.Fatalf("%s at TRACE:\n%s", Connect, out)
	}
	lv.Set("pgmotion", Debug)
	if out := emit(); !strings.Contains(out, "gizmo debug") {
		t.Fatalf("pgmotion at DEBUG:\n%s", out)
	}
	lv.Set(Root, Off)
	if out := emit(); out != "" {
		t.Fatalf("root OFF still writes:\n%s", out)
	}
}

func TestLevelsGetSetAll(t *testing.T) {
	lv := NewLevels(Info)
	clock := time.UnixMilli(1700000000000)
	lv.now = func() time.Time { return clock }

	if got, ok := lv.Get("ROOT"); !ok || got.Level != "INFO" || got.LastModified != nil {
		t.Errorf("Get(ROOT) = %+v, %v", got, ok)
	}
	if _, ok := lv.Get("org.apache.rostropovich"); ok {
		t.Error("an unknown logger was found")
	}
	if got, ok := lv.Get(REST); !ok || got.Level != "INFO" {
		t.Errorf("Get(rest) = %+v, %v", got, ok)
	}

	changed := lv.Set(Connect, Debug)
	if want := []string{Connect, Runtime, REST}; !reflect.DeepEqual(changed, want) {
		t.Errorf("Set(%s) = %q, want %q", Connect, changed, want)
	}
	got, _ := lv.Get(REST)
	if got.Level != "DEBUG" || got.LastModified == nil || *got.LastModified != 1700000000000 {
		t.Errorf("Get(rest) after set = %+v", got)
	}
	// Setting the same level again changes nothing and keeps the time.
	clock = clock.Add(time.Second)
	if changed := lv.Set(Connect, Debug); len(changed) != 0 || changed == nil {
		t.Errorf("no-op Set = %#v, want an empty list", changed)
	}
	if got, _ := lv.Get(Connect); *got.LastModified != 1700000000000 {
		t.Errorf("no-op set moved last_modified: %+v", got)
	}
	// A new namespace is created, and counts as changed.
	if changed := lv.Set("org.example.custom", Info); !reflect.DeepEqual(changed, []string{"org.example.custom"}) {
		t.Errorf("Set(new) = %q", changed)
	}
	if got, ok := lv.Get("org.example.custom"); !ok || got.Level != "INFO" {
		t.Errorf("Get(new) = %+v, %v", got, ok)
	}
	// Root sets every logger.
	changed = lv.Set("root", Warn)
	for _, n := range append([]string{Root}, known...) {
		if !contains(changed, n) {
			t.Errorf("Set(root) did not change %s: %q", n, changed)
		}
	}
	all := lv.All()
	if len(all) != len(known)+2 || all[Root].Level != "WARN" || all["org.example.custom"].Level != "WARN" {
		t.Errorf("All() = %+v", all)
	}
	lv.Set(Broker, Off)
	if _, listed := lv.All()[Broker]; listed {
		t.Error("All() lists a logger that is OFF")
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
