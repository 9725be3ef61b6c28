import { booleanFromEnv } from '@switchyard/service-kit';
import { z } from 'zod';

/**
 * response_cache.invalidation: one endpoint on the operators' listener that drops what both caches keep
 * (the response cache's answers and the entity cache's entities) by type, by entity key or by tag.
 */
export const cacheInvalidationConfigSchema = z
  .object({
    enabled: booleanFromEnv.default(false).describe('Serve POST <path> on health_check.listen, which must be set; it invalidates the response cache and the entity cache alike. env RESPONSE_CACHE_INVALIDATION'),
    path: z.string().regex(/^\/[\w\-./]*$/, 'must be a path starting with /').default('/invalidation'),
    token: z.string().min(32, 'must be at least 32 characters').nullish().describe('Bearer token a caller must present. env RESPONSE_CACHE_INVALIDATION_TOKEN, never in a committed file.'),
  })
  .strict()
  .refine((invalidation) => !invalidation.enabled || !!invalidation.token, { message: 'needs a token (env RESPONSE_CACHE_INVALIDATION_TOKEN): the endpoint is never served unauthenticated', path: ['token'] })
  .default({});

export type CacheInvalidationConfig = z.infer<typeof cacheInvalidationConfigSchema>;
