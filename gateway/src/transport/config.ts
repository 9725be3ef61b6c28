import { z } from 'zod';

export const transportConfigSchema = z
  .object({
    /** Whole-request deadline for one subgraph fetch. */
    timeoutMs: z.coerce.number().int().positive().default(10_000),
    /** Keep-alive connections per subgraph origin. */
    connectionsPerSubgraph: z.coerce.number().int().positive().default(64),
    keepAliveTimeoutMs: z.coerce.number().int().positive().default(30_000),
  })
  .strict()
  .default({});

export type TransportConfig = z.infer<typeof transportConfigSchema>;
