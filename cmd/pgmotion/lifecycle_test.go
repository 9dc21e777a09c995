package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestGroupStop checks the group's stop: steps in reverse order of
// adding, all with the one context within returns, asked for once; the
// actors' context ends first, each actor is waited for, and an actor's
// error is logged once, as the message it was given.
func TestGroupStop(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	type key struct{}
	withins := 0
	within := func() context.Context {
		withins++
		return context.WithValue(context.Background(), key{}, "shared")
	}
	grp := newGroup(context.Background(), log, within)
	var order []string
	step := func(name string) func(context.Context) {
		return func(ctx context.Context) {
			if ctx.Value(key{}) != "shared" {
				t.Errorf("step %s: not the shared stop context", name)
			}
			order = append(order, name)
		}
	}
	grp.onStop(step("broker"))
	grp.onStop(step("worker"))
	actorDone := make(chan struct{})
	grp.run("console stopped", func(ctx context.Context) error {
		defer close(actorDone)
		<-ctx.Done() // ends when the stop begins
		time.Sleep(50 * time.Millisecond)
		return errors.New("sampler failed")
	}, step("console"))
	served := make(chan struct{})
	grp.run("REST API stopped", func(context.Context) error {
		<-served
		return nil
	}, func(ctx context.Context) {
		step("REST")(ctx)
		close(served)
	})

	grp.stop()
	select {
	case <-actorDone:
	default:
		t.Error("stop returned before an actor had")
	}
	if got, want := strings.Join(order, ","), "REST,console,worker,broker"; got != want {
		t.Errorf("stop order %s, want %s", got, want)
	}
	if withins != 1 {
		t.Errorf("within called %d times, want once", withins)
	}
	if n := strings.Count(buf.String(), `msg="console stopped" err="sampler failed"`); n != 1 || strings.Contains(buf.String(), "REST API stopped") {
		t.Errorf("log: want one line for the failed actor and none for the clean one:\n%s", buf.String())
	}
}

// TestGroupStopDeadline: an actor that ignores its interrupt is waited
// for only until the stop context ends, and the later steps still run.
func TestGroupStopDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	grp := newGroup(context.Background(), slog.New(slog.DiscardHandler), func() context.Context { return ctx })
	ran := false
	grp.onStop(func(context.Context) { ran = true })
	stuck := make(chan struct{})
	defer close(stuck)
	grp.run("stuck", func(context.Context) error { <-stuck; return nil }, func(context.Context) {})
	start := time.Now()
	grp.stop()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("stop took %v with a stuck actor, want about the 100 ms deadline", took)
	}
	if !ran {
		t.Error("a step after the stuck actor's did not run")
	}
}
