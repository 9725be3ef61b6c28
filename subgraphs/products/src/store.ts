import type { Database, Queryable } from '@switchyard/service-kit';

export interface ProductRow {
  id: string;
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  stock: number;
}

export interface ReservedLine {
  productId: string;
  quantity: number;
  unitPriceCents: number;
  currency: string;
}

/** Why a reservation was refused; the caller turns it into a client-facing error. */
export class ReservationRefused extends Error {
  constructor(
    readonly reason: 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT',
    readonly productId: string,
    readonly available?: number,
  ) {
    super(reason === 'OUT_OF_STOCK' ? `product ${productId} has only ${available} in stock` : `product ${productId} does not exist`);
  }
}

const COLUMNS =
  'id, sku, name, description, price_cents AS "priceCents", currency, stock';

/** All SQL of the products subgraph, including the stock reservations the orders subgraph asks for. */
export function createProductStore(db: Database) {
  async function linesOf(q: Queryable, orderId: string): Promise<ReservedLine[]> {
    return q.query<ReservedLine>(
      `SELECT product_id AS "productId", quantity, unit_price_cents AS "unitPriceCents", currency
       FROM reservation_items WHERE order_id = $1 ORDER BY product_id`,
      [orderId],
    );
  }

  return {
    async productsByIds(ids: readonly string[]): Promise<ProductRow[]> {
      return db.query<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE id = ANY($1::text[])`, [ids]);
    },

    async listProducts(limit: number, afterId: string | null, search: string | null): Promise<ProductRow[]> {
      const pattern = search ? `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
      return db.query<ProductRow>(
        `SELECT ${COLUMNS} FROM products
         WHERE ($1::text IS NULL OR id > $1) AND ($2::text IS NULL OR name ILIKE $2 OR sku ILIKE $2)
         ORDER BY id LIMIT $3`,
        [afterId, pattern, limit],
      );
    },

    /**
     * Takes stock for every line of an order, or for none: one transaction, a conditional decrement per
     * product (in id order, so concurrent orders lock rows in the same order and cannot deadlock).
     * Calling it again for the same order returns the first result and takes nothing more.
     */
    async reserve(orderId: string, lines: { productId: string; quantity: number }[]): Promise<ReservedLine[]> {
      return db.transaction(async (tx) => {
        const created = await tx.query(
          `INSERT INTO reservations (order_id, status) VALUES ($1, 'RESERVED') ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
          [orderId],
        );
        if (created.length === 0) return linesOf(tx, orderId);
        const sorted = [...lines].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
        for (const line of sorted) {
          const taken = await tx.query(
            `WITH taken AS (
               UPDATE products SET stock = stock - $2 WHERE id = $1 AND stock >= $2
               RETURNING id, price_cents, currency
             )
             INSERT INTO reservation_items (order_id, product_id, quantity, unit_price_cents, currency)
             SELECT $3, id, $2, price_cents, currency FROM taken
             RETURNING product_id`,
            [line.productId, line.quantity, orderId],
          );
          if (taken.length === 0) {
            const [product] = await tx.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [line.productId]);
            // Throwing rolls the whole transaction back: no line of this order keeps any stock.
            throw product
              ? new ReservationRefused('OUT_OF_STOCK', line.productId, product.stock)
              : new ReservationRefused('UNKNOWN_PRODUCT', line.productId);
          }
        }
        return linesOf(tx, orderId);
      });
    },

    /** Marks an order's reserved stock sold once its order is written; false when nothing was reserved (or it was released). */
    async confirm(orderId: string): Promise<boolean> {
      // In a transaction: run again on a fresh connection if the server drops it before COMMIT.
      const confirmed = await db.transaction((tx) =>
        tx.query(
          `UPDATE reservations SET status = 'CONFIRMED', confirmed_at = now()
           WHERE order_id = $1 AND status = 'RESERVED' RETURNING order_id`,
          [orderId],
        ),
      );
      return confirmed.length > 0;
    },

    /**
     * Gives an order's stock back once, reserved or sold: the products whose stock came back, or undefined
     * when there was nothing (left) to release.
     */
    async release(orderId: string): Promise<string[] | undefined> {
      return db.transaction(async (tx) => {
        const released = await tx.query(
          `UPDATE reservations SET status = 'RELEASED', released_at = now()
           WHERE order_id = $1 AND status IN ('RESERVED', 'CONFIRMED') RETURNING order_id`,
          [orderId],
        );
        if (released.length === 0) return undefined;
        const restocked = await tx.query<{ id: string }>(
          `UPDATE products p SET stock = p.stock + ri.quantity
           FROM reservation_items ri WHERE ri.order_id = $1 AND p.id = ri.product_id RETURNING p.id`,
          [orderId],
        );
        return restocked.map((row) => row.id);
      });
    },
  };
}

export type ProductStore = ReturnType<typeof createProductStore>;
