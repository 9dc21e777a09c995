package connect

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/spec"
)

func row(vals ...string) *change.Change {
	c := &change.Change{Op: change.OpRead}
	for _, v := range vals {
		c.After = append(c.After, text(v))
	}
	return c
}

func key(t *testing.T, r change.Tuple, cols ...int) string {
	t.Helper()
	k, ok := rowKey(nil, r, cols)
	if !ok {
		t.Fatalf("no key in %v", r)
	}
	return string(k)
}

func TestWindow(t *testing.T) {
	var w window
	w.reset()
	rows := []*change.Change{row("1", "a"), row("2", "b"), row("3", "c")}
	for _, r := range rows {
		w.add(key(t, r.After, 0), r)
	}
	if w.live != 3 {
		t.Fatalf("live = %d", w.live)
	}
	// A streamed update of key 2 and a delete of key 3 supersede them; a
	// key outside the window changes nothing.
	if !w.evict(key(t, change.Tuple{text("2"), text("B")}, 0)) {
		t.Error("key 2 not evicted")
	}
	if w.evict(key(t, change.Tuple{text("2"), text("B")}, 0)) {
		t.Error("key 2 evicted twice")
	}
	if w.evict(key(t, change.Tuple{text("9"), text("z")}, 0)) {
		t.Error("key 9 evicted")
	}
	w.evict(key(t, change.Tuple{text("3"), null}, 0))
	var left []string
	for _, r := range w.rows {
		if r != nil {
			left = append(left, string(r.After[1].Data))
		}
	}
	if strings.Join(left, ",") != "a" || w.live != 1 {
		t.Errorf("left %v, live %d", left, w.live)
	}
	w.reset()
	if len(w.rows) != 0 || w.live != 0 || len(w.index) != 0 {
		t.Errorf("reset left %+v", w)
	}
}

func TestRowKey(t *testing.T) {
	// Values are length-prefixed: ("ab","c") and ("a","bc") differ, and so
	// do NULL and the empty string.
	a := key(t, change.Tuple{text("ab"), text("c")}, 0, 1)
	b := key(t, change.Tuple{text("a"), text("bc")}, 0, 1)
	if a == b {
		t.Error("(ab,c) and (a,bc) share a key")
	}
	if key(t, change.Tuple{null}, 0) == key(t, change.Tuple{text("")}, 0) {
		t.Error("NULL and '' share a key")
	}
	// The column order is the key's, not the tuple's.
	if key(t, change.Tuple{text("x"), text("y")}, 1, 0) != key(t, change.Tuple{text("y"), text("x")}, 0, 1) {
		t.Error("key order ignored")
	}
	if _, ok := rowKey(nil, change.Tuple{{Kind: change.KindUnchangedToast}}, []int{0}); ok {
		t.Error("an unchanged TOAST value gave a key")
	}
	if _, ok := rowKey(nil, change.Tuple{text("x")}, []int{3}); ok {
		t.Error("a short tuple gave a key")
	}
}

func TestExtendXid(t *testing.T) {
	const epoch = uint64(3) << 32
	for _, tc := range []struct {
		xid  uint32
		ref  uint64
		want uint64
	}{
		{100, 90, 100},
		{100, epoch + 90, epoch + 100},
		{80, epoch + 90, epoch + 80},
		// Around a wraparound of the 32-bit counter.
		{5, epoch + 0xFFFFFFF0, epoch + 1<<32 + 5},
		{0xFFFFFFF0, epoch + 1<<32 + 5, epoch + 0xFFFFFFF0},
		{0xFFFFFFF0, 5, 0xFFFFFFF0},
	} {
		if got := extendXid(tc.xid, tc.ref); got != tc.want {
			t.Errorf("extendXid(%d, %d) = %d, want %d", tc.xid, tc.ref, got, tc.want)
		}
	}
}

func TestExpandCollections(t *testing.T) {
	tables := []string{"inventory.orders", "public.colors", "public.sizes", "public.t1", "public.t2"}
	for _, tc := range []struct {
		patterns         []string
		matched, missing string
	}{
		{[]string{"public.colors"}, "public.colors", ""},
		{[]string{`public\.t.*`, "public.t1"}, "public.t1,public.t2", ""},
		{[]string{"public.*"}, "public.colors,public.sizes,public.t1,public.t2", ""},
		// Anchored: a name matches whole, and case counts, as in Debezium.
		{[]string{"public.t", "PUBLIC.COLORS"}, "", "public.t,PUBLIC.COLORS"},
		{[]string{"public.(bad", "inventory.orders"}, "inventory.orders", "public.(bad"},
	} {
		m, u := expandCollections(tc.patterns, tables)
		if strings.Join(m, ",") != tc.matched || strings.Join(u, ",") != tc.missing {
			t.Errorf("%q: matched %q missing %q, want %q %q", tc.patterns, m, u, tc.matched, tc.missing)
		}
	}
	if !collectionMatches("public.colors", "public.colors") || !collectionMatches(`public\..*`, "public.colors") || collectionMatches("public.c", "public.colors") {
		t.Error("collectionMatches")
	}
}

func TestParseTableName(t *testing.T) {
	for s, ok := range map[string]bool{"public.t": true, " s.t ": true, "t": false, ".t": false, "s.": false, "db.s.t": false} {
		if _, got := parseTableName(s); got != ok {
			t.Errorf("%q: %v", s, got)
		}
	}
}

func TestIncStateOffsetRoundTrip(t *testing.T) {
	s := incState{
		colls: []incCollection{
			{ID: "public.colors", Condition: "(color='blue')", CorrelationID: "sig-1"},
			{ID: "public.t", SurrogateKey: "code"},
		},
		lastKey:       []string{"1024", `a"b`},
		maxKey:        []string{"50000", "z"},
		correlationID: "sig-1",
	}
	colls, corr, pk, max := s.offsetFields()
	// Debezium's layout: every key of each entry, null when unset.
	wantColls := `[{"incremental_snapshot_collections_id":"public.colors","incremental_snapshot_collections_additional_condition":"(color='blue')","incremental_snapshot_collections_surrogate_key":null,"incremental_snapshot_collections_correlation_id":"sig-1"},` +
		`{"incremental_snapshot_collections_id":"public.t","incremental_snapshot_collections_additional_condition":null,"incremental_snapshot_collections_surrogate_key":"code","incremental_snapshot_collections_correlation_id":null}]`
	if colls != wantColls || corr != "sig-1" || pk != `["1024","a\"b"]` || max != `["50000","z"]` {
		t.Fatalf("fields:\n%s\n%s %s %s", colls, corr, pk, max)
	}
	back, warn, err := loadIncState(&Offset{IncrementalCollections: colls, IncrementalCorrelationID: corr, IncrementalPrimaryKey: pk, IncrementalMaximumKey: max})
	if err != nil || warn != "" {
		t.Fatal(err, warn)
	}
	if len(back.colls) != 2 || back.colls[0] != s.colls[0] || back.colls[1] != s.colls[1] ||
		strings.Join(back.lastKey, "|") != strings.Join(s.lastKey, "|") || strings.Join(back.maxKey, "|") != strings.Join(s.maxKey, "|") || back.correlationID != "sig-1" {
		t.Errorf("round trip: %+v", back)
	}

	// Nothing running: no keys at all.
	if c, corr, pk, max := (&incState{lastKey: []string{"1"}}).offsetFields(); c+corr+pk+max != "" {
		t.Errorf("idle state wrote %q %q %q %q", c, corr, pk, max)
	}
	// A table just started: no key reached, no maximum yet.
	_, _, pk, max = (&incState{colls: []incCollection{{ID: "public.t"}}}).offsetFields()
	if pk != "" || max != "" {
		t.Errorf("fresh table: %q %q", pk, max)
	}
}

func TestLoadIncStateFromDebezium(t *testing.T) {
	// An offset Debezium wrote mid-snapshot: its keys are Java-serialized.
	raw := `{"lsn_proc":37051152,"lsn":37051152,"txId":1007,"ts_usec":1767208115470483,` +
		`"incremental_snapshot_collections":"[{\"incremental_snapshot_collections_id\":\"public.orders\",\"incremental_snapshot_collections_additional_condition\":null,\"incremental_snapshot_collections_surrogate_key\":null}]",` +
		`"incremental_snapshot_primary_key":"aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c020000787000000001737200116a6176612e6c616e672e496e746567657212e2a0a4f781873802000149000576616c7565787200106a6176612e6c616e672e4e756d62657286ac951d0b94e08b0200007870000003e8",` +
		`"incremental_snapshot_maximum_key":"aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c0200007870000000017371007e0002000027107371007e00020000271070",` +
		`"incremental_snapshot_correlation_id":null}`
	var off Offset
	if err := json.Unmarshal([]byte(raw), &off); err != nil {
		t.Fatal(err)
	}
	s, warn, err := loadIncState(&off)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.colls) != 1 || s.colls[0].ID != "public.orders" || s.lastKey != nil || s.maxKey != nil {
		t.Errorf("state %+v", s)
	}
	if !strings.Contains(warn, "public.orders starts again from its first row") {
		t.Errorf("warning %q", warn)
	}
	// Written back, Debezium's keys are gone and nothing claims a position.
	b, _ := off.MarshalJSON()
	if strings.Contains(string(b), `"incremental_snapshot_primary_key"`) || strings.Contains(string(b), "maximum_key") {
		t.Errorf("rewritten offset keeps Debezium's keys... %s", b)
	}

	for _, bad := range []Offset{
		{IncrementalCollections: "not json"},
		{IncrementalCollections: `[{"incremental_snapshot_collections_additional_condition":"x"}]`},
		{IncrementalCollections: `[{"incremental_snapshot_collections_id":"a.b"}]`, IncrementalPrimaryKey: "[1"},
		{IncrementalCollections: `[{"incremental_snapshot_collections_id":"a.b"}]`, IncrementalMaximumKey: `{"a":1}`},
	} {
		if _, _, err := loadIncState(&bad); err == nil {
			t.Errorf("%+v was accepted", bad)
		}
	}
}

func TestWatermarkData(t *testing.T) {
	inc := &incremental{state: incState{colls: []incCollection{{ID: "public.t", CorrelationID: "ad-hoc-1"}}}}
	open := time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC)
	got := inc.watermarkData(open, time.Time{}, "public.t")
	want := `{"openWindowTimestamp": "2026-03-01T10:00:00.123456Z", "correlationId": "ad-hoc-1", "dataCollectionId": "public.t"}`
	if got != want {
		t.Errorf("open:\n%s\nwant\n%s", got, want)
	}
	got = inc.watermarkData(open, open.Add(time.Second), "public.t")
	if !strings.Contains(got, `"closeWindowTimestamp": "2026-03-01T10:00:01.123456Z"`) || !json.Valid([]byte(got)) {
		t.Errorf("close: %s", got)
	}
}

func TestNewChunkID(t *testing.T) {
	a, b := newChunkID(), newChunkID()
	if a == b || len(a) != 36 || strings.Count(a, "-") != 4 {
		t.Errorf("%q %q", a, b)
	}
}

func TestIncrementalConfigChannel(t *testing.T) {
	c := IncrementalConfig{Channels: []string{"source", " Kafka "}}
	if !c.channel("kafka") || !c.channel("source") || c.channel("jmx") {
		t.Error(c.Channels)
	}
}

func TestPassedHigh(t *testing.T) {
	const epoch = uint64(1) << 32
	inc := &incremental{}
	inc.low.Xmin, inc.low.Xmax = epoch+100, epoch+105
	inc.high.Xmax = epoch + 110
	inc.highLSN = 5000
	for _, tc := range []struct {
		xid    uint32
		hasXid bool
		lsn    change.LSN
		want   bool
	}{
		{xid: 104, hasXid: true, lsn: 100, want: false},
		{xid: 110, hasXid: true, lsn: 100, want: false},
		{xid: 111, hasXid: true, lsn: 100, want: true},
		{xid: 104, hasXid: true, lsn: 5000, want: true},
		{xid: 200, hasXid: false, lsn: 100, want: false},
	} {
		c := &change.Change{Xid: tc.xid, HasXid: tc.hasXid, LSN: tc.lsn}
		if got := inc.passedHigh(c); got != tc.want {
			t.Errorf("xid %d lsn %d: %v", tc.xid, tc.lsn, got)
		}
	}
}

func TestIncrementalConfigFrom(t *testing.T) {
	base := map[string]string{
		"name": "c", "connector.class": "io.debezium.connector.postgresql.PostgresConnector", "plugin.name": "pgoutput",
		"database.hostname": "h", "database.user": "u", "database.dbname": "d", "topic.prefix": "srv",
	}
	pc, err := spec.ParsePostgres(base)
	if err != nil {
		t.Fatal(err)
	}
	ic := incrementalConfigFrom(pc)
	if ic.SignalTable != "" || strings.Join(ic.Channels, ",") != "source" || ic.KafkaTopic != "srv-signal" || ic.KafkaGroup != "kafka-signal" ||
		ic.ChunkSize != 1024 || ic.Poll != 5*time.Second || ic.DeleteWatermark || ic.ReadOnly || ic.KafkaBrokers != nil {
		t.Errorf("defaults: %+v", ic)
	}
	cfg := map[string]string{
		"signal.data.collection": "public.debezium_signal", "signal.enabled.channels": "source, KAFKA",
		"signal.kafka.topic": "signals", "signal.kafka.bootstrap.servers": "k1:9092, k2:9092", "signal.kafka.groupId": "g",
		"signal.kafka.poll.timeout.ms": "250", "signal.poll.interval.ms": "100",
		"incremental.snapshot.chunk.size": "10", "incremental.snapshot.watermarking.strategy": "insert_delete", "read.only": "true",
	}
	for k, v := range base {
		cfg[k] = v
	}
	if pc, err = spec.ParsePostgres(cfg); err != nil {
		t.Fatal(err)
	}
	ic = incrementalConfigFrom(pc)
	if ic.SignalTable != "public.debezium_signal" || strings.Join(ic.Channels, ",") != "source,kafka" || ic.KafkaTopic != "signals" ||
		strings.Join(ic.KafkaBrokers, ",") != "k1:9092,k2:9092" || ic.KafkaGroup != "g" || ic.KafkaPollTimeout != 250*time.Millisecond ||
		ic.Poll != 100*time.Millisecond || ic.ChunkSize != 10 || !ic.DeleteWatermark || !ic.ReadOnly {
		t.Errorf("set: %+v", ic)
	}
}
