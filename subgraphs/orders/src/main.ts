import { join } from 'node:path';
import {
  createLogger,
  loadSubgraphConfig,
  openSubgraphDatabase,
  runMain,
  runSubgraph,
  subgraphConfigSchema,
  type RunningSubgraph,
} from '@switchyard/service-kit';
import { z } from 'zod';
import { createOrderLoaders } from './loaders';
import { createProductsClient } from './products-client';
import { createOrderResolvers } from './resolvers';
import { seedOrders } from './seed';
import { createOrderStore } from './store';

const packageDir = join(__dirname, '..');
const configSchema = subgraphConfigSchema('orders', 4003).extend({
  products: z
    .object({
      internalUrl: z.string().url().default('http://127.0.0.1:4002'),
      timeoutMs: z.coerce.number().int().positive().default(5000),
    })
    .strict()
    .default({}),
});

export async function startOrders(overrides: Record<string, unknown> = {}): Promise<RunningSubgraph> {
  const config = loadSubgraphConfig(configSchema, 'orders', overrides, { PRODUCTS_INTERNAL_URL: 'products.internalUrl' });
  const logger = createLogger('orders', config.logLevel);
  const db = await openSubgraphDatabase(config, packageDir, seedOrders, logger);
  const store = createOrderStore(db);
  const products = createProductsClient({ baseUrl: config.products.internalUrl, timeoutMs: config.products.timeoutMs });
  const subgraph = await runSubgraph({
    name: 'orders',
    packageDir,
    config,
    logger,
    db,
    resolvers: createOrderResolvers(store, products),
    createLoaders: () => createOrderLoaders(store),
  });
  return {
    ...subgraph,
    async close() {
      await subgraph.close();
      await products.close();
    },
  };
}

if (require.main === module) runMain('orders', () => startOrders());
