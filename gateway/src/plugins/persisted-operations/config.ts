import { booleanFromEnv, commaList } from '@switchyard/service-kit';
import { z } from 'zod';

/** persisted_queries: Apollo Router's keys for persisted query lists (manifests) and the safelist. */
export const persistedQueriesConfigSchema = z
  .object({
    enabled: booleanFromEnv.default(false).describe('Serve the operations of local_manifests by id (extensions.persistedQuery.sha256Hash). env PERSISTED_QUERIES'),
    log_unknown: booleanFromEnv.default(false).describe('Log and record every operation that is not in the manifests (without safelist: what it would refuse).'),
    safelist: z
      .object({
        enabled: booleanFromEnv.default(false).describe('Refuse every operation not in the manifests with PERSISTED_QUERY_NOT_IN_LIST. env PERSISTED_QUERIES_SAFELIST'),
        require_id: booleanFromEnv.default(false).describe('Refuse operation bodies, even listed ones: clients send ids only (PERSISTED_QUERY_ID_REQUIRED).'),
      })
      .strict()
      .default({}),
    local_manifests: commaList(z.array(z.string().min(1)))
      .default([])
      .describe('Apollo persisted query manifests (version 1), relative to the working directory. env PERSISTED_QUERIES_MANIFESTS (comma list)'),
  })
  .strict()
  .refine((pq) => !pq.safelist.enabled || (pq.enabled && pq.local_manifests.length > 0), {
    message: 'needs persisted_queries.enabled and at least one of local_manifests',
    path: ['safelist', 'enabled'],
  })
  .default({});

export type PersistedQueriesConfig = z.infer<typeof persistedQueriesConfigSchema>;

export const persistedQueriesEnvBindings = {
  PERSISTED_QUERIES: 'persisted_queries.enabled',
  PERSISTED_QUERIES_SAFELIST: 'persisted_queries.safelist.enabled',
  PERSISTED_QUERIES_MANIFESTS: 'persisted_queries.local_manifests',
  APQ: 'apq.enabled',
};

/** apq: automatic persisted queries (Apollo Router's keys): clients send a hash, and the text once when it is unknown. */
export const apqConfigSchema = z
  .object({
    enabled: booleanFromEnv.default(true).describe('Register operations by hash on first use (Apollo Client\'s persisted-queries link). env APQ'),
    router: z
      .object({
        cache: z
          .object({
            in_memory: z
              .object({ limit: z.coerce.number().int().positive().default(512).describe('Operations kept; the least recently used go first.') })
              .strict()
              .default({}),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
  })
  .strict()
  .default({});

export type ApqConfig = z.infer<typeof apqConfigSchema>;
