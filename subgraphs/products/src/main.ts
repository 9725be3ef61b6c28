import './instrument';
import { join } from 'node:path';
import { runMain, startSubgraph, subgraphConfigSchema, type SubgraphDefinition } from '@switchyard/service-kit';
import { cacheInvalidationConfigSchema, cacheInvalidationEnvBindings, createCacheInvalidator } from './cache-invalidation';
import { createProductLoaders, type ProductLoaders } from './loaders';
import { registerReservationRoutes } from './reservations';
import { createProductResolvers } from './resolvers';
import { seedProducts } from './seed';
import { createProductStore } from './store';

const configSchema = subgraphConfigSchema('products', 4002).extend({ cacheInvalidation: cacheInvalidationConfigSchema });

export const productsSubgraph: SubgraphDefinition<typeof configSchema, ProductLoaders> = {
  name: 'products',
  packageDir: join(__dirname, '..'),
  configSchema,
  envBindings: cacheInvalidationEnvBindings,
  seed: seedProducts,
  wire(db, config, { batchSizes, cursors, logger, meter }) {
    const store = createProductStore(db);
    const invalidator = createCacheInvalidator(config.cacheInvalidation, { logger, meter });
    return {
      resolvers: createProductResolvers(store, cursors('Query.products')),
      createLoaders: () => createProductLoaders(store, batchSizes),
      registerRoutes: (app, callerOf) => registerReservationRoutes(app, store, callerOf, invalidator),
      close: async () => invalidator?.close(),
    };
  },
};

export const startProducts = (overrides: Record<string, unknown> = {}) => startSubgraph(productsSubgraph, overrides);

if (require.main === module) runMain('products', () => startProducts());
