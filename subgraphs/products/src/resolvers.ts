import { pageSize, toPage, type CursorCodec, type SubgraphContext } from '@switchyard/service-kit';
import type { ProductLoaders } from './loaders';
import type { ProductStore } from './store';

type Context = SubgraphContext<ProductLoaders>;

export function createProductResolvers(store: ProductStore, cursors: CursorCodec) {
  return {
    Query: {
      product: (_: unknown, args: { id: string }, ctx: Context) => ctx.loaders.productById.load(args.id),
      products: async (
        _: unknown,
        args: { first?: number | null; after?: string | null; search?: string | null },
        ctx: Context,
      ) => {
        const first = pageSize(args.first);
        const search = args.search?.trim() || null;
        const rows = await store.listProducts(first + 1, cursors.decode(args.after), search);
        for (const row of rows) ctx.loaders.productById.prime(row.id, row);
        return toPage(rows, first, (r) => r.id, cursors);
      },
    },
    Product: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.productById.load(ref.id),
    },
  };
}
