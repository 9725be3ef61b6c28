import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startOrders } from '../subgraphs/orders/src/main';
import { freePort, spawnService, type WatchedProcess } from './support/processes';
import { backends, postgresUrl } from './support/servers';
import { postRaw, signedHeaders } from './support/subgraph-requests';

const onPostgres = backends.includes('postgres') ? describe : describe.skip;

const PLACE = `mutation($items: [OrderLineInput!]!, $key: String) {
  placeOrder(input: { items: $items }, idempotencyKey: $key) { id totalCents }
}`;
const ORDERS = 200;
const CLIENTS = 20;
const PRODUCTS = ['prd_0151', 'prd_0152', 'prd_0153'];
const INITIAL_STOCK = 1000;

onPostgres('200 orders on PostgreSQL while the products process is SIGKILLed and restarted once', () => {
  const databaseName = `restart_${randomBytes(4).toString('hex')}`;
  const databaseUrl = Object.assign(new URL(postgresUrl ?? 'postgres://unused'), { pathname: `/${databaseName}` }).toString();
  let db: pg.Client;
  let productsPort: number;
  let products: WatchedProcess | undefined;
  let orders: Awaited<ReturnType<typeof startOrders>>;

  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  const startProducts = async () => {
    products = spawnService('subgraphs/products/src/main.ts', { PORT: String(productsPort), DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' });
    await products.waitFor(/ready at/, 60_000);
  };
  const rows = async <T>(sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows as T[];

  beforeAll(async () => {
    await admin(`CREATE DATABASE ${databaseName}`);
    productsPort = await freePort();
    await startProducts();
    orders = await startOrders({
      'server.port': 0,
      'database.url': databaseUrl,
      seed: false,
      logLevel: process.env.LOG_LEVEL,
      'products.internalUrl': `http://127.0.0.1:${productsPort}`,
      // Each client retries until its order is acknowledged; the per-user limit is not under test here.
      'placeOrderLimit.max': 100_000,
      'saga.sweepIntervalMs': 100,
      'saga.graceMs': 5_000,
    });
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query('UPDATE products.products SET stock = $1 WHERE id = ANY($2::text[])', [INITIAL_STOCK, PRODUCTS]);
  }, 90_000);

  afterAll(async () => {
    products?.signal('SIGTERM');
    await products?.exited;
    await orders?.close();
    await db?.end();
    await admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  });

  it('every order is placed exactly once, and stock + reserved + sold = initial exactly', async () => {
    const linesOf = (i: number) => [{ productId: PRODUCTS[i % 3]!, quantity: 1 + (i % 3) }, { productId: PRODUCTS[(i + 1) % 3]!, quantity: 1 }];
    const place = async (i: number) => {
      const body = JSON.stringify({ query: PLACE, variables: { items: linesOf(i), key: `order-${i}` } });
      return postRaw(`${orders.url}/graphql`, body, signedHeaders('orders', body, { kind: 'user', id: `usr_${i % 25}`, scopes: ['orders:write'] }));
    };
    const acknowledged = new Map<number, string>();
    const retriedWith = new Map<string, number>();
    // A client that retries with its order's key until the order is acknowledged, as the API asks.
    const client = async (c: number) => {
      for (let i = c; i < ORDERS; i += CLIENTS) {
        for (;;) {
          const { body } = await place(i);
          if (body.data?.placeOrder) {
            acknowledged.set(i, body.data.placeOrder.id);
            break;
          }
          const code = body.errors?.[0]?.extensions?.code;
          retriedWith.set(code, (retriedWith.get(code) ?? 0) + 1);
          if (code !== 'SERVICE_UNAVAILABLE' && code !== 'IDEMPOTENCY_KEY_IN_USE') throw new Error(`order ${i}: ${JSON.stringify(body)}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
    while (acknowledged.size < ORDERS / 4) await new Promise((r) => setTimeout(r, 5));
    products!.signal('SIGKILL');
    await products!.exited;
    await startProducts();
    await Promise.all(clients);

    expect(acknowledged.size).toBe(ORDERS);
    // Only the two retryable refusals, and some of them: the kill was felt.
    expect([...retriedWith.keys()].filter((code) => code !== 'SERVICE_UNAVAILABLE' && code !== 'IDEMPOTENCY_KEY_IN_USE')).toEqual([]);
    expect(retriedWith.get('SERVICE_UNAVAILABLE')).toBeGreaterThan(0);

    // The sweeper settles what the kill left (releases, confirmations) within a few rounds.
    const deadline = Date.now() + 15_000;
    while ((await rows("SELECT 1 FROM orders.placements WHERE state IN ('PENDING', 'WRITTEN', 'COMPENSATING')")).length > 0) {
      if (Date.now() > deadline) throw new Error('placements still unsettled 15 s after the last order');
      await new Promise((r) => setTimeout(r, 50));
    }

    const ordered = new Map<string, number>(PRODUCTS.map((p) => [p, 0]));
    for (let i = 0; i < ORDERS; i++) for (const l of linesOf(i)) ordered.set(l.productId, ordered.get(l.productId)! + l.quantity);
    const ledger = await rows<{ id: string; stock: number; reserved: number; sold: number }>(
      `SELECT p.id, p.stock,
              coalesce(sum(ri.quantity) FILTER (WHERE r.status = 'RESERVED'), 0)::int AS reserved,
              coalesce(sum(ri.quantity) FILTER (WHERE r.status = 'CONFIRMED'), 0)::int AS sold
       FROM products.products p
       LEFT JOIN products.reservation_items ri ON ri.product_id = p.id
       LEFT JOIN products.reservations r ON r.order_id = ri.order_id
       WHERE p.id = ANY($1::text[]) GROUP BY p.id ORDER BY p.id`,
      [PRODUCTS],
    );
    expect(ledger).toEqual(PRODUCTS.map((id) => ({ id, stock: INITIAL_STOCK - ordered.get(id)!, reserved: 0, sold: ordered.get(id)! })));

    // One order per acknowledged key, each holding its sold reservation; nothing else holds stock.
    const orderIds = (await rows<{ id: string }>('SELECT id FROM orders.orders')).map((r) => r.id).sort();
    const soldIds = (await rows<{ order_id: string }>("SELECT order_id FROM products.reservations WHERE status <> 'RELEASED'")).map((r) => r.order_id).sort();
    expect(orderIds).toEqual([...acknowledged.values()].sort());
    expect(soldIds).toEqual(orderIds);
  }, 120_000);
});
