CREATE TABLE products (
  id text PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  price_cents integer NOT NULL CHECK (price_cents >= 0),
  currency char(3) NOT NULL DEFAULT 'USD',
  -- The database itself refuses negative stock, whatever the code does.
  stock integer NOT NULL CHECK (stock >= 0)
);

-- One row per order that holds stock: makes reserve and release idempotent per order.
CREATE TABLE reservations (
  order_id text PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('RESERVED', 'RELEASED')),
  created_at timestamptz NOT NULL DEFAULT now(),
  released_at timestamptz
);

CREATE TABLE reservation_items (
  order_id text NOT NULL REFERENCES reservations (order_id),
  product_id text NOT NULL REFERENCES products (id),
  quantity integer NOT NULL CHECK (quantity > 0),
  unit_price_cents integer NOT NULL,
  currency char(3) NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
