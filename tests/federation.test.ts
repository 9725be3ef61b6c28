import { backends } from './support/servers';
import { startPlatform, type Platform } from './support/platform';

describe.each(backends)('the federated graph on %s', (backend) => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform(backend);
  });
  afterAll(() => platform?.close());

  it('is seeded with at least 20 users, 200 products and 500 orders', async () => {
    const count = async (db: keyof Platform['db'], table: string) =>
      Number((await platform.db[db].query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
    expect(await count('users', 'users')).toBeGreaterThanOrEqual(20);
    expect(await count('products', 'products')).toBeGreaterThanOrEqual(200);
    expect(await count('orders', 'orders')).toBeGreaterThanOrEqual(500);
  });

  it('every subgraph answers /healthz, and /readyz with its database check', async () => {
    for (const subgraph of platform.gateway.subgraphs) {
      const origin = new URL(subgraph.url).origin;
      expect(await (await fetch(`${origin}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${origin}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { database: { status: 'ok' } } });
    }
    expect(platform.gateway.subgraphs.map((s) => s.name).sort()).toEqual(['orders', 'products', 'users']);
  });

  it('answers a cross-subgraph query: a user with their own orders, each with product names', async () => {
    const res = await platform.graphql(`{
      user(id: "usr_002") {
        name
        displayName
        orders(first: 3) {
          edges { node { id totalCents user { email } items { quantity unitPriceCents product { id name priceCents } } } }
        }
      }
    }`, {}, 'usr_002');
    expect(res.errors).toBeUndefined();
    const user = res.data.user;
    expect(user.name).toEqual(expect.any(String));
    // name is deprecated in favour of displayName, which answers the same until the store keeps them apart.
    expect(user.displayName).toBe(user.name);
    expect(user.orders.edges).toHaveLength(3);
    for (const { node } of user.orders.edges) {
      expect(node.user.email).toMatch(/@example\.com$/);
      expect(node.items.length).toBeGreaterThan(0);
      for (const item of node.items) {
        expect(item.product.name).toMatch(/\S/);
        expect(item.product.id).toMatch(/^prd_/);
      }
      const sum = node.items.reduce((s: number, i: any) => s + i.quantity * i.unitPriceCents, 0);
      expect(node.totalCents).toBe(sum);
    }
  });

  it('pages users with cursors: pages do not overlap and the last page says there is no more', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res: any = await platform.graphql(
        'query($after: String) { users(first: 7, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }',
        { after },
        { sub: 'usr_001', scopes: ['users:read'] },
      );
      const page = res.data.users;
      seen.push(...page.edges.map((e: any) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen.length).toBeGreaterThanOrEqual(20);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(seen);
  });

  it('pages products filtered by search, and a user’s orders newest first', async () => {
    const first = await platform.graphql('{ products(first: 5, search: "lamp") { edges { node { name } } pageInfo { hasNextPage endCursor } } }');
    expect(first.data.products.edges).toHaveLength(5);
    for (const e of first.data.products.edges) expect(e.node.name.toLowerCase()).toContain('lamp');
    const second = await platform.graphql('query($a: String) { products(first: 5, search: "lamp", after: $a) { edges { node { name } } } }', {
      a: first.data.products.pageInfo.endCursor,
    });
    const names = (p: any) => p.edges.map((e: any) => e.node.name);
    expect(names(second.data.products).some((n: string) => names(first.data.products).includes(n))).toBe(false);

    const orders = await platform.graphql('{ user(id: "usr_005") { orders(first: 20) { edges { node { createdAt } } } } }', {}, 'usr_005');
    expect(orders.data.user.orders.edges.length).toBeGreaterThan(1);
    const times = orders.data.user.orders.edges.map((e: any) => Date.parse(e.node.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('refuses a bad cursor and an oversized page with BAD_USER_INPUT', async () => {
    const bad = await platform.graphql('{ users(first: 5, after: "not a cursor!") { edges { cursor } } }', {}, { sub: 'usr_001', scopes: ['users:read'] });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const big = await platform.graphql('{ products(first: 1000) { edges { cursor } } }');
    expect(big.errors?.[0]?.message).toMatch(/first must be between 1 and 100/);
  });

  it('a request without a token gets null for me (UNAUTHORIZED_FIELD_OR_TYPE) and still gets products; with a token me is that user', async () => {
    const anonymous = await platform.graphql('{ me { id } products(first: 1) { edges { node { id } } } }');
    expect(anonymous.data.me).toBeNull();
    expect(anonymous.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['me'], 'UNAUTHORIZED_FIELD_OR_TYPE']]);
    expect(anonymous.data.products.edges).toHaveLength(1);
    const signedIn = await platform.graphql('{ me { id name } }', {}, 'usr_007');
    expect(signedIn.data.me.id).toBe('usr_007');
  });
});
