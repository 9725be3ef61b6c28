import { duration, IDENTITY_SECRET_MIN_LENGTH, integer } from '@switchyard/service-kit';
import { z } from 'zod';

/** Zero would mean "no timeout" to undici, which a deadline must never silently become. */
const timeout = duration.pipe(z.number().positive());

export const trafficShapingConfigSchema = z
  .object({
    router: z
      .object({ timeout: timeout.default('30s').describe('Whole-request deadline, also the HTTP request timeout.') })
      .strict()
      .default({}),
    all: z
      .object({
        timeout: timeout.default('10s').describe('Deadline of each subgraph fetch.'),
        connections: integer({ min: 1 }).default(64).describe('Keep-alive connection pool size per subgraph origin.'),
        keep_alive_timeout: timeout.default('30s').describe('Idle time before a pooled subgraph connection closes.'),
      })
      .strict()
      .default({}),
    subgraphs: z
      .record(z.string().min(1), z.object({ timeout: timeout.optional().describe('Replaces all.timeout for this subgraph.') }).strict())
      .default({})
      .describe('Per-subgraph overrides of `all`, by subgraph name.'),
  })
  .strict()
  .default({});

export type TrafficShapingConfig = z.infer<typeof trafficShapingConfigSchema>;

/** How the gateway signs the principal it forwards to subgraphs (README "Trust model"). Switchyard only. */
export const subgraphIdentityConfigSchema = z
  .object({
    signing_secret: z
      .string()
      .min(IDENTITY_SECRET_MIN_LENGTH, `must be at least ${IDENTITY_SECRET_MIN_LENGTH} characters`)
      .nullish()
      .describe('Shared with every subgraph; HMAC key of x-switchyard-identity-signature, which every request to a subgraph carries. Without it requests go unsigned, with no principal, which Switchyard subgraphs refuse (for subgraphs that read no identity headers). Set it with env IDENTITY_SIGNING_SECRET, not in a committed file.'),
  })
  .strict()
  .default({});

export const subgraphIdentityEnvBindings = { IDENTITY_SIGNING_SECRET: 'subgraph_identity.signing_secret' };
