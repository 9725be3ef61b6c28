import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError, type Logger } from '@switchyard/service-kit';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { GatewayPlugin } from '../../core/plugin';
import type { CacheInvalidationConfig } from './config';

/** What the invalidation endpoint takes: a type, one entity of a type (by its id), or any tag. */
const invalidationRequest = z.union([
  z.object({ type: z.string().min(1).max(256), key: z.string().min(1).max(1024).optional() }).strict(),
  z.object({ tag: z.string().min(1).max(1024) }).strict(),
]);

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * POST <path> on the operators' listener, with the bearer token: one invalidation for every cache the
 * gateway runs (each plugin with an `invalidate` hook: the response cache, the entity cache). `{type}`
 * drops everything of a type, `{type, key}` the entity whose id is key (tag `Type:key`), `{tag}` any
 * tag; the answer says how many entries went, over all caches. Not served when no cache is on.
 */
export function useCacheInvalidation(config: CacheInvalidationConfig, services: { logger: Logger; caches: readonly GatewayPlugin[] }): GatewayPlugin | undefined {
  const caches = services.caches.filter((plugin) => plugin.invalidate);
  if (!config.enabled || !config.token || caches.length === 0) return undefined;
  const tokenDigest = digest(config.token);
  return {
    name: 'cache_invalidation',
    stage: 'http',
    adminRoutes(app: FastifyInstance) {
      app.post(config.path, async (request) => {
        const presented = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
        if (!presented || !timingSafeEqual(digest(presented), tokenDigest)) {
          throw new HttpError(401, 'a valid bearer token is required to invalidate the response cache', 'UNAUTHENTICATED');
        }
        const parsed = invalidationRequest.safeParse(request.body);
        if (!parsed.success) throw new HttpError(400, 'expected {"type": "Product"}, {"type": "Product", "key": "<id>"} or {"tag": "<tag>"}', 'BAD_REQUEST');
        const body = parsed.data;
        const tag = 'tag' in body ? body.tag : body.key !== undefined ? `${body.type}:${body.key}` : body.type;
        const dropped = await Promise.all(caches.map((cache) => cache.invalidate!([tag])));
        const invalidated = dropped.reduce((sum, n) => sum + n, 0);
        services.logger.info({ tag, invalidated, caches: Object.fromEntries(caches.map((cache, i) => [cache.name, dropped[i]])) }, 'caches invalidated');
        return { invalidated };
      });
    },
  };
}
