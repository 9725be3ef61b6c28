import DataLoader from 'dataloader';
import type { UserRow, UserStore } from './store';

export function createUserLoaders(store: UserStore) {
  return {
    userById: new DataLoader<string, UserRow | null>(async (ids) => {
      const rows = await store.usersByIds(ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}

export type UserLoaders = ReturnType<typeof createUserLoaders>;
