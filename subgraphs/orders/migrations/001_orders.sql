CREATE TABLE orders (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('PLACED', 'CANCELLED')),
  total_cents integer NOT NULL CHECK (total_cents >= 0),
  currency char(3) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  cancelled_at timestamptz
);

-- Serves "a user's orders, newest first" with keyset paging.
CREATE INDEX orders_by_user ON orders (user_id, created_at DESC, id DESC);

CREATE TABLE order_items (
  order_id text NOT NULL REFERENCES orders (id),
  product_id text NOT NULL,
  quantity integer NOT NULL CHECK (quantity > 0),
  unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, product_id)
);
