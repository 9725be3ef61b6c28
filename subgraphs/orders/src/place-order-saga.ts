import { createHash, randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { badInput, type Logger } from '@switchyard/service-kit';
import { ProductsUnavailable, ReservationRefused, type ProductsClient } from './products-client';
import type { OrderRow, OrderStore } from './store';

/**
 * Placing an order is a saga across two databases: record the attempt (PENDING), reserve the stock
 * (products), write the order (WRITTEN, in the same transaction), confirm the sale (products, CONFIRMED).
 * A step that fails gives the reservation back (COMPENSATING, then FAILED). What a crash leaves behind is
 * settled by the sweeper from the attempt's row: a PENDING attempt past the grace period is released, a
 * WRITTEN one is confirmed. Every call to products is idempotent per order id, so repeating one is safe.
 */

/** The points between steps, where a test may stop the process to prove the sweeper settles what is left. */
export type SagaStep = 'begun' | 'reserved' | 'written';

export interface PlaceOrderSagaOptions {
  /** Called after each step; only tests use it (see main.ts). */
  afterStep?: (step: SagaStep, orderId: string) => void;
}

/** A line as products should reserve it: merged per product (see normaliseLines). */
export interface OrderLine {
  productId: string;
  quantity: number;
}

export const unavailable = () =>
  new GraphQLError('orders are unavailable right now; nothing was charged or reserved, try again', {
    extensions: { code: 'SERVICE_UNAVAILABLE' },
  });

function refusalError(err: ReservationRefused): GraphQLError {
  if (err.code === 'UNKNOWN_PRODUCT') return badInput(err.message, { productId: err.productId });
  return new GraphQLError(err.message, {
    extensions: { code: 'OUT_OF_STOCK', productId: err.productId, available: err.available },
  });
}

/** What makes two requests "the same order": the lines, in product order. */
export function requestHashOf(lines: OrderLine[]): string {
  const sorted = [...lines].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(sorted.map((l) => [l.productId, l.quantity]))).digest('hex');
}

export function createPlaceOrderSaga(store: OrderStore, products: ProductsClient, options: PlaceOrderSagaOptions = {}) {
  const afterStep = options.afterStep ?? (() => undefined);

  const writtenOrder = async (orderId: string) => (await store.ordersByIds([orderId]))[0] ?? null;

  /**
   * Gives back what `orderId` may hold, unless its order turned out to be written (a commit whose answer
   * was lost): then that order is returned. When the attempt's state cannot be read, nothing is released
   * (the write may have committed); the sweeper settles it after the grace period.
   */
  async function compensate(orderId: string): Promise<OrderRow | null> {
    let mine: boolean;
    try {
      mine = await store.movePlacement(orderId, ['PENDING'], 'COMPENSATING');
      if (!mine) {
        const state = await store.placementState(orderId);
        if (state === 'WRITTEN' || state === 'CONFIRMED') return writtenOrder(orderId);
        if (state !== 'COMPENSATING') return null;
      }
    } catch {
      return null;
    }
    try {
      await products.release(orderId);
      await store.movePlacement(orderId, ['COMPENSATING'], 'FAILED');
    } catch {
      // Still COMPENSATING: the sweeper releases it again (idempotent).
    }
    return null;
  }

  async function confirm(orderId: string): Promise<void> {
    await products.confirm(orderId);
    await store.movePlacement(orderId, ['WRITTEN'], 'CONFIRMED');
  }

  /** A repeat of an earlier attempt with the same key: its order, or a clear refusal. */
  async function replay(existing: { orderId: string; requestHash: string; state: string }, requestHash: string): Promise<OrderRow> {
    if (existing.requestHash !== requestHash) {
      throw new GraphQLError('this idempotency key was already used for a different order; use a new key for a new order', {
        extensions: { code: 'IDEMPOTENCY_KEY_REUSED' },
      });
    }
    const order = existing.state === 'WRITTEN' || existing.state === 'CONFIRMED' ? await writtenOrder(existing.orderId) : null;
    if (order) return order;
    throw new GraphQLError('an order with this idempotency key is still being placed; retry shortly with the same key', {
      extensions: { code: 'IDEMPOTENCY_KEY_IN_USE' },
    });
  }

  return {
    /** Places an order, or with a known idempotency key returns the order its first request placed. */
    async place(userId: string, lines: OrderLine[], idempotencyKey: string | null): Promise<OrderRow> {
      const requestHash = requestHashOf(lines);
      const orderId = `ord_${randomUUID()}`;
      let existing;
      try {
        existing = await store.beginPlacement({ orderId, userId, idempotencyKey, requestHash });
      } catch {
        throw unavailable();
      }
      if (existing) return replay(existing, requestHash);
      afterStep('begun', orderId);

      let reserved;
      try {
        reserved = await products.reserve(orderId, lines);
      } catch (err) {
        if (err instanceof ReservationRefused) {
          // Products took nothing: the attempt is over, and its key free for a corrected retry.
          await store.movePlacement(orderId, ['PENDING'], 'FAILED').catch(() => undefined);
          throw refusalError(err);
        }
        // The reservation may have been taken before the failure.
        await compensate(orderId);
        if (err instanceof ProductsUnavailable) throw unavailable();
        throw err;
      }
      afterStep('reserved', orderId);

      const currencies = new Set(reserved.map((l) => l.currency));
      if (currencies.size !== 1) {
        await compensate(orderId);
        throw badInput('all products of an order must share one currency');
      }
      let order: OrderRow | null;
      try {
        order = await store.insertOrder(
          {
            id: orderId,
            userId,
            status: 'PLACED',
            currency: reserved[0]!.currency,
            totalCents: reserved.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0),
          },
          reserved.map(({ productId, quantity, unitPriceCents }) => ({ productId, quantity, unitPriceCents })),
        );
      } catch {
        order = null;
      }
      // Not written (failed, or abandoned by the sweeper meanwhile): give the stock back, unless it was written after all.
      order ??= await compensate(orderId);
      if (!order) throw unavailable();
      afterStep('written', orderId);

      // The order stands either way: a confirmation that fails now is made by the sweeper.
      await confirm(orderId).catch(() => undefined);
      return order;
    },

    /**
     * Settles what crashed or failed attempts left: PENDING ones untouched for `graceMs` are released
     * (no order was written, or ever will be: writing needs PENDING), COMPENSATING ones released again,
     * WRITTEN ones untouched for `graceMs` confirmed. At most `batch` of each kind per call.
     */
    async sweep(graceMs: number, batch = 100): Promise<{ released: number; confirmed: number }> {
      await store.abandonStalePlacements(graceMs, batch);
      let released = 0;
      for (const orderId of await store.placementsIn('COMPENSATING', 0, batch)) {
        await products.release(orderId);
        await store.movePlacement(orderId, ['COMPENSATING'], 'FAILED');
        released++;
      }
      let confirmed = 0;
      for (const orderId of await store.placementsIn('WRITTEN', graceMs, batch)) {
        await confirm(orderId);
        confirmed++;
      }
      return { released, confirmed };
    },
  };
}

export type PlaceOrderSaga = ReturnType<typeof createPlaceOrderSaga>;

/** Runs the saga's sweep every `intervalMs` (never two at once) until stopped. */
export function startSweeper(saga: PlaceOrderSaga, options: { intervalMs: number; graceMs: number; logger: Logger }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = saga
        .sweep(options.graceMs)
        .then(
          (settled) => {
            if (settled.released || settled.confirmed) options.logger.info(settled, 'sweeper settled abandoned order placements');
          },
          (err: Error) => options.logger.warn({ error: err.message }, 'order placement sweep failed; trying again next interval'),
        )
        .then(schedule);
    }, options.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
