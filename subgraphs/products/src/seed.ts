import type { Database } from '@switchyard/service-kit';

export const SEED_PRODUCT_COUNT = 200;

const ADJECTIVES = ['Sturdy', 'Compact', 'Quiet', 'Bright', 'Modular', 'Rugged', 'Slim', 'Classic'];
const NOUNS = ['Keyboard', 'Lamp', 'Backpack', 'Kettle', 'Headphones', 'Notebook', 'Mug', 'Chair', 'Cable', 'Monitor'];

export const seedProductId = (i: number) => `prd_${String(i).padStart(4, '0')}`;

/** Deterministic demo catalogue prd_0001..prd_0200; idempotent. */
export async function seedProducts(db: Database): Promise<void> {
  const rows = Array.from({ length: SEED_PRODUCT_COUNT }, (_, k) => {
    const i = k + 1;
    const name = `${ADJECTIVES[i % ADJECTIVES.length]} ${NOUNS[(i * 7) % NOUNS.length]} ${i}`;
    return {
      id: seedProductId(i),
      sku: `SKU-${String(i).padStart(5, '0')}`,
      name,
      description: `The ${name.toLowerCase()}, a demo product.`,
      priceCents: 499 + ((i * 7919) % 20_000),
      stock: 50 + ((i * 31) % 450),
    };
  });
  await db.query(
    `INSERT INTO products (id, sku, name, description, price_cents, currency, stock)
     SELECT id, sku, name, description, price_cents, 'USD', stock
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[])
       AS s(id, sku, name, description, price_cents, stock)
     ON CONFLICT (id) DO NOTHING`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.sku),
      rows.map((r) => r.name),
      rows.map((r) => r.description),
      rows.map((r) => r.priceCents),
      rows.map((r) => r.stock),
    ],
  );
}
