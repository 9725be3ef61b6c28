import { booleanFromEnv, duration, integer, type EnvBindings } from '@switchyard/service-kit';
import { z } from 'zod';

const positive = integer({ min: 1 });

const classSchema = z
  .object({
    requests: positive.describe('Requests per window.'),
    cost: positive.describe('Estimated cost (demand control\'s static estimate) per window, charged with each request.'),
    window: duration.pipe(z.number().positive()).default('1m').describe('The window both budgets refill over.'),
  })
  .strict();

export type RateLimitClassConfig = z.infer<typeof classSchema>;

/**
 * rate_limit: per-client request and cost budgets (Router has no per-client limit; these are our keys).
 * Off by default so a bare gateway runs as before; switchyard.example.yaml and the prod overlay turn it on.
 */
export const rateLimitConfigSchema = z
  .object({
    enabled: booleanFromEnv.default(false).describe('Limit each client\'s requests and estimated cost. env RATE_LIMIT'),
    store: z.enum(['memory', 'redis']).default('memory').describe('memory: per replica, zero setup; redis: shared by every replica. env RATE_LIMIT_STORE'),
    redis: z
      .object({
        url: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').default('redis://127.0.0.1:6379').describe('env REDIS_URL'),
        timeout: duration.pipe(z.number().positive()).default('100ms').describe('Longest a charge waits for Redis before the on_unavailable policy applies.'),
        key_prefix: z.string().default('switchyard:ratelimit:').describe('Prefix of the Redis keys, one hash per client and class.'),
        on_unavailable: z
          .enum(['fail_open', 'fail_closed'])
          .default('fail_open')
          .describe('While Redis does not answer: fail_open limits on this replica\'s memory; fail_closed refuses with 503 RATE_LIMIT_UNAVAILABLE.'),
      })
      .strict()
      .default({}),
    trusted_proxy_hops: integer({ min: 0 })
      .default(0)
      .describe('Proxies in front of the gateway that append to X-Forwarded-For (the mesh ingress); anonymous clients are keyed by the address that many hops back. 0 ignores the header. env RATE_LIMIT_TRUSTED_PROXY_HOPS'),
    classes: z
      .record(z.string().min(1), classSchema)
      .refine((classes) => Object.hasOwn(classes, 'anonymous') && Object.hasOwn(classes, 'user'), 'must define the anonymous and user classes')
      .default({ anonymous: { requests: 60, cost: 50_000 }, user: { requests: 600, cost: 500_000 } })
      .describe('Budgets by class: anonymous (keyed by client IP), user (keyed by user id), and any named in scope_classes.'),
    scope_classes: z
      .record(z.string().min(1), z.string().min(1))
      .default({})
      .describe('Scope -> class: a principal with this scope (an API key\'s, say) is limited by that class instead of user.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const [scope, name] of Object.entries(config.scope_classes)) {
      if (!Object.hasOwn(config.classes, name)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['scope_classes', scope], message: `names no class in rate_limit.classes (it has ${Object.keys(config.classes).join(', ')})` });
      }
    }
  })
  .default({});

export type RateLimitConfig = z.infer<typeof rateLimitConfigSchema>;

export const rateLimitEnvBindings: EnvBindings = {
  RATE_LIMIT: 'rate_limit.enabled',
  RATE_LIMIT_STORE: 'rate_limit.store',
  REDIS_URL: 'rate_limit.redis.url',
  RATE_LIMIT_TRUSTED_PROXY_HOPS: 'rate_limit.trusted_proxy_hops',
};
