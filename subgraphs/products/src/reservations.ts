import type { FastifyInstance } from 'fastify';
import { HttpError } from '@switchyard/service-kit';
import { z } from 'zod';
import { ReservationRefused, type ProductStore } from './store';

/**
 * The internal API the orders subgraph calls to take and give back stock. It is not part of the graph:
 * the mesh lets only the orders service account reach these paths.
 */
const reserveRequest = z.object({
  orderId: z.string().min(1).max(100),
  items: z
    .array(z.object({ productId: z.string().min(1).max(100), quantity: z.number().int().min(1).max(10_000) }))
    .min(1)
    .max(100)
    .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, 'each productId may appear once'),
});

const releaseRequest = z.object({ orderId: z.string().min(1).max(100) });

function parseRequest<T>(body: unknown, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HttpError(400, `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}

const INTERNAL_BODY_LIMIT = 64 * 1024;

export function registerReservationRoutes(app: FastifyInstance, store: ProductStore): void {
  app.post('/internal/reservations', { bodyLimit: INTERNAL_BODY_LIMIT }, async (request, reply) => {
    const { orderId, items } = parseRequest(request.body, reserveRequest);
    try {
      return { orderId, lines: await store.reserve(orderId, items) };
    } catch (err) {
      if (!(err instanceof ReservationRefused)) throw err;
      return reply.code(err.reason === 'OUT_OF_STOCK' ? 409 : 422).send({
        error: { code: err.reason, productId: err.productId, available: err.available, message: err.message },
      });
    }
  });
  app.post('/internal/reservations/release', { bodyLimit: INTERNAL_BODY_LIMIT }, async (request) => {
    const { orderId } = parseRequest(request.body, releaseRequest);
    return { orderId, released: await store.release(orderId) };
  });
}
