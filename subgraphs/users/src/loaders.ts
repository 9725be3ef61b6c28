import { loaderById, type RecordBatch } from '@switchyard/service-kit';
import type { UserStore } from './store';

export function createUserLoaders(store: UserStore, batchSizes?: (loader: string) => RecordBatch) {
  return { userById: loaderById(store.usersByIds, batchSizes?.('userById')) };
}

export type UserLoaders = ReturnType<typeof createUserLoaders>;
