package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pgmotion/pgmotion/internal/options"
)

// The toast group: wide rows whose large text column is stored out of line
// (TOAST), inserted and then updated in a small column, caught up from a
// copy of one slot by pg_recvlogical and by pgmotion with each
// pgmotion.toast.fill mode. The updates leave the large value alone, so
// pgoutput sends the unchanged-TOAST marker ('u') in its place, which
// pgmotion turns into Debezium's placeholder (none), the value kept from
// the row's insert (cache) or the value read back from the table
// (refetch).
const (
	toastTable  = "wide"
	toastPub    = "bench_toast_pub"
	toastSrc    = "bench_toast_src"
	toastPrefix = "toast"
	toastTopic  = toastPrefix + ".public." + toastTable
	toastTxn    = 1000
	// Debezium's unavailable.value.placeholder, which fill=none sends.
	toastPlaceholder = "__debezium_unavailable_value"
	// Update events read back per partition after each pgmotion run:
	// toastSamplePoints runs of toastSampleLen records.
	toastSamplePoints = 4
	toastSampleLen    = 25

	// toastCreateSQL has a key, 20 ordinary columns of mixed types and
	// body, which STORAGE EXTERNAL keeps out of line and uncompressed.
	toastCreateSQL = `CREATE TABLE wide (
	id      bigint PRIMARY KEY,
	version int NOT NULL,
	qty     int NOT NULL,
	small   smallint NOT NULL,
	seq     bigint NOT NULL,
	ref_id  bigint NOT NULL,
	price   numeric(12,2) NOT NULL,
	rate    numeric(8,4) NOT NULL,
	score   double precision NOT NULL,
	weight  real NOT NULL,
	name    text NOT NULL,
	code    varchar(32) NOT NULL,
	status  text NOT NULL,
	email   text NOT NULL,
	created timestamptz NOT NULL,
	updated timestamptz NOT NULL,
	day     date NOT NULL,
	active  boolean NOT NULL,
	flagged boolean NOT NULL,
	uid     uuid NOT NULL,
	body    text NOT NULL
)`
	toastStorageSQL = `ALTER TABLE wide ALTER COLUMN body SET STORAGE EXTERNAL`
	// toastInsertSQL inserts ids $1..$2. Each body is a slice of 128 kB of
	// md5 hex of random numbers, drawn afresh per statement, of
	// toastBodyLen(id) bytes: random enough that pglz could not compress
	// it either.
	toastInsertSQL = `WITH pool AS (SELECT string_agg(md5(random()::text), '') AS s FROM generate_series(1, 4096))
INSERT INTO wide SELECT g, 0, (g % 1000)::int, (g % 100)::smallint, g * 7, g % 5000, (g % 100000) / 100.0, (g % 10000) / 10000.0,
       g / 3.0, (g % 100) / 7.0, 'customer-' || lpad(g::text, 10, '0'), 'C' || (g % 997),
       (ARRAY['new', 'paid', 'shipped'])[g % 3 + 1], 'user' || g || '@example.com', now() - g * interval '1 second', now(),
       current_date - (g % 365)::int, g % 2 = 0, g % 5 = 0, md5(g::text)::uuid,
       substr(pool.s, 1 + (g * 7919 % 65536)::int, (16384 + g * 104729 % 49153)::int)
FROM pool, generate_series($1::bigint, $2::bigint) AS g`
	// toastUpdateSQL changes two small columns of ids $1..$2 and leaves
	// body alone.
	toastUpdateSQL = `UPDATE wide SET version = version + 1, updated = now() WHERE id BETWEEN $1 AND $2`
)

// toastBodyLen is the length of the body toastInsertSQL gives row id:
// 16 to 64 kB.
func toastBodyLen(id int64) int { return int(16384 + id*104729%49153) }

// toastModes are the pgmotion.toast.fill values measured, in the order
// they run.
var toastModes = []string{"none", "cache", "refetch"}

// toastTool names the pgmotion run of a fill mode.
func toastTool(mode string) string { return "fill=" + mode }

// toastResult is the outcome of the toast group.
type toastResult struct {
	rows           int64
	insert, update time.Duration
	textBytes      int64 // sum of the bodies' lengths
	toastBytes     int64 // pg_total_relation_size of the TOAST table
	heapBytes      int64 // pg_relation_size of the table
	walBytes       int64 // WAL of the inserts and updates
	cacheBytes     int64 // pgmotion.toast.cache.max.bytes of the cache runs
	runs           runList
	err            error // a failure outside the runs, e.g. while inserting
}

func (t *toastResult) events() int64 { return 2 * t.rows }

func (t *toastResult) failed() bool {
	return t.err != nil || slices.ContainsFunc(t.runs, func(r *runResult) bool { return r.err != nil || r.checkErr != nil })
}

// toastBench builds the backlog behind a source slot, then runs
// pg_recvlogical and a pgmotion worker per fill mode on copies of it,
// -reps rounds, each round in that order.
func (e *env) toastBench(ctx context.Context, rows int64) *toastResult {
	res := &toastResult{rows: rows}
	end, err := e.buildToastBacklog(ctx, res)
	if err != nil {
		res.err = err
		return res
	}
	defer func() {
		if err := e.db.dropSlot(context.WithoutCancel(ctx), toastSrc); err != nil {
			e.logf("warning: %v", err)
		}
	}()
	failed := map[string]bool{}
	for rep := 1; rep <= e.opts.reps; rep++ {
		e.logf("toast run %d/%d: %s", rep, e.opts.reps, toolBaseline)
		base := e.copiedSlotRun(ctx, "toast", fmt.Sprintf("bench_toast_recvlogical_%d", rep), toastSrc, func(slot, dir string) *runResult {
			return e.runBaseline(ctx, slot, toastPub, end, res.events(), dir)
		})
		base.tool, base.rep = toolBaseline, rep
		res.runs = append(res.runs, base)
		e.logRun(base)
		if ctx.Err() != nil {
			return res
		}
		for _, mode := range toastModes {
			tool := toastTool(mode)
			if failed[mode] {
				e.logf("toast run %d/%d: %s skipped after its failure above", rep, e.opts.reps, tool)
				continue
			}
			e.logf("toast run %d/%d: pgmotion, pgmotion.toast.fill=%s", rep, e.opts.reps, mode)
			r := e.copiedSlotRun(ctx, "toast", fmt.Sprintf("bench_toast_%s_%d", mode, rep), toastSrc, func(slot, dir string) *runResult {
				cfg := e.pgConfig(toastPrefix, slot)
				cfg[options.PropPublicationName], cfg[options.PropPublicationAutocreate] = toastPub, string(options.AutocreateDisabled)
				cfg[options.PropTableInclude] = "public." + toastTable
				cfg[options.PropToastFill] = mode
				if mode == "cache" {
					cfg[options.PropToastCacheMaxBytes] = strconv.FormatInt(res.cacheBytes, 10)
				}
				limit := max(2*time.Minute, 20*base.wall)
				return e.runPgmotionWith(ctx, map[string]any{"name": "bench-toast", "config": cfg}, []string{toastTopic}, res.events(), dir, limit,
					func(ctx context.Context, addr string) (string, error) { return checkToastUpdates(ctx, addr, mode) })
			})
			r.tool, r.rep = tool, rep
			res.runs = append(res.runs, r)
			e.logRun(r)
			if r.err == nil {
				if r.checkErr != nil {
					e.logf("  check FAILED: %v", r.checkErr)
				} else {
					e.logf("  check: %s", r.checked)
				}
			}
			if ctx.Err() != nil {
				return res
			}
			failed[mode] = r.err != nil
		}
	}
	return res
}

// buildToastBacklog recreates the table and its publication, creates the
// source slot, inserts the rows and updates each, in transactions of
// toastTxn rows, and checks that the bodies are stored out of line. It
// returns the end position: the WAL insert position after the last commit.
func (e *env) buildToastBacklog(ctx context.Context, res *toastResult) (end string, err error) {
	d := e.db
	for _, sql := range []string{
		"DROP PUBLICATION IF EXISTS " + toastPub, "DROP TABLE IF EXISTS " + toastTable, toastCreateSQL, toastStorageSQL,
		"CREATE PUBLICATION " + toastPub + " FOR TABLE " + toastTable,
	} {
		if err := d.exec(ctx, sql); err != nil {
			return "", err
		}
	}
	if err := d.dropSlot(ctx, toastSrc); err != nil {
		return "", err
	}
	if err := d.createSlot(ctx, toastSrc); err != nil {
		return "", err
	}
	startLSN, err := d.scalar(ctx, endLSNSQL)
	if err != nil {
		return "", err
	}
	e.logf("toast: inserting %s rows with a 16-64 kB body in transactions of %s", commas(res.rows), commas(toastTxn))
	batches := func(sql string) (time.Duration, error) {
		start := time.Now()
		for lo := int64(1); lo <= res.rows; lo += toastTxn {
			if err := d.exec(ctx, sql, lo, min(lo+toastTxn-1, res.rows)); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	if res.insert, err = batches(toastInsertSQL); err != nil {
		return "", err
	}
	e.logf("toast: updating version and updated of every row in transactions of %s", commas(toastTxn))
	if res.update, err = batches(toastUpdateSQL); err != nil {
		return "", err
	}
	if end, err = d.scalar(ctx, endLSNSQL); err != nil {
		return "", err
	}
	sizes, err := d.scalar(ctx, `SELECT pg_wal_lsn_diff($1::text::pg_lsn, $2::text::pg_lsn)::bigint || ' ' ||
		(SELECT sum(octet_length(body)) FROM wide) || ' ' ||
		pg_total_relation_size(reltoastrelid) || ' ' || pg_relation_size(oid)
		FROM pg_class WHERE oid = 'wide'::regclass`, end, startLSN)
	if err != nil {
		return "", err
	}
	if _, err := fmt.Sscan(sizes, &res.walBytes, &res.textBytes, &res.toastBytes, &res.heapBytes); err != nil {
		return "", fmt.Errorf("read the sizes of %s from %q: %w", toastTable, sizes, err)
	}
	// The bodies must be in the TOAST table, uncompressed, for the updates
	// to carry the unchanged-TOAST marker.
	if res.toastBytes < res.textBytes*9/10 {
		return "", fmt.Errorf("the bodies are not stored out of line: %s MB of text, but the TOAST table of %s holds %s MB",
			commas(res.textBytes>>20), toastTable, commas(res.toastBytes>>20))
	}
	// Room for every body, so that the cache run fills every update.
	res.cacheBytes = (res.textBytes + res.textBytes/4 + 1<<20 - 1) &^ (1<<20 - 1)
	if err := d.exec(ctx, "CHECKPOINT"); err != nil {
		return "", err
	}
	e.logf("toast: inserted in %s, updated in %s; %s MB of text in a %s MB TOAST table, %s MB of WAL up to %s",
		secs(res.insert), secs(res.update), commas(res.textBytes>>20), commas(res.toastBytes>>20), commas(res.walBytes>>20), end)
	return end, nil
}

// checkToastUpdates reads back update events from the second half of each
// partition of the topic, where they follow the inserts of the same keys,
// and checks each body: Debezium's placeholder with fill=none, the value
// as inserted (by its length) with cache and refetch.
func checkToastUpdates(ctx context.Context, addr, mode string) (string, error) {
	ow, err := newOffsetWatcher(addr)
	if err != nil {
		return "", err
	}
	defer ow.close()
	ends, err := ow.endOffsets(ctx, toastTopic)
	if err != nil {
		return "", err
	}
	var (
		updates, bad int64
		firstBad     string
	)
	for p, end := range ends {
		half := end / 2
		for _, at := range samplePoints(end-half, toastSamplePoints, toastSampleLen) {
			err := eachRecord(ctx, addr, toastTopic, p, half+at, min(toastSampleLen, end-half-at), func(r *kgo.Record) {
				if r.Value == nil {
					return
				}
				op, id, body, err := parseToastEvent(r.Value)
				if err == nil && op != "u" {
					return
				}
				if err == nil {
					updates++
					err = checkToastBody(mode, id, body)
				}
				if err != nil {
					bad++
					if firstBad == "" {
						firstBad = fmt.Sprintf("partition %d offset %d: %v", p, r.Offset, err)
					}
				}
			})
			if err != nil {
				return "", fmt.Errorf("read back update events: %w", err)
			}
		}
	}
	switch {
	case bad > 0:
		return "", fmt.Errorf("%s of %s update events read back are wrong; the first, %s", commas(bad), commas(updates+bad), firstBad)
	case updates == 0:
		return "", fmt.Errorf("no update event among the records read back from the second half of %s", toastTopic)
	case mode == "none":
		return fmt.Sprintf("%s update events read back, body %s in each", commas(updates), toastPlaceholder), nil
	default:
		return fmt.Sprintf("%s update events read back, body the inserted 16-64 kB value in each (by length)", commas(updates)), nil
	}
}

// checkToastBody checks the body of the update event of row id.
func checkToastBody(mode string, id int64, body string) error {
	if mode == "none" {
		if body != toastPlaceholder {
			return fmt.Errorf("id %d: body of %d bytes, want %s", id, len(body), toastPlaceholder)
		}
		return nil
	}
	if body == toastPlaceholder {
		return fmt.Errorf("id %d: body is %s, want the value", id, toastPlaceholder)
	}
	if want := toastBodyLen(id); len(body) != want {
		return fmt.Errorf("id %d: body of %d bytes, want %d", id, len(body), want)
	}
	return nil
}

// parseToastEvent returns the op, id and body of a Debezium change event
// value, with or without its schema section.
func parseToastEvent(v []byte) (op string, id int64, body string, err error) {
	var ev struct {
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(v, &ev); err != nil {
		return "", 0, "", fmt.Errorf("decode event: %w", err)
	}
	payload := v
	if len(ev.Payload) > 0 && string(ev.Payload) != "null" {
		payload = ev.Payload
	}
	var p struct {
		Op    string `json:"op"`
		After *struct {
			ID   *int64  `json:"id"`
			Body *string `json:"body"`
		} `json:"after"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return "", 0, "", fmt.Errorf("decode event payload: %w", err)
	}
	if p.Op == "" {
		return "", 0, "", fmt.Errorf("event without op")
	}
	if p.Op != "u" {
		return p.Op, 0, "", nil
	}
	if p.After == nil || p.After.ID == nil || p.After.Body == nil {
		return p.Op, 0, "", fmt.Errorf("update event without after.id and after.body")
	}
	return p.Op, *p.After.ID, *p.After.Body, nil
}

// printToast prints the group's section of the report.
func (r *report) printToast(w *printer) {
	t := r.toast
	w.line("")
	w.line("8. TOAST: %s wide rows (key, 20 small columns, a 16-64 kB text body stored out of line), inserted, then two small",
		commas(t.rows))
	w.line("   columns of each updated, in transactions of %s: %s events caught up from a copy of one slot. The updates leave",
		commas(toastTxn), commas(t.events()))
	w.line("   body alone, so pgoutput sends the unchanged-TOAST marker; pgmotion.toast.fill turns it into Debezium's placeholder")
	w.line("   (none), the value kept from the insert (cache, with pgmotion.toast.cache.max.bytes=%s MB, room for every body)", commas(t.cacheBytes>>20))
	w.line("   or, when its default 64 MB cache lacks it, the value read back from the table (refetch). Time as in section 1.")
	if t.err != nil {
		w.line("   FAILED before the runs: %s", indent(t.err.Error(), "     "))
		return
	}
	w.kv("table", fmt.Sprintf("heap %.1f MB; TOAST table %s MB for %s MB of text (STORAGE EXTERNAL); %s MB of WAL; inserted in %s, updated in %s",
		float64(t.heapBytes)/(1<<20), commas(t.toastBytes>>20), commas(t.textBytes>>20), commas(t.walBytes>>20), secs(t.insert), secs(t.update)))
	tw := w.table()
	fmt.Fprintf(tw, "   \ttime\tevents/s\tWAL MB/s\t/ pg_recvlogical\tpeak RSS\tCPU\truns\t\n")
	base := t.runs.best(toolBaseline)
	tools := []string{toolBaseline}
	for _, m := range toastModes {
		tools = append(tools, toastTool(m))
	}
	for _, tool := range tools {
		b := t.runs.best(tool)
		if b == nil {
			if t.runs.failed(tool) != nil {
				fmt.Fprintf(tw, "   %s\tFAILED\t\t\t\t\t\t%s\t\n", tool, t.runs.times(tool))
			}
			continue
		}
		rel := "1.00×"
		if tool != toolBaseline {
			rel = "n/a"
			if base != nil {
				rel = ratio(b.eventsPerSec(), base.eventsPerSec())
			}
		}
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", tool, secs(b.wall), commas(int64(b.eventsPerSec())),
			mbPerSec(t.walBytes, b.wall), rel, mib(b.peakKiB), secs(b.cpu), t.runs.times(tool))
	}
	tw.Flush()
	w.line("   / pg_recvlogical is events/s over pg_recvlogical's (above 1.00× faster). RSS and CPU are the capturing process's.")
	for _, m := range toastModes {
		if b := t.runs.best(toastTool(m)); b != nil && b.checkErr == nil {
			w.line("   check (%s): %s", b.tool, b.checked)
		}
	}
	for _, run := range t.runs {
		if run.checkErr != nil {
			w.line("   check (%s run %d) FAILED: %s", run.tool, run.rep, indent(run.checkErr.Error(), "     "))
		}
	}
	for _, run := range t.runs {
		for _, n := range run.notes {
			w.line("   note (%s run %d): %s", run.tool, run.rep, n)
		}
		if run.err != nil {
			w.line("   %s run %d FAILED: %s", run.tool, run.rep, indent(run.err.Error(), "     "))
		}
	}
}
