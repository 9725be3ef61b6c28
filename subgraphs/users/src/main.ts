import './instrument';
import { join } from 'node:path';
import { runMain, startSubgraph, subgraphConfigSchema, type SubgraphDefinition } from '@switchyard/service-kit';
import { createUserLoaders, type UserLoaders } from './loaders';
import { createUserResolvers } from './resolvers';
import { seedUsers } from './seed';
import { createUserStore } from './store';

const configSchema = subgraphConfigSchema('users', 4001);

export const usersSubgraph: SubgraphDefinition<typeof configSchema, UserLoaders> = {
  name: 'users',
  packageDir: join(__dirname, '..'),
  configSchema,
  seed: seedUsers,
  wire(db, _config, { batchSizes, cursors }) {
    const store = createUserStore(db);
    return { resolvers: createUserResolvers(store, cursors('Query.users')), createLoaders: () => createUserLoaders(store, batchSizes) };
  },
};

export const startUsers = (overrides: Record<string, unknown> = {}) => startSubgraph(usersSubgraph, overrides);

if (require.main === module) runMain('users', () => startUsers());
