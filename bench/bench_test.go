package main

import (
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCommitMicros(t *testing.T) {
	// testdata/event.json is the Debezium 3.1 reference create event from
	// /work/shared/reference/debezium-compat.md §1.6, on one line as on the
	// wire.
	ref, err := os.ReadFile("testdata/event.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		value  string
		want   int64
		coarse bool
		ok     bool
	}{
		{"reference event", string(ref), 1742741274875866, false, true},
		{"schemaless", `{"before":null,"after":{"id":1},"source":{"ts_ms":1,"ts_us":1742741274875866,"db":"x"},"op":"c","ts_us":99}`, 1742741274875866, false, true},
		{"top-level ts_us only is not the commit time", `{"payload":{"source":{"ts_ms":1742741274875,"db":"x"},"ts_us":99}}`, 1742741274875000, true, true},
		{"white space", `{"payload" : { "source" : { "ts_us" : 12345 , "db":"x"} } }`, 12345, false, true},
		{"schema names fields only as values", `{"schema":{"fields":[{"field":"source"},{"field":"ts_us"}]},"payload":{"source":{"ts_us":7}}}`, 7, false, true},
		{"ts_us after source block ignored", `{"payload":{"source":{"db":"x"},"ts_us":99}}`, 0, false, false},
		{"no source", `{"payload":{"op":"c"}}`, 0, false, false},
		{"null source", `{"payload":{"source":null}}`, 0, false, false},
		{"empty", ``, 0, false, false},
		{"truncated", `{"payload":{"source":{"ts_us":`, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, coarse, ok := commitMicros([]byte(tt.value))
			if got != tt.want || coarse != tt.coarse || ok != tt.ok {
				t.Errorf("commitMicros = %d, %v, %v; want %d, %v, %v", got, coarse, ok, tt.want, tt.coarse, tt.ok)
			}
		})
	}
}

func BenchmarkCommitMicros(b *testing.B) {
	ref, err := os.ReadFile("testdata/event.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(ref)))
	for b.Loop() {
		if _, _, ok := commitMicros(ref); !ok {
			b.Fatal("not found")
		}
	}
}

func TestSummarise(t *testing.T) {
	us := make([]int64, 0, 1000)
	for i := 1000; i >= 1; i-- {
		us = append(us, int64(i)*1000) // 1..1000 ms, unsorted
	}
	s := summarise(us)
	for _, c := range []struct {
		name      string
		got, want time.Duration
	}{
		{"p50", s.p50, 500 * time.Millisecond},
		{"p90", s.p90, 900 * time.Millisecond},
		{"p99", s.p99, 990 * time.Millisecond},
		{"max", s.max, 1000 * time.Millisecond},
		{"min", s.min, time.Millisecond},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
	if (summarise(nil) != latencyStats{}) {
		t.Error("summarise(nil) is not zero")
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
	if got := shellQuote([]string{"/bin/x", "-d", "postgres://p@h:1/b?sslmode=disable", "it's"}); got != `/bin/x -d 'postgres://p@h:1/b?sslmode=disable' 'it'\''s'` {
		t.Errorf("shellQuote = %s", got)
	}
}

func TestKeyID(t *testing.T) {
	for _, tt := range []struct {
		key  string
		want int64
		ok   bool
	}{
		{`{"schema":{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"}],"optional":false,"name":"failover.public.t.Key"},"payload":{"id":1234}}`, 1234, true},
		{`{"id":7}`, 7, true},
		{`{"payload":{"id":null}}`, 0, false},
		{`{"schema":{"fields":[{"field":"id"}]}}`, 0, false},
		{``, 0, false},
	} {
		got, ok := keyID([]byte(tt.key))
		if got != tt.want || ok != tt.ok {
			t.Errorf("keyID(%s) = %d, %v; want %d, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}

func TestOffsetKeyIs(t *testing.T) {
	for _, tt := range []struct {
		key  string
		want bool
	}{
		{`["snapshot",{"server":"snap"}]`, true},
		{`[ "snapshot" , { "server" : "snap" } ]`, true},
		{`["snapshot",{"server":"other"}]`, false},
		{`["other",{"server":"snap"}]`, false},
		{`["snapshot",{"server":"snap","x":1}]`, false},
		{`["snapshot",{"server":1}]`, false},
		{`["snapshot"]`, false},
		{`{"server":"snap"}`, false},
		{``, false},
	} {
		if got := offsetKeyIs([]byte(tt.key), "snapshot", "snap"); got != tt.want {
			t.Errorf("offsetKeyIs(%s) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestSnapshotCompleted(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  bool
	}{
		// As pgmotion writes them (internal/connect/offsets.go).
		{`{"lsn_proc":57820392,"lsn":57820392,"txId":760,"ts_usec":1795813510258745,"snapshot":"INITIAL","last_snapshot_record":true,"snapshot_completed":true}`, true},
		{`{"lsn":57820392,"txId":760,"ts_usec":1795813510258745,"snapshot":"INITIAL","last_snapshot_record":false}`, false},
		{`{"lsn":1,"snapshot":true,"snapshot_completed":false}`, false},
		{`{"lsn_proc":1,"lsn_commit":1,"lsn":1}`, false},
		{``, false}, // tombstone
		{`not json`, false},
	} {
		if got := snapshotCompleted([]byte(tt.value)); got != tt.want {
			t.Errorf("snapshotCompleted(%s) = %v, want %v", tt.value, got, tt.want)
		}
	}
}

func TestScanSnapshotLog(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	jsonLog := `{"time":"2026-11-27T21:15:10.149472274Z","level":"INFO","msg":"connector assignment","connectors":["snapshot"]}
{"time":"2026-11-27T21:15:10.160120595Z","level":"WARN","msg":"\"snapshot.max.threads\" is not implemented","connector":"snapshot"}
{"time":"2026-11-27T21:15:10.160120595Z","level":"WARN","msg":"\"snapshot.max.threads\" is not implemented","connector":"snapshot"}
{"time":"2026-11-27T21:15:10.258745773Z","level":"INFO","msg":"snapshot starting","connector":"snapshot","tables":1,"list":"public.snap","ranges":4,"threads":2}
not a log line
{"time":"2026-11-27T21:15:11.333672174Z","level":"INFO","msg":"snapshot of table done","table":"public.snap","rows":200000}
{"time":"2026-11-27T21:15:11.334385497Z","level":"INFO","msg":"snapshot done","connector":"snapshot","state":"completed","tables_done":1,"tables_total":1,"rows_scanned":200000,"rows_per_second":185874,"elapsed":"1.076s"}
{"time":"2026-11-27T21:15:12.000000000Z","level":"INFO","msg":"snapshot done","rows_scanned":1}
`
	textLog := `time=2026-11-27T21:15:10.258+00:00 level=INFO msg="snapshot starting" connector=snapshot tables=1 list=public.snap
time=2026-11-27T21:15:11.334+00:00 level=INFO msg="snapshot done" connector=snapshot state=completed tables_done=1 tables_total=1 rows_scanned=5000000 rows_per_second=4646840 elapsed=1.076s
`
	for _, tt := range []struct {
		name        string
		log         string
		start, done time.Time
		rows        int64
		warnings    int
		split       string
	}{
		{"json", jsonLog, at("2026-11-27T21:15:10.258745773Z"), at("2026-11-27T21:15:11.334385497Z"), 200000, 1, "2 threads, 4 ranges"},
		{"text", textLog, at("2026-11-27T21:15:10.258Z"), at("2026-11-27T21:15:11.334Z"), 5000000, 0, ""},
		{"no snapshot", `{"time":"2026-11-27T21:15:10Z","level":"INFO","msg":"connector starting"}`, time.Time{}, time.Time{}, -1, 0, ""},
		{"empty", ``, time.Time{}, time.Time{}, -1, 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := scanSnapshotLog(strings.NewReader(tt.log))
			if !got.start.Equal(tt.start) || !got.done.Equal(tt.done) || got.rows != tt.rows || len(got.warnings) != tt.warnings {
				t.Errorf("scanSnapshotLog = %v, %v, %d, %q; want %v, %v, %d, %d warnings", got.start, got.done, got.rows, got.warnings, tt.start, tt.done, tt.rows, tt.warnings)
			}
			if split := describeSplit(got.threads, got.ranges); split != tt.split {
				t.Errorf("split = %q, want %q", split, tt.split)
			}
		})
	}
	if got := describeSplit("1", "1"); got != "1 thread, 1 range" {
		t.Errorf("describeSplit(1, 1) = %q", got)
	}
}

func TestSamplePoints(t *testing.T) {
	for _, tt := range []struct {
		end    int64
		k      int
		length int64
		want   []int64
	}{
		{5000, 8, 500, []int64{0, 642, 1285, 1928, 2571, 3214, 3857, 4500}},
		{500, 8, 500, []int64{0}},
		{100, 8, 500, []int64{0}},
		{503, 8, 500, []int64{0, 1, 2, 3}},
		{0, 8, 500, nil},
		{1000, 1, 500, []int64{0}},
	} {
		got := samplePoints(tt.end, tt.k, tt.length)
		if !slices.Equal(got, tt.want) {
			t.Errorf("samplePoints(%d, %d, %d) = %v, want %v", tt.end, tt.k, tt.length, got, tt.want)
		}
		for _, p := range got {
			if p < 0 || p+min(tt.length, tt.end) > tt.end {
				t.Errorf("samplePoints(%d, %d, %d): %d runs past the end", tt.end, tt.k, tt.length, p)
			}
		}
	}
}

func TestSnapshotRates(t *testing.T) {
	for v, want := range map[float64]string{0: "n/a", -1: "n/a", 999: "999", 1234: "1.23k", 45678: "45.7k", 812345: "812k", 999_400: "999k", 999_600: "1.00M", 1_104_000: "1.10M", 12_345_678: "12.3M"} {
		if got := short(v); got != want {
			t.Errorf("short(%v) = %q, want %q", v, got, want)
		}
	}
	if got := mbPerSec(70<<20, time.Second); got != "70 MB/s" {
		t.Errorf("mbPerSec = %q", got)
	}
	if got := mbPerSec(0, time.Second); got != "n/a" {
		t.Errorf("mbPerSec(0) = %q", got)
	}
	for _, tt := range []struct {
		got  float64
		want string
	}{
		{0.74, "PASS (target 0.70×)"},
		{0.70, "PASS (target 0.70×)"},
		{0.69, "BELOW (target 0.70×)"},
		{0, "n/a (target 0.70×)"},
		{math.Inf(1), "n/a (target 0.70×)"},
	} {
		if got := verdict(tt.got, 0.7); got != tt.want {
			t.Errorf("verdict(%v) = %q, want %q", tt.got, got, tt.want)
		}
	}

	// 5M rows: COPY by psql in 4 s (1.25M rows/s), the snapshot in 6.25 s
	// from its log line (800k rows/s): 0.64× and below the target.
	s := &snapshotResult{rows: 5_000_000, copyBytes: 350 << 20, copies: []*copyRun{
		{tool: copyPgx, rep: 1, wall: 3 * time.Second},
		{tool: copyPsql, rep: 1, wall: 5 * time.Second},
		{tool: copyPsql, rep: 2, wall: 4 * time.Second},
		{tool: copyPsql, rep: 3, wall: time.Second, err: errors.New("failed")},
	}}
	if ref := s.copyRef(); ref == nil || ref.tool != copyPsql || ref.rep != 2 {
		t.Fatalf("copyRef = %+v, want psql run 2", ref)
	}
	r := &snapshotRun{threads: 2, snapshot: 6250 * time.Millisecond}
	want := "snapshot 5,000,000 rows, 2 threads, schemaless: 800k rows/s (56 MB/s), 0.64× COPY (1.25M rows/s, psql)   BELOW (target 0.70×)"
	if got := s.summary(r); got != want {
		t.Errorf("summary =\n%s\nwant\n%s", got, want)
	}
	r.schemas = true
	if got := s.summary(r); strings.Contains(got, "target") {
		t.Errorf("summary of the schemas run judges it against the target: %s", got)
	}
	s.copies = s.copies[:1] // pgx only: it is the reference
	if ref := s.copyRef(); ref == nil || ref.tool != copyPgx {
		t.Errorf("copyRef without psql = %+v, want pgx", ref)
	}
}

func TestToastEvents(t *testing.T) {
	body := strings.Repeat("a", toastBodyLen(7))
	for _, tt := range []struct {
		name, value, mode string
		op                string
		parseErr, bad     bool
	}{
		{"placeholder with schema", `{"schema":{"type":"struct"},"payload":{"before":null,"after":{"id":7,"version":1,"body":"__debezium_unavailable_value"},"op":"u"}}`, "none", "u", false, false},
		{"placeholder schemaless", `{"before":null,"after":{"id":7,"body":"__debezium_unavailable_value"},"op":"u"}`, "none", "u", false, false},
		{"value where the placeholder is wanted", `{"payload":{"after":{"id":7,"body":"` + body + `"},"op":"u"}}`, "none", "u", false, true},
		{"value", `{"payload":{"after":{"id":7,"body":"` + body + `"},"op":"u"}}`, "cache", "u", false, false},
		{"placeholder where the value is wanted", `{"payload":{"after":{"id":7,"body":"__debezium_unavailable_value"},"op":"u"}}`, "refetch", "u", false, true},
		{"value of another length", `{"payload":{"after":{"id":8,"body":"` + body + `"},"op":"u"}}`, "refetch", "u", false, true},
		{"insert is not checked", `{"payload":{"after":{"id":7,"body":"x"},"op":"c"}}`, "cache", "c", false, false},
		{"update without body", `{"payload":{"after":{"id":7},"op":"u"}}`, "cache", "u", true, false},
		{"no op", `{"payload":{"after":{"id":7}}}`, "cache", "", true, false},
		{"not json", `{`, "cache", "", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			op, id, b, err := parseToastEvent([]byte(tt.value))
			if (err != nil) != tt.parseErr || op != tt.op {
				t.Fatalf("parseToastEvent = %q, %d, %d bytes, %v; want op %q, error %v", op, id, len(b), err, tt.op, tt.parseErr)
			}
			if err != nil || op != "u" {
				return
			}
			if err := checkToastBody(tt.mode, id, b); (err != nil) != tt.bad {
				t.Errorf("checkToastBody(%s) = %v, want an error: %v", tt.mode, err, tt.bad)
			}
		})
	}
	for id := int64(1); id <= 20000; id++ {
		if n := toastBodyLen(id); n < 16<<10 || n > 64<<10 {
			t.Fatalf("toastBodyLen(%d) = %d, not 16-64 kB", id, n)
		}
	}
}

func TestBuildsABBA(t *testing.T) {
	for _, tt := range []struct {
		name   string
		before string
		rep    int
		want   []string // label:bin
	}{
		{"without -before", "", 1, []string{"after:/new"}},
		{"without -before, round 2", "", 2, []string{"after:/new"}},
		{"round 1: before first", "/old", 1, []string{"before:/old", "after:/new"}},
		{"round 2: after first", "/old", 2, []string{"after:/new", "before:/old"}},
		{"round 3: before first", "/old", 3, []string{"before:/old", "after:/new"}},
		{"round 4: after first", "/old", 4, []string{"after:/new", "before:/old"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := &env{bin: "/new", beforeBin: tt.before}
			var got []string
			for _, b := range e.builds(tt.rep) {
				got = append(got, b.label+":"+b.bin)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("builds(%d) = %v, want %v", tt.rep, got, tt.want)
			}
		})
	}
	if got := pgmotionTool(build{"before", "/old"}); got != toolPgmotionBefore {
		t.Errorf("pgmotionTool(before) = %q", got)
	}
	if got := pgmotionTool(build{"after", "/new"}); got != toolPgmotion {
		t.Errorf("pgmotionTool(after) = %q", got)
	}
}

func TestSnapshotSchedule(t *testing.T) {
	runs := func(before string, reps int) []string {
		e := &env{bin: "/new", beforeBin: before, opts: flags{reps: reps}}
		var s []string
		for _, r := range e.snapshotSchedule() {
			s = append(s, r.name()+" "+r.slot+" "+r.bin)
		}
		return s
	}
	for _, tt := range []struct {
		name   string
		before string
		reps   int
		want   []string
	}{
		// Without -before: as before the flag existed, each configuration
		// once, on the -bin build, whatever -reps says.
		{"without -before", "", 2, []string{
			"1 thread, schemaless bench_snap_t1 ",
			"2 threads, schemaless bench_snap_t2 ",
			"4 threads, schemaless bench_snap_t4 ",
			"2 threads, schemas bench_snap_t2_schemas ",
		}},
		{"-before, 1 round", "/old", 1, []string{
			"1 thread, schemaless, before 1 bench_snap_t1_before_1 /old",
			"1 thread, schemaless, after 1 bench_snap_t1_after_1 /new",
			"2 threads, schemaless, before 1 bench_snap_t2_before_1 /old",
			"2 threads, schemaless, after 1 bench_snap_t2_after_1 /new",
			"4 threads, schemaless, before 1 bench_snap_t4_before_1 /old",
			"4 threads, schemaless, after 1 bench_snap_t4_after_1 /new",
			"2 threads, schemas, before 1 bench_snap_t2_schemas_before_1 /old",
			"2 threads, schemas, after 1 bench_snap_t2_schemas_after_1 /new",
		}},
		{"-before, 2 rounds: ABBA per configuration", "/old", 2, []string{
			"1 thread, schemaless, before 1 bench_snap_t1_before_1 /old",
			"1 thread, schemaless, after 1 bench_snap_t1_after_1 /new",
			"1 thread, schemaless, after 2 bench_snap_t1_after_2 /new",
			"1 thread, schemaless, before 2 bench_snap_t1_before_2 /old",
			"2 threads, schemaless, before 1 bench_snap_t2_before_1 /old",
			"2 threads, schemaless, after 1 bench_snap_t2_after_1 /new",
			"2 threads, schemaless, after 2 bench_snap_t2_after_2 /new",
			"2 threads, schemaless, before 2 bench_snap_t2_before_2 /old",
			"4 threads, schemaless, before 1 bench_snap_t4_before_1 /old",
			"4 threads, schemaless, after 1 bench_snap_t4_after_1 /new",
			"4 threads, schemaless, after 2 bench_snap_t4_after_2 /new",
			"4 threads, schemaless, before 2 bench_snap_t4_before_2 /old",
			"2 threads, schemas, before 1 bench_snap_t2_schemas_before_1 /old",
			"2 threads, schemas, after 1 bench_snap_t2_schemas_after_1 /new",
			"2 threads, schemas, after 2 bench_snap_t2_schemas_after_2 /new",
			"2 threads, schemas, before 2 bench_snap_t2_schemas_before_2 /old",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := runs(tt.before, tt.reps); !slices.Equal(got, tt.want) {
				t.Errorf("snapshotSchedule =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestBestOfEachBuild(t *testing.T) {
	fail := errors.New("failed")
	rs := runList{
		{tool: toolBaseline, rep: 1, wall: 2 * time.Second},
		{tool: toolPgmotionBefore, rep: 1, wall: 4 * time.Second},
		{tool: toolPgmotion, rep: 1, wall: 5 * time.Second},
		{tool: toolPgmotion, rep: 2, wall: 3 * time.Second},
		{tool: toolPgmotionBefore, rep: 2, wall: time.Second, err: fail},
	}
	for _, tt := range []struct {
		tool  string
		best  int // rep, 0 for none
		times string
	}{
		{toolBaseline, 1, "2.00 s"},
		{toolPgmotion, 2, "5.00, 3.00 s"},
		{toolPgmotionBefore, 1, "4.00, failed s"},
	} {
		b := rs.best(tt.tool)
		if b == nil || b.rep != tt.best || b.tool != tt.tool {
			t.Errorf("best(%s) = %+v, want run %d", tt.tool, b, tt.best)
		}
		if got := rs.times(tt.tool); got != tt.times {
			t.Errorf("times(%s) = %q, want %q", tt.tool, got, tt.times)
		}
	}
	if f := rs.failed(toolPgmotionBefore); f == nil || f.rep != 2 {
		t.Errorf("failed(before) = %+v, want run 2", f)
	}
	if f := rs.failed(toolPgmotion); f != nil {
		t.Errorf("failed(after) = %+v, want none", f)
	}

	s := &snapshotResult{runs: []*snapshotRun{
		{threads: 2, build: "before", rep: 1, snapshot: 3 * time.Second},
		{threads: 2, build: "after", rep: 1, snapshot: 4 * time.Second},
		{threads: 2, build: "after", rep: 2, snapshot: 2 * time.Second},
		{threads: 2, build: "before", rep: 2, snapshot: time.Second, err: fail},
		{threads: 2, schemas: true, build: "before", rep: 1, snapshot: time.Second},
		{threads: 1, build: "after", rep: 1, err: fail},
	}}
	for _, tt := range []struct {
		label, build string
		rep          int // 0 for none
	}{
		{"2 threads, schemaless", "before", 1},
		{"2 threads, schemaless", "after", 2},
		{"2 threads, schemas", "before", 1},
		{"2 threads, schemas", "after", 0},
		{"1 thread, schemaless", "after", 0},
	} {
		got := s.bestSnapshot(tt.label, tt.build)
		switch {
		case tt.rep == 0 && got != nil:
			t.Errorf("bestSnapshot(%s, %s) = %s, want none", tt.label, tt.build, got.name())
		case tt.rep != 0 && (got == nil || got.rep != tt.rep || got.build != tt.build || got.label() != tt.label):
			t.Errorf("bestSnapshot(%s, %s) = %+v, want %s run %d", tt.label, tt.build, got, tt.build, tt.rep)
		}
	}
}

func TestAfterBefore(t *testing.T) {
	events := func(v float64) string { return commas(int64(v)) }
	kib := func(v float64) string { return mib(int64(v)) }
	cpu := func(v float64) string { return secs(time.Duration(v)) }
	for _, tt := range []struct {
		name string
		figs []figure
		want string
	}{
		{"faster", []figure{{"events/s", 85_000, 86_700, events}}, "events/s 1.02× (85,000 → 86,700)"},
		{"slower", []figure{{"rows/s", 812_345, 400_000, short}}, "rows/s 0.49× (812k → 400k)"},
		{"three figures", []figure{
			{"events/s", 100_000, 100_000, events},
			{"peak RSS", 40 << 10, 30 << 10, kib},
			{"CPU per 1M events", float64(2 * time.Second), float64(2500 * time.Millisecond), cpu},
		}, "events/s 1.00× (100,000 → 100,000), peak RSS 0.75× (40 MB → 30 MB), CPU per 1M events 1.25× (2.00 s → 2.50 s)"},
		{"before failed", []figure{{"events/s", 0, 86_700, events}}, "events/s n/a (n/a → 86,700)"},
		{"after failed", []figure{{"peak RSS", 40 << 10, 0, kib}}, "peak RSS n/a (40 MB → n/a)"},
		{"not a number", []figure{{"rows/s", math.NaN(), math.Inf(1), short}}, "rows/s n/a (n/a → n/a)"},
		{"none", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := afterBefore(tt.figs...); got != tt.want {
				t.Errorf("afterBefore =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestReportFailed: a group fails when its own error or a run's is set;
// a toast run also when its check failed, an exactly-once run not (its
// check becomes a note).
func TestReportFailed(t *testing.T) {
	boom := errors.New("boom")
	ok, bad := &runResult{}, &runResult{err: boom}
	checkBad := &runResult{checkErr: boom}
	tests := []struct {
		name string
		rep  report
		want bool
	}{
		{"nothing ran", report{}, false},
		{"outbox runs passed", report{outbox: &outboxResult{runs: []*runResult{ok, ok}}}, false},
		{"outbox run failed", report{outbox: &outboxResult{runs: []*runResult{ok, bad}}}, true},
		{"outbox failed outside runs", report{outbox: &outboxResult{err: boom}}, true},
		{"eos run failed", report{eos: &eosResult{runs: []*runResult{bad}}}, true},
		{"eos check failed is a note", report{eos: &eosResult{runs: []*runResult{checkBad}}}, false},
		{"toast check failed", report{toast: &toastResult{runs: runList{ok, checkBad}}}, true},
		{"toast runs passed", report{toast: &toastResult{runs: runList{ok}}}, false},
		{"memory run failed", report{memory: &memoryResult{runs: []*memoryRun{{}, {err: boom}}}}, true},
		{"memory runs passed", report{memory: &memoryResult{runs: []*memoryRun{{}}}}, false},
		{"snapcpu run failed", report{snapCPU: &snapCPUResult{runs: []*snapCPURun{{run: &snapshotRun{err: boom}}}}}, true},
		{"snapcpu runs passed", report{snapCPU: &snapCPUResult{runs: []*snapCPURun{{run: &snapshotRun{}}}}}, false},
		{"snapshot copy failed", report{snapshot: &snapshotResult{copies: []*copyRun{{err: boom}}}}, true},
		{"snapshot run failed", report{snapshot: &snapshotResult{runs: []*snapshotRun{{}, {err: boom}}}}, true},
		{"snapshot passed", report{snapshot: &snapshotResult{copies: []*copyRun{{}}, runs: []*snapshotRun{{}}}}, false},
	}
	for _, tt := range tests {
		if got := tt.rep.failed(); got != tt.want {
			t.Errorf("%s: failed() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
