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
});
