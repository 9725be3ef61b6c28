-- A reservation whose order was written is confirmed (sold); the stock stays taken until the order is
-- cancelled. Reserved-but-unconfirmed stock is what a crashed placement may have left behind.
ALTER TABLE reservations DROP CONSTRAINT reservations_status_check;
ALTER TABLE reservations ADD CONSTRAINT reservations_status_check CHECK (status IN ('RESERVED', 'CONFIRMED', 'RELEASED'));
ALTER TABLE reservations ADD COLUMN confirmed_at timestamptz;
