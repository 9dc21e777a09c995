package main

import (
	"bufio"
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pgmotion/pgmotion/internal/kafkasink"
)

// report collects the results and prints them.
type report struct {
	env  *env
	when time.Time

	machine     string
	postgres    string
	settings    string
	pgmotion    string
	recvlogical string

	// Other work on the machine: the CPUs' busy fraction over a second
	// before the benchmark started anything, and the load averages at its
	// start and end.
	busyBefore         float64
	loadStart, loadEnd float64
	throughput         []*throughputResult
	latency            *latencyResult
	failover           *failoverResult
	snapshot           *snapshotResult
	outbox             *outboxResult
	eos                *eosResult
	bigTxn             *bigTxnResult
	toast              *toastResult
	memory             *memoryResult
	snapCPU            *snapCPUResult
	interrupted        bool
}

// describeSetup records the machine, the server and the binaries.
func (r *report) describeSetup(ctx context.Context) error {
	e := r.env
	r.when = time.Now()
	r.machine = machine()
	var err error
	if r.postgres, err = e.db.scalar(ctx, `SELECT version()`); err != nil {
		return err
	}
	var set []string
	for _, name := range []string{"wal_level", "fsync", "synchronous_commit", "full_page_writes", "logical_decoding_work_mem", "shared_buffers"} {
		v, err := e.db.scalar(ctx, `SELECT current_setting($1)`, name)
		if err != nil {
			return err
		}
		set = append(set, name+"="+v)
	}
	r.settings = strings.Join(set, ", ")
	r.pgmotion = e.bin + buildDescription(e.bin)
	if out, err := exec.Command(e.recvlogical, "--version").Output(); err == nil {
		r.recvlogical = strings.TrimSpace(string(out))
	} else {
		r.recvlogical = e.recvlogical + " (--version failed)"
	}
	return nil
}

// machine describes the CPU count and model, memory and kernel.
func machine() string {
	model := ""
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				kib, _ := strconv.ParseInt(f[1], 10, 64)
				mem = fmt.Sprintf(", %.1f GiB RAM", float64(kib)/(1<<20))
			}
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	s := fmt.Sprintf("%d CPUs (nproc)", runtime.NumCPU())
	if model != "" {
		s += ", " + model
	}
	return s + mem + kernel
}

// buildDescription names the revision the binary was built from.
func buildDescription(bin string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return ""
	}
	var rev, modified, at string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		case "vcs.time":
			at = s.Value
		}
	}
	parts := []string{info.GoVersion}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified == "true" {
			rev += " with uncommitted changes"
		}
		parts = append(parts, "commit "+rev)
		if at != "" {
			parts = append(parts, "committed "+at)
		}
	}
	if fi, err := os.Stat(bin); err == nil {
		parts = append(parts, "built "+fi.ModTime().Format("2006-01-02 15:04"))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// compression says which producer compression every pgmotion figure was
// measured with.
func (r *report) compression() string {
	c := r.env.opts.compression
	s := fmt.Sprintf("%s: every pgmotion worker ran with --compression %s, so each pgmotion and broker figure below is for batches compressed with %s", c, c, c)
	if c == kafkasink.DefaultCompression {
		s = "none: every pgmotion worker ran with --compression none, so each pgmotion and broker figure below is for uncompressed batches"
		return s + "\n                     (pgmotion's default, as Kafka Connect's; run with -compression snappy, lz4, zstd or gzip to compare)"
	}
	return s + fmt.Sprintf("\n                     (pgmotion's default is %s)", kafkasink.DefaultCompression)
}

// otherWork describes what else ran on the machine, which makes the
// figures noisy: the benchmark's processes compete with it for CPU.
func (r *report) otherWork() string {
	s := fmt.Sprintf("CPUs %.0f%% busy in the second before the benchmark started; load average %.2f at its start, %.2f at its end",
		100*r.busyBefore, r.loadStart, r.loadEnd)
	if r.busyBefore > 0.15 || r.loadStart > float64(runtime.NumCPU()) {
		s += "\n                     WARNING: other work was running, so these figures are noisy and likely low; run again on an idle machine"
	}
	return s
}

// failed reports whether any measurement failed.
func (r *report) failed() bool {
	for _, t := range r.throughput {
		if t.err != nil || t.failed(toolBaseline) != nil || t.failed(toolPgmotion) != nil {
			return true
		}
	}
	return r.latency != nil && r.latency.err != nil || r.failover != nil && r.failover.failed() ||
		r.snapshot != nil && r.snapshot.failed() || r.bigTxn != nil && r.bigTxn.err != nil ||
		r.outbox != nil && r.outbox.failed() || r.toast != nil && r.toast.failed() ||
		r.memory != nil && r.memory.failed() || r.snapCPU != nil && r.snapCPU.failed() || r.eos != nil && r.eos.failed()
}

func (r *report) print(out io.Writer) {
	e := r.env
	w := &printer{w: out}
	var parts []string
	if e.opts.only == "" || e.opts.only == "throughput" {
		parts = append(parts, commas(e.opts.rows)+" rows per backlog")
	}
	if e.opts.only == "" || e.opts.only == "latency" {
		parts = append(parts, fmt.Sprintf("%s latency run", e.opts.latency))
	}
	if e.opts.only == "" || e.opts.only == "failover" {
		parts = append(parts, "failover run")
	}
	if e.opts.only == "" || e.opts.only == "snapshot" {
		parts = append(parts, commas(e.opts.snapRows)+"-row snapshot")
	}
	if e.opts.only == "" || e.opts.only == "bigtxn" {
		parts = append(parts, commas(e.opts.bigBytes>>20)+" MB transaction")
	}
	if e.opts.only == "" || e.opts.only == "outbox" {
		parts = append(parts, commas(e.opts.outboxRows)+" outbox rows")
	}
	if e.opts.only == "" || e.opts.only == "toast" {
		parts = append(parts, commas(e.opts.toastRows)+" TOAST rows")
	}
	if e.opts.only == "" || e.opts.only == "memory" {
		parts = append(parts, "memory: "+commas(e.opts.rows)+" changes then 2,000 rows/s")
	}
	if e.opts.only == "" || e.opts.only == "snapcpu" {
		parts = append(parts, "snapshot CPU: "+commas(e.opts.snapCPURows)+" rows")
	}
	if e.opts.only == "" || e.opts.only == "eos" {
		parts = append(parts, commas(e.opts.eosRows)+" exactly-once rows")
	}
	mode := strings.Join(parts, ", ") + ", producer compression " + e.opts.compression
	if e.opts.only != "" {
		mode = "-only " + e.opts.only + ": " + mode
	}
	if e.opts.quick {
		mode = "-quick: " + mode + "; development figures, not for comparison"
	}
	w.line("")
	w.line("pgmotion benchmark, %s (%s)", r.when.Format("2006-01-02 15:04 MST"), mode)
	if r.interrupted {
		w.line("INTERRUPTED: the figures below are the runs that finished")
	}
	w.line("")
	w.line("Setup")
	w.kv("machine", r.machine)
	w.kv("other work", r.otherWork())
	w.kv("PostgreSQL", r.postgres)
	w.kv("server settings", r.settings+"; the benchmark's own sessions commit with synchronous_commit=on")
	w.kv("pgmotion", r.pgmotion)
	w.kv("baseline", r.recvlogical+": pgoutput proto_version=1, output to /dev/null")
	w.kv("Kafka", "a separate `pgmotion broker` process per pgmotion run, with a fresh data directory; its CPU and memory are shown apart from pgmotion's")
	w.kv("compression", r.compression())

	if len(r.throughput) > 0 {
		r.printThroughput(w)
	}
	if r.latency != nil {
		r.printLatency(w)
	}
	if len(r.throughput) > 0 || r.latency != nil {
		r.printCost(w)
	}
	if r.failover != nil {
		r.printFailover(w)
	}
	if r.snapshot != nil {
		r.printSnapshot(w)
	}
	if r.bigTxn != nil {
		r.printBigTxn(w)
	}
	if r.outbox != nil {
		r.printOutbox(w)
	}
	if r.toast != nil {
		r.printToast(w)
	}
	if r.memory != nil || r.snapCPU != nil {
		r.printLean(w)
	}
	if r.eos != nil {
		r.printEOS(w)
	}
	r.printCommands(w)
}

func (r *report) printThroughput(w *printer) {
	reps := r.env.opts.reps
	w.line("")
	if reps > 1 {
		w.line("1. Throughput: catching up on a backlog (best of %d runs each; in each round pg_recvlogical ran first, then pgmotion)", reps)
	} else {
		w.line("1. Throughput: catching up on a backlog (1 run each; pg_recvlogical first, then pgmotion)")
	}
	w.line("   Time runs from process start until pg_recvlogical exits at the end position, or until the")
	w.line("   topic's end offsets add up to every row (Kafka has acknowledged them all).")
	for _, t := range r.throughput {
		w.line("")
		w.line("   (%s) %s", t.w.key, t.w.title)
		if t.err != nil {
			w.line("       FAILED before the runs: %v", t.err)
			continue
		}
		w.line("       rows of %d bytes on average, %s MB of WAL, inserted in %s", t.rowBytes, commas(t.walBytes>>20), secs(t.insert))
		tw := w.table()
		fmt.Fprintf(tw, "       \ttime\tevents/s\tpeak RSS\tCPU per 1M events\truns\t\n")
		for _, tool := range []string{toolBaseline, toolPgmotion} {
			b := t.best(tool)
			runs := t.runTimes(tool)
			if b == nil {
				if f := t.failed(tool); f != nil {
					fmt.Fprintf(tw, "       %s\tFAILED\t\t\t\t%s\t\n", tool, runs)
				}
				continue
			}
			fmt.Fprintf(tw, "       %s\t%s\t%s\t%s\t%s\t%s\t\n", tool, secs(b.wall), commas(int64(b.eventsPerSec())),
				mib(b.peakKiB), secs(perMillion(b.cpu, b.events)), runs)
		}
		tw.Flush()
		b, p := t.best(toolBaseline), t.best(toolPgmotion)
		if b != nil && p != nil {
			w.line("       pgmotion / pg_recvlogical: %s the events/s (above 1.00× pgmotion is faster)", ratio(p.eventsPerSec(), b.eventsPerSec()))
		}
		for _, run := range t.runs {
			if d := run.slot.describe(); d != "" && (run == b || run == p) {
				w.line("       server for %s: %s", run.tool, d)
			}
		}
		for _, run := range t.runs {
			for _, n := range run.notes {
				w.line("       note (%s run %d): %s", run.tool, run.rep, n)
			}
			if run.err != nil {
				w.line("       %s run %d FAILED: %s", run.tool, run.rep, indent(run.err.Error(), "         "))
			}
		}
	}
}

// times lists the time of every run of tool, or its failure.
func (rs runList) times(tool string) string {
	var s []string
	for _, r := range rs {
		if r.tool != tool {
			continue
		}
		if r.err != nil {
			s = append(s, "failed")
		} else {
			s = append(s, fmt.Sprintf("%.2f", r.wall.Seconds()))
		}
	}
	if len(s) == 0 {
		return ""
	}
	return strings.Join(s, ", ") + " s"
}

// describe summarises how the server decoded transactions for a slot.
func (s slotStats) describe() string {
	var parts []string
	if s.spillTxns > 0 {
		parts = append(parts, fmt.Sprintf("spilled %s MB of changes to disk (%s txns)", commas(s.spillBytes>>20), commas(s.spillTxns)))
	}
	if s.streamTxns > 0 {
		parts = append(parts, fmt.Sprintf("streamed %s MB of in-progress transactions (%s txns, protocol v2+)", commas(s.streamBytes>>20), commas(s.streamTxns)))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ")
}

func (r *report) printLatency(w *printer) {
	l := r.latency
	w.line("")
	w.line("2. Latency: pgmotion streaming live at a steady %s events/s", commas(int64(rate(latencyBatch, latencyPeriod))))
	w.line("   A writer commits %d rows every %s for %s; a consumer in the benchmark reads the topic.", latencyBatch, latencyPeriod, l.duration)
	w.line("   Latency = time the consumer received the event - commit time in the event (source.ts_us).")
	if l.writer.txns > 0 {
		w.kv("writer", fmt.Sprintf("%s rows in %s transactions over %s = %s rows/s",
			commas(l.writer.rows), commas(l.writer.txns), secs(l.writer.elapsed), commas(int64(rate(l.writer.rows, l.writer.elapsed)))))
	}
	if l.startup > 0 {
		w.kv("start-up", fmt.Sprintf("the first event was in the topic %s after the worker process started", secs(l.startup)))
	}
	if l.stats.n > 0 {
		s := l.stats
		w.kv("received", fmt.Sprintf("%s of %s events (values of %s bytes on average), %s events/s from the first commit to the last arrival",
			commas(l.received), commas(l.writer.rows), commas(l.avgValue), commas(int64(l.rate))))
		w.kv("latency", fmt.Sprintf("p50 %s   p90 %s   p99 %s   max %s   (min %s, mean %s)", ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), ms(s.min), ms(s.mean)))
		w.kv("  split", "at the Kafka record timestamp, set by pgmotion as it encodes the event (ms precision):")
		w.kv("  commit→produce", fmt.Sprintf("p50 %s   p90 %s   p99 %s   max %s   (pgmotion)", ms(l.toProduce.p50), ms(l.toProduce.p90), ms(l.toProduce.p99), ms(l.toProduce.max)))
		w.kv("  produce→receive", fmt.Sprintf("p50 %s   p90 %s   p99 %s   max %s   (producer batching, broker, consumer)", ms(l.fromProduce.p50), ms(l.fromProduce.p90), ms(l.fromProduce.p99), ms(l.fromProduce.max)))
		w.kv("drain", fmt.Sprintf("the last event arrived %s after the writer's last commit returned", ms(l.drain)))
	}
	if l.worker.OK {
		w.kv("pgmotion", fmt.Sprintf("peak RSS %s, CPU %s over the run (%s per 1M events)", mib(l.worker.PeakKiB), secs(l.worker.CPU), secs(perMillion(l.worker.CPU, l.received))))
	}
	if l.broker.OK {
		w.kv("broker", fmt.Sprintf("peak RSS %s, CPU %s", mib(l.broker.PeakKiB), secs(l.broker.CPU)))
	}
	for _, n := range l.notes {
		w.kv("note", n)
	}
	if l.err != nil {
		w.kv("FAILED", indent(l.err.Error(), "                     "))
	}
}

func (r *report) printCost(w *printer) {
	w.line("")
	w.line("3. Cost: memory and CPU of the capturing process (pgmotion connect, or pg_recvlogical)")
	w.line("   From the fastest run of each. pgmotion's figures are read at the finish line, before it stops;")
	w.line("   pg_recvlogical's come from its rusage at exit. Ratios are pgmotion / pg_recvlogical (below 1.00× is cheaper).")
	tw := w.table()
	fmt.Fprintf(tw, "   \tpeak RSS\t\t\tCPU per 1M events\t\t\tbroker (not counted)\t\n")
	fmt.Fprintf(tw, "   \tpg_recvlogical\tpgmotion\tratio\tpg_recvlogical\tpgmotion\tratio\tpeak RSS, CPU/1M\t\n")
	for _, t := range r.throughput {
		b, p := t.best(toolBaseline), t.best(toolPgmotion)
		if b == nil && p == nil {
			continue
		}
		var bRSS, pRSS, bCPU, pCPU, rRSS, rCPU, broker = "-", "-", "-", "-", "n/a", "n/a", "-"
		if b != nil {
			bRSS, bCPU = mib(b.peakKiB), secs(perMillion(b.cpu, b.events))
		}
		if p != nil {
			pRSS, pCPU = mib(p.peakKiB), secs(perMillion(p.cpu, p.events))
			broker = mib(p.brokerPeakKiB) + ", " + secs(perMillion(p.brokerCPU, p.events))
		}
		if b != nil && p != nil {
			rRSS = ratio(float64(p.peakKiB), float64(b.peakKiB))
			rCPU = ratio(float64(p.cpu)/float64(p.events), float64(b.cpu)/float64(b.events))
		}
		fmt.Fprintf(tw, "   (%s) catch-up\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", t.w.key, bRSS, pRSS, rRSS, bCPU, pCPU, rCPU, broker)
	}
	if l := r.latency; l != nil && l.worker.OK {
		fmt.Fprintf(tw, "   live, 10k/s\t-\t%s\t\t-\t%s\t\t%s\t\n", mib(l.worker.PeakKiB), secs(perMillion(l.worker.CPU, l.received)),
			mib(l.broker.PeakKiB)+", "+secs(perMillion(l.broker.CPU, l.received)))
	}
	tw.Flush()
}

func (r *report) printFailover(w *printer) {
	f := r.failover
	w.line("")
	w.line("4. Failover: the worker running the connector is killed with SIGKILL under load")
	w.line("   %d `pgmotion connect` workers share group.id %s; a writer commits %d rows every %s (%s rows/s).",
		failoverWorkers, failoverGroup, failoverBatch, failoverPeriod, commas(int64(rate(failoverBatch, failoverPeriod))))
	w.line("   The connector's owner is killed %s into the load; times run from the kill. A killed worker is", failoverBefore)
	w.line("   noticed when its group session times out; the new owner may also wait for the slot.")
	w.kv("settings", failoverSettings)
	if f.owner != "" {
		w.kv("connector", fmt.Sprintf("created through %s; task RUNNING on %s %s after POST /connectors", f.via, f.owner, secs(f.running)))
	}
	if f.reassigned > 0 {
		w.kv("reassigned", fmt.Sprintf("%s: a survivor's status shows the task RUNNING on %s (polled every %s)", secs(f.reassigned), f.next, statusPoll))
	}
	if f.reassigned > 0 {
		exp := fmt.Sprintf("the group drops a dead worker %s after its last heartbeat, so %s to %s after the kill, then rebalances",
			secs(sessionTimeout), secs(sessionTimeout-heartbeatInterval), secs(sessionTimeout))
		if f.sinceJoin < heartbeatInterval {
			exp += fmt.Sprintf(";\n                     here the owner was killed %s after the rebalance that gave it the connector, its last contact, so about %s",
				secs(f.sinceJoin), secs(sessionTimeout-f.sinceJoin))
		}
		w.kv("  expected", exp)
	}
	if f.streaming > 0 {
		w.kv("streaming again", fmt.Sprintf("%s: the first event of a transaction begun after the kill (id %s) reached the topic", secs(f.streaming), commas(f.firstAfter)))
	}
	if f.reassigned > 0 && f.slotBusy > 0 {
		w.kv("slot waits", fmt.Sprintf("the new owner logged %q %d times (slot.retry.delay.ms apart)", slotBusyLogLine, f.slotBusy))
	}
	if f.writer.rows > 0 && f.err == nil {
		lost := commas(f.lost())
		if f.lost() != 0 {
			lost += " FAILED: every row must have an event"
		}
		w.kv("events", fmt.Sprintf("%s rows written in %s transactions over %s; %s of them in Kafka %s after the writer stopped",
			commas(f.writer.rows), commas(f.writer.txns), secs(f.writer.elapsed), commas(f.distinct), secs(f.complete)))
		w.kv("  lost", lost)
		w.kv("  duplicates", fmt.Sprintf("%s re-sent (%s events for %s ids): delivered by the dead owner after its last offset flush, sent again by the new one", commas(f.duplicates()), commas(f.records), commas(f.distinct)))
	}
	for i, c := range f.timeline {
		k := ""
		if i == 0 {
			k = "status timeline"
		}
		w.kv(k, fmt.Sprintf("%+6.2f s  %s", c.at.Seconds(), c.text))
	}
	for _, n := range f.notes {
		w.kv("note", n)
	}
	if f.err != nil {
		w.kv("FAILED", indent(f.err.Error(), "                     "))
	}
}

func (r *report) printCommands(w *printer) {
	e := r.env
	w.line("")
	w.line("Commands (one run of each shown; slot names and ports vary per run)")
	if len(r.throughput) > 0 || r.latency != nil || r.failover != nil {
		w.line("   workload, per backlog: %s", createTableSQL[:strings.IndexByte(createTableSQL, '(')]+"(id bigint PRIMARY KEY, name text, qty int, price numeric(10,2), active boolean, created timestamptz)")
		w.line("      %s", createPublicationSQL)
		w.line("      %s", strings.ReplaceAll(insertSQL, "\n", "\n      "))
		w.line("      -- with $1..$2 spanning all the rows for (a), 1,000 rows at a time for (b)")
		w.line("      SELECT pg_current_wal_insert_lsn()   -- the end position, after the last commit")
	}
	if s := r.snapshot; s != nil {
		w.line("   snapshot table: %s", snapCreateSQL)
		w.line("      CREATE PUBLICATION %s FOR TABLE %s", snapPublication, snapTable)
		w.line("      %s", strings.ReplaceAll(strings.ReplaceAll(snapFillSQL, "$1::bigint", strconv.FormatInt(s.rows, 10)), "\n", "\n      "))
		w.line("      VACUUM ANALYZE %s; CHECKPOINT", snapTable)
		w.line("   pgx COPY baseline: PgConn().CopyTo(ctx, w, %q) with w counting and discarding the bytes", snapCopySQL)
	}
	if r.toast != nil {
		w.line("   TOAST table: %s", strings.ReplaceAll(strings.ReplaceAll(toastCreateSQL, "\t", "  "), "\n", "\n      "))
		w.line("      %s; CREATE PUBLICATION %s FOR TABLE %s", toastStorageSQL, toastPub, toastTable)
		w.line("      %s", strings.ReplaceAll(toastInsertSQL, "\n", "\n      "))
		w.line("      %s", toastUpdateSQL)
		w.line("      -- each with $1..$2 spanning %s rows, every insert before the first update", commas(toastTxn))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.commands {
		w.line("   %s:", c.kind)
		w.line("      %s", c.text)
	}
	if e.connector != "" {
		w.line("   connector file:")
		w.line("      %s", strings.ReplaceAll(strings.TrimSpace(e.connector), "\n", "\n      "))
	}
	if s := r.snapshot; s != nil && s.connector != "" {
		w.line("   snapshot connector file (snapshot.max.threads and the schemas.enable pair vary per run):")
		w.line("      %s", strings.ReplaceAll(strings.TrimSpace(s.connector), "\n", "\n      "))
	}
	if r.latency != nil {
		w.line("   latency writer: every %s, in its own transaction: the INSERT above for the next %d ids", latencyPeriod, latencyBatch)
	}
	if r.failover != nil {
		w.line("   failover writer: every %s, in its own transaction: the INSERT above for the next %d ids", failoverPeriod, failoverBatch)
		w.line("   failover status: GET /connectors/%s/status on each survivor every %s", failoverName, statusPoll)
	}
	if e.opts.keep && e.dir != "" {
		w.line("")
		w.line("Logs and data kept in %s", e.dir)
	}
}

// printer writes the report.
type printer struct{ w io.Writer }

func (p *printer) line(format string, args ...any) { fmt.Fprintf(p.w, format+"\n", args...) }

func (p *printer) kv(k, v string) { fmt.Fprintf(p.w, "   %-17s %s\n", k, v) }

func (p *printer) table() *tabwriter.Writer {
	return tabwriter.NewWriter(p.w, 0, 0, 3, ' ', tabwriter.AlignRight)
}

// indent indents every line of s after the first.
func indent(s, prefix string) string { return strings.ReplaceAll(s, "\n", "\n"+prefix) }
