package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestE2ESchemaChangesUnderLoad adds and drops columns while rows keep
// coming, with no restart (issue 5, Done-when 3): every event's schema
// and payload have exactly the columns the table had when its
// transaction committed. One connection writes the rows and runs the DDL,
// so the order of rows and DDL is known; another keeps writing to a second
// table throughout.
func TestE2ESchemaChangesUnderLoad(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	pgtest.Exec(t, dsn, `CREATE TABLE s (id int PRIMARY KEY, a text)`, `CREATE TABLE noise (id serial PRIMARY KEY, v int)`)
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	file := connectorFile(t, dsn, "ddl", map[string]string{"topic.prefix": "ddl", "slot.name": "ddl_slot"})
	p := startPgmotion(t, "connect", "--rest", "127.0.0.1:0", "--embedded-broker", broker, "--data-dir", t.TempDir(), file)
	waitSlot(t, dsn, "ddl_slot")

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn := pgtest.Connect(t, dsn)
		for ctx.Err() == nil {
			conn.Exec(context.Background(), `INSERT INTO noise (v) VALUES (1)`)
			time.Sleep(time.Millisecond)
		}
	}()
	conn := pgtest.Connect(t, dsn)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Three phases of 300 rows: (id, a), (id, a, b), (id, b).
	const n = 300
	for i := 1; i <= n; i++ {
		exec(`INSERT INTO s (id, a) VALUES ($1, 'x')`, i)
	}
	exec(`ALTER TABLE s ADD COLUMN b int DEFAULT 7`)
	for i := n + 1; i <= 2*n; i++ {
		exec(`INSERT INTO s (id, a, b) VALUES ($1, 'y', $1)`, i)
	}
	exec(`ALTER TABLE s DROP COLUMN a`)
	for i := 2*n + 1; i <= 3*n; i++ {
		exec(`INSERT INTO s (id, b) VALUES ($1, $1)`, i)
	}
	// A retype: b becomes text.
	exec(`ALTER TABLE s ALTER COLUMN b TYPE text`)
	exec(`INSERT INTO s (id, b) VALUES ($1, 'text')`, 3*n+1)
	// A table dropped before its changes are decoded.
	exec(`CREATE TABLE gone (id int PRIMARY KEY, v text)`)
	exec(`INSERT INTO gone VALUES (1, 'still here')`)
	exec(`DROP TABLE gone`)
	stop()
	wg.Wait()
	if got := str(consume(t, broker, "ddl.public.gone", 1, time.Minute)[0].Payload); !strings.Contains(got, `"after":{"id":1,"v":"still here"}`) {
		t.Errorf("insert into a table dropped since: %s", got)
	}

	msgs := consume(t, broker, "ddl.public.s", 3*n+1, 2*time.Minute)
	for _, m := range msgs {
		var ev struct {
			Schema struct {
				Fields []struct {
					Field  string `json:"field"`
					Fields []struct {
						Field string `json:"field"`
						Type  string `json:"type"`
					} `json:"fields"`
				} `json:"fields"`
			} `json:"schema"`
			Payload struct {
				After map[string]any `json:"after"`
			} `json:"payload"`
		}
		if err := json.Unmarshal([]byte(str(m.Payload)), &ev); err != nil {
			t.Fatal(err)
		}
		id := int(ev.Payload.After["id"].(float64))
		var want, wantType string
		switch {
		case id <= n:
			want = "a id"
		case id <= 2*n:
			want, wantType = "a b id", "int32"
		case id <= 3*n:
			want, wantType = "b id", "int32"
		default:
			want, wantType = "b id", "string"
		}
		var schemaCols, gotType string
		for _, f := range ev.Schema.Fields {
			if f.Field != "after" {
				continue
			}
			var names []string
			for _, c := range f.Fields {
				names = append(names, c.Field)
				if c.Field == "b" {
					gotType = c.Type
				}
			}
			sort.Strings(names)
			schemaCols = strings.Join(names, " ")
		}
		var payloadCols []string
		for k := range ev.Payload.After {
			payloadCols = append(payloadCols, k)
		}
		sort.Strings(payloadCols)
		if schemaCols != want || strings.Join(payloadCols, " ") != want || gotType != wantType {
			t.Fatalf("row %d: schema columns %q (b: %q), payload columns %q; want %q (b: %q)", id, schemaCols, gotType, payloadCols, want, wantType)
		}
	}
	if strings.Contains(p.output(), "level=ERROR") {
		t.Errorf("errors in the worker's log:\n%s", p.output())
	}
	p.stop(t)
}
