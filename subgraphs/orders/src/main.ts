import { join } from 'node:path';
import { runMain, startSubgraph, subgraphConfigSchema, type SubgraphDefinition } from '@switchyard/service-kit';
import { z } from 'zod';
import { createOrderLoaders, type OrderLoaders } from './loaders';
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
});

export const ordersSubgraph: SubgraphDefinition<typeof ordersConfigSchema, OrderLoaders> = {
  name: 'orders',
  packageDir: join(__dirname, '..'),
  configSchema: ordersConfigSchema,
  envBindings: { PRODUCTS_INTERNAL_URL: 'products.internalUrl' },
  seed: seedOrders,
  wire(db, config) {
    const store = createOrderStore(db);
    const products = createProductsClient({ baseUrl: config.products.internalUrl, timeoutMs: config.products.timeoutMs });
    return {
      resolvers: createOrderResolvers(store, products),
      createLoaders: () => createOrderLoaders(store),
      close: () => products.close(),
    };
  },
};

export const startOrders = (overrides: Record<string, unknown> = {}) => startSubgraph(ordersSubgraph, overrides);

if (require.main === module) runMain('orders', () => startOrders());
