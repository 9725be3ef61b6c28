import { backends } from './support/servers';
import { startPlatform, type Platform } from './support/platform';

const PLACE = `mutation($items: [OrderLineInput!]!) {
  placeOrder(input: { items: $items }) { id status totalCents currency user { id } items { quantity unitPriceCents product { id } } }
}`;
const CANCEL = 'mutation($id: ID!) { cancelOrder(id: $id) { id status } }';

describe.each(backends)('placing and cancelling orders on %s', (backend) => {
  let platform: Platform;
  beforeAll(async () => {
    // The header rule docs/configuration.md shows: a client's Idempotency-Key reaches orders.
    platform = await startPlatform(backend, { headers: { subgraphs: { orders: { request: [{ propagate: { named: 'idempotency-key' } }] } } } });
  });
  afterAll(() => platform?.close());

  const stockOf = async (id: string) =>
    (await platform.db.products.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [id]))[0]!.stock;
  const setStock = (id: string, stock: number) => platform.db.products.query('UPDATE products SET stock = $2 WHERE id = $1', [id, stock]);
  const priceOf = async (id: string) =>
    (await platform.db.products.query<{ p: number }>('SELECT price_cents AS p FROM products WHERE id = $1', [id]))[0]!.p;
  const ordersFor = async (productId: string) =>
    Number(
      (await platform.db.orders.query<{ n: string }>('SELECT count(*) AS n FROM order_items WHERE product_id = $1', [productId]))[0]!.n,
    );

  it('places an order at current prices, takes the stock, and the order belongs to the caller', async () => {
    await setStock('prd_0010', 20);
    await setStock('prd_0011', 20);
    const res = await platform.graphql(
      PLACE,
      { items: [{ productId: 'prd_0010', quantity: 2 }, { productId: 'prd_0011', quantity: 1 }, { productId: 'prd_0010', quantity: 1 }] },
      'usr_004',
    );
    expect(res.errors).toBeUndefined();
    const order = res.data.placeOrder;
    expect(order).toMatchObject({ status: 'PLACED', currency: 'USD', user: { id: 'usr_004' } });
    // Repeated lines for one product are merged into one line.
    expect(order.items).toHaveLength(2);
    const expected = 3 * (await priceOf('prd_0010')) + (await priceOf('prd_0011'));
    expect(order.totalCents).toBe(expected);
    expect(await stockOf('prd_0010')).toBe(17);
    expect(await stockOf('prd_0011')).toBe(19);

    const mine = await platform.graphql('{ me { orders(first: 1) { edges { node { id } } } } }', {}, 'usr_004');
    expect(mine.data.me.orders.edges[0].node.id).toBe(order.id);
  });

  it('refuses an order it cannot fill with OUT_OF_STOCK naming the product, and takes nothing', async () => {
    await setStock('prd_0020', 50);
    await setStock('prd_0021', 1);
    const before = await ordersFor('prd_0020');
    const res = await platform.graphql(
      PLACE,
      { items: [{ productId: 'prd_0020', quantity: 5 }, { productId: 'prd_0021', quantity: 2 }] },
      'usr_004',
    );
    expect(res.data).toBeNull();
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'OUT_OF_STOCK', productId: 'prd_0021', available: 1 });
    // All or nothing: the line that could be filled kept its stock, and no order was written.
    expect(await stockOf('prd_0020')).toBe(50);
    expect(await stockOf('prd_0021')).toBe(1);
    expect(await ordersFor('prd_0020')).toBe(before);
  });

  it('refuses unknown products, bad quantities and anonymous callers without writing anything', async () => {
    const unknown = await platform.graphql(PLACE, { items: [{ productId: 'prd_nope', quantity: 1 }] }, 'usr_004');
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', productId: 'prd_nope' });
    const zero = await platform.graphql(PLACE, { items: [{ productId: 'prd_0030', quantity: 0 }] }, 'usr_004');
    expect(zero.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const anonymous = await platform.graphql(PLACE, { items: [{ productId: 'prd_0030', quantity: 1 }] });
    // placeOrder needs orders:write (@requiresScopes): removed before planning, so orders is never asked.
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
    expect(await ordersFor('prd_nope')).toBe(0);
  });

  it('cancelling returns the stock once, even when cancelled twice, and only the owner may cancel', async () => {
    await setStock('prd_0040', 10);
    const placed = await platform.graphql(PLACE, { items: [{ productId: 'prd_0040', quantity: 4 }] }, 'usr_009');
    const id = placed.data.placeOrder.id;
    expect(await stockOf('prd_0040')).toBe(6);

    const stranger = await platform.graphql(CANCEL, { id }, 'usr_010');
    expect(stranger.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await stockOf('prd_0040')).toBe(6);

    const first = await platform.graphql(CANCEL, { id }, 'usr_009');
    expect(first.data.cancelOrder.status).toBe('CANCELLED');
    const second = await platform.graphql(CANCEL, { id }, 'usr_009');
    expect(second.data.cancelOrder.status).toBe('CANCELLED');
    expect(await stockOf('prd_0040')).toBe(10);
  });

  it('50 concurrent orders for the last 10 units sell exactly 10 and leave stock at 0', async () => {
    await setStock('prd_0050', 10);
    const before = await ordersFor('prd_0050');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        platform.graphql(PLACE, { items: [{ productId: 'prd_0050', quantity: 1 }] }, `usr_${String(1 + (i % 25)).padStart(3, '0')}`),
      ),
    );
    const placed = results.filter((r) => r.data?.placeOrder);
    const refused = results.filter((r) => r.errors?.[0]?.extensions?.code === 'OUT_OF_STOCK');
    expect(placed).toHaveLength(10);
    expect(refused).toHaveLength(40);
    expect(await stockOf('prd_0050')).toBe(0);
    expect((await ordersFor('prd_0050')) - before).toBe(10);
  });

  it('when writing the order fails, the reservation is given back and the client is told nothing was reserved', async () => {
    await setStock('prd_0076', 10);
    // The orders database refuses this product's order lines: the saga's write step fails after the reservation.
    await platform.db.orders.query(`ALTER TABLE order_items ADD CONSTRAINT refuse_prd_0076 CHECK (product_id <> 'prd_0076') NOT VALID`);
    try {
      const res = await platform.graphql(PLACE, { items: [{ productId: 'prd_0076', quantity: 4 }] }, 'usr_012');
      expect(res.data).toBeNull();
      expect(res.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([
        ['orders are unavailable right now; nothing was charged or reserved, try again', 'SERVICE_UNAVAILABLE'],
      ]);
    } finally {
      await platform.db.orders.query('ALTER TABLE order_items DROP CONSTRAINT refuse_prd_0076');
    }
    expect(await stockOf('prd_0076')).toBe(10);
    const [attempt] = await platform.db.orders.query<{ order_id: string; state: string }>(
      "SELECT order_id, state FROM placements WHERE user_id = 'usr_012' ORDER BY created_at DESC LIMIT 1",
    );
    expect(attempt!.state).toBe('FAILED');
    const reservation = await platform.db.products.query<{ status: string }>('SELECT status FROM reservations WHERE order_id = $1', [attempt!.order_id]);
    expect(reservation).toEqual([{ status: 'RELEASED' }]);
    expect(await platform.db.orders.query('SELECT 1 FROM orders WHERE id = $1', [attempt!.order_id])).toEqual([]);
  });

  describe('placeOrder with an idempotency key', () => {
    const PLACE_KEYED = `mutation($items: [OrderLineInput!]!, $key: String) {
      placeOrder(input: { items: $items }, idempotencyKey: $key) { id status totalCents user { id } items { quantity product { id } } }
    }`;
    const placementsWith = async (key: string) =>
      platform.db.orders.query<{ user_id: string; state: string }>('SELECT user_id, state FROM placements WHERE idempotency_key = $1 ORDER BY created_at', [key]);
    const reservationsFor = async (orderId: string) =>
      platform.db.products.query<{ status: string }>('SELECT status FROM reservations WHERE order_id = $1', [orderId]);

    it('a retried request with the same key returns the first order, and stock is taken once', async () => {
      await setStock('prd_0070', 10);
      const before = await ordersFor('prd_0070');
      const items = [{ productId: 'prd_0070', quantity: 2 }];
      const first = await platform.graphql(PLACE_KEYED, { items, key: 'retry-70' }, 'usr_005');
      const again = await platform.graphql(PLACE_KEYED, { items, key: 'retry-70' }, 'usr_005');
      expect(first.errors).toBeUndefined();
      expect(again).toEqual(first);
      expect(await stockOf('prd_0070')).toBe(8);
      expect((await ordersFor('prd_0070')) - before).toBe(1);
      expect(await placementsWith('retry-70')).toEqual([{ user_id: 'usr_005', state: 'CONFIRMED' }]);
      expect(await reservationsFor(first.data.placeOrder.id)).toEqual([{ status: 'CONFIRMED' }]);
    });

    it('the same key with other lines is IDEMPOTENCY_KEY_REUSED and places nothing', async () => {
      await setStock('prd_0071', 10);
      const before = await ordersFor('prd_0071');
      const first = await platform.graphql(PLACE_KEYED, { items: [{ productId: 'prd_0071', quantity: 1 }], key: 'reuse-71' }, 'usr_005');
      expect(first.errors).toBeUndefined();
      const other = await platform.graphql(PLACE_KEYED, { items: [{ productId: 'prd_0071', quantity: 3 }], key: 'reuse-71' }, 'usr_005');
      expect(other.data).toBeNull();
      expect(other.errors?.map((e) => e.extensions?.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
      expect(await stockOf('prd_0071')).toBe(9);
      expect((await ordersFor('prd_0071')) - before).toBe(1);
    });

    it("keys are per user: another user's request with the same key places that user's own order", async () => {
      await setStock('prd_0072', 10);
      const items = [{ productId: 'prd_0072', quantity: 1 }];
      const mine = await platform.graphql(PLACE_KEYED, { items, key: 'shared-72' }, 'usr_006');
      const theirs = await platform.graphql(PLACE_KEYED, { items, key: 'shared-72' }, 'usr_007');
      expect(mine.data.placeOrder.user).toEqual({ id: 'usr_006' });
      expect(theirs.data.placeOrder.user).toEqual({ id: 'usr_007' });
      expect(theirs.data.placeOrder.id).not.toBe(mine.data.placeOrder.id);
      expect(await stockOf('prd_0072')).toBe(8);
    });

    // 6 and a retry: within placeOrder's rate limit (10 per user and minute; usr_011 placed 2 above).
    it('6 concurrent requests with one key place one order: each answers that order or IDEMPOTENCY_KEY_IN_USE', async () => {
      await setStock('prd_0073', 100);
      const before = await ordersFor('prd_0073');
      const items = [{ productId: 'prd_0073', quantity: 1 }];
      const results = await Promise.all(Array.from({ length: 6 }, () => platform.graphql(PLACE_KEYED, { items, key: 'burst-73' }, 'usr_011')));
      const ids = new Set(results.filter((r) => r.data?.placeOrder).map((r) => r.data.placeOrder.id));
      const inUse = results.filter((r) => r.errors?.map((e) => e.extensions?.code).join() === 'IDEMPOTENCY_KEY_IN_USE');
      expect(ids.size).toBe(1);
      expect(results.filter((r) => r.data?.placeOrder).length + inUse.length).toBe(6);
      expect(await stockOf('prd_0073')).toBe(99);
      expect((await ordersFor('prd_0073')) - before).toBe(1);
      expect(await placementsWith('burst-73')).toEqual([{ user_id: 'usr_011', state: 'CONFIRMED' }]);
      // Once the first has finished, a retry gets its order.
      const retry = await platform.graphql(PLACE_KEYED, { items, key: 'burst-73' }, 'usr_011');
      expect(retry.data.placeOrder.id).toBe([...ids][0]);
    });

    it('a refused attempt leaves its key free: after OUT_OF_STOCK the same key places the order once stock is back', async () => {
      await setStock('prd_0074', 1);
      const items = [{ productId: 'prd_0074', quantity: 2 }];
      const refused = await platform.graphql(PLACE_KEYED, { items, key: 'later-74' }, 'usr_009');
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'OUT_OF_STOCK', productId: 'prd_0074' });
      await setStock('prd_0074', 5);
      const placed = await platform.graphql(PLACE_KEYED, { items, key: 'later-74' }, 'usr_009');
      expect(placed.errors).toBeUndefined();
      expect(await stockOf('prd_0074')).toBe(3);
      expect((await placementsWith('later-74')).map((p) => p.state)).toEqual(['FAILED', 'CONFIRMED']);
    });

    it('the Idempotency-Key header is the key when the argument is absent: a retry with it returns the first order, and stock is taken once', async () => {
      await setStock('prd_0076', 10);
      const before = await ordersFor('prd_0076');
      const items = [{ productId: 'prd_0076', quantity: 2 }];
      const first = await platform.graphql(PLACE_KEYED, { items }, 'usr_012', { 'idempotency-key': 'header-76' });
      const again = await platform.graphql(PLACE_KEYED, { items }, 'usr_012', { 'idempotency-key': 'header-76' });
      // The same key as an argument is the same order.
      const asArgument = await platform.graphql(PLACE_KEYED, { items, key: 'header-76' }, 'usr_012');
      expect(first.errors).toBeUndefined();
      expect([again, asArgument]).toEqual([first, first]);
      expect(await stockOf('prd_0076')).toBe(8);
      expect((await ordersFor('prd_0076')) - before).toBe(1);
      expect(await placementsWith('header-76')).toEqual([{ user_id: 'usr_012', state: 'CONFIRMED' }]);
    });

    it('header and argument both sent: equal is one key; different is BAD_USER_INPUT and places nothing; an empty or overlong header is BAD_USER_INPUT', async () => {
      await setStock('prd_0077', 10);
      const items = [{ productId: 'prd_0077', quantity: 1 }];
      const same = await platform.graphql(PLACE_KEYED, { items, key: 'both-77' }, 'usr_013', { 'idempotency-key': 'both-77' });
      expect(same.errors).toBeUndefined();
      const differ = await platform.graphql(PLACE_KEYED, { items, key: 'arg-77' }, 'usr_013', { 'idempotency-key': 'header-77' });
      expect([differ.data, differ.errors?.map((e) => [e.extensions?.code, e.message])]).toEqual([
        null,
        [['BAD_USER_INPUT', 'the idempotencyKey argument and the Idempotency-Key header differ: send one key, or the same in both']],
      ]);
      for (const header of ['', 'k'.repeat(256)]) {
        const res = await platform.graphql(PLACE_KEYED, { items }, 'usr_013', { 'idempotency-key': header });
        expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      }
      expect(await stockOf('prd_0077')).toBe(9);
      expect([await placementsWith('arg-77'), await placementsWith('header-77')]).toEqual([[], []]);
    });

    it('refuses an empty or overlong key with BAD_USER_INPUT, placing nothing', async () => {
      await setStock('prd_0075', 10);
      for (const key of ['', 'k'.repeat(256)]) {
        const res = await platform.graphql(PLACE_KEYED, { items: [{ productId: 'prd_0075', quantity: 1 }], key }, 'usr_009');
        expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
      }
      expect(await stockOf('prd_0075')).toBe(10);
    });
  });
});
