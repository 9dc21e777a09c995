package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestE2ETransactionMetadata runs a transaction over two tables through a
// connector with provide.transaction.metadata=true: its BEGIN and END
// records come on <topic.prefix>.transaction, END counting the events in
// all and per table, and each data event's transaction block numbers it in
// the transaction and in its table, with ids <xid>:<LSN of the event>. A
// second connector without the option writes no transaction topic and
// null blocks.
func TestE2ETransactionMetadata(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn,
		`CREATE TABLE customers (id int PRIMARY KEY, name text)`,
		`CREATE TABLE orders (id int PRIMARY KEY, customer int)`)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	plainJSON := map[string]string{"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false"}
	with := func(m map[string]string) map[string]string {
		for k, v := range plainJSON {
			m[k] = v
		}
		return m
	}
	on := connectorFile(t, dsn, "txmeta-connector", with(map[string]string{
		"topic.prefix": "txm", "slot.name": "txm_slot", "provide.transaction.metadata": "true",
	}))
	off := connectorFile(t, dsn, "txoff-connector", with(map[string]string{
		"topic.prefix": "txoff", "slot.name": "txoff_slot",
	}))
	p := startPgmotion(t, "connect", "--rest", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--embedded-broker", broker, "--data-dir", t.TempDir(), on, off)
	for _, slot := range []string{"txm_slot", "txoff_slot"} {
		waitSlot(t, dsn, slot)
	}
	pgtest.Exec(t, dsn, `BEGIN;
		INSERT INTO customers VALUES (1, 'a');
		INSERT INTO orders VALUES (10, 1);
		INSERT INTO orders VALUES (11, 1);
		UPDATE customers SET name = 'b' WHERE id = 1;
		COMMIT`)

	type block struct {
		ID                  string `json:"id"`
		TotalOrder          int64  `json:"total_order"`
		DataCollectionOrder int64  `json:"data_collection_order"`
	}
	type envelope struct {
		Op     string `json:"op"`
		Source struct {
			TsMs int64 `json:"ts_ms"`
			TxID int64 `json:"txId"`
			LSN  int64 `json:"lsn"`
		} `json:"source"`
		Transaction *block `json:"transaction"`
	}
	events := func(prefix string) map[string][]envelope {
		out := map[string][]envelope{}
		for _, table := range []string{"customers", "orders"} {
			for _, m := range consume(t, broker, prefix+".public."+table, 2, 60*time.Second) {
				var e envelope
				if err := json.Unmarshal([]byte(str(m.Payload)), &e); err != nil {
					t.Fatalf("%s: %v", str(m.Payload), err)
				}
				out[table] = append(out[table], e)
			}
			// Records of different keys may be on different partitions.
			sort.Slice(out[table], func(i, j int) bool { return out[table][i].Source.LSN < out[table][j].Source.LSN })
		}
		return out
	}

	// With the option: the blocks.
	got := events("txm")
	xid := got["customers"][0].Source.TxID
	want := map[string][][2]int64{"customers": {{1, 1}, {4, 2}}, "orders": {{2, 1}, {3, 2}}}
	for table, evs := range got {
		for i, e := range evs {
			if e.Transaction == nil {
				t.Fatalf("%s event %d has no transaction block", table, i)
			}
			if id := fmt.Sprintf("%d:%d", e.Source.TxID, e.Source.LSN); e.Transaction.ID != id || e.Source.TxID != xid {
				t.Errorf("%s event %d: transaction.id %q, want %q in transaction %d", table, i, e.Transaction.ID, id, xid)
			}
			if w := want[table][i]; e.Transaction.TotalOrder != w[0] || e.Transaction.DataCollectionOrder != w[1] {
				t.Errorf("%s event %d: total_order %d, data_collection_order %d; want %d, %d", table, i,
					e.Transaction.TotalOrder, e.Transaction.DataCollectionOrder, w[0], w[1])
			}
		}
	}

	// BEGIN and END of that transaction (PostgreSQL before 15 also sends
	// empty transactions, which get theirs).
	type txValue struct {
		Status          string `json:"status"`
		ID              string `json:"id"`
		EventCount      *int64 `json:"event_count"`
		DataCollections []struct {
			DataCollection string `json:"data_collection"`
			EventCount     int64  `json:"event_count"`
		} `json:"data_collections"`
		TsMs int64 `json:"ts_ms"`
	}
	var begin, end *txValue
	xidPrefix := strconv.FormatInt(xid, 10) + ":"
	pgtest.WaitFor(t, 60*time.Second, func() (bool, error) {
		begin, end = nil, nil
		for _, m := range consume(t, broker, "txm.transaction", 2, 60*time.Second) {
			var v txValue
			if err := json.Unmarshal([]byte(str(m.Payload)), &v); err != nil {
				return false, fmt.Errorf("%s: %w", str(m.Payload), err)
			}
			if !strings.HasPrefix(v.ID, xidPrefix) {
				continue
			}
			if key := fmt.Sprintf(`{"id":%q}`, v.ID); str(m.Key) != key {
				t.Errorf("transaction record key %s, want %s", str(m.Key), key)
			}
			switch v.Status {
			case "BEGIN":
				begin = &v
			case "END":
				end = &v
			}
		}
		return begin != nil && end != nil, nil
	})
	commitMs := got["customers"][0].Source.TsMs
	firstLSN := got["customers"][0].Source.LSN
	beginLSN, _ := strconv.ParseInt(strings.TrimPrefix(begin.ID, xidPrefix), 10, 64)
	if begin.EventCount != nil || begin.DataCollections != nil || begin.TsMs != commitMs || beginLSN == 0 || beginLSN > firstLSN {
		t.Errorf("BEGIN = %+v; want no counts, ts_ms %d (the commit time) and an LSN up to the first event's, %d", *begin, commitMs, firstLSN)
	}
	endLSN, _ := strconv.ParseInt(strings.TrimPrefix(end.ID, xidPrefix), 10, 64)
	if end.EventCount == nil || *end.EventCount != 4 || end.TsMs != commitMs || endLSN <= got["customers"][1].Source.LSN {
		t.Errorf("END = %+v; want event_count 4, ts_ms %d and an LSN past the last event's", *end, commitMs)
	}
	counts := map[string]int64{}
	for _, dc := range end.DataCollections {
		counts[dc.DataCollection] = dc.EventCount
	}
	if len(counts) != 2 || counts["public.customers"] != 2 || counts["public.orders"] != 2 {
		t.Errorf("END data_collections = %+v, want public.customers 2 and public.orders 2", end.DataCollections)
	}

	// Without the option: null blocks and no transaction topic.
	for table, evs := range events("txoff") {
		for i, e := range evs {
			if e.Transaction != nil {
				t.Errorf("txoff %s event %d: transaction %+v, want null", table, i, *e.Transaction)
			}
		}
	}
	if topicExists(t, broker, "txoff.transaction") {
		t.Error("topic txoff.transaction exists with provide.transaction.metadata off")
	}
	p.stop(t)
}

// topicExists lists the broker's topics with kcat.
func topicExists(t *testing.T, broker, topic string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, needKcat(t), "-L", "-b", broker, "-J").Output()
	if err != nil {
		t.Fatalf("kcat -L: %v", err)
	}
	var md struct {
		Topics []struct {
			Topic string `json:"topic"`
		} `json:"topics"`
	}
	if err := json.Unmarshal(out, &md); err != nil {
		t.Fatalf("kcat -L output %s: %v", out, err)
	}
	for _, tp := range md.Topics {
		if tp.Topic == topic {
			return true
		}
	}
	return false
}
