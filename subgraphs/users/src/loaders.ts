import { loaderById } from '@switchyard/service-kit';
import type { UserStore } from './store';

export function createUserLoaders(store: UserStore) {
  return { userById: loaderById(store.usersByIds) };
}

export type UserLoaders = ReturnType<typeof createUserLoaders>;
