import { startPlatform, type Caller, type Platform } from './support/platform';

/**
 * The response and entity caches on the real platform, as npm start runs them (memory stores, Cache-Control
 * on, products invalidating what a change of stock touches; the test platform otherwise leaves them off):
 * our subgraphs' own cache hints decide what is kept and for whom.
 */
describe('the response cache with our subgraphs\' cache hints', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform('pglite', { 'response_cache.enabled': true, 'entity_cache.enabled': true }, { cacheInvalidation: true });
  });
  afterAll(() => platform?.close());

  async function post(query: string, variables: Record<string, unknown> = {}, as?: Caller) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (as) headers.authorization = `Bearer ${await platform.issuer.issue(typeof as === 'string' ? as : as.sub, { scopes: ['orders:read', 'orders:write'] })}`;
    const res = await fetch(platform.gateway.graphqlUrl, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return { status: res.status, cacheControl: res.headers.get('cache-control'), age: res.headers.get('age'), body: (await res.json()) as any };
  }

  it('product names and prices are public for a minute: the second answer comes from the cache, with Age', async () => {
    const query = 'query Price($id: ID!) { product(id: $id) { name priceCents } }';
    const first = await post(query, { id: 'prd_0001' });
    await platform.db.products.query('UPDATE products SET price_cents = price_cents + 1 WHERE id = $1', ['prd_0001']);
    const second = await post(query, { id: 'prd_0001' });
    expect([first.cacheControl, first.age, second.cacheControl, second.age, second.body]).toEqual(['public, max-age=60', null, expect.stringMatching(/^public, max-age=(60|59)$/), expect.stringMatching(/^[01]$/), first.body]);
    // Lists inherit the product's hint.
    const list = await post('{ products(first: 2) { edges { node { name } } pageInfo { hasNextPage } } }');
    expect(list.cacheControl).toBe('public, max-age=60');
  });

  it('stock is never cached: after placeOrder the next stock query shows the new stock', async () => {
    const query = 'query Stock($id: ID!) { product(id: $id) { name stock } }';
    await platform.db.products.query('UPDATE products SET stock = 10 WHERE id = $1', ['prd_0030']);
    const before = await post(query, { id: 'prd_0030' });
    const order = await post('mutation($items: [OrderLineInput!]!) { placeOrder(input: { items: $items }) { id } }', { items: [{ productId: 'prd_0030', quantity: 3 }] }, 'usr_004');
    const after = await post(query, { id: 'prd_0030' });
    expect([before.cacheControl, before.body.data.product.stock, order.cacheControl, order.body.errors, after.cacheControl, after.age, after.body.data.product.stock]).toEqual([
      'no-store',
      10,
      'no-store',
      undefined,
      'no-store',
      null,
      7,
    ]);
  });

  describe('products invalidating what a change of stock touched', () => {
    // With its id selected, an answer is tagged Product:<id>, which is what the invalidation names.
    const PRICE = 'query Price($id: ID!) { product(id: $id) { id name priceCents } }';
    /** Changed behind the cache's back: only an invalidation can make an answer show it. */
    const raisePrice = async (id: string) =>
      (await platform.db.products.query<{ priceCents: number }>('UPDATE products SET price_cents = price_cents + 1 WHERE id = $1 RETURNING price_cents AS "priceCents"', [id]))[0]!.priceCents;
    /** Products tells the gateway after its commit, without holding up the order: the next reads, boundedly, until one is not a hit. */
    async function readUntilFresh(id: string) {
      let answer = await post(PRICE, { id });
      for (let tries = 0; answer.age !== null && tries < 40; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        answer = await post(PRICE, { id });
      }
      return answer;
    }
    const invalidationsCounted = async () => (await (await fetch(`${platform.subgraphs.products}/metrics`)).text()).match(/^products_cache_invalidations_total\{[^}]*outcome="ok"[^}]*\} (\d+)$/m)?.[1];
    const place = (productId: string, quantity = 1) =>
      post('mutation($items: [OrderLineInput!]!) { placeOrder(input: { items: $items }) { id status } }', { items: [{ productId, quantity }] }, 'usr_005');

    it('placeOrder and cancelOrder make the next read of their product fresh; other products stay cached', async () => {
      await Promise.all([post(PRICE, { id: 'prd_0031' }), post(PRICE, { id: 'prd_0032' })]);
      const raised = await raisePrice('prd_0031');
      expect((await post(PRICE, { id: 'prd_0031' })).age).not.toBeNull();
      const order = await place('prd_0031');
      expect(order.body.data.placeOrder.status).toBe('PLACED');
      const afterOrder = await readUntilFresh('prd_0031');
      const other = await post(PRICE, { id: 'prd_0032' });
      expect([afterOrder.age, afterOrder.body.data.product.priceCents, other.age]).toEqual([null, raised, expect.stringMatching(/^\d+$/)]);

      const raisedAgain = await raisePrice('prd_0031');
      const cancelled = await post('mutation($id: ID!) { cancelOrder(id: $id) { status } }', { id: order.body.data.placeOrder.id }, 'usr_005');
      expect(cancelled.body).toEqual({ data: { cancelOrder: { status: 'CANCELLED' } } });
      const afterCancel = await readUntilFresh('prd_0031');
      expect([afterCancel.age, afterCancel.body.data.product.priceCents]).toEqual([null, raisedAgain]);
    });

    it('an order refused for want of stock changes no stock and invalidates nothing', async () => {
      await post(PRICE, { id: 'prd_0034' });
      await platform.db.products.query('UPDATE products SET stock = 0 WHERE id = $1', ['prd_0034']);
      const before = await invalidationsCounted();
      const refused = await place('prd_0034');
      expect(refused.body.errors?.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['OUT_OF_STOCK']);
      expect([(await post(PRICE, { id: 'prd_0034' })).age, await invalidationsCounted()]).toEqual([expect.stringMatching(/^\d+$/), before]);
    });
  });

  it('a user\'s data is private: each user gets their own answer from the cache, and an order history is never cached', async () => {
    const me = 'query Me { me { id name } }';
    const [ada, adaAgain, bob] = [await post(me, {}, 'usr_002'), await post(me, {}, 'usr_002'), await post(me, {}, 'usr_003')];
    expect([ada.cacheControl, ada.body.data.me.id, adaAgain.age, adaAgain.body, bob.age, bob.body.data.me.id]).toEqual(['private, max-age=60', 'usr_002', expect.stringMatching(/^[01]$/), ada.body, null, 'usr_003']);
    const orders = await post('{ me { name orders(first: 1) { edges { node { id } } } } }', {}, 'usr_004');
    expect([orders.cacheControl, orders.body.errors]).toEqual(['no-store', undefined]);
  });

  it('a product reached through an order comes from the entity cache, but its stock after placeOrder is never stale', async () => {
    const place = 'mutation($items: [OrderLineInput!]!) { placeOrder(input: { items: $items }) { id } }';
    await platform.db.products.query('UPDATE products SET stock = 10 WHERE id = $1', ['prd_0031']);
    const placed = await post(place, { items: [{ productId: 'prd_0031', quantity: 1 }] }, 'usr_004');
    const orderId = placed.body.data.placeOrder.id;
    const name = 'query OrderedName($id: ID!) { order(id: $id) { items { product { name } } } }';
    const stock = 'query OrderedStock($id: ID!) { order(id: $id) { items { product { name stock } } } }';
    const nameBefore = await post(name, { id: orderId }, 'usr_004');
    await platform.db.products.query("UPDATE products SET name = name || ' (renamed)' WHERE id = $1", ['prd_0031']);
    // Orders are never kept whole (they declare no cache hint), so this name is the entity cache's.
    const nameCached = await post(name, { id: orderId }, 'usr_004');
    const stockBefore = await post(stock, { id: orderId }, 'usr_004');
    await post(place, { items: [{ productId: 'prd_0031', quantity: 2 }] }, 'usr_004');
    const stockAfter = await post(stock, { id: orderId }, 'usr_004');
    expect([nameCached.age, nameCached.body, stockBefore.body.data.order.items[0].product.stock, stockAfter.cacheControl, stockAfter.body.data.order.items[0].product.stock]).toEqual([
      null,
      nameBefore.body,
      9,
      'no-store',
      7,
    ]);
  });
});
