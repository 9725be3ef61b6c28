import type { Database, Queryable } from '@switchyard/service-kit';

export type OrderStatus = 'PLACED' | 'CANCELLED';

export interface OrderRow {
  id: string;
  userId: string;
  status: OrderStatus;
  totalCents: number;
  currency: string;
  createdAt: Date;
}

export interface OrderItemRow {
  orderId: string;
  productId: string;
  quantity: number;
  unitPriceCents: number;
}

/** Position in a user's newest-first order list. */
export interface OrderPosition {
  createdAt: Date;
  id: string;
}

/** Where one attempt to place an order stands (see migrations/002_placements.sql). */
export type PlacementState = 'PENDING' | 'WRITTEN' | 'CONFIRMED' | 'COMPENSATING' | 'FAILED';

export interface Placement {
  orderId: string;
  requestHash: string;
  state: PlacementState;
}

const COLUMNS = 'id, user_id AS "userId", status, total_cents AS "totalCents", currency, created_at AS "createdAt"';

/** All SQL of the orders subgraph. */
export function createOrderStore(db: Database) {
  /** One write statement in its own transaction: run again on a fresh connection if the server drops it before COMMIT. */
  const write = <R>(sql: string, params: unknown[]) => db.transaction((tx) => tx.query<R>(sql, params));

  return {
    async ordersByIds(ids: readonly string[]): Promise<OrderRow[]> {
      return db.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE id = ANY($1::text[])`, [ids]);
    },

    async itemsByOrderIds(orderIds: readonly string[]): Promise<OrderItemRow[]> {
      return db.query<OrderItemRow>(
        `SELECT order_id AS "orderId", product_id AS "productId", quantity, unit_price_cents AS "unitPriceCents"
         FROM order_items WHERE order_id = ANY($1::text[]) ORDER BY order_id, product_id`,
        [orderIds],
      );
    },

    /** The first `limit` orders after `after` of each user, newest first, for many users in one statement. */
    async ordersByUserIds(userIds: readonly string[], limit: number, after: OrderPosition | null): Promise<OrderRow[]> {
      return db.query<OrderRow>(
        `SELECT ${COLUMNS} FROM (
           SELECT o.*, row_number() OVER (PARTITION BY user_id ORDER BY created_at DESC, id DESC) AS position
           FROM orders o
           WHERE user_id = ANY($1::text[])
             AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::text))
         ) ranked
         WHERE position <= $4
         ORDER BY user_id, created_at DESC, id DESC`,
        [userIds, after?.createdAt ?? null, after?.id ?? null, limit],
      );
    },

    /**
     * Records a new PENDING attempt before anything is reserved. With an idempotency key that this user
     * already has a live (not FAILED) attempt for, nothing is written and that attempt is returned: the
     * unique index decides between concurrent duplicates.
     */
    async beginPlacement(p: { orderId: string; userId: string; idempotencyKey: string | null; requestHash: string }): Promise<Placement | null> {
      for (;;) {
        const inserted = await write(
          `INSERT INTO placements (order_id, user_id, idempotency_key, request_hash, state) VALUES ($1, $2, $3, $4, 'PENDING')
           ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL AND state <> 'FAILED' DO NOTHING
           RETURNING order_id`,
          [p.orderId, p.userId, p.idempotencyKey, p.requestHash],
        );
        if (inserted.length === 1) return null;
        const [live] = await db.query<Placement>(
          `SELECT order_id AS "orderId", request_hash AS "requestHash", state FROM placements
           WHERE user_id = $1 AND idempotency_key = $2 AND state <> 'FAILED'`,
          [p.userId, p.idempotencyKey],
        );
        // Absent when that attempt failed in between: its key is free again, so try the insert once more.
        if (live) return live;
      }
    },

    async placementState(orderId: string): Promise<PlacementState | null> {
      const [row] = await db.query<{ state: PlacementState }>('SELECT state FROM placements WHERE order_id = $1', [orderId]);
      return row?.state ?? null;
    },

    /** Moves an attempt on only from one of the expected states; false when it stood elsewhere. */
    async movePlacement(orderId: string, from: PlacementState[], to: PlacementState): Promise<boolean> {
      const moved = await write(
        'UPDATE placements SET state = $3, updated_at = now() WHERE order_id = $1 AND state = ANY($2::text[]) RETURNING order_id',
        [orderId, from, to],
      );
      return moved.length === 1;
    },

    /** PENDING attempts untouched for `graceMs` are abandoned: moved to COMPENSATING, their order ids returned. */
    async abandonStalePlacements(graceMs: number, limit: number): Promise<string[]> {
      const rows = await write<{ orderId: string }>(
        `UPDATE placements SET state = 'COMPENSATING', updated_at = now()
         WHERE order_id IN (
           SELECT order_id FROM placements WHERE state = 'PENDING' AND updated_at < now() - $1::int * interval '1 millisecond'
           ORDER BY updated_at LIMIT $2
         ) AND state = 'PENDING'
         RETURNING order_id AS "orderId"`,
        [graceMs, limit],
      );
      return rows.map((r) => r.orderId);
    },

    /** Order ids of attempts in `state` untouched for at least `graceMs`, oldest first. */
    async placementsIn(state: PlacementState, graceMs: number, limit: number): Promise<string[]> {
      const rows = await db.query<{ orderId: string }>(
        `SELECT order_id AS "orderId" FROM placements
         WHERE state = $1 AND updated_at <= now() - $2::int * interval '1 millisecond' ORDER BY updated_at LIMIT $3`,
        [state, graceMs, limit],
      );
      return rows.map((r) => r.orderId);
    },

    /**
     * Records an order and its lines atomically with its attempt moving from PENDING to WRITTEN: either all
     * of it or none. Null when the attempt is no longer PENDING (the sweeper abandoned it meanwhile).
     */
    async insertOrder(order: Omit<OrderRow, 'createdAt'>, items: Omit<OrderItemRow, 'orderId'>[]): Promise<OrderRow | null> {
      return db.transaction(async (tx) => {
        const written = await tx.query(
          `UPDATE placements SET state = 'WRITTEN', updated_at = now() WHERE order_id = $1 AND state = 'PENDING' RETURNING order_id`,
          [order.id],
        );
        if (written.length === 0) return null;
        const [row] = await tx.query<OrderRow>(
          `INSERT INTO orders (id, user_id, status, total_cents, currency) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
          [order.id, order.userId, order.status, order.totalCents, order.currency],
        );
        await tx.query(
          `INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
           SELECT $1, * FROM unnest($2::text[], $3::int[], $4::int[])`,
          [order.id, items.map((i) => i.productId), items.map((i) => i.quantity), items.map((i) => i.unitPriceCents)],
        );
        return row!;
      });
    },

    /**
     * Cancels an order while holding its row lock; `releaseStock` runs inside, so a failed release leaves
     * the order PLACED (and retryable) rather than cancelled with its stock still held.
     */
    async cancelOrder(id: string, releaseStock: () => Promise<void>): Promise<OrderRow | null> {
      return db.transaction(async (tx: Queryable) => {
        const [row] = await tx.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE id = $1 FOR UPDATE`, [id]);
        if (!row || row.status === 'CANCELLED') return row ?? null;
        await releaseStock();
        const [cancelled] = await tx.query<OrderRow>(
          `UPDATE orders SET status = 'CANCELLED', cancelled_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
          [id],
        );
        return cancelled!;
      });
    },
  };
}

export type OrderStore = ReturnType<typeof createOrderStore>;
