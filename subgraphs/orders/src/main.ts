import './instrument';
import { join } from 'node:path';
import { runMain, startSubgraph, subgraphConfigSchema, type SubgraphDefinition } from '@switchyard/service-kit';
import { z } from 'zod';
import { createOrderLoaders, type OrderLoaders } from './loaders';
import { createPlaceOrderLimit } from './place-order-limit';
import { createPlaceOrderSaga, startSweeper, type PlaceOrderSagaOptions } from './place-order-saga';
import { createProductsClient } from './products-client';
import { createOrderResolvers } from './resolvers';
import { seedOrders } from './seed';
import { createOrderStore } from './store';

export const ordersConfigSchema = subgraphConfigSchema('orders', 4003).extend({
  products: z
    .object({
      /** Base URL of the products service's internal reservation API. */
      internalUrl: z.string().url().default('http://127.0.0.1:4002'),
      timeoutMs: z.coerce.number().int().positive().default(5000),
    })
    .strict()
    .default({}),
  /** placeOrder per user, with graphql-rate-limit; in Redis (shared by replicas) when redisUrl is set. */
  placeOrderLimit: z
    .object({
      max: z.coerce.number().int().positive().default(10),
      windowMs: z.coerce.number().int().positive().default(60_000),
      redisUrl: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').optional(),
    })
    .strict()
    .default({}),
  /** The sweeper that settles order placements a crash or failure left half done (see place-order-saga.ts). */
  saga: z
    .object({
      sweepIntervalMs: z.coerce.number().int().positive().default(30_000),
      /** How long an attempt may stay unsettled before the sweeper takes over: well above one placeOrder's longest run. */
      graceMs: z.coerce.number().int().nonnegative().default(60_000),
    })
    .strict()
    .default({}),
});

/**
 * Tests only: ORDERS_TEST_CRASH_AFTER=begun|reserved|written SIGKILLs the process right after that saga
 * step, as a crash there would, so a test can show the sweeper settling what is left.
 */
function crashHookFromEnv(): PlaceOrderSagaOptions['afterStep'] {
  const crashAfter = process.env.ORDERS_TEST_CRASH_AFTER;
  if (!crashAfter) return undefined;
  return (step) => {
    if (step === crashAfter) process.kill(process.pid, 'SIGKILL');
  };
}

export const ordersSubgraph: SubgraphDefinition<typeof ordersConfigSchema, OrderLoaders> = {
  name: 'orders',
  packageDir: join(__dirname, '..'),
  configSchema: ordersConfigSchema,
  envBindings: {
    PRODUCTS_INTERNAL_URL: 'products.internalUrl',
    PLACE_ORDER_LIMIT_REDIS_URL: 'placeOrderLimit.redisUrl',
    ORDERS_SWEEP_INTERVAL_MS: 'saga.sweepIntervalMs',
    ORDERS_SWEEP_GRACE_MS: 'saga.graceMs',
  },
  seed: seedOrders,
  wire(db, config, { batchSizes, cursors, logger }) {
    const store = createOrderStore(db);
    const products = createProductsClient({
      baseUrl: config.products.internalUrl,
      timeoutMs: config.products.timeoutMs,
      signingSecret: config.identity.signingSecret,
    });
    const placeOrderLimit = createPlaceOrderLimit(config.placeOrderLimit);
    const saga = createPlaceOrderSaga(store, products, { afterStep: crashHookFromEnv() });
    const sweeper = startSweeper(saga, { intervalMs: config.saga.sweepIntervalMs, graceMs: config.saga.graceMs, logger });
    return {
      resolvers: createOrderResolvers(store, products, saga, placeOrderLimit, cursors('User.orders')),
      createLoaders: () => createOrderLoaders(store, batchSizes),
      close: async () => {
        await sweeper.stop();
        await Promise.all([products.close(), placeOrderLimit.close()]);
      },
    };
  },
};

export const startOrders = (overrides: Record<string, unknown> = {}) => startSubgraph(ordersSubgraph, overrides);

if (require.main === module) runMain('orders', () => startOrders());
