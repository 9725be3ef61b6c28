import { join } from 'node:path';
import { migrate, openDatabase, type Database } from '@switchyard/service-kit';
import { startProducts } from '../../products/src/main';
import { createPlaceOrderSaga, type PlaceOrderSaga } from './place-order-saga';
import { createProductsClient, type ProductsClient } from './products-client';
import { createOrderStore, type OrderStore } from './store';

/**
 * The sweeper on the embedded database (the crash test in tests/ runs it on PostgreSQL): what each half
 * done attempt a crash can leave turns into, with the real products service and its reservation API.
 */
describe('the placement sweeper on PGlite', () => {
  let products: Awaited<ReturnType<typeof startProducts>>;
  let client: ProductsClient;
  let db: Database;
  let store: OrderStore;
  let saga: PlaceOrderSaga;

  beforeAll(async () => {
    products = await startProducts({ 'server.port': 0, logLevel: process.env.LOG_LEVEL });
    db = await openDatabase({ schema: 'orders' });
    await migrate(db, join(__dirname, '..', 'migrations'), 'orders');
    store = createOrderStore(db);
    client = createProductsClient({ baseUrl: products.url, timeoutMs: 5000, signingSecret: process.env.IDENTITY_SIGNING_SECRET! });
    saga = createPlaceOrderSaga(store, client);
  });
  afterAll(async () => {
    await client?.close();
    await db?.close();
    await products?.close();
  });

  const stockOf = async (id: string) => (await products.db.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [id]))[0]!.stock;
  const reservationOf = async (orderId: string) =>
    (await products.db.query<{ status: string }>('SELECT status FROM reservations WHERE order_id = $1', [orderId]))[0]?.status;
  /** What a process that died right after reserving leaves: a PENDING attempt and its reserved stock. */
  async function reservedThenCrashed(orderId: string, productId: string, quantity: number) {
    expect(await store.beginPlacement({ orderId, userId: 'usr_001', idempotencyKey: orderId, requestHash: 'h' })).toBeNull();
    return client.reserve(orderId, [{ productId, quantity }]);
  }

  it('an attempt that reserved but never wrote its order is released once past the grace period, and can no longer be written', async () => {
    await products.db.query('UPDATE products SET stock = 10 WHERE id = $1', ['prd_0005']);
    const [line] = await reservedThenCrashed('ord_crashed_1', 'prd_0005', 4);
    expect(await stockOf('prd_0005')).toBe(6);

    expect(await saga.sweep(60_000)).toEqual({ released: 0, confirmed: 0 });
    expect(await reservationOf('ord_crashed_1')).toBe('RESERVED');

    expect(await saga.sweep(0)).toEqual({ released: 1, confirmed: 0 });
    expect(await reservationOf('ord_crashed_1')).toBe('RELEASED');
    expect(await store.placementState('ord_crashed_1')).toBe('FAILED');
    expect(await stockOf('prd_0005')).toBe(10);
    // A slow request that only now gets to its write step finds its attempt abandoned and writes nothing.
    const late = await store.insertOrder(
      { id: 'ord_crashed_1', userId: 'usr_001', status: 'PLACED', currency: 'USD', totalCents: 4 * line!.unitPriceCents },
      [{ productId: 'prd_0005', quantity: 4, unitPriceCents: line!.unitPriceCents }],
    );
    expect(late).toBeNull();
    expect(await store.ordersByIds(['ord_crashed_1'])).toEqual([]);
    // Its key is free again.
    expect(await store.beginPlacement({ orderId: 'ord_crashed_1b', userId: 'usr_001', idempotencyKey: 'ord_crashed_1', requestHash: 'h' })).toBeNull();
    expect(await store.movePlacement('ord_crashed_1b', ['PENDING'], 'FAILED')).toBe(true);
  });

  it('an attempt that wrote its order but never confirmed it is confirmed, and the stock stays sold', async () => {
    await products.db.query('UPDATE products SET stock = 10 WHERE id = $1', ['prd_0006']);
    const [line] = await reservedThenCrashed('ord_crashed_2', 'prd_0006', 3);
    const order = await store.insertOrder(
      { id: 'ord_crashed_2', userId: 'usr_001', status: 'PLACED', currency: 'USD', totalCents: 3 * line!.unitPriceCents },
      [{ productId: 'prd_0006', quantity: 3, unitPriceCents: line!.unitPriceCents }],
    );
    expect(order).toMatchObject({ id: 'ord_crashed_2', status: 'PLACED' });

    expect(await saga.sweep(0)).toEqual({ released: 0, confirmed: 1 });
    expect(await reservationOf('ord_crashed_2')).toBe('CONFIRMED');
    expect(await store.placementState('ord_crashed_2')).toBe('CONFIRMED');
    expect(await stockOf('prd_0006')).toBe(7);
    expect(await saga.sweep(0)).toEqual({ released: 0, confirmed: 0 });
  });
});
