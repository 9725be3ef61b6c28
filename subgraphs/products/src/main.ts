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
import { createProductLoaders } from './loaders';
import { reservationRoutes } from './reservations';
import { createProductResolvers } from './resolvers';
import { seedProducts } from './seed';
import { createProductStore } from './store';

const packageDir = join(__dirname, '..');
const configSchema = subgraphConfigSchema('products', 4002);

export async function startProducts(overrides: Record<string, unknown> = {}): Promise<RunningSubgraph> {
  const config = loadSubgraphConfig(configSchema, 'products', overrides);
  const logger = createLogger('products', config.logLevel);
  const db = await openSubgraphDatabase(config, packageDir, seedProducts, logger);
  const store = createProductStore(db);
  return runSubgraph({
    name: 'products',
    packageDir,
    config,
    logger,
    db,
    resolvers: createProductResolvers(store),
    createLoaders: () => createProductLoaders(store),
    routes: reservationRoutes(store),
  });
}

if (require.main === module) runMain('products', () => startProducts());
