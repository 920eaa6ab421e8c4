-- Tables and trigger of `orders.jar serve`, which applies this file at every start (in one transaction). It is
-- idempotent: nothing here drops or changes data. You can also apply it yourself (psql -f serve.sql), once Tandem
-- has created its schema `tandem`.
--
-- The point: any INSERT INTO orders, from any program or psql, starts workflow process_order for the new order,
-- inside the inserting transaction. The workflow exists if and only if the order does (a transactional outbox
-- without an outbox table), and the NOTIFY that tandem.enqueue_workflow sends at commit wakes a worker at once.

CREATE TABLE IF NOT EXISTS orders (
    id           bigserial PRIMARY KEY,
    customer     text,
    amount_cents int,
    status       text            -- NULL (or 'NEW') -> 'PAID' -> 'SHIPPED', set by process_order
);

-- Deliberately no unique key on order_id: one payment per order comes from Tandem's exactly-once transactional step.
CREATE TABLE IF NOT EXISTS payments (
    order_id     bigint,
    amount_cents int
);

-- What the warehouse was told. At least once: a crash after the notification and before its checkpoint repeats it,
-- with the same idempotency key.
CREATE TABLE IF NOT EXISTS warehouse_notifications (
    order_id        bigint NOT NULL,
    idempotency_key text NOT NULL,
    sent_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- One workflow per order: the workflow id 'order-<id>' is its idempotency key. Args '[<id>]' bind to the workflow's
-- Long input. Runs in the inserting transaction: a rolled-back INSERT enqueues nothing.
CREATE OR REPLACE FUNCTION orders_enqueue_process_order() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tandem.enqueue_workflow('process_order', jsonb_build_array(NEW.id), workflow_id => 'order-' || NEW.id);
    RETURN NULL; -- the result of an AFTER trigger is ignored
END
$$;

DROP TRIGGER IF EXISTS orders_process_order ON orders;
CREATE TRIGGER orders_process_order AFTER INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_enqueue_process_order();
