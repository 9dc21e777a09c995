package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// kind is a kind of fault.
type kind int

const (
	workerKill         kind = iota // SIGKILL of a worker, then a restart
	brokerKill                     // SIGKILL of the broker, then a restart on its data dir
	pgRestartFast                  // pg_ctl restart -m fast
	pgRestartImmediate             // pg_ctl restart -m immediate: crash recovery
	cutPostgres                    // every worker↔PostgreSQL connection closed by the proxy
	cutKafka                       // every client↔broker connection closed by the proxy
	brokerPause                    // SIGSTOP of the broker, SIGCONT a few seconds later
	numKinds
)

var kindNames = [numKinds]string{
	workerKill:         "worker-kill",
	brokerKill:         "broker-kill",
	pgRestartFast:      "pg-restart-fast",
	pgRestartImmediate: "pg-restart-immediate",
	cutPostgres:        "cut-postgres",
	cutKafka:           "cut-kafka",
	brokerPause:        "broker-pause",
}

func (k kind) String() string {
	if k < 0 || k >= numKinds {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// allKinds lists every kind, in the order the report prints them.
func allKinds() []kind {
	ks := make([]kind, numKinds)
	for i := range ks {
		ks[i] = kind(i)
	}
	return ks
}

// parseKinds parses a comma-separated list of kind names; "all" or ""
// means every kind.
func parseKinds(s string) ([]kind, error) {
	if s == "" || s == "all" {
		return allKinds(), nil
	}
	var ks []kind
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		i := slices.Index(kindNames[:], name)
		if i < 0 {
			return nil, fmt.Errorf("-kinds: unknown fault %q; the kinds are %s", name, strings.Join(kindNames[:], ", "))
		}
		if !slices.Contains(ks, kind(i)) {
			ks = append(ks, kind(i))
		}
	}
	return ks, nil
}

// fault is one planned fault, with every random choice it needs made in
// advance, so that a seed fixes the whole sequence.
type fault struct {
	kind kind
	// owner kills the worker running the connector's task rather than the
	// other one (workerKill).
	owner bool
	// sameAddress restarts a killed worker at once on its --rest address;
	// otherwise it restarts after down on a new address (workerKill).
	sameAddress bool
	// down is how long the killed process stays down, or how long the
	// broker stays paused.
	down time.Duration
	// settle is how long the harness lets the load run after recovery,
	// before the next fault.
	settle time.Duration
}

func (f fault) String() string {
	switch f.kind {
	case workerKill:
		which := "the idle worker"
		if f.owner {
			which = "the task's worker"
		}
		if f.sameAddress {
			return fmt.Sprintf("%s of %s, restarted at once on the same address", f.kind, which)
		}
		return fmt.Sprintf("%s of %s, restarted %s later on a new address", f.kind, which, f.down)
	case brokerKill:
		return fmt.Sprintf("%s, restarted %s later", f.kind, f.down)
	case brokerPause:
		return fmt.Sprintf("%s for %s", f.kind, f.down)
	}
	return f.kind.String()
}

// weight is each kind's relative frequency: process kills, the faults the
// issue is about, come most often.
var weight = [numKinds]int{
	workerKill:         4,
	brokerKill:         2,
	pgRestartFast:      1,
	pgRestartImmediate: 1,
	cutPostgres:        2,
	cutKafka:           2,
	brokerPause:        1,
}

// plan returns n faults drawn from kinds by a generator seeded with seed:
// the same arguments give the same faults.
func plan(seed uint64, n int, kinds []kind) []fault {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	total := 0
	for _, k := range kinds {
		total += weight[k]
	}
	ms := func(lo, hi int) time.Duration { return time.Duration(lo+r.IntN(hi-lo+1)) * time.Millisecond }
	fs := make([]fault, 0, n)
	for range n {
		// Every field is drawn for every fault, whatever its kind, so that
		// a fault's choices do not depend on the kinds before it.
		pick := r.IntN(total)
		f := fault{
			owner:       r.IntN(4) != 0, // killing the idle worker tests the rebalance only
			sameAddress: r.IntN(2) == 0,
			down:        ms(500, 3000),
			settle:      ms(500, 2000),
		}
		for _, k := range kinds {
			if pick < weight[k] {
				f.kind = k
				break
			}
			pick -= weight[k]
		}
		if f.kind == brokerPause {
			f.down = ms(2000, 6000)
		}
		fs = append(fs, f)
	}
	return fs
}
