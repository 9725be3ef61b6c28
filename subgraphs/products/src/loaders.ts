import DataLoader from 'dataloader';
import type { ProductRow, ProductStore } from './store';

export function createProductLoaders(store: ProductStore) {
  return {
    productById: new DataLoader<string, ProductRow | null>(async (ids) => {
      const rows = await store.productsByIds(ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}

export type ProductLoaders = ReturnType<typeof createProductLoaders>;
