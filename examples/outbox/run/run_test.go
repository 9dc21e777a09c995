package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/pgmotion/pgmotion/internal/pglocal"
)

// TestOutboxExample runs `make outbox-example` (this command's run) so
// that the example cannot rot: every OrderCreated event, through the
// outbox table and through pg_logical_emit_message, reaches the consumer.
func TestOutboxExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three binaries and starts PostgreSQL")
	}
	if _, err := pglocal.FindBinDir(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("PostgreSQL server binaries not found: %v", err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, "../../.."); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got := out.String()
	if n := strings.Count(got, "consumer: outbox.event.order key="); n != 2*ordersPerRoute {
		t.Fatalf("%d events consumed, want %d:\n%s", n, 2*ordersPerRoute, got)
	}
	for _, want := range []string{"eventType=OrderCreated", `"orderId":1`, `"orderId":4`, "via the outbox message", "via the outbox table"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
