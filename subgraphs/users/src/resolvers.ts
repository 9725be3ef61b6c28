import { DateTime, pageSize, toPage, type CursorCodec, type SubgraphContext } from '@switchyard/service-kit';
import type { UserLoaders } from './loaders';
import type { UserStore } from './store';

type Context = SubgraphContext<UserLoaders>;

export function createUserResolvers(store: UserStore, cursors: CursorCodec) {
  return {
    DateTime,
    Query: {
      me: (_: unknown, __: unknown, ctx: Context) => (ctx.principal.kind === 'user' ? ctx.loaders.userById.load(ctx.principal.id) : null),
      user: (_: unknown, args: { id: string }, ctx: Context) => ctx.loaders.userById.load(args.id),
      users: async (_: unknown, args: { first?: number | null; after?: string | null }, ctx: Context) => {
        const first = pageSize(args.first);
        const rows = await store.listUsers(first + 1, cursors.decode(args.after));
        for (const row of rows) ctx.loaders.userById.prime(row.id, row);
        return toPage(rows, first, (r) => r.id, cursors);
      },
    },
    User: {
      __resolveReference: (ref: { id: string }, ctx: Context) => ctx.loaders.userById.load(ref.id),
      // The same value as the deprecated name until the store keeps them apart.
      displayName: (user: { name: string }) => user.name,
      // Ownership, which the schema's directives cannot express: your own email, or anyone's with users:read.
      email: (user: { id: string; email: string }, _: unknown, ctx: Context) =>
        (ctx.principal.kind === 'user' && ctx.principal.id === user.id) || ctx.principal.scopes.includes('users:read') ? user.email : null,
    },
  };
}
