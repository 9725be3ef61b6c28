import { STAFF, startPlatform, type Platform } from './support/platform';
import { backends } from './support/servers';

const LIST = `query($users: Int!) {
  users(first: $users) {
    edges { node { name orders(first: 5) { edges { node { id user { email } items { quantity product { name } } } } } } }
  }
}`;

describe.each(backends)('batching on %s', (backend) => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform(backend);
  });
  afterAll(() => platform?.close());

  const statements = () => platform.db.users.stats.statements + platform.db.products.stats.statements + platform.db.orders.stats.statements;

  async function listOrders(users: number): Promise<{ orders: number; statements: number }> {
    const before = statements();
    // Staff: listing users and everyone's orders needs users:read and orders:read:any.
    const res = await platform.graphql(LIST, { users }, STAFF);
    expect(res.errors).toBeUndefined();
    const orders = res.data.users.edges.flatMap((u: any) => u.node.orders.edges.map((o: any) => o.node));
    for (const order of orders) for (const item of order.items) expect(item.product.name).toMatch(/\S/);
    return { orders: orders.length, statements: statements() - before };
  }

  it('listing 100 orders with their users and products costs as many SQL statements as listing 20', async () => {
    const small = await listOrders(4);
    const large = await listOrders(20);
    expect(small.orders).toBe(20);
    expect(large.orders).toBe(100);
    // One statement per entity type per subgraph fetch, whatever the list length.
    expect(large.statements).toBe(small.statements);
    expect(large.statements).toBeLessThanOrEqual(6);
  });
});
