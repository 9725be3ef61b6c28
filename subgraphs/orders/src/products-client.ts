import { randomUUID } from 'node:crypto';
import { signSubgraphRequest, type Caller } from '@switchyard/service-kit';
import { Agent, errors, request } from 'undici';

export interface ReservedLine {
  productId: string;
  quantity: number;
  unitPriceCents: number;
  currency: string;
}

/** The products service said no: the order cannot be placed as asked. */
export class ReservationRefused extends Error {
  constructor(
    readonly code: 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT',
    readonly productId: string,
    readonly available: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The products service could not be reached or failed: nothing can be said about the reservation. */
export class ProductsUnavailable extends Error {}

export interface ProductsClientOptions {
  baseUrl: string;
  timeoutMs: number;
  /** The identity signing secret: products answers only calls signed as the orders service. */
  signingSecret: string;
}

/** Who the reservation calls are from: this service, on its own behalf (no user's scopes travel with them). */
const ORDERS_SERVICE: Caller = { kind: 'service', id: 'orders', scopes: [] };

/**
 * Client for the products service's internal reservation API. Reserve, confirm and release are idempotent per
 * order id on the products side, which is what makes a retry after a dropped connection safe.
 */
export function createProductsClient(options: ProductsClientOptions) {
  const agent = new Agent({ keepAliveTimeout: 30_000, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });

  async function post(path: string, payload: unknown): Promise<{ status: number; json: any }> {
    const body = JSON.stringify(payload);
    const headers = {
      'content-type': 'application/json',
      ...signSubgraphRequest({ secret: options.signingSecret, principal: ORDERS_SERVICE, requestId: randomUUID(), subgraph: 'products', body }),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await request(new URL(path, options.baseUrl), {
          method: 'POST',
          dispatcher: agent,
          headers,
          body,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        return { status: res.statusCode, json: await res.body.json() };
      } catch (err) {
        const retryable = err instanceof errors.SocketError || (err as NodeJS.ErrnoException).code === 'ECONNRESET';
        if (retryable && attempt < 2) continue;
        throw new ProductsUnavailable(`products service unreachable: ${(err as Error).message}`);
      }
    }
  }

  return {
    async reserve(orderId: string, items: { productId: string; quantity: number }[]): Promise<ReservedLine[]> {
      const { status, json } = await post('/internal/reservations', { orderId, items });
      if (status === 200) return json.lines as ReservedLine[];
      if (status === 409 || status === 422) {
        throw new ReservationRefused(json.error.code, json.error.productId, json.error.available, json.error.message);
      }
      throw new ProductsUnavailable(`products service answered ${status} to a reservation`);
    },
    /** Marks the order's reserved stock sold; false when there was no reservation left to confirm. */
    async confirm(orderId: string): Promise<boolean> {
      const { status, json } = await post('/internal/reservations/confirm', { orderId });
      if (status !== 200) throw new ProductsUnavailable(`products service answered ${status} to a confirmation`);
      return json.confirmed as boolean;
    },
    async release(orderId: string): Promise<boolean> {
      const { status, json } = await post('/internal/reservations/release', { orderId });
      if (status !== 200) throw new ProductsUnavailable(`products service answered ${status} to a release`);
      return json.released as boolean;
    },
    close: () => agent.close(),
  };
}

export type ProductsClient = ReturnType<typeof createProductsClient>;
