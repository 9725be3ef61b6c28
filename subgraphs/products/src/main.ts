import './instrument';
import { join } from 'node:path';
import { runMain, startSubgraph, subgraphConfigSchema, type SubgraphDefinition } from '@switchyard/service-kit';
import { createProductLoaders, type ProductLoaders } from './loaders';
import { registerReservationRoutes } from './reservations';
import { createProductResolvers } from './resolvers';
import { seedProducts } from './seed';
import { createProductStore } from './store';

const configSchema = subgraphConfigSchema('products', 4002);

export const productsSubgraph: SubgraphDefinition<typeof configSchema, ProductLoaders> = {
  name: 'products',
  packageDir: join(__dirname, '..'),
  configSchema,
  seed: seedProducts,
  wire(db, _config, { batchSizes, cursors }) {
    const store = createProductStore(db);
    return {
      resolvers: createProductResolvers(store, cursors('Query.products')),
      createLoaders: () => createProductLoaders(store, batchSizes),
      registerRoutes: (app, callerOf) => registerReservationRoutes(app, store, callerOf),
    };
  },
};

export const startProducts = (overrides: Record<string, unknown> = {}) => startSubgraph(productsSubgraph, overrides);

if (require.main === module) runMain('products', () => startProducts());
