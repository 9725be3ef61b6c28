import type { SubgraphTools } from '@switchyard/service-kit';
import { z } from 'zod';

/**
 * cacheInvalidation: the gateway's cache invalidation endpoint (response_cache.invalidation on its
 * operators' listener) and its bearer token. Off while no URL is set.
 */
export const cacheInvalidationConfigSchema = z
  .object({
    url: z.string().url().optional(),
    token: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Past this the call is dropped: a cached product then lives out its max-age, never longer. */
    timeoutMs: z.coerce.number().int().positive().default(1000),
  })
  .strict()
  .refine((config) => !config.url || !!config.token, { message: 'needs a token (env CACHE_INVALIDATION_TOKEN): the gateway refuses calls without one', path: ['token'] })
  .default({});

export type CacheInvalidationConfig = z.infer<typeof cacheInvalidationConfigSchema>;

export const cacheInvalidationEnvBindings = {
  CACHE_INVALIDATION_URL: 'cacheInvalidation.url',
  CACHE_INVALIDATION_TOKEN: 'cacheInvalidation.token',
  CACHE_INVALIDATION_TIMEOUT_MS: 'cacheInvalidation.timeoutMs',
};

export interface CacheInvalidator {
  /** After a commit that changed these products' stock: tells the gateway, in the background. */
  productsChanged(productIds: readonly string[]): void;
  /** Waits for the calls in flight (each bounded by the timeout). */
  close(): Promise<void>;
}

/**
 * Tells the gateway which products an order changed, so its caches (response and entity) drop what they
 * hold about them: one `{"type": "Product", "key": "<id>"}` per distinct product of a change (the endpoint
 * takes one at a time), all at once. Never part of the order: the caller does not wait, a failure or a
 * timeout is logged and counted, and what it was to drop expires with its max-age as it would have.
 */
export function createCacheInvalidator(config: CacheInvalidationConfig, tools: Pick<SubgraphTools, 'logger' | 'meter'>): CacheInvalidator | undefined {
  const { url, token, timeoutMs } = config;
  if (!url || !token) return undefined;
  const { logger } = tools;
  const calls = tools.meter.createCounter('products.cache_invalidations', {
    description: 'Products the gateway was told to drop from its caches after their stock changed, by outcome (ok, failed).',
  });
  const inFlight = new Set<Promise<void>>();

  async function invalidate(productId: string): Promise<void> {
    try {
      const res = await fetch(url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ type: 'Product', key: productId }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`the gateway answered ${res.status}`);
      calls.add(1, { outcome: 'ok' });
    } catch (err) {
      calls.add(1, { outcome: 'failed' });
      logger.warn({ productId, error: (err as Error).message }, 'cache invalidation failed: the product stays cached until its max-age passes');
    }
  }

  return {
    productsChanged(productIds) {
      for (const productId of new Set(productIds)) {
        const call = invalidate(productId).finally(() => inFlight.delete(call));
        inFlight.add(call);
      }
    },
    async close() {
      await Promise.all(inFlight);
    },
  };
}
