package main

import (
	"os"
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

func TestSampleProcSelf(t *testing.T) {
	s, err := sampleProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.peakKiB <= 0 || s.rssKiB <= 0 || s.threads <= 0 {
		t.Errorf("sampleProc(self) = %+v", s)
	}
	if clockTicks() <= 0 {
		t.Errorf("clockTicks = %d", clockTicks())
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
