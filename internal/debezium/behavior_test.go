package debezium

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
	"github.com/pgmotion/pgmotion/internal/record"
)

func TestNewEncoderValidates(t *testing.T) {
	for _, tt := range []struct {
		mutate func(*Options)
		want   string
	}{
		{func(o *Options) { o.TopicPrefix = "" }, "topic.prefix is required"},
		{func(o *Options) { o.DecimalHandling = "exact" }, `decimal.handling.mode: "exact" is not one of precise, string, double`},
		{func(o *Options) { o.BinaryHandling = "b64" }, `binary.handling.mode: "b64" is not one of bytes, base64, base64-url-safe, hex`},
		{func(o *Options) { o.HstoreHandling = "text" }, `hstore.handling.mode: "text" is not one of json, map`},
		{func(o *Options) { o.TimePrecision = "seconds" }, `time.precision.mode: "seconds" is not one of adaptive,`},
		{func(o *Options) { o.Skipped = map[change.Op]bool{change.OpRead: true} }, `skipped.operations: "r" is not one of c, u, d, t`},
		{func(o *Options) { o.UnavailablePlaceholder = "hex:zz" }, `unavailable.value.placeholder: "zz" after hex: is not hexadecimal`},
	} {
		o := testOptions()
		tt.mutate(&o)
		_, err := NewEncoder(o, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewEncoder error = %v, want it to contain %q", err, tt.want)
		}
	}
	// Empty strings take the defaults.
	o := Options{TopicPrefix: "p"}
	e, err := NewEncoder(o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.s.dec != decPrecise || e.s.bin != binBytes || e.s.delimiter != "." || e.s.taskID != "0" || e.s.version != DebeziumVersion {
		t.Errorf("defaults not applied: %+v", e.s)
	}
	if len(e.s.runID) != 36 || e.s.runID[14] != '7' {
		t.Errorf("run id %q is not a UUIDv7", e.s.runID)
	}
}

func TestEncodeErrors(t *testing.T) {
	e := newTestEncoder(t, nil)
	cust := customers()
	unsupportedKey := &change.Relation{ID: 9, Namespace: "public", Name: "boxes",
		Columns: []change.Column{{Name: "b", TypeOID: 603, TypeName: "box", NotNull: true}}, Key: []int{0}}
	badKey := customers()
	badKey.ID, badKey.Key = 10, []int{5}
	for _, tt := range []struct {
		c    *change.Change
		want string
	}{
		{&change.Change{Op: change.OpCreate}, "no relation"},
		{streamed(change.OpCreate, cust, nil, change.Tuple{txt("1")}), "new tuple has 1 values, relation has 2 columns"},
		{streamed(change.OpUpdate, cust, change.Tuple{txt("1")}, change.Tuple{txt("1"), null}), "old tuple has 1 values"},
		{streamed(change.OpCreate, cust, nil, nil), "no new row"},
		{streamed(change.OpCreate, cust, nil, change.Tuple{txt("x"), null}), `column "id": value "x": invalid syntax`},
		{streamed(change.OpCreate, cust, nil, change.Tuple{{Kind: 'z'}, null}), "unknown value kind"},
		{streamed(change.Op('x'), cust, nil, nil), `operation "x" is not a row change`},
		{streamed(change.OpCreate, unsupportedKey, nil, change.Tuple{txt("(1,1),(0,0)")}), `key column "b" has type box (oid 603), which is not supported yet`},
		{streamed(change.OpCreate, badKey, nil, change.Tuple{txt("1"), null}), "key column index 5 out of range"},
		{streamed(change.OpCreate, nums(), nil, change.Tuple{txt("1"), txt("NaN"), null, txt("1")}), "special value (NaN/Infinity)"},
		{streamed(change.OpUpdate, nums(), nil, change.Tuple{txt("1"), toast, null, txt("1")}), "unchanged TOAST value of type numeric"},
	} {
		dst := make([]record.Record, 1, 8)
		out, err := e.Encode(dst, tt.c)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Encode error = %v, want it to contain %q", err, tt.want)
		}
		if len(out) != 1 {
			t.Errorf("Encode returned %d records on error, want dst unchanged", len(out))
		}
	}
	// base64 cannot carry the TOAST placeholder: null, or an error when NOT NULL.
	e64 := newTestEncoder(t, func(o *Options) { o.BinaryHandling = BinaryBase64 })
	recs, err := e64.Encode(nil, streamed(change.OpUpdate, blobs(), nil, change.Tuple{txt("1"), toast, txt(`\x00`)}))
	if err != nil || !bytes.Contains(recs[0].Value, []byte(`"after":{"id":1,"b":null,"bnn":"AA=="}`)) {
		t.Errorf("base64 toast: %v %s", err, recs[0].Value)
	}
	if _, err := e64.Encode(nil, streamed(change.OpUpdate, blobs(), nil, change.Tuple{txt("1"), null, toast})); err == nil {
		t.Error("base64 toast in NOT NULL column: want an error")
	}
}

// capture records log calls.
type capture struct {
	mu   sync.Mutex
	msgs []string
}

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool { s += " " + a.Key + "=" + a.Value.String(); return true })
	c.msgs = append(c.msgs, s)
	return nil
}
func (c *capture) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *capture) WithGroup(string) slog.Handler      { return c }

func TestUnsupportedColumnsWarnOncePerRelation(t *testing.T) {
	h := &capture{}
	e, err := NewEncoder(testOptions(), slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	rel := allTypes()
	for i := 0; i < 3; i++ {
		if _, err := e.Encode(nil, streamed(change.OpCreate, rel, nil, allTypesTypical())); err != nil {
			t.Fatal(err)
		}
	}
	if len(h.msgs) != 1 || !strings.Contains(h.msgs[0], "WARN") || !strings.Contains(h.msgs[0], "public.all_types.bx (box)") {
		t.Errorf("log = %q, want one warning naming public.all_types.bx (box)", h.msgs)
	}
	// A new Relation value (schema change) is compiled again.
	rel2 := allTypes()
	if _, err := e.Encode(nil, streamed(change.OpCreate, rel2, nil, allTypesTypical())); err != nil {
		t.Fatal(err)
	}
	if len(h.msgs) != 2 || len(e.plans) != 1 {
		t.Errorf("after a schema change: %d warnings, %d plans", len(h.msgs), len(e.plans))
	}
}

func TestSchemaChangeReplacesPlan(t *testing.T) {
	e := newTestEncoder(t, nil)
	rel := customers()
	if _, err := e.Encode(nil, streamed(change.OpCreate, rel, nil, change.Tuple{txt("1"), txt("a")})); err != nil {
		t.Fatal(err)
	}
	rel2 := customers()
	rel2.Columns = append(rel2.Columns, change.Column{Name: "age", TypeOID: oidInt2, TypeMod: -1})
	recs, err := e.Encode(nil, streamed(change.OpCreate, rel2, nil, change.Tuple{txt("1"), txt("a"), txt("7")}))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(recs[0].Value, []byte(`"after":{"id":1,"name":"a","age":7}`)) {
		t.Errorf("new column missing: %s", recs[0].Value)
	}
	if got := e.Topic(rel2); got != "srv.public.customers" {
		t.Errorf("Topic = %q", got)
	}
}

// TestRecordsOwnTheirBytes checks that later encodes never touch the bytes
// of records already returned, across slab boundaries.
func TestRecordsOwnTheirBytes(t *testing.T) {
	e := newTestEncoder(t, nil)
	rel := allTypes()
	var recs []record.Record
	var copies [][]byte
	for i := 0; i < 400; i++ {
		row := allTypesTypical()
		row[11] = txt(strings.Repeat("x", i*13))
		var err error
		n := len(recs)
		recs, err = e.Encode(recs, streamed(change.OpCreate, rel, nil, row))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs[n:] {
			copies = append(copies, append(append([]byte{}, r.Key...), r.Value...))
			if cap(r.Key) != len(r.Key) || cap(r.Value) != len(r.Value) || cap(r.Headers) != len(r.Headers) {
				t.Fatal("record slices are not capped")
			}
		}
	}
	for i, r := range recs {
		if !bytes.Equal(copies[i], append(append([]byte{}, r.Key...), r.Value...)) {
			t.Fatalf("record %d changed after later encodes", i)
		}
	}
}

func TestTopicDelimiter(t *testing.T) {
	e := newTestEncoder(t, func(o *Options) { o.TopicDelimiter = "_" })
	if got := e.Topic(customers()); got != "srv_public_customers" {
		t.Errorf("Topic = %q", got)
	}
	recs, err := e.Encode(nil, streamed(change.OpCreate, customers(), nil, change.Tuple{txt("1"), null}))
	if err != nil {
		t.Fatal(err)
	}
	// Schema names follow the topic; the Envelope suffix always uses '.'.
	if !bytes.Contains(recs[0].Value, []byte(`"name":"srv_public_customers.Envelope"`)) ||
		!bytes.Contains(recs[0].Key, []byte(`"name":"srv_public_customers.Key"`)) {
		t.Errorf("schema names: %s", recs[0].Value)
	}
}

func TestHugeRowDoesNotInflateSlabs(t *testing.T) {
	e := newTestEncoder(t, nil)
	big := strings.Repeat("x", 8*slabSize)
	recs, err := e.Encode(nil, streamed(change.OpCreate, customers(), nil, change.Tuple{txt("1"), txt(big)}))
	if err != nil || !bytes.Contains(recs[0].Value, []byte(big)) {
		t.Fatalf("huge row: %v", err)
	}
	if e.slab != nil {
		t.Errorf("slab of cap %d kept after a huge row", cap(e.slab))
	}
	if _, err := e.Encode(nil, streamed(change.OpCreate, customers(), nil, change.Tuple{txt("2"), txt("a")})); err != nil {
		t.Fatal(err)
	}
	if cap(e.slab) != slabSize || e.last.estimate > slabSize/4 {
		t.Errorf("after a huge row: slab cap %d, estimate %d", cap(e.slab), e.last.estimate)
	}
}
