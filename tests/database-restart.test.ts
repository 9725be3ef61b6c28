import pg from 'pg';
import { startPlatform, type Platform } from './support/platform';
import { backends, postgresUrl } from './support/servers';

const QUERY = '{ user(id: "usr_003") { name orders(first: 2) { edges { node { id items { product { name } } } } } } }';

// Dropping server connections is a PostgreSQL scenario; PGlite has no connections to lose.
const onPostgres = backends.includes('postgres') ? describe : describe.skip;

onPostgres('when PostgreSQL drops every connection (a restart or failover)', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform('postgres');
  });
  afterAll(() => platform?.close());

  /** Terminates every server connection of this platform's three pools, as a database restart does. */
  async function dropConnections(): Promise<number> {
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    try {
      const schemas = await Promise.all(
        (['users', 'products', 'orders'] as const).map(async (name) => {
          const [row] = await platform.db[name].query<{ s: string }>('SELECT current_schema() AS s');
          return `switchyard:${row!.s}`;
        }),
      );
      const { rows } = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ANY($1::text[])',
        [schemas],
      );
      return rows.length;
    } finally {
      await admin.end();
    }
  }

  it('the next request is answered on fresh connections, with no error reaching the client', async () => {
    expect((await platform.graphql(QUERY, undefined, 'usr_003')).errors).toBeUndefined();
    expect(await dropConnections()).toBeGreaterThanOrEqual(3);
    const after = await platform.graphql(QUERY, undefined, 'usr_003');
    expect(after.errors).toBeUndefined();
    expect(after.data.user.orders.edges).toHaveLength(2);
  });

  it('a transaction cut off before COMMIT runs again on a fresh connection, and only its second run counts', async () => {
    await platform.db.products.query('UPDATE products SET stock = 7 WHERE id = $1', ['prd_0061']);
    let runs = 0;
    await platform.db.products.transaction(async (tx) => {
      runs++;
      await tx.query('UPDATE products SET stock = stock - 1 WHERE id = $1', ['prd_0061']);
      if (runs === 1) {
        const [{ pid }] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const admin = new pg.Client({ connectionString: postgresUrl });
        await admin.connect();
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        await admin.end();
        await tx.query('SELECT 1'); // fails: the server closed this connection mid-transaction
      }
    });
    expect(runs).toBe(2);
    const [{ stock }] = await platform.db.products.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', ['prd_0061']);
    expect(stock).toBe(6);
  });

  it('an order placed right after the drop is written whole, and stock is taken once', async () => {
    await platform.db.products.query('UPDATE products SET stock = 5 WHERE id = $1', ['prd_0060']);
    await dropConnections();
    const res = await platform.graphql(
      'mutation { placeOrder(input: { items: [{ productId: "prd_0060", quantity: 2 }] }) { id items { quantity } } }',
      {},
      'usr_002',
    );
    expect(res.errors).toBeUndefined();
    const [{ stock }] = await platform.db.products.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', ['prd_0060']);
    expect(stock).toBe(3);
    const items = await platform.db.orders.query('SELECT * FROM order_items WHERE order_id = $1', [res.data.placeOrder.id]);
    expect(items).toHaveLength(1);
  });

  it('under a steady trickle of orders, three drops lose no acknowledged order, hold no stray stock, and orders go on', async () => {
    const initial = 1000;
    await platform.db.products.query('UPDATE products SET stock = $2 WHERE id = $1', ['prd_0062', initial]);
    const acknowledged: string[] = [];
    const refusals: string[] = [];
    let trickling = true;
    // Two clients, each placing one order after another, across users so no one meets placeOrder's rate limit.
    const client = async (offset: number) => {
      for (let i = offset; trickling; i += 2) {
        const res = await platform.graphql(
          'mutation { placeOrder(input: { items: [{ productId: "prd_0062", quantity: 1 }] }) { id } }',
          {},
          `usr_${String(1 + (i % 25)).padStart(3, '0')}`,
        );
        if (res.data?.placeOrder) acknowledged.push(res.data.placeOrder.id);
        else refusals.push(res.errors?.[0]?.extensions?.code);
      }
    };
    const clients = [client(0), client(1)];
    for (let drop = 0; drop < 3; drop++) {
      const before = acknowledged.length;
      while (acknowledged.length < before + 5) await new Promise((r) => setTimeout(r, 10));
      expect(await dropConnections()).toBeGreaterThanOrEqual(3);
    }
    const afterLastDrop = acknowledged.length;
    while (acknowledged.length < afterLastDrop + 5) await new Promise((r) => setTimeout(r, 10));
    trickling = false;
    await Promise.all(clients);

    // A transaction cut off before COMMIT runs again on a fresh connection; one cut off during COMMIT has an
    // unknown outcome, and the client is told to try again (nothing held: the reservation is given back).
    expect(refusals.filter((code) => code !== 'SERVICE_UNAVAILABLE')).toEqual([]);
    expect(refusals.length).toBeLessThan(acknowledged.length / 4);
    const written = await platform.db.orders.query<{ id: string }>('SELECT id FROM orders WHERE id = ANY($1::text[])', [acknowledged]);
    expect(written).toHaveLength(acknowledged.length);
    const [{ stock }] = await platform.db.products.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', ['prd_0062']);
    const held = await platform.db.products.query<{ order_id: string; quantity: number }>(
      `SELECT order_id, quantity FROM reservation_items ri JOIN reservations r USING (order_id)
       WHERE ri.product_id = $1 AND r.status <> 'RELEASED'`,
      ['prd_0062'],
    );
    expect(stock + held.length).toBe(initial);
    // Every acknowledged order holds its unit; anything else held belongs to an attempt the sweeper will release.
    const heldIds = new Set(held.map((h) => h.order_id));
    expect(acknowledged.filter((id) => !heldIds.has(id))).toEqual([]);
    const strays = held.map((h) => h.order_id).filter((id) => !acknowledged.includes(id));
    const strayStates = await platform.db.orders.query<{ state: string }>('SELECT state FROM placements WHERE order_id = ANY($1::text[])', [strays]);
    expect(strayStates.filter((p) => p.state !== 'PENDING' && p.state !== 'COMPENSATING')).toEqual([]);
  });
});
