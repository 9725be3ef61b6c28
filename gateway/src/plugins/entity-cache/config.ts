import { booleanFromEnv, byteSize, duration, type EnvBindings } from '@switchyard/service-kit';
import { z } from 'zod';

const subgraphEntityCacheSchema = z
  .object({
    enabled: booleanFromEnv.default(true).describe("Cache this subgraph's entities (when entity_cache.enabled)."),
    ttl: duration.pipe(z.number().positive()).nullish().describe("Caps this subgraph's entries instead of max_ttl; no entry outlives its own max-age either."),
  })
  .strict();

/**
 * entity_cache (Router's `preview_entity_cache`): the entities of `_entities` fetches, each kept per
 * subgraph, type, representation and selection for the max-age of the subgraph answer's Cache-Control,
 * so a product fetched for one query serves every query that reaches it. Off by default; npm start turns
 * it on in memory and the k8s base on Redis. Invalidated by the response cache's endpoint.
 */
export const entityCacheConfigSchema = z
  .object({
    enabled: booleanFromEnv.default(false).describe('Answer entity fetches from the cache, sending subgraphs only the entities it lacks. env ENTITY_CACHE'),
    store: z.enum(['memory', 'redis']).default('memory').describe('memory: per replica, bounded by memory.max_bytes; redis: shared by every replica. env ENTITY_CACHE_STORE'),
    memory: z
      .object({ max_bytes: byteSize.pipe(z.number().int().positive()).default('64MiB').describe('The least recently used entities go first beyond this size.') })
      .strict()
      .default({}),
    redis: z
      .object({
        url: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').nullish().describe('env REDIS_URL (shared with rate_limit and response_cache)'),
        timeout: duration.pipe(z.number().positive()).default('100ms').describe('Longest a lookup waits for Redis; after it every entity is fetched as a miss.'),
        key_prefix: z.string().default('switchyard:entity:').describe('Prefix of the Redis keys: one string per entity, one set per tag.'),
      })
      .strict()
      .default({}),
    max_ttl: duration.pipe(z.number().positive()).default('1h').describe('No entity is kept longer, whatever its max-age.'),
    private: booleanFromEnv.default(true).describe("Keep private entities, each for its principal (user or API key, with its scopes) alone; anonymous callers' private entities are never kept."),
    subgraphs: z.record(z.string(), subgraphEntityCacheSchema).default({}).describe('Per subgraph, by name: enabled, ttl.'),
  })
  .strict()
  .refine((cache) => cache.store !== 'redis' || !!cache.redis.url, { message: 'needs a URL (env REDIS_URL) when store is redis', path: ['redis', 'url'] })
  .default({});

export type EntityCacheConfig = z.infer<typeof entityCacheConfigSchema>;

export const entityCacheEnvBindings: EnvBindings = {
  ENTITY_CACHE: 'entity_cache.enabled',
  ENTITY_CACHE_STORE: 'entity_cache.store',
};
