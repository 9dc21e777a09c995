// Command orderservice is a tiny order service that publishes its events
// with the transactional outbox pattern. Each order and its OrderCreated
// event are written in one transaction, so the event exists exactly when
// the order does:
//
//   - with -outbox=table (Debezium's outbox pattern) the event is a row of
//     the outbox table;
//   - with -outbox=message the event is a logical decoding message,
//     pg_logical_emit_message(true, 'outbox', <json>), and no outbox table
//     is needed (PostgreSQL 14+; pgmotion.outbox.source=message).
//
// pgmotion's outbox EventRouter turns both into the same Kafka record on
// outbox.event.order: key the order id, value the payload, header id.
//
//	go run ./examples/outbox/orderservice -dsn postgres://postgres@127.0.0.1:5432/shop -orders 3 -outbox message
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// schema creates the service's tables. The outbox table has Debezium's
// default column names, which the EventRouter reads.
const schema = `
CREATE TABLE IF NOT EXISTS orders (
	id       bigserial PRIMARY KEY,
	customer text NOT NULL,
	total    numeric(10,2) NOT NULL,
	created  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS outbox (
	id            uuid PRIMARY KEY,
	aggregatetype varchar(255) NOT NULL,
	aggregateid   varchar(255) NOT NULL,
	type          varchar(255) NOT NULL,
	payload       jsonb
);`

// orderCreated is the event's payload.
type orderCreated struct {
	OrderID  int64   `json:"orderId"`
	Customer string  `json:"customer"`
	Total    float64 `json:"total"`
}

// outboxEvent is one outbox event: the columns of the outbox table, or the
// members of the JSON object of a logical decoding message.
type outboxEvent struct {
	ID            string          `json:"id"`
	AggregateType string          `json:"aggregatetype"`
	AggregateID   string          `json:"aggregateid"`
	Type          string          `json:"type"`
	Payload       json.RawMessage `json:"payload"`
}

func main() {
	dsn := flag.String("dsn", os.Getenv("DATABASE_URL"), "PostgreSQL URL (default $DATABASE_URL)")
	orders := flag.Int("orders", 3, "how many orders to create")
	via := flag.String("outbox", "table", "where the events go: table (the outbox table) or message (pg_logical_emit_message)")
	flag.Parse()
	if err := run(*dsn, *orders, *via); err != nil {
		fmt.Fprintln(os.Stderr, "orderservice:", err)
		os.Exit(1)
	}
}

func run(dsn string, n int, via string) error {
	if via != "table" && via != "message" {
		return fmt.Errorf("-outbox %q: want table or message", via)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, schema); err != nil {
		return fmt.Errorf("create the schema: %w", err)
	}
	customers := []string{"ann", "bob", "cho", "dee"}
	for i := range n {
		id, err := createOrder(ctx, conn, customers[i%len(customers)], float64(10*(i+1))+0.5, via)
		if err != nil {
			return err
		}
		fmt.Printf("orderservice: created order %d, OrderCreated via the outbox %s\n", id, via)
	}
	return nil
}

// createOrder writes the order and its event in one transaction.
func createOrder(ctx context.Context, conn *pgx.Conn, customer string, total float64, via string) (int64, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO orders (customer, total) VALUES ($1, $2) RETURNING id`, customer, total).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert order: %w", err)
	}
	payload, err := json.Marshal(orderCreated{OrderID: id, Customer: customer, Total: total})
	if err != nil {
		return 0, err
	}
	ev := outboxEvent{ID: newUUID(), AggregateType: "order", AggregateID: fmt.Sprint(id), Type: "OrderCreated", Payload: payload}
	switch via {
	case "table":
		_, err = tx.Exec(ctx, `INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload) VALUES ($1, $2, $3, $4, $5)`,
			ev.ID, ev.AggregateType, ev.AggregateID, ev.Type, string(ev.Payload))
	case "message":
		var body []byte
		if body, err = json.Marshal(ev); err == nil {
			// transactional=true: the message is decoded with the
			// transaction, and never if it rolls back.
			_, err = tx.Exec(ctx, `SELECT pg_logical_emit_message(true, 'outbox', $1::text)`, string(body))
		}
	}
	if err != nil {
		return 0, fmt.Errorf("write the OrderCreated event: %w", err)
	}
	return id, tx.Commit(ctx)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
