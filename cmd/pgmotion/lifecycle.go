package main

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"
)

// group holds the parts of a running process (the embedded broker and
// its metrics client, the REST listener, the worker, the console, the
// REST API) as one: the command starts them in order and adds each to the
// group once it has started; stop stops them in the reverse order, every
// step within the one stop context the group was made with, so a part
// that fails to start leaves the ones before it stopped cleanly. An actor
// (run) is a goroutine the group owns: its error is logged when it
// returns, and stop waits for it. Unlike in Prometheus's run.Group, an
// actor that returns early does not stop the others: nothing but a
// signal or a failed start ends a worker.
//
// A group is built and stopped by one goroutine; it is not safe for
// concurrent use.
type group struct {
	log *slog.Logger
	// ctx is the actors' lifetime: it ends when stop begins.
	ctx    context.Context
	cancel context.CancelFunc
	// within returns the context every stop step shares, asked for once
	// when stop begins.
	within func() context.Context
	steps  []func(context.Context)
}

// newGroup returns a group whose actors run until ctx ends or the group
// stops, and whose stop steps share within's context.
func newGroup(ctx context.Context, log *slog.Logger, within func() context.Context) *group {
	c, cancel := context.WithCancel(ctx)
	return &group{log: log, ctx: c, cancel: cancel, within: within}
}

// onStop adds step to the stop: it runs before the steps of every part
// added earlier, after those of every part added later.
func (g *group) onStop(step func(ctx context.Context)) {
	g.steps = append(g.steps, step)
}

// run runs actor on a goroutine of the group. An error it returns is
// logged at once as msg. When the group stops, interrupt asks the actor
// to return (the group's context has ended too) and the stop waits for it
// until the stop context ends.
func (g *group) run(msg string, actor func(ctx context.Context) error, interrupt func(ctx context.Context)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := actor(g.ctx); err != nil {
			g.log.Error(msg, "err", err)
		}
	}()
	g.onStop(func(ctx context.Context) {
		interrupt(ctx)
		select {
		case <-done:
		case <-ctx.Done():
		}
	})
}

// stop ends the actors' context and runs the stop steps, the last added
// first, with one shared stop context.
func (g *group) stop() {
	g.cancel()
	ctx := g.within()
	for i := len(g.steps) - 1; i >= 0; i-- {
		g.steps[i](ctx)
	}
	g.steps = nil
}

// shutdownTimeout bounds a worker's clean stop: stopping its connectors
// with their final flushes and offset writes, leaving the worker group,
// the REST API and the embedded broker. watchdogTimeout ends the process
// if a step overruns it anyway.
const (
	shutdownTimeout = 8 * time.Second
	watchdogTimeout = 10 * time.Second
)

// shutdown is the deadline the steps of a worker's stop share: its clock
// starts when the first step asks for it.
type shutdown struct {
	log    *slog.Logger
	once   sync.Once
	c      context.Context
	cancel context.CancelFunc
	dog    *time.Timer
}

func newShutdown(log *slog.Logger) *shutdown { return &shutdown{log: log} }

func (s *shutdown) ctx() context.Context {
	s.once.Do(func() {
		s.c, s.cancel = context.WithTimeout(context.Background(), shutdownTimeout)
		s.dog = time.AfterFunc(watchdogTimeout, func() {
			s.log.Error("the worker did not stop in time; exiting now (what was not written to Kafka comes again after a restart)", "after", watchdogTimeout)
			os.Exit(1)
		})
	})
	return s.c
}

// done ends the deadline and the watchdog once every step has run.
func (s *shutdown) done() {
	s.ctx()
	s.cancel()
	s.dog.Stop()
}
