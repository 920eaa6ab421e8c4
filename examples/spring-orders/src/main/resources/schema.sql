CREATE TABLE IF NOT EXISTS orders (
    id           bigserial PRIMARY KEY,
    customer     text NOT NULL,
    amount_cents int  NOT NULL,
    status       text NOT NULL
);
CREATE TABLE IF NOT EXISTS payments (
    order_id     bigint NOT NULL,
    amount_cents int    NOT NULL
);
