import { booleanFromEnv, duration, integer, type EnvBindings } from '@switchyard/service-kit';
import { z } from 'zod';
import { circuitBreakerConfigSchema, circuitBreakerOverrideSchema, type CircuitBreakerConfig } from '../plugins/circuit-breaker/config';
import { criticalitySchema, type Criticality } from '../plugins/subgraph-errors/config';

/** Zero would mean "no timeout" to undici, which a deadline must never silently become. */
const timeout = duration.pipe(z.number().positive());

const retryBudgetSchema = z
  .object({
    ratio: z.number().min(0).max(1).default(0.2).describe('Retries a subgraph may get, as a share of its requests over the window.'),
    window: timeout.default('10s').describe('The sliding window requests and retries are counted over.'),
    min_per_second: z.number().min(0).default(1).describe('Retries allowed on top of the ratio, so a quiet gateway still retries: this many per second of the window.'),
  })
  .strict();

/**
 * traffic_shaping.all.retry: queries only, on no answer (a timeout, a refused or reset connection) or a
 * 502, 503 or 504; full-jitter exponential backoff; Retry-After honoured; never past the request deadline;
 * and within a budget per subgraph, so an outage cannot multiply the load on it. Off by default, as in
 * Apollo Router and Hive Router.
 */
const retrySchema = z
  .object({
    enabled: booleanFromEnv.default(false).describe('Retry a subgraph query that got no answer or a 502, 503 or 504. env SUBGRAPH_RETRY'),
    max_attempts: integer({ min: 1, max: 10 }).default(3).describe('Attempts in all, the first included: 3 is at most two retries.'),
    min_delay: duration.default('20ms').describe('The backoff before the first retry is up to this (full jitter); it doubles with each further one.'),
    max_delay: duration.default('500ms').describe('The backoff never exceeds this; a Retry-After asking for longer means no retry.'),
    retry_mutations: z
      .literal(false)
      .default(false)
      .describe('Mutations are never retried (placeOrder is not idempotent); only false is accepted, so a copied Router config asking for them is refused.'),
    budget: retryBudgetSchema.default({}),
  })
  .strict();

const retryOverrideSchema = retrySchema.omit({ budget: true }).partial().extend({ budget: retryBudgetSchema.partial().optional() }).strict();

export const trafficShapingConfigSchema = z
  .object({
    router: z
      .object({
        timeout: timeout.default('30s').describe('Whole-request deadline, also the HTTP request timeout. env REQUEST_TIMEOUT'),
        dedupe: z
          .object({
            enabled: booleanFromEnv
              .default(true)
              .describe('Identical queries from one caller in flight at once (same operation, variables, principal and headers) share one execution. env OPERATION_DEDUPE'),
          })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
    all: z
      .object({
        timeout: timeout.default('10s').describe('Deadline of each subgraph fetch. env SUBGRAPH_TIMEOUT'),
        connections: integer({ min: 1 }).default(64).describe('Keep-alive connection pool size per subgraph origin.'),
        keep_alive_timeout: timeout.default('30s').describe('Idle time before a pooled subgraph connection closes.'),
        deduplicate_query: booleanFromEnv
          .default(true)
          .describe('Identical queries to a subgraph in flight at once (same body, same principal, same forwarded headers) share one fetch. env SUBGRAPH_DEDUPLICATE_QUERY'),
        retry: retrySchema.default({}),
        circuit_breaker: circuitBreakerConfigSchema.default({}),
        criticality: criticalitySchema
          .default('optional')
          .describe('optional: a failed subgraph\'s fields are null, its errors name it and extensions.degraded lists it; critical: the operation fails with 502 SUBGRAPH_UNAVAILABLE.'),
      })
      .strict()
      .default({}),
    subgraphs: z
      .record(
        z.string().min(1),
        z
          .object({
            timeout: timeout.optional().describe('Replaces all.timeout for this subgraph.'),
            deduplicate_query: z.boolean().optional().describe('Replaces all.deduplicate_query for this subgraph.'),
            retry: retryOverrideSchema.optional().describe('Replaces the keys of all.retry it sets.'),
            circuit_breaker: circuitBreakerOverrideSchema.optional().describe('Replaces the keys of all.circuit_breaker it sets.'),
            criticality: criticalitySchema.optional().describe('Replaces all.criticality. env CRITICAL_SUBGRAPHS (comma list of names)'),
          })
          .strict(),
      )
      .default({})
      .describe('Per-subgraph overrides of `all`, by subgraph name.'),
  })
  .strict()
  .default({});

export type TrafficShapingConfig = z.infer<typeof trafficShapingConfigSchema>;
export type RetryConfig = z.infer<typeof retrySchema>;

export const trafficShapingEnvBindings: EnvBindings = {
  REQUEST_TIMEOUT: 'traffic_shaping.router.timeout',
  SUBGRAPH_TIMEOUT: 'traffic_shaping.all.timeout',
  SUBGRAPH_RETRY: 'traffic_shaping.all.retry.enabled',
  CIRCUIT_BREAKER: 'traffic_shaping.all.circuit_breaker.enabled',
  SUBGRAPH_DEDUPLICATE_QUERY: 'traffic_shaping.all.deduplicate_query',
  OPERATION_DEDUPE: 'traffic_shaping.router.dedupe.enabled',
};

/** What applies to one subgraph: `all`, with the keys its own entry sets replaced. */
export interface SubgraphTrafficSettings {
  timeout: number;
  deduplicateQuery: boolean;
  retry: RetryConfig;
  circuitBreaker: CircuitBreakerConfig;
  criticality: Criticality;
}

export function trafficSettingsFor(config: TrafficShapingConfig, subgraph: string): SubgraphTrafficSettings {
  const own = Object.hasOwn(config.subgraphs, subgraph) ? config.subgraphs[subgraph]! : {};
  return {
    timeout: own.timeout ?? config.all.timeout,
    deduplicateQuery: own.deduplicate_query ?? config.all.deduplicate_query,
    retry: { ...config.all.retry, ...defined(own.retry ?? {}), budget: { ...config.all.retry.budget, ...defined(own.retry?.budget ?? {}) } } as RetryConfig,
    circuitBreaker: { ...config.all.circuit_breaker, ...defined(own.circuit_breaker ?? {}) } as CircuitBreakerConfig,
    criticality: own.criticality ?? config.all.criticality,
  };
}

/** The keys an override sets: a key parsed as undefined must not replace the default. */
function defined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
