import { booleanFromEnv, duration, integer } from '@switchyard/service-kit';
import { z } from 'zod';

/**
 * traffic_shaping.all.circuit_breaker, with Hive Router's keys; traffic_shaping.subgraphs.<name>.circuit_breaker
 * takes the same keys and replaces only those it sets. Off by default, as in Hive Router.
 */
export const circuitBreakerConfigSchema = z
  .object({
    enabled: booleanFromEnv.default(false).describe('Stop calling a subgraph that keeps failing: an open breaker answers at once with SUBGRAPH_CIRCUIT_BREAKER_REJECTED. env CIRCUIT_BREAKER'),
    error_threshold: z.number().gt(0).max(1).default(0.5).describe('Share of failed fetches among the last volume_threshold that opens the breaker.'),
    volume_threshold: integer({ min: 1 }).default(10).describe('Fetches the share is taken over: until that many outcomes are in, the breaker stays closed.'),
    reset_timeout: duration.pipe(z.number().positive()).default('10s').describe('How long an open breaker rejects before it lets trial fetches through (half-open).'),
    half_open_attempts: integer({ min: 1 }).default(3).describe('Trial fetches let through when half-open: as many successes close it, one failure opens it again.'),
    error_status_codes: z
      .array(integer({ min: 100, max: 599 }))
      .default([500, 502, 503, 504])
      .describe('HTTP statuses that count as failures, besides getting no answer (a timeout, a refused or reset connection, a body that is not JSON).'),
  })
  .strict();

export const circuitBreakerOverrideSchema = circuitBreakerConfigSchema.partial();

export type CircuitBreakerConfig = z.infer<typeof circuitBreakerConfigSchema>;
export type CircuitBreakerOverride = z.infer<typeof circuitBreakerOverrideSchema>;
