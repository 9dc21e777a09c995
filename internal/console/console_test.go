package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pgmotion/pgmotion/internal/broker"
)

// startBroker runs the embedded broker (the real Kafka protocol) on a free
// port for the test.
func startBroker(t *testing.T) string {
	t.Helper()
	b, err := broker.New(broker.Options{Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-b.Ready():
	case err := <-done:
		t.Fatal(err)
	}
	return b.Addr()
}

func newConsole(t *testing.T, addr string, reg prometheus.Gatherer) *httptest.Server {
	t.Helper()
	c, err := New(Options{Brokers: []string{addr}, Metrics: reg, SampleInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set(RoleHeader, r.Header.Get("X-Test-Role")) // what the REST server does
		c.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, srv *httptest.Server, role, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Test-Role", role)
	switch {
	case strings.HasPrefix(body, "{"):
		req.Header.Set("Content-Type", "application/json")
	case body != "":
		req.Header.Set("Content-Type", "text/plain")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func produce(t *testing.T, addr, topic string, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func TestTopicsMessagesAndRoles(t *testing.T) {
	addr := startBroker(t)
	srv := newConsole(t, addr, nil)

	// A viewer cannot create; an admin can, and the topic is listed.
	if code, body := do(t, srv, RoleViewer, "POST", "/ui/api/topics", `{"name":"orders","partitions":3}`); code != 403 {
		t.Fatalf("viewer create: %d %s", code, body)
	}
	if code, body := do(t, srv, "", "POST", "/ui/api/topics", `{"name":"orders","partitions":3}`); code != 403 {
		t.Fatalf("no role create: %d %s", code, body)
	}
	if code, body := do(t, srv, RoleAdmin, "POST", "/ui/api/topics", `name=orders`); code != 415 {
		t.Fatalf("form body: %d %s", code, body)
	}
	if code, body := do(t, srv, RoleAdmin, "POST", "/ui/api/topics", `{"name":"orders","partitions":3}`); code != 201 {
		t.Fatalf("admin create: %d %s", code, body)
	}
	var recs []*kgo.Record
	for i := range 30 {
		recs = append(recs, &kgo.Record{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, `{"n":%d}`, i),
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("v")}}})
	}
	recs = append(recs, &kgo.Record{Key: []byte("k7"), Value: nil}) // a tombstone
	produce(t, addr, "orders", recs...)

	code, body := do(t, srv, RoleViewer, "GET", "/ui/api/topics?q=ord", "")
	if code != 200 {
		t.Fatalf("list: %d %s", code, body)
	}
	var page topicPage
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || page.Topics[0].Name != "orders" || page.Topics[0].Partitions != 3 || page.Topics[0].Records != 31 {
		t.Fatalf("list: %s", body)
	}

	// Newest 5 over all partitions.
	code, body = do(t, srv, RoleViewer, "GET", "/ui/api/topics/orders/messages?limit=5", "")
	var msgs struct{ Messages []message }
	if code != 200 || json.Unmarshal(body, &msgs) != nil || len(msgs.Messages) != 5 {
		t.Fatalf("newest: %d %s", code, body)
	}
	// Key lookup: both of k7's records, from the one partition it hashes to.
	code, body = do(t, srv, RoleViewer, "GET", "/ui/api/topics/orders/messages?mode=key&key=k7", "")
	if code != 200 || json.Unmarshal(body, &msgs) != nil || len(msgs.Messages) != 2 {
		t.Fatalf("key: %d %s", code, body)
	}
	if *msgs.Messages[0].Value != `{"n":7}` || !msgs.Messages[1].Tombstone || msgs.Messages[0].Headers[0].Key != "h" {
		t.Fatalf("key: %s", body)
	}
	// From an offset, per partition.
	code, body = do(t, srv, RoleViewer, "GET", "/ui/api/topics/orders/messages?mode=offset&offset=0&partition=1&limit=1000", "")
	if code != 200 || json.Unmarshal(body, &msgs) != nil || len(msgs.Messages) == 0 {
		t.Fatalf("offset: %d %s", code, body)
	}
	for _, m := range msgs.Messages {
		if m.Partition != 1 {
			t.Fatalf("partition filter: %s", body)
		}
	}
	if code, body := do(t, srv, RoleViewer, "GET", "/ui/api/topics/orders/messages?mode=nope", ""); code != 400 || !strings.Contains(string(body), "mode") {
		t.Fatalf("bad mode: %d %s", code, body)
	}

	// Configs: set, then read back.
	if code, body := do(t, srv, RoleAdmin, "PUT", "/ui/api/topics/orders/configs", `{"retention.ms":"3600000"}`); code != 204 {
		t.Fatalf("alter: %d %s", code, body)
	}
	code, body = do(t, srv, RoleViewer, "GET", "/ui/api/topics/orders", "")
	if code != 200 || !strings.Contains(string(body), `"name":"retention.ms","value":"3600000"`) {
		t.Fatalf("describe: %d %s", code, body)
	}
	// Delete, as admin only.
	if code, _ := do(t, srv, RoleViewer, "DELETE", "/ui/api/topics/orders", ""); code != 403 {
		t.Fatalf("viewer delete: %d", code)
	}
	if code, body := do(t, srv, RoleAdmin, "DELETE", "/ui/api/topics/orders", ""); code != 204 {
		t.Fatalf("delete: %d %s", code, body)
	}
}

func TestSearchStreamsProgress(t *testing.T) {
	addr := startBroker(t)
	srv := newConsole(t, addr, nil)
	var recs []*kgo.Record
	for i := range 2000 {
		recs = append(recs, &kgo.Record{Value: fmt.Appendf(nil, "row %d", i)})
	}
	produce(t, addr, "big", recs...)

	resp, err := http.Get(srv.URL + "/ui/api/topics/big/search?q=ROW%201999")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := map[string][]string{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var event string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			events[event] = append(events[event], strings.TrimPrefix(line, "data: "))
		}
	}
	if len(events["match"]) != 1 || !strings.Contains(events["match"][0], `"value":"row 1999"`) {
		t.Fatalf("matches: %v", events["match"])
	}
	var done searchProgress
	if len(events["done"]) != 1 || json.Unmarshal([]byte(events["done"][0]), &done) != nil {
		t.Fatalf("done: %v", events)
	}
	if done.Scanned != 2000 || done.Matched != 1 || done.Total != 2000 || done.Reason != "end" {
		t.Fatalf("done: %+v", done)
	}

	// Bounded by the user: max_scan stops it early.
	code, body := do(t, srv, RoleViewer, "GET", "/ui/api/topics/big/search?q=zzz&max_scan=100", "")
	if code != 200 || !strings.Contains(string(body), `"scanned":100,"matched":0,"total":100,"reason":"max_scan"`) {
		t.Fatalf("max_scan: %d %s", code, body)
	}
}

func TestGroupsLagAndReset(t *testing.T) {
	addr := startBroker(t)
	srv := newConsole(t, addr, nil)
	var recs []*kgo.Record
	for i := range 10 {
		recs = append(recs, &kgo.Record{Value: fmt.Appendf(nil, "%d", i)})
	}
	produce(t, addr, "t", recs...)
	// A group that read 4 records and committed.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup("g"), kgo.ConsumeTopics("t"), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var read int
	for read < 10 {
		f := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatal(err)
		}
		read += f.NumRecords()
	}
	var commitErr error
	cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{"t": {0: {Epoch: -1, Offset: 4}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
			commitErr = err
		})
	if commitErr != nil {
		t.Fatal(commitErr)
	}
	// While it is a member, a reset is refused.
	if code, body := do(t, srv, RoleAdmin, "POST", "/ui/api/groups/g/reset", `{"to":"end"}`); code != 409 {
		t.Fatalf("reset with members: %d %s", code, body)
	}
	cl.Close()

	code, body := do(t, srv, RoleViewer, "GET", "/ui/api/groups/g", "")
	var g groupInfo
	if code != 200 || json.Unmarshal(body, &g) != nil || g.Lag != 6 || len(g.Partitions) != 1 || g.Partitions[0].Committed != 4 {
		t.Fatalf("group: %d %s", code, body)
	}
	if code, body := do(t, srv, RoleAdmin, "POST", "/ui/api/groups/g/reset", `{"to":"end"}`); code != 200 {
		t.Fatalf("reset: %d %s", code, body)
	}
	code, body = do(t, srv, RoleViewer, "GET", "/ui/api/groups", "")
	if code != 200 || !strings.Contains(string(body), `"group":"g"`) || !strings.Contains(string(body), `"lag":0`) {
		t.Fatalf("groups after reset: %d %s", code, body)
	}
	if code, body := do(t, srv, RoleAdmin, "DELETE", "/ui/api/groups/g", ""); code != 204 {
		t.Fatalf("delete: %d %s", code, body)
	}
}

func TestCDCHistory(t *testing.T) {
	reg := prometheus.NewRegistry()
	lag := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pgmotion_slot_lag_bytes", Help: "h"}, []string{"connector", "slot"})
	other := prometheus.NewGauge(prometheus.GaugeOpts{Name: "go_other", Help: "h"})
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "pgmotion_commit_to_ack_seconds", Help: "h", Buckets: []float64{0.01, 0.1, 1}}, []string{"connector"})
	reg.MustRegister(lag, other, hist)
	s := newSampler(reg, time.Second, 3)
	now := time.UnixMilli(1_000_000)
	for i := range 5 {
		lag.WithLabelValues("shop", "s").Set(float64(100 * i))
		for range 10 {
			hist.WithLabelValues("shop").Observe(0.05)
		}
		s.sample(now.Add(time.Duration(i) * time.Second))
	}
	got := map[string]series{}
	for _, ser := range s.snapshot() {
		got[ser.Name] = ser
	}
	if _, ok := got["go_other"]; ok {
		t.Fatal("kept a metric the CDC views do not use")
	}
	l := got["pgmotion_slot_lag_bytes"]
	if len(l.Points) != 3 || l.Points[2] != (point{1_004_000, 400}) || l.Labels["connector"] != "shop" {
		t.Fatalf("lag: %+v", l)
	}
	p99 := got["pgmotion_commit_to_ack_seconds:p99"]
	if len(p99.Points) != 3 || p99.Points[0][1] < 0.01 || p99.Points[0][1] > 0.1 {
		t.Fatalf("p99: %+v", p99)
	}
}

func TestQuantile(t *testing.T) {
	bounds := []float64{1, 2, 4}
	for _, tc := range []struct {
		q    float64
		cum  []uint64
		want float64
	}{
		{0.5, []uint64{10, 10, 10}, 0.5},
		{0.99, []uint64{0, 10, 10}, 1.99},
		{0.5, []uint64{0, 0, 10}, 3},
		{0.99, []uint64{0, 0, 0}, 4}, // all in +Inf: the highest finite bound
	} {
		total := uint64(10)
		if got := quantile(tc.q, bounds, tc.cum, total); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("quantile(%v, %v) = %v, want %v", tc.q, tc.cum, got, tc.want)
		}
	}
}

func TestContainsFold(t *testing.T) {
	for _, tc := range []struct {
		b, needle string
		want      bool
	}{
		{"Hello World", "world", true},
		{"Hello World", "worlds", false},
		{"ÄRGER", "ärger", true},
		{"", "a", false},
		{"abc", "", true},
	} {
		if got := containsFold([]byte(tc.b), []byte(strings.ToLower(tc.needle))); got != tc.want {
			t.Errorf("containsFold(%q, %q) = %v", tc.b, tc.needle, got)
		}
	}
}

func TestAssetsServeIndexForAppRoutes(t *testing.T) {
	h := assets()
	for _, path := range []string{"/ui/", "/ui/topics/x"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<div id=\"app\">") {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
	}
}

// TestTailOutlivesReadTimeout: the REST server has a read timeout (Jetty's
// idle timeout, 30 s); a live tail must go on past it.
func TestTailOutlivesReadTimeout(t *testing.T) {
	addr := startBroker(t)
	produce(t, addr, "live", &kgo.Record{Value: []byte("before")})
	c, err := New(Options{Brokers: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	srv := httptest.NewUnstartedServer(c)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/ui/api/topics/live/tail")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(time.Second) // past the read timeout
	produce(t, addr, "live", &kgo.Record{Value: []byte("after the read timeout")})
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			if strings.Contains(l, "after the read timeout") {
				return
			}
		case <-deadline:
			t.Fatal("no record")
		}
	}
}

// TestConfigTopicSecretsHidden checks that the worker's config topic is
// shown with its connectors' secrets hidden, by the rule the REST API
// uses, and that a search cannot find a secret (which would make it an
// oracle for guessing one).
func TestConfigTopicSecretsHidden(t *testing.T) {
	addr := startBroker(t)
	srv := newConsole(t, addr, nil)
	produce(t, addr, "connect-configs",
		&kgo.Record{Key: []byte("connector-orders"), Value: []byte(`{"properties":{"name":"orders","database.password":"pg-s3cret",` +
			`"database.url":"postgres://app:url-s3cret@db/app","topic.prefix":"ord"}}`)},
		&kgo.Record{Key: []byte("target-state-orders"), Value: []byte(`{"state":"STARTED","state.v2":"STARTED"}`)},
		&kgo.Record{Key: []byte("junk"), Value: []byte(`not json s3cret`)},
	)
	code, body := do(t, srv, RoleViewer, "GET", "/ui/api/topics/connect-configs/messages?mode=offset&offset=0&partition=0&limit=10", "")
	if code != 200 {
		t.Fatalf("messages: %d %s", code, body)
	}
	for _, want := range []string{`database.password\":\"[hidden]`, `postgres://app:[hidden]@db/app`, `topic.prefix\":\"ord`, `state.v2\":\"STARTED`, `"value":"[hidden]"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("messages of the config topic lack %s: %s", want, body)
		}
	}
	if strings.Contains(string(body), "s3cret") {
		t.Errorf("a secret of the config topic is shown: %s", body)
	}
	code, body = do(t, srv, RoleViewer, "GET", "/ui/api/topics/connect-configs/search?q=s3cret", "")
	if code != 200 || !strings.Contains(string(body), `"matched":0`) || strings.Contains(string(body), "event: match") {
		t.Errorf("a search finds the secret: %d %s", code, body)
	}

	// Other topics are shown as they are.
	produce(t, addr, "plain", &kgo.Record{Value: []byte(`{"properties":{"password":"mine"}}`)})
	if _, body := do(t, srv, RoleViewer, "GET", "/ui/api/topics/plain/messages?limit=5", ""); !strings.Contains(string(body), `password\":\"mine`) {
		t.Errorf("a topic other than the config topic was altered: %s", body)
	}
}
