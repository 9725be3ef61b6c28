import type { Database } from '@switchyard/service-kit';

export const SEED_ORDER_COUNT = 500;
const USERS = 25;
const PRODUCTS = 200;

/**
 * Deterministic order history (ord_s00001..ord_s00500) for the seeded users and products. Unit prices
 * are historic, so they need not match today's catalogue. Idempotent.
 */
export async function seedOrders(db: Database): Promise<void> {
  const orders = { id: [] as string[], user: [] as string[], total: [] as number[], status: [] as string[], at: [] as string[] };
  const items = { order: [] as string[], product: [] as string[], quantity: [] as number[], price: [] as number[] };
  for (let i = 1; i <= SEED_ORDER_COUNT; i++) {
    const id = `ord_s${String(i).padStart(5, '0')}`;
    const lineCount = 1 + (i % 3);
    let total = 0;
    for (let l = 0; l < lineCount; l++) {
      const product = 1 + ((i * 37 + l * 53) % PRODUCTS);
      const quantity = 1 + ((i + l) % 4);
      const price = 499 + ((product * 7919) % 20_000);
      items.order.push(id);
      items.product.push(`prd_${String(product).padStart(4, '0')}`);
      items.quantity.push(quantity);
      items.price.push(price);
      total += quantity * price;
    }
    orders.id.push(id);
    orders.user.push(`usr_${String(1 + (i % USERS)).padStart(3, '0')}`);
    orders.total.push(total);
    orders.status.push(i % 17 === 0 ? 'CANCELLED' : 'PLACED');
    orders.at.push(new Date(Date.UTC(2025, 1, 1) + i * 3_600_000 * 7).toISOString());
  }
  await db.transaction(async (tx) => {
    const inserted = await tx.query(
      `INSERT INTO orders (id, user_id, status, total_cents, currency, created_at)
       SELECT id, user_id, status, total_cents, 'USD', created_at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[]) AS s(id, user_id, status, total_cents, created_at)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [orders.id, orders.user, orders.status, orders.total, orders.at],
    );
    if (inserted.length === 0) return;
    await tx.query(
      `INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[])
       ON CONFLICT DO NOTHING`,
      [items.order, items.product, items.quantity, items.price],
    );
  });
}
