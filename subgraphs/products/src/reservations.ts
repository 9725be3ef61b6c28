import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, parseJsonBody, readBody, sendJson, type Route } from '@switchyard/service-kit';
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

async function readRequest<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(parseJsonBody(await readBody(req, 64 * 1024)));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HttpError(400, `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}

export function reservationRoutes(store: ProductStore): Route[] {
  return [
    {
      method: 'POST',
      path: '/internal/reservations',
      handle: async (req: IncomingMessage, res: ServerResponse) => {
        const { orderId, items } = await readRequest(req, reserveRequest);
        try {
          sendJson(res, 200, { orderId, lines: await store.reserve(orderId, items) });
        } catch (err) {
          if (!(err instanceof ReservationRefused)) throw err;
          sendJson(res, err.reason === 'OUT_OF_STOCK' ? 409 : 422, {
            error: { code: err.reason, productId: err.productId, available: err.available, message: err.message },
          });
        }
      },
    },
    {
      method: 'POST',
      path: '/internal/reservations/release',
      handle: async (req: IncomingMessage, res: ServerResponse) => {
        const { orderId } = await readRequest(req, releaseRequest);
        sendJson(res, 200, { orderId, released: await store.release(orderId) });
      },
    },
  ];
}
