-- One row per attempt to place an order, written before any stock is reserved: the saga's state, so a
-- sweeper can find reservations whose order never got written, and the idempotency record of the attempt.
--   PENDING -> WRITTEN (order row written in the same transaction) -> CONFIRMED (products confirmed the sale)
--   PENDING -> COMPENSATING (reservation being given back) -> FAILED (nothing held)
CREATE TABLE placements (
  order_id text PRIMARY KEY,
  user_id text NOT NULL,
  -- The client's Idempotency-Key, unique per user among live attempts (a FAILED attempt frees its key).
  idempotency_key text,
  -- sha256 of the normalised order lines: the same key with another input is refused.
  request_hash text NOT NULL,
  state text NOT NULL CHECK (state IN ('PENDING', 'WRITTEN', 'CONFIRMED', 'COMPENSATING', 'FAILED')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX placements_idempotency_key ON placements (user_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL AND state <> 'FAILED';

-- Serves the sweeper: attempts not yet settled, oldest first.
CREATE INDEX placements_unsettled ON placements (state, updated_at) WHERE state IN ('PENDING', 'WRITTEN', 'COMPENSATING');
