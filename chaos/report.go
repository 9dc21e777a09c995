package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// faultStats summarises one kind of fault.
type faultStats struct {
	count, recovered int
	total, max       time.Duration
}

func summarise(os []outcome) map[kind]*faultStats {
	s := map[kind]*faultStats{}
	for _, o := range os {
		st := s[o.fault.kind]
		if st == nil {
			st = &faultStats{}
			s[o.fault.kind] = st
		}
		st.count++
		if o.recovered {
			st.recovered++
			st.total += o.recovery
			st.max = max(st.max, o.recovery)
		}
	}
	return s
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// report prints the tables of the runs and reports whether all passed.
func report(w io.Writer, o options, results []*result, elapsed time.Duration) bool {
	fmt.Fprintf(w, "\npgmotion chaos run: seed %d, %d faults (-kinds %s), %s in all\n", o.seed, o.faults, o.kinds, elapsed.Round(time.Second))
	fmt.Fprintf(w, "recovery: from the fault healed (process restarted, server back, broker resumed, connections cut) to the connector and its task RUNNING and an event of a change committed since then read (read_committed under exactly-once)\n\n")

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "mode\tfault\tcount\trecovered\tmean recovery\tmax recovery\t")
	for _, r := range results {
		s := summarise(r.outcomes)
		for _, k := range allKinds() {
			st := s[k]
			if st == nil {
				continue
			}
			mean, maxr := "-", "-"
			if st.recovered > 0 {
				mean, maxr = secs(st.total/time.Duration(st.recovered)), secs(st.max)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t\n", r.mode.name, k, st.count, st.recovered, mean, maxr)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "mode\treader\tchanges\tevents\tlost\tduplicated\tout of order\tlast event ≠ row\tresult\t")
	ok := true
	for _, r := range results {
		reader := "read_uncommitted"
		if r.mode.exactlyOnce {
			reader = "read_committed"
		}
		fails := r.failures()
		verdict := "PASS"
		if len(fails) > 0 {
			verdict, ok = "FAIL", false
		}
		if !r.checked {
			fmt.Fprintf(tw, "%s\t%s\t%d\t-\t-\t-\t-\t-\t%s\t\n", r.mode.name, reader, r.load.ops.Load(), verdict)
			continue
		}
		v := r.verdict
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", r.mode.name, reader, v.changes, v.events, v.lost, v.duplicated, v.outOfOrder, v.mismatched, verdict)
	}
	tw.Flush()

	for _, r := range results {
		fails := r.failures()
		fmt.Fprintf(w, "\n%s: %s; the load committed %d transactions (%d attempts failed)", r.mode.name, r.elapsed.Round(time.Second), r.load.txns.Load(), r.load.failures.Load())
		if r.checked {
			fmt.Fprintf(w, "; the stream caught up %s after the load stopped", secs(r.catchUp))
			if n := r.verdict.snapshotReads; n > 0 {
				fmt.Fprintf(w, "; %d snapshot reads (op r: a snapshot repeated after a task died before storing an offset; outside the sequences)", n)
			}
			if r.mode.exactlyOnce {
				fmt.Fprintf(w, "; %d events outside a producer transaction", r.verdict.nonTransactional)
			}
		}
		fmt.Fprintln(w)
		for _, f := range fails {
			fmt.Fprintf(w, "  FAIL %s\n", indent(f))
		}
		for _, n := range r.notes {
			fmt.Fprintf(w, "  note %s\n", indent(n))
		}
		for _, x := range r.verdict.examples {
			fmt.Fprintf(w, "  e.g. %s\n", x)
		}
	}
	if ok {
		fmt.Fprint(w, "\nPASS: nothing lost")
		for _, r := range results {
			if r.mode.exactlyOnce {
				fmt.Fprint(w, "; nothing duplicated under exactly-once")
			}
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "\nFAIL")
	}
	return ok
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n       ") }
