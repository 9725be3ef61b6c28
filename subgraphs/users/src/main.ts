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
import { createUserLoaders } from './loaders';
import { createUserResolvers } from './resolvers';
import { seedUsers } from './seed';
import { createUserStore } from './store';

const packageDir = join(__dirname, '..');
const configSchema = subgraphConfigSchema('users', 4001);

export async function startUsers(overrides: Record<string, unknown> = {}): Promise<RunningSubgraph> {
  const config = loadSubgraphConfig(configSchema, 'users', overrides);
  const logger = createLogger('users', config.logLevel);
  const db = await openSubgraphDatabase(config, packageDir, seedUsers, logger);
  const store = createUserStore(db);
  return runSubgraph({
    name: 'users',
    packageDir,
    config,
    logger,
    db,
    resolvers: createUserResolvers(store),
    createLoaders: () => createUserLoaders(store),
  });
}

if (require.main === module) runMain('users', () => startUsers());
