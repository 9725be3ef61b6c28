import { duration, integer } from '@switchyard/service-kit';
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
