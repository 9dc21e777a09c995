package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pgmotion/pgmotion/internal/pgtest"
)

// TestE2EToastFill updates a column next to a 1 MB TOASTed text (issue 5,
// Done-when 4): with pgmotion.toast.fill the update carries the real text,
// without it Debezium's placeholder. Row 1 is read by the snapshot, so the
// cache has not seen it and only refetch fills it; row 2 is inserted while
// streaming, so the cache has it.
func TestE2EToastFill(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	pgtest.Exec(t, dsn,
		`CREATE TABLE docs (id int PRIMARY KEY, n int, body text)`,
		`ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL`, // out of line, uncompressed
		fmt.Sprintf(`INSERT INTO docs VALUES (1, 0, '%s')`, big))
	broker := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var files []string
	for _, mode := range []string{"none", "cache", "refetch"} {
		files = append(files, connectorFile(t, dsn, "toast-"+mode, map[string]string{
			"topic.prefix": "tf_" + mode, "slot.name": "tf_" + mode, "pgmotion.toast.fill": mode,
			"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
		}))
	}
	// A 1 MiB value makes an event over Kafka's default 1 MB request
	// limit; as with Kafka Connect, the producer's limit is raised (and
	// the embedded broker follows it).
	props := t.TempDir() + "/worker.properties"
	writeFile(t, props, "producer.max.request.size=4194304\n")
	args := append([]string{"connect", "--worker-config", props, "--rest", "127.0.0.1:0", "--embedded-broker", broker, "--data-dir", t.TempDir()}, files...)
	p := startPgmotion(t, args...)
	for _, mode := range []string{"none", "cache", "refetch"} {
		waitSlot(t, dsn, "tf_"+mode)
	}
	pgtest.Exec(t, dsn,
		fmt.Sprintf(`INSERT INTO docs VALUES (2, 0, '%s')`, big),
		`UPDATE docs SET n = 1 WHERE id = 2`,
		`UPDATE docs SET n = 1 WHERE id = 1`)

	// r(1), c(2), u(2), u(1) on each topic.
	body := func(m kcatMsg) string {
		var ev struct {
			After struct {
				Body string `json:"body"`
			} `json:"after"`
		}
		if err := json.Unmarshal([]byte(str(m.Payload)), &ev); err != nil {
			t.Fatal(err)
		}
		switch ev.After.Body {
		case big:
			return "text"
		case "__debezium_unavailable_value":
			return "placeholder"
		}
		return fmt.Sprintf("%d bytes", len(ev.After.Body))
	}
	want := map[string]string{
		"none":    "text text placeholder placeholder",
		"cache":   "text text text placeholder",
		"refetch": "text text text text",
	}
	for mode, w := range want {
		msgs := consume(t, broker, "tf_"+mode+".public.docs", 4, time.Minute)
		var got []string
		for _, m := range msgs {
			got = append(got, body(m))
		}
		if strings.Join(got, " ") != w {
			t.Errorf("pgmotion.toast.fill=%s: bodies of r(1) c(2) u(2) u(1): %v, want %s", mode, got, w)
		}
	}
	p.stop(t)
}
