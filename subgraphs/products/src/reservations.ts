import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, isStorableText, MAX_ARGUMENT_LENGTH, type Caller } from '@switchyard/service-kit';
import { z } from 'zod';
import type { CacheInvalidator } from './cache-invalidation';
import { ReservationRefused, type ProductStore } from './store';

/**
 * The internal API the orders subgraph calls to take and give back stock. It is not part of the graph.
 * Only the orders service may call it: each call carries orders' signed service identity (checked
 * here), and the mesh lets only the orders service account reach these paths as well. Once a change of
 * stock is committed, the gateway's caches are told which products it touched (in the background).
 */

/**
 * Any product id the graph accepts (what a client put in placeOrder, bounded like every argument) is a
 * question this API answers: one that names no product is UNKNOWN_PRODUCT, which orders reports to the
 * client as its mistake. Refusing it as a malformed call instead read to orders as products being broken.
 */
const productId = z.string().max(MAX_ARGUMENT_LENGTH).refine(isStorableText, 'must be text PostgreSQL can store');

const reserveRequest = z.object({
  orderId: z.string().min(1).max(100),
  items: z
    .array(z.object({ productId, quantity: z.number().int().min(1).max(10_000) }))
    .min(1)
    .max(100)
    .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, 'each productId may appear once'),
});

/** Confirm and release name only the order. */
const orderRequest = z.object({ orderId: z.string().min(1).max(100) });

function parseRequest<T>(body: unknown, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HttpError(400, `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}

const INTERNAL_BODY_LIMIT = 64 * 1024;

/** The one service that reserves and releases stock. */
export const RESERVING_SERVICE = 'orders';

export function registerReservationRoutes(
  app: FastifyInstance,
  store: ProductStore,
  callerOf: (request: FastifyRequest) => Caller,
  invalidator?: CacheInvalidator,
): void {
  // A valid signature of anyone else (the gateway's, for a user) is a 403: signed, but not for this API.
  const onlyOrders = async (request: FastifyRequest) => {
    const caller = callerOf(request);
    if (caller.kind !== 'service' || caller.id !== RESERVING_SERVICE) {
      request.log.warn({ kind: caller.kind, id: caller.id }, 'reservation call from a caller other than the orders service');
      throw new HttpError(403, 'only the orders service may reserve or release stock', 'FORBIDDEN');
    }
  };
  app.post('/internal/reservations', { bodyLimit: INTERNAL_BODY_LIMIT, preHandler: onlyOrders }, async (request, reply) => {
    const { orderId, items } = parseRequest(request.body, reserveRequest);
    try {
      const lines = await store.reserve(orderId, items);
      // A replayed reservation (orders retrying) tells again: harmless, and the store need not say which it was.
      invalidator?.productsChanged(lines.map((line) => line.productId));
      return { orderId, lines };
    } catch (err) {
      if (!(err instanceof ReservationRefused)) throw err;
      return reply.code(err.reason === 'OUT_OF_STOCK' ? 409 : 422).send({
        error: { code: err.reason, productId: err.productId, available: err.available, message: err.message },
      });
    }
  });
  // Confirming marks reserved stock sold: no product's stock changes, so there is nothing to invalidate.
  app.post('/internal/reservations/confirm', { bodyLimit: INTERNAL_BODY_LIMIT, preHandler: onlyOrders }, async (request) => {
    const { orderId } = parseRequest(request.body, orderRequest);
    return { orderId, confirmed: await store.confirm(orderId) };
  });
  app.post('/internal/reservations/release', { bodyLimit: INTERNAL_BODY_LIMIT, preHandler: onlyOrders }, async (request) => {
    const { orderId } = parseRequest(request.body, orderRequest);
    const restocked = await store.release(orderId);
    if (restocked) invalidator?.productsChanged(restocked);
    return { orderId, released: restocked !== undefined };
  });
}
