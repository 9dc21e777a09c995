package debezium

import (
	"bytes"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"testing"

	"github.com/pgmotion/pgmotion/internal/change"
	cd "github.com/pgmotion/pgmotion/internal/connectdata"
	"github.com/pgmotion/pgmotion/internal/record"
)

// keepChain is a chain that reads the sides it is told to, keeps every
// record unchanged and remembers a copy of what it got (the encoder reuses
// the Structs of a change).
type keepChain struct {
	key, value bool
	got        []cd.Record
}

func (k *keepChain) Parses() (bool, bool) { return k.key, k.value }
func (k *keepChain) Transform(r *cd.Record, _ *slog.Logger) (bool, error) {
	c := *r
	c.Key, c.Value = cloneData(r.Key), cloneData(r.Value)
	k.got = append(k.got, c)
	return true, nil
}

// cloneData copies the Structs in v.
func cloneData(v any) any {
	switch x := v.(type) {
	case *cd.Struct:
		st := cd.NewStruct(x.Schema())
		for i := range x.Len() {
			st.Set(i, cloneData(x.Get(i)))
		}
		return st
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = cloneData(x[i])
		}
		return out
	case cd.Map:
		out := make(cd.Map, len(x))
		for i, e := range x {
			out[i] = cd.MapEntry{Key: cloneData(e.Key), Value: cloneData(e.Value)}
		}
		return out
	}
	return v
}

// TestChainPathMatchesJSON runs every golden case through a chain that
// changes nothing, reading the key, the value or both: the records must be
// byte for byte those of the direct encoder, and the Connect data the
// chain sees must be what JsonConverter reads from the direct encoder's
// JSON, Go types included (a transformation tells int32 from int64).
func TestChainPathMatchesJSON(t *testing.T) {
	var cases []goldenCase
	cases = append(cases, goldenCases()...)
	cases = append(cases, ddlGoldenCases()...)
	cases = append(cases, messageGoldenCases()...)
	cases = append(cases, txGoldenCase())
	cases = append(cases, chainExtraCases()...)
	for _, gc := range cases {
		for _, sides := range []struct{ key, value bool }{{true, true}, {true, false}, {false, true}} {
			t.Run(fmt.Sprintf("%s/key=%v,value=%v", gc.name, sides.key, sides.value), func(t *testing.T) {
				kc := &keepChain{key: sides.key, value: sides.value}
				direct := newTestEncoder(t, gc.opts)
				chained := newTestEncoder(t, func(o *Options) {
					if gc.opts != nil {
						gc.opts(o)
					}
					o.Transforms = kc
				})
				// The reference: the direct encoder with schemas, read back.
				ref := newTestEncoder(t, func(o *Options) {
					if gc.opts != nil {
						gc.opts(o)
					}
					o.KeySchemas, o.ValueSchemas = true, true
				})
				want := encodeAll(t, direct, gc.changes)
				got := encodeAll(t, chained, gc.changes)
				if !bytes.Equal(renderRecords(t, got), renderRecords(t, want)) {
					t.Fatalf("records differ:\n got: %s\nwant: %s", renderRecords(t, got), renderRecords(t, want))
				}
				refRecs := encodeAll(t, ref, gc.changes)
				if len(kc.got) != len(refRecs) {
					t.Fatalf("the chain saw %d records, the encoder wrote %d", len(kc.got), len(refRecs))
				}
				conv := cd.NewJSONConverter(true)
				for i, r := range kc.got {
					for _, side := range []struct {
						name   string
						parsed bool
						s      *cd.Schema
						v      any
						raw    []byte
						json   []byte
					}{
						{"key", sides.key, r.KeySchema, r.Key, r.RawKey, refRecs[i].Key},
						{"value", sides.value, r.ValueSchema, r.Value, r.RawValue, refRecs[i].Value},
					} {
						if !side.parsed {
							if side.s != nil || side.v != nil {
								t.Errorf("record %d: the %s is not read but came as Connect data", i, side.name)
							}
							continue
						}
						if side.raw != nil {
							t.Errorf("record %d: the %s is read but came as bytes too", i, side.name)
						}
						ws, wv, err := conv.ToConnect(side.json)
						if err != nil {
							t.Fatalf("record %d %s: %v", i, side.name, err)
						}
						if (ws == nil) != (side.s == nil) || ws != nil && !cd.Equal(ws, side.s) {
							t.Errorf("record %d: %s schema\n got: %v\nwant: %v", i, side.name, side.s, ws)
						}
						if err := sameData(side.v, wv); err != nil {
							t.Errorf("record %d: %s: %v", i, side.name, err)
						}
					}
				}
			})
		}
	}
}

// txGoldenCase is a transaction with provide.transaction.metadata.
func txGoldenCase() goldenCase {
	rel := customers()
	c1 := streamed(change.OpCreate, rel, nil, change.Tuple{txt("1001"), txt("Sally")})
	c2 := streamed(change.OpUpdate, rel, nil, change.Tuple{txt("1001"), txt("Sal")})
	return goldenCase{name: "transaction", opts: func(o *Options) { o.TransactionMetadata = true }, changes: []*change.Change{c1, c2}}
}

// chainExtraCases cover what the golden files do not: the extension
// types, time.precision.mode and the column options.
func chainExtraCases() []goldenCase {
	ext := &change.Relation{ID: 3, Namespace: "public", Name: "ext", Key: []int{0}, Columns: []change.Column{
		{Name: "id", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true},
		{Name: "h", TypeName: "hstore", TypeOID: 16400, TypeMod: -1},
		{Name: "v", TypeName: "vector", TypeOID: 16500, TypeMod: 3},
		{Name: "hv", TypeName: "halfvec", TypeOID: 16501, TypeMod: 2},
		{Name: "sv", TypeName: "sparsevec", TypeOID: 16502, TypeMod: -1},
		{Name: "g", TypeName: "geometry", TypeOID: 16504, TypeMod: -1},
		{Name: "gg", TypeName: "geography", TypeOID: 16505, TypeMod: -1},
		{Name: "i", TypeName: "isbn", TypeOID: 16503, TypeMod: -1},
		{Name: "bx", TypeName: "box", TypeOID: 603, TypeMod: -1},
	}}
	extRow := change.Tuple{txt("1"), txt(`"a"=>"1", "key"=>NULL, "b"=>"x\"y"`), txt(`[1,2.5,-3]`), txt(`[0.5,1]`), txt(`{3:1.5,5:2,17:-1}/20`),
		txt(`0101000020E6100000000000000000F03F0000000000000040`), txt(`010100000000000000000000F03F0000000000000040`),
		txt(`978-0-393-04002-9`), txt(`(1,1),(0,0)`)}
	extNulls := change.Tuple{txt("2"), null, null, null, null, null, null, null, null}
	extChanges := func() []*change.Change {
		return []*change.Change{streamed(change.OpCreate, ext, nil, extRow), streamed(change.OpCreate, ext, nil, extNulls)}
	}
	cases := []goldenCase{
		{name: "ext", opts: func(o *Options) { o.IncludeUnknownDatatypes = true }, changes: extChanges()},
		{name: "ext_map_hex", opts: func(o *Options) {
			o.IncludeUnknownDatatypes, o.HstoreHandling, o.BinaryHandling = true, HstoreMap, BinaryHex
		}, changes: extChanges()},
	}
	for _, mode := range []string{TimeAdaptiveTimeMicroseconds, TimeConnect, TimeIsoString, TimeMicroseconds, TimeNanoseconds} {
		cases = append(cases, goldenCase{name: "time_" + mode, opts: func(o *Options) { o.TimePrecision = mode }, changes: []*change.Change{
			streamed(change.OpCreate, allTypes(), nil, allTypesTypical()),
			streamed(change.OpCreate, allTypes(), nil, allTypesEdge()),
			streamed(change.OpCreate, allTypes(), nil, allTypesNulls()),
		}})
	}
	cols := &change.Relation{ID: 4, Namespace: "public", Name: "t", Key: []int{0}, Columns: []change.Column{
		{Name: "id", TypeOID: oidInt4, TypeMod: -1, TypeName: "int4", NotNull: true},
		{Name: "email", TypeOID: oidText, TypeMod: -1, TypeName: "text"},
		{Name: "name", TypeOID: oidVarchar, TypeMod: 255 + 4, TypeName: "varchar"},
		{Name: "amount", TypeOID: oidNumeric, TypeMod: numericMod(7, 2), TypeName: "numeric"},
		{Name: "nulled", TypeOID: oidText, TypeMod: -1, TypeName: "text"},
		{Name: "h2", TypeOID: oidText, TypeMod: -1, TypeName: "text"},
	}}
	cases = append(cases, goldenCase{name: "column_options", opts: func(o *Options) {
		o.ColumnMasks = []ColumnChars{{Chars: 3, Match: func(c string) bool { return c == "public.t.email" || c == "public.t.nulled" }}}
		o.ColumnTruncates = []ColumnChars{{Chars: 2, Match: func(c string) bool { return c == "public.t.name" }}}
		o.ColumnHashes = []ColumnHash{{Algorithm: "SHA-256", Salt: []byte("pepper"), V2: true, Match: func(c string) bool { return c == "public.t.h2" }}}
		o.PropagateSourceType = func(c string) bool { return c == "public.t.name" || c == "public.t.amount" }
	}, changes: []*change.Change{streamed(change.OpCreate, cols, nil, change.Tuple{txt("1"), txt("a@b.c"), txt("😀xyz"), txt("1.50"), null, txt("a@b.c")})}})
	return cases
}

// encodeAll encodes changes; with provide.transaction.metadata they are
// one transaction, with its BEGIN and END records.
func encodeAll(t *testing.T, e *Encoder, changes []*change.Change) []record.Record {
	t.Helper()
	var recs []record.Record
	var err error
	tx := e.TransactionMetadata() && len(changes) > 0
	if tx {
		if recs, err = e.BeginTx(recs, changes[0].Xid, changes[0].LSN, changes[0].TsMicros); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range changes {
		if recs, err = e.Encode(recs, c); err != nil {
			t.Fatalf("Encode: %v", err)
		}
	}
	if tx {
		last := changes[len(changes)-1]
		if recs, err = e.EndTx(recs, last.LSN+1, last.TsMicros); err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

// sameData reports how a differs from b: Connect data of the same Go
// types and values, structs field by field, NaN equal to NaN.
func sameData(a, b any) error {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return fmt.Errorf("%T %v, want %T %v", a, a, b, b)
	}
	switch x := a.(type) {
	case *cd.Struct:
		y := b.(*cd.Struct)
		if !cd.Equal(x.Schema(), y.Schema()) {
			return fmt.Errorf("struct schema %v, want %v", x.Schema(), y.Schema())
		}
		for i, f := range x.Schema().Fields {
			if err := sameData(x.Get(i), y.Get(i)); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
		}
	case []any:
		y := b.([]any)
		if len(x) != len(y) {
			return fmt.Errorf("%d elements, want %d", len(x), len(y))
		}
		for i := range x {
			if err := sameData(x[i], y[i]); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case cd.Map:
		y := b.(cd.Map)
		if len(x) != len(y) {
			return fmt.Errorf("%d entries, want %d", len(x), len(y))
		}
		for i := range x {
			if err := sameData(x[i].Key, y[i].Key); err != nil {
				return fmt.Errorf("key %d: %w", i, err)
			}
			if err := sameData(x[i].Value, y[i].Value); err != nil {
				return fmt.Errorf("value %d: %w", i, err)
			}
		}
	case []byte:
		if !bytes.Equal(x, b.([]byte)) {
			return fmt.Errorf("bytes %x, want %x", x, b)
		}
	case float64:
		if y := b.(float64); x != y && !(math.IsNaN(x) && math.IsNaN(y)) || math.Signbit(x) != math.Signbit(y) {
			return fmt.Errorf("%v, want %v", x, y)
		}
	case float32:
		if y := b.(float32); x != y && !(x != x && y != y) || math.Signbit(float64(x)) != math.Signbit(float64(y)) {
			return fmt.Errorf("%v, want %v", x, y)
		}
	default:
		if a != b {
			return fmt.Errorf("%v, want %v", a, b)
		}
	}
	return nil
}
