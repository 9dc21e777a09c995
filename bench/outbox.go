package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/pgmotion/pgmotion/internal/options"
)

// The outbox group: the same backlog of outbox rows streamed three ways,
// plain (no transform), through Debezium's EventRouter with its default
// options, and with table.expand.json.payload, so that the cost of the
// router reads against plain streaming measured in the same run.
const (
	outboxTable = "outbox"
	outboxPub   = "bench_outbox_pub"
	outboxSlot  = "bench_outbox_src"
	outboxTxn   = 1000
	// Half the events go to each aggregate type, so the router writes two
	// topics.
	outboxCreateSQL = `CREATE TABLE outbox (id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL, aggregateid varchar(255) NOT NULL,
	type varchar(255) NOT NULL, payload jsonb)`
	outboxInsertSQL = `INSERT INTO outbox SELECT gen_random_uuid(), CASE WHEN g % 2 = 0 THEN 'order' ELSE 'customer' END, g::text, 'Created',
	jsonb_build_object('id', g, 'customer', 'customer-' || g, 'total', g * 1.25, 'items', jsonb_build_array(jsonb_build_object('sku', 'A-' || g, 'qty', 2)))
	FROM generate_series($1::bigint, $2::bigint) g`
)

type outboxVariant struct {
	name   string
	extra  map[string]string
	topics []string
}

type outboxResult struct {
	rows   int64
	insert time.Duration
	runs   []*runResult // in the order of outboxVariants
	err    error
}

func outboxVariants(prefix string) []outboxVariant {
	router := map[string]string{
		"transforms":             "outbox",
		"transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
	}
	expand := map[string]string{"transforms.outbox.table.expand.json.payload": "true"}
	for k, v := range router {
		expand[k] = v
	}
	routed := []string{"outbox.event.order", "outbox.event.customer"}
	return []outboxVariant{
		{"plain streaming", nil, []string{prefix + ".public." + outboxTable}},
		{"EventRouter", router, routed},
		{"EventRouter, expand.json.payload", expand, routed},
	}
}

func (e *env) outboxBench(ctx context.Context, rows int64) *outboxResult {
	res := &outboxResult{rows: rows}
	d := e.db
	for _, sql := range []string{
		"DROP PUBLICATION IF EXISTS " + outboxPub, "DROP TABLE IF EXISTS " + outboxTable, outboxCreateSQL,
		"CREATE PUBLICATION " + outboxPub + " FOR TABLE " + outboxTable,
	} {
		if res.err = d.exec(ctx, sql); res.err != nil {
			return res
		}
	}
	if res.err = d.createSlot(ctx, outboxSlot); res.err != nil {
		return res
	}
	defer func() {
		if err := d.dropSlot(context.WithoutCancel(ctx), outboxSlot); err != nil {
			e.logf("warning: %v", err)
		}
	}()
	e.logf("outbox: inserting %s rows in transactions of %s", commas(rows), commas(outboxTxn))
	start := time.Now()
	for lo := int64(1); lo <= rows; lo += outboxTxn {
		if res.err = d.exec(ctx, outboxInsertSQL, lo, min(lo+outboxTxn-1, rows)); res.err != nil {
			return res
		}
	}
	res.insert = time.Since(start)
	if res.err = d.exec(ctx, "CHECKPOINT"); res.err != nil {
		return res
	}
	for i, v := range outboxVariants("obx") {
		slot := fmt.Sprintf("bench_outbox_%d", i)
		dir := filepath.Join(e.dir, "outbox", slot)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			res.err = err
			return res
		}
		if err := d.copySlot(ctx, outboxSlot, slot); err != nil {
			res.err = err
			return res
		}
		cfg := e.pgConfig("obx", slot)
		cfg[options.PropPublicationName], cfg[options.PropPublicationAutocreate] = outboxPub, string(options.AutocreateDisabled)
		cfg[options.PropTableInclude] = "public." + outboxTable
		for k, val := range v.extra {
			cfg[k] = val
		}
		e.logf("outbox: %s", v.name)
		r := e.runPgmotionWith(ctx, map[string]any{"name": "bench-outbox", "config": cfg}, v.topics, rows, dir, 5*time.Minute, nil)
		r.tool = v.name
		e.logRun(r)
		res.runs = append(res.runs, r)
		if err := d.dropSlot(context.WithoutCancel(ctx), slot); err != nil {
			e.logf("warning: %v", err)
		}
		if !e.opts.keep {
			_ = os.RemoveAll(filepath.Join(dir, "broker", "data"))
		}
		if ctx.Err() != nil {
			return res
		}
	}
	return res
}

func (o *outboxResult) failed() bool {
	return o.err != nil || slices.ContainsFunc(o.runs, func(r *runResult) bool { return r.err != nil })
}

func (r *report) printOutbox(w *printer) {
	o := r.outbox
	w.line("")
	w.line("Outbox: %s outbox rows (uuid, aggregatetype, aggregateid, type, jsonb payload of ~130 B) in transactions of %s, caught up from a slot",
		commas(o.rows), commas(outboxTxn))
	if o.err != nil {
		w.line("   FAILED: %v", o.err)
		return
	}
	var plain float64
	for _, run := range o.runs {
		if run.err != nil {
			w.line("   %-34s FAILED: %v", run.tool, run.err)
			continue
		}
		rate := run.eventsPerSec()
		ratio := ""
		if plain == 0 {
			plain = rate
		} else if plain > 0 {
			ratio = fmt.Sprintf("  %.2fx plain", rate/plain)
		}
		w.line("   %-34s %8s  %9s events/s  peak RSS %s  CPU %s%s", run.tool, secs(run.wall), commas(int64(rate)), mib(run.peakKiB), secs(run.cpu), ratio)
		for _, n := range run.notes {
			w.line("   %-34s note: %s", "", n)
		}
	}
}
