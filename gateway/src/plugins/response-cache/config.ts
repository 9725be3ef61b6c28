import { booleanFromEnv, byteSize, duration, type EnvBindings } from '@switchyard/service-kit';
import { z } from 'zod';
import { cacheInvalidationConfigSchema } from '../cache-invalidation/config';

/**
 * response_cache (Switchyard's key; Router's `preview_response_cache` is the nearest): whole query answers
 * kept for as long as the Cache-Control merged over their subgraph answers allows, keyed by supergraph
 * version, operation, coerced variables and, for private answers, the principal. Off by default; npm
 * start turns it on in memory and the k8s base on Redis.
 */
export const responseCacheConfigSchema = z
  .object({
    enabled: booleanFromEnv.default(false).describe('Answer repeated queries from the cache. env RESPONSE_CACHE'),
    store: z.enum(['memory', 'redis']).default('memory').describe('memory: per replica, bounded by memory.max_bytes; redis: shared by every replica. env RESPONSE_CACHE_STORE'),
    memory: z
      .object({ max_bytes: byteSize.pipe(z.number().int().positive()).default('64MiB').describe('The least recently used answers go first beyond this size.') })
      .strict()
      .default({}),
    redis: z
      .object({
        url: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379').describe('env REDIS_URL (shared with rate_limit.redis.url)'),
        timeout: duration.pipe(z.number().positive()).default('100ms').describe('Longest a lookup waits for Redis; after it the query is executed as a miss.'),
        key_prefix: z.string().default('switchyard:cache:').describe('Prefix of the Redis keys: one string per answer, one set per tag.'),
      })
      .strict()
      .default({}),
    max_ttl: duration.pipe(z.number().positive()).default('1h').describe('No answer is kept longer, whatever its max-age.'),
    max_entry_bytes: byteSize.pipe(z.number().int().positive()).default('1MiB').describe('Larger answers are not kept.'),
    private: booleanFromEnv.default(true).describe('Keep private answers, each for its principal (user or API key, with its scopes) alone; anonymous callers\' private answers are never kept.'),
    cache_tag: z
      .object({
        enabled: booleanFromEnv.default(false).describe('Send the answer\'s tags (its types and Type:id keys) in a header, for a CDN to purge by.'),
        header: z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be an HTTP header name').default('cache-tag').describe('Cloudflare and Fastly read Cache-Tag / Surrogate-Key.'),
      })
      .strict()
      .default({}),
    invalidation: cacheInvalidationConfigSchema,
  })
  .strict()
  .default({});

export type ResponseCacheConfig = z.infer<typeof responseCacheConfigSchema>;

export const responseCacheEnvBindings: EnvBindings = {
  RESPONSE_CACHE: 'response_cache.enabled',
  RESPONSE_CACHE_STORE: 'response_cache.store',
  RESPONSE_CACHE_INVALIDATION: 'response_cache.invalidation.enabled',
  RESPONSE_CACHE_INVALIDATION_TOKEN: 'response_cache.invalidation.token',
};
