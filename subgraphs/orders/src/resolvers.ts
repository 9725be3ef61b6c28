import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import { DateTime, badInput, pageSize, toPage, type CursorCodec, type SubgraphContext } from '@switchyard/service-kit';
import type { OrderLoaders } from './loaders';
import type { PlaceOrderLimit } from './place-order-limit';
import { unavailable, type PlaceOrderSaga } from './place-order-saga';
import { ProductsUnavailable, type ProductsClient } from './products-client';
import type { OrderItemRow, OrderPosition, OrderRow, OrderStore } from './store';

type Context = SubgraphContext<OrderLoaders>;

const MAX_LINES = 50;
const MAX_QUANTITY = 1000;

const positionKey = (o: OrderRow) => `${o.createdAt.toISOString()}|${o.id}`;

function decodePosition(cursors: CursorCodec, cursor: string | null | undefined): OrderPosition | null {
  const key = cursors.decode(cursor);
  if (key === null) return null;
  const split = key.indexOf('|');
  const createdAt = new Date(key.slice(0, split));
  if (split < 0 || Number.isNaN(createdAt.getTime())) throw badInput('after is not a valid cursor');
  return { createdAt, id: key.slice(split + 1) };
}

/** Lets support staff and back-office clients read anyone's orders; everyone else sees only their own. */
export const READ_ANY_ORDER_SCOPE = 'orders:read:any';

/** Ownership, which the schema's directives cannot express: whether the caller may see this user's orders. */
function seesOrdersOf(ctx: Context, userId: string): boolean {
  return (ctx.principal.kind === 'user' && ctx.principal.id === userId) || ctx.principal.scopes.includes(READ_ANY_ORDER_SCOPE);
}

/** Another user's order is null, exactly like a missing one, so ids cannot be probed. */
async function visibleOrder(ctx: Context, id: string): Promise<OrderRow | null> {
  const row = await ctx.loaders.orderById.load(id);
  return row && seesOrdersOf(ctx, row.userId) ? row : null;
}

function requireUser(ctx: Context): string {
  if (ctx.principal.kind !== 'user') throw new GraphQLError('sign in to manage orders', { extensions: { code: 'UNAUTHENTICATED' } });
  return ctx.principal.id;
}

/** Validates order lines and merges repeats of one product, so each product is reserved once. */
export function normaliseLines(items: { productId: string; quantity: number }[]): { productId: string; quantity: number }[] {
  if (items.length < 1 || items.length > MAX_LINES) throw badInput(`an order has between 1 and ${MAX_LINES} lines`);
  const merged = new Map<string, number>();
  for (const { productId, quantity } of items) {
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
      throw badInput(`quantity must be between 1 and ${MAX_QUANTITY}`, { productId });
    }
    merged.set(productId, (merged.get(productId) ?? 0) + quantity);
  }
  for (const [productId, quantity] of merged) {
    if (quantity > MAX_QUANTITY) throw badInput(`quantity must be between 1 and ${MAX_QUANTITY}`, { productId });
  }
  return [...merged].map(([productId, quantity]) => ({ productId, quantity }));
}

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * The key a placeOrder names: its idempotencyKey argument, or the Idempotency-Key header, which HTTP
 * clients and proxies send on their own (the gateway forwards it to orders with a header rule). Both may
 * be sent; when they differ the request is refused rather than one silently chosen.
 */
function idempotencyKeyOf(argument: string | null | undefined, header: string | string[] | undefined): string | null {
  // Sent twice, Node joins the values: never a key the client meant.
  const fromHeader = Array.isArray(header) ? header.join(', ') : header;
  if (argument !== null && argument !== undefined && fromHeader !== undefined && argument !== fromHeader) {
    throw badInput('the idempotencyKey argument and the Idempotency-Key header differ: send one key, or the same in both');
  }
  const key = argument ?? fromHeader;
  if (key === null || key === undefined) return null;
  if (key.length < 1 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw badInput(`an idempotency key (idempotencyKey or the Idempotency-Key header) must be between 1 and ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  return key;
}

export function createOrderResolvers(
  store: OrderStore,
  products: ProductsClient,
  saga: PlaceOrderSaga,
  placeOrderLimit: PlaceOrderLimit,
  cursors: CursorCodec,
) {
  return {
    DateTime,
    Query: {
      order: (_: unknown, args: { id: string }, ctx: Context) => visibleOrder(ctx, args.id),
    },
    Mutation: {
      placeOrder: async (
        _: unknown,
        args: { input: { items: { productId: string; quantity: number }[] }; idempotencyKey?: string | null },
        ctx: Context,
        info: GraphQLResolveInfo,
      ) => {
        const userId = requireUser(ctx);
        const idempotencyKey = idempotencyKeyOf(args.idempotencyKey, ctx.headers['idempotency-key']);
        await placeOrderLimit.check(userId, args, info);
        return saga.place(userId, normaliseLines(args.input.items), idempotencyKey);
      },
      cancelOrder: async (_: unknown, args: { id: string }, ctx: Context) => {
        const userId = requireUser(ctx);
        const existing = await ctx.loaders.orderById.load(args.id);
        // Someone else's order is reported exactly like a missing one, so ids cannot be probed.
        if (!existing || existing.userId !== userId) {
          throw new GraphQLError(`order ${args.id} not found`, { extensions: { code: 'NOT_FOUND' } });
        }
        try {
          return (await store.cancelOrder(args.id, async () => void (await products.release(args.id))))!;
        } catch (err) {
          if (err instanceof ProductsUnavailable) throw unavailable();
          throw err;
        }
      },
    },
    Order: {
      __resolveReference: (ref: { id: string }, ctx: Context) => visibleOrder(ctx, ref.id),
      user: (order: OrderRow) => ({ __typename: 'User', id: order.userId }),
      items: (order: OrderRow, _: unknown, ctx: Context) => ctx.loaders.itemsByOrderId.load(order.id),
    },
    OrderItem: {
      product: (item: OrderItemRow) => ({ __typename: 'Product', id: item.productId }),
    },
    User: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      orders: async (user: { id: string }, args: { first?: number | null; after?: string | null }, ctx: Context) => {
        const first = pageSize(args.first, 10);
        // Another user's orders are an empty page rather than null: the field is non-null, and null would
        // erase the whole User (its name included) for a caller who may see that.
        if (!seesOrdersOf(ctx, user.id)) return toPage([], first, positionKey, cursors);
        const rows = await ctx.loaders.ordersByUser.load({ userId: user.id, limit: first + 1, after: decodePosition(cursors, args.after) });
        for (const row of rows) ctx.loaders.orderById.prime(row.id, row);
        return toPage(rows, first, positionKey, cursors);
      },
    },
  };
}
