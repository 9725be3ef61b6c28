import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '@switchyard/service-kit';
import { startProducts } from '../subgraphs/products/src/main';
import { freePort, spawnService, type WatchedProcess } from './support/processes';
import { backends, postgresUrl } from './support/servers';
import { postRaw, signedHeaders } from './support/subgraph-requests';

// The orders process is killed and started again on the same data: PostgreSQL (PGlite here is in memory).
const onPostgres = backends.includes('postgres') ? describe : describe.skip;

const PLACE = `mutation($items: [OrderLineInput!]!, $key: String) {
  placeOrder(input: { items: $items }, idempotencyKey: $key) { id }
}`;
const CUSTOMER = { kind: 'user' as const, id: 'usr_004', scopes: ['orders:read', 'orders:write'] };
const PRODUCTS = ['prd_0101', 'prd_0102'];
const INITIAL_STOCK = 20;

onPostgres('an orders process killed between the steps of placing an order', () => {
  const databaseName = `saga_${randomBytes(4).toString('hex')}`;
  const databaseUrl = () => Object.assign(new URL(postgresUrl!), { pathname: `/${databaseName}` }).toString();
  let products: Awaited<ReturnType<typeof startProducts>>;
  let ordersDb: pg.Client;
  let orders: { process: WatchedProcess; url: string } | undefined;

  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };

  /** The orders service as its own process on this test's database, with any extra environment. */
  async function startOrders(env: Record<string, string>) {
    const port = await freePort();
    const child = spawnService('subgraphs/orders/src/main.ts', {
      PORT: String(port),
      DATABASE_URL: databaseUrl(),
      PRODUCTS_INTERNAL_URL: products.url,
      SEED: 'false',
      LOG_LEVEL: 'warn',
      ...env,
    });
    await child.waitFor(/ready at/, 60_000);
    return (orders = { process: child, url: `http://127.0.0.1:${port}` });
  }

  const place = (url: string, items: { productId: string; quantity: number }[], key: string) => {
    const body = JSON.stringify({ query: PLACE, variables: { items, key } });
    return postRaw(`${url}/graphql`, body, signedHeaders('orders', body, CUSTOMER));
  };

  const rows = async <T>(db: Database | pg.Client, sql: string, params: unknown[] = []): Promise<T[]> =>
    'kind' in db ? db.query<T>(sql, params) : ((await db.query(sql, params)).rows as T[]);

  const placementOf = async (key: string) =>
    (await rows<{ order_id: string; state: string }>(ordersDb, 'SELECT order_id, state FROM orders.placements WHERE idempotency_key = $1', [key]))[0];
  const reservationOf = async (orderId: string) =>
    (await rows<{ status: string }>(products.db, 'SELECT status FROM reservations WHERE order_id = $1', [orderId]))[0]?.status ?? null;
  const orderExists = async (orderId: string) =>
    (await rows(ordersDb, 'SELECT 1 FROM orders.orders WHERE id = $1', [orderId])).length === 1;

  /** Places an order on a process that SIGKILLs itself after `step`: the request gets no answer, the process is gone. */
  async function crashAfter(step: string, items: { productId: string; quantity: number }[], key: string) {
    const { process: child, url } = await startOrders({ ORDERS_TEST_CRASH_AFTER: step });
    await expect(place(url, items, key)).rejects.toThrow();
    expect((await child.exited).code).toBeNull();
  }

  beforeAll(async () => {
    await admin(`CREATE DATABASE ${databaseName}`);
    products = await startProducts({ 'server.port': 0, 'database.url': databaseUrl(), logLevel: process.env.LOG_LEVEL });
    for (const id of PRODUCTS) await products.db.query('UPDATE products SET stock = $2 WHERE id = $1', [id, INITIAL_STOCK]);
    ordersDb = new pg.Client({ connectionString: databaseUrl() });
    await ordersDb.connect();
  }, 90_000);

  afterAll(async () => {
    orders?.process.signal('SIGTERM');
    await orders?.process.exited;
    await ordersDb?.end();
    await products?.close();
    await admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  });

  it('after a restart the sweeper releases the unwritten order, confirms the written one, and stock adds up exactly', async () => {
    // Killed after reserving, before writing: stock held, no order.
    await crashAfter('reserved', [{ productId: 'prd_0101', quantity: 3 }], 'crash-reserved');
    const unwritten = (await placementOf('crash-reserved'))!;
    expect(unwritten.state).toBe('PENDING');
    expect(await reservationOf(unwritten.order_id)).toBe('RESERVED');
    expect(await orderExists(unwritten.order_id)).toBe(false);

    // Killed after writing, before confirming: the order stands, its reservation not yet confirmed.
    await crashAfter('written', [{ productId: 'prd_0101', quantity: 2 }, { productId: 'prd_0102', quantity: 5 }], 'crash-written');
    const written = (await placementOf('crash-written'))!;
    expect(written.state).toBe('WRITTEN');
    expect(await reservationOf(written.order_id)).toBe('RESERVED');
    expect(await orderExists(written.order_id)).toBe(true);

    // Restarted: the sweeper settles both once they are 2 s old, in one of its 100 ms rounds (a new attempt,
    // like the retries below, finishes well within those 2 s and is left alone).
    const { url } = await startOrders({ ORDERS_SWEEP_INTERVAL_MS: '100', ORDERS_SWEEP_GRACE_MS: '2000' });
    const deadline = Date.now() + 10_000;
    while ((await rows(ordersDb, "SELECT 1 FROM orders.placements WHERE state IN ('PENDING', 'WRITTEN', 'COMPENSATING')")).length > 0) {
      if (Date.now() > deadline) throw new Error('the sweeper did not settle the placements within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await placementOf('crash-reserved')).toEqual({ order_id: unwritten.order_id, state: 'FAILED' });
    expect(await reservationOf(unwritten.order_id)).toBe('RELEASED');
    expect(await placementOf('crash-written')).toEqual({ order_id: written.order_id, state: 'CONFIRMED' });
    expect(await reservationOf(written.order_id)).toBe('CONFIRMED');

    // stock + reserved + sold = initial, for each product; nothing is left merely reserved.
    const held = await rows<{ product_id: string; status: string; quantity: number }>(
      products.db,
      `SELECT ri.product_id, r.status, sum(ri.quantity)::int AS quantity FROM reservation_items ri JOIN reservations r USING (order_id)
       WHERE r.status <> 'RELEASED' GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    expect(held).toEqual([
      { product_id: 'prd_0101', status: 'CONFIRMED', quantity: 2 },
      { product_id: 'prd_0102', status: 'CONFIRMED', quantity: 5 },
    ]);
    const stock = await rows<{ id: string; stock: number }>(products.db, 'SELECT id, stock FROM products WHERE id = ANY($1::text[]) ORDER BY id', [PRODUCTS]);
    expect(stock).toEqual([
      { id: 'prd_0101', stock: INITIAL_STOCK - 2 },
      { id: 'prd_0102', stock: INITIAL_STOCK - 5 },
    ]);

    // No order without its reservation, no reservation without its order.
    const orderIds = (await rows<{ id: string }>(ordersDb, 'SELECT id FROM orders.orders ORDER BY id')).map((r) => r.id);
    const heldIds = (await rows<{ order_id: string }>(products.db, "SELECT order_id FROM reservations WHERE status <> 'RELEASED' ORDER BY order_id")).map((r) => r.order_id);
    expect(orderIds).toEqual([written.order_id]);
    expect(heldIds).toEqual(orderIds);

    // The clients retry with their keys: the written order is the answer, the unwritten one is placed now.
    const retriedWritten = await place(url, [{ productId: 'prd_0102', quantity: 5 }, { productId: 'prd_0101', quantity: 2 }], 'crash-written');
    expect(retriedWritten).toEqual({ status: 200, body: { data: { placeOrder: { id: written.order_id } } } });
    const retriedUnwritten = await place(url, [{ productId: 'prd_0101', quantity: 3 }], 'crash-reserved');
    expect(retriedUnwritten.body.errors).toBeUndefined();
    expect(retriedUnwritten.body.data.placeOrder.id).not.toBe(unwritten.order_id);
    expect((await rows<{ stock: number }>(products.db, 'SELECT stock FROM products WHERE id = $1', ['prd_0101']))[0]!.stock).toBe(INITIAL_STOCK - 5);
  }, 120_000);
});
