import { loaderById, type RecordBatch } from '@switchyard/service-kit';
import type { ProductStore } from './store';

export function createProductLoaders(store: ProductStore, batchSizes?: (loader: string) => RecordBatch) {
  return { productById: loaderById(store.productsByIds, batchSizes?.('productById')) };
}

export type ProductLoaders = ReturnType<typeof createProductLoaders>;
