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

const COLUMNS = 'id, user_id AS "userId", status, total_cents AS "totalCents", currency, created_at AS "createdAt"';

/** All SQL of the orders subgraph. */
export function createOrderStore(db: Database) {
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

    /** Records an order and its lines atomically: either both exist or neither does. */
    async insertOrder(order: Omit<OrderRow, 'createdAt'>, items: Omit<OrderItemRow, 'orderId'>[]): Promise<OrderRow> {
      return db.transaction(async (tx) => {
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
