import { backends } from './support/servers';
import { startPlatform, type Platform } from './support/platform';

const PLACE = `mutation($items: [OrderLineInput!]!) {
  placeOrder(input: { items: $items }) { id status totalCents currency user { id } items { quantity unitPriceCents product { id } } }
}`;
const CANCEL = 'mutation($id: ID!) { cancelOrder(id: $id) { id status } }';

describe.each(backends)('placing and cancelling orders on %s', (backend) => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform(backend);
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
});
