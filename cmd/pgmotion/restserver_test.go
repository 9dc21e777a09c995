package main

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/connect"
	"github.com/pgmotion/pgmotion/internal/console"
)

func TestRestAuthValue(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "auth")
	if err := os.WriteFile(file, []byte("bearer:from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGMOTION_REST_AUTH", "bearer:from-env")
	for _, tt := range []struct {
		f       connectFlags
		want    string
		wantErr string
	}{
		{connectFlags{restAuth: "bearer:flag"}, "bearer:flag", ""},
		{connectFlags{restAuthFile: file}, "bearer:from-file", ""},
		{connectFlags{}, "bearer:from-env", ""},
		{connectFlags{restAuth: "bearer:flag", restAuthFile: file}, "", "not both"},
		{connectFlags{restAuthFile: empty}, "", "is empty"},
		{connectFlags{restAuthFile: filepath.Join(dir, "missing")}, "", "--rest-auth-file"},
	} {
		got, err := restAuthValue(tt.f)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%+v: err = %v, want %q", tt.f, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%+v = %q, %v; want %q", tt.f, got, err, tt.want)
		}
	}
}

func TestWarnOpenREST(t *testing.T) {
	for _, tt := range []struct {
		addr string
		auth string
		warn bool
	}{
		{"127.0.0.1:8083", "", false},
		{"[::1]:8083", "", false},
		{"0.0.0.0:8083", "", true},
		{"[::]:8083", "", true},
		{"10.1.2.3:8083", "", true},
		{"0.0.0.0:8083", "bearer:x", false},
	} {
		var buf bytes.Buffer
		g := &globals{log: slog.New(slog.NewTextHandler(&buf, nil))}
		a, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		warnOpenREST(a, tt.auth, g)
		if got := strings.Contains(buf.String(), "without authentication"); got != tt.warn {
			t.Errorf("%s auth=%q: warned %v, want %v: %s", tt.addr, tt.auth, got, tt.warn, buf.String())
		}
	}
}

// TestRESTStopEndsStreams: a console stream open when the process stops
// (a live tail runs until its client goes away) must not hold the REST
// server's shutdown until the stop's deadline, which the worker's final
// flushes after it need, nor for ever under demo's stop, which has none.
func TestRESTStopEndsStreams(t *testing.T) {
	g := &globals{log: slog.New(slog.DiscardHandler)}
	within, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	grp := newGroup(context.Background(), g.log, func() context.Context { return within })
	stopped := false
	defer func() {
		if !stopped {
			grp.stop()
		}
	}()
	addr, _, err := startEmbeddedBroker(grp, g, connectFlags{embedded: "127.0.0.1:0", dataDir: t.TempDir()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("live"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	err = cl.ProduceSync(within, &kgo.Record{Value: []byte("x")}).FirstErr()
	cl.Close()
	if err != nil {
		t.Fatal(err)
	}
	reg := newRegistry()
	ui, err := startConsole(grp, []string{addr}, nil, reg, "", g)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	grp.onStop(func(context.Context) { ln.Close() })
	w, err := connect.NewWorker(connect.WorkerConfig{Brokers: []string{addr}, WorkerID: ln.Addr().String(), Metrics: reg, Log: g.log})
	if err != nil {
		t.Fatal(err)
	}
	grp.onStop(w.Close)
	if err := serveREST(grp, ln, w, reg, restAuth{}, ui, connectFlags{}, g); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + ln.Addr().String() + console.Prefix + "api/topics/live/tail")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "event: ready") {
	}
	if sc.Err() != nil {
		t.Fatal(sc.Err())
	}
	grp.stop()
	stopped = true
	if within.Err() != nil {
		t.Fatal("the stop ran into its deadline: the open tail held the REST server's shutdown")
	}
	for sc.Scan() {
	}
}
