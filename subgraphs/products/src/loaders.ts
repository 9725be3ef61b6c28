import { loaderById } from '@switchyard/service-kit';
import type { ProductStore } from './store';

export function createProductLoaders(store: ProductStore) {
  return { productById: loaderById(store.productsByIds) };
}

export type ProductLoaders = ReturnType<typeof createProductLoaders>;
