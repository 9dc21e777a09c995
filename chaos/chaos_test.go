package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pglocal"
	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestChaosWorkerKills runs the harness end to end, short: three SIGKILLs
// of a worker (the fault that recovers today without retries) under the
// load, at-least-once, and expects every fault recovered, nothing lost and
// the report to say so. It builds the binary it drives.
func TestChaosWorkerKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, a broker and two workers: about a minute")
	}
	if _, err := pglocal.FindBinDir(); err != nil {
		pgtest.Unavailable(t, "%v", err)
	}
	bin := filepath.Join(t.TempDir(), "pgmotion")
	build := exec.Command("go", "build", "-buildvcs=false", "-o", bin, "../cmd/pgmotion")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	o := defaultOptions()
	o.bin, o.faults, o.seed, o.seedSet = bin, 3, 13, true
	o.mode, o.kinds = "at-least-once", "worker-kill"
	o.keys, o.duration = 100, 4*time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, progress bytes.Buffer
	results, ok, err := run(ctx, o, &out, &progress)
	t.Logf("progress:\n%s\nreport:%s", progress.String(), out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 {
		t.Fatalf("%d results, want 1", len(results))
	}
	r := results[0]
	if !ok || len(r.failures()) > 0 {
		t.Fatalf("the run failed: %q", r.failures())
	}
	if len(r.outcomes) != 3 {
		t.Fatalf("%d faults injected, want 3", len(r.outcomes))
	}
	for _, oc := range r.outcomes {
		if oc.fault.kind != workerKill || !oc.recovered || oc.recovery <= 0 {
			t.Errorf("outcome %+v: want a recovered worker-kill", oc)
		}
	}
	v := r.verdict
	if !r.checked || v.changes == 0 || v.events < v.changes || v.lost != 0 || v.keys == 0 {
		t.Errorf("verdict %+v: want every change of the load read, none lost", v)
	}
	if got := r.load.ops.Load(); got != v.changes {
		t.Errorf("the load made %d changes, the table counts %d", got, v.changes)
	}
	for _, want := range []string{"seed 13", "worker-kill", "at-least-once", "PASS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(os.TempDir(), "pgmotion-chaos-*")); len(entries) > 0 {
		for _, e := range entries {
			if strings.Contains(progress.String(), e) {
				t.Errorf("the run's directory %s was not removed", e)
			}
		}
	}
}
