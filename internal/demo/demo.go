// Package demo is pgmotion's demo shop: a small schema of customers,
// products and orders, and a workload that keeps inserting, updating and
// deleting rows in it so that there is always something to capture.
package demo

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// OutboxPrefix is the prefix of the demo's outbox messages
// (pgmotion.outbox.message.prefix).
const OutboxPrefix = "outbox"

// Schema creates the demo tables. It is safe to run twice.
const Schema = `
CREATE TABLE IF NOT EXISTS customers (
	id         serial PRIMARY KEY,
	name       text NOT NULL,
	email      varchar(200) NOT NULL,
	vip        boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS products (
	id    serial PRIMARY KEY,
	sku   uuid NOT NULL DEFAULT gen_random_uuid(),
	name  text NOT NULL,
	price numeric(10,2) NOT NULL,
	stock integer NOT NULL,
	attrs jsonb
);
CREATE TABLE IF NOT EXISTS orders (
	id          bigserial PRIMARY KEY,
	customer_id integer NOT NULL REFERENCES customers,
	product_id  integer NOT NULL REFERENCES products,
	quantity    smallint NOT NULL,
	total       numeric(12,2) NOT NULL,
	status      varchar(16) NOT NULL DEFAULT 'new',
	placed_on   date NOT NULL DEFAULT current_date,
	updated_at  timestamptz
);
-- Updates carry the whole old row, so that consumers (and the console's
-- before/after view) see what changed.
ALTER TABLE orders REPLICA IDENTITY FULL;`

var (
	firstNames = []string{"Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Edsger", "Radia"}
	lastNames  = []string{"Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie", "Allen", "Dijkstra", "Perlman"}
	products   = []struct {
		name  string
		price string
		attrs string
	}{
		{"Espresso machine", "249.00", `{"color":"steel","watts":1450}`},
		{"Burr grinder", "129.50", `{"burrs":"conical"}`},
		{"Milk jug", "14.99", `{"ml":600}`},
		{"Tamper", "29.00", `{"mm":58}`},
		{"Beans, 1 kg", "24.90", `{"origin":"Ethiopia","roast":"light"}`},
	}
	statuses = []string{"new", "paid", "shipped", "delivered"}
)

// Setup creates the schema and a few rows to start from.
func Setup(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, Schema); err != nil {
		return fmt.Errorf("create demo schema: %w", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM products").Scan(&n); err != nil {
		return fmt.Errorf("count demo products: %w", err)
	}
	if n > 0 {
		return nil
	}
	for _, p := range products {
		if _, err := conn.Exec(ctx, "INSERT INTO products (name, price, stock, attrs) VALUES ($1, $2, 100, $3)", p.name, p.price, p.attrs); err != nil {
			return fmt.Errorf("insert demo product: %w", err)
		}
	}
	for i := 0; i < 5; i++ {
		if err := newCustomer(ctx, conn); err != nil {
			return err
		}
	}
	return nil
}

// execer is a *pgx.Conn or a pgx.Tx.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func newCustomer(ctx context.Context, conn execer) error {
	f, l := firstNames[rand.IntN(len(firstNames))], lastNames[rand.IntN(len(lastNames))]
	_, err := conn.Exec(ctx, "INSERT INTO customers (name, email, vip) VALUES ($1, $2, $3)",
		f+" "+l, fmt.Sprintf("%s.%s.%d@example.com", f, l, rand.IntN(10000)), rand.IntN(5) == 0)
	if err != nil {
		return fmt.Errorf("insert demo customer: %w", err)
	}
	return nil
}

// Stats counts what the workload did; it is safe to read while Run runs.
type Stats struct{ Transactions, Inserts, Updates, Deletes atomic.Int64 }

// Run writes to the demo tables about perSecond transactions a second
// until ctx ends. Each transaction places an order and takes it from
// stock, moves an order along, or now and then adds a customer or deletes
// a delivered order.
func Run(ctx context.Context, conn *pgx.Conn, perSecond float64, log *slog.Logger, stats *Stats) error {
	if perSecond <= 0 {
		perSecond = 5
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / perSecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := step(ctx, conn, stats); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

func step(ctx context.Context, conn *pgx.Conn, st *Stats) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		st.Transactions.Add(1)
		switch r := rand.IntN(20); {
		case r == 0:
			st.Inserts.Add(1)
			return newCustomer(ctx, tx)
		case r == 1:
			tag, err := tx.Exec(ctx, "DELETE FROM orders WHERE id = (SELECT min(id) FROM orders WHERE status = 'delivered')")
			st.Deletes.Add(tag.RowsAffected())
			return err
		case r < 9:
			tag, err := tx.Exec(ctx, `UPDATE orders SET status = CASE status WHEN 'new' THEN 'paid' WHEN 'paid' THEN 'shipped' ELSE 'delivered' END,
				updated_at = now() WHERE id = (SELECT id FROM orders WHERE status <> 'delivered' ORDER BY random() LIMIT 1)`)
			st.Updates.Add(tag.RowsAffected())
			return err
		default:
			qty := 1 + rand.IntN(3)
			pid := 1 + rand.IntN(len(products))
			// The order and its OrderCreated event, in one transaction: the
			// event is a logical decoding message (transactional outbox
			// without an outbox table), which the demo connector's
			// EventRouter publishes on outbox.event.order.
			_, err := tx.Exec(ctx, `WITH o AS (INSERT INTO orders (customer_id, product_id, quantity, total, status)
				SELECT (SELECT id FROM customers ORDER BY random() LIMIT 1), p.id, $2::smallint, p.price * $2::int, $3 FROM products p WHERE p.id = $1
				RETURNING id, customer_id, product_id, quantity, total)
				SELECT pg_logical_emit_message(true, '`+OutboxPrefix+`', json_build_object('id', gen_random_uuid(), 'aggregatetype', 'order',
					'aggregateid', o.id::text, 'type', 'OrderCreated', 'payload', json_build_object('orderId', o.id, 'customerId', o.customer_id,
					'productId', o.product_id, 'quantity', o.quantity, 'total', o.total))::text) FROM o`,
				pid, qty, statuses[0])
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, "UPDATE products SET stock = CASE WHEN stock > $2 THEN stock - $2 ELSE 100 END WHERE id = $1", pid, qty)
			st.Inserts.Add(1)
			st.Updates.Add(1)
			return err
		}
	})
}
