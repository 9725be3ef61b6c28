import { join } from 'node:path';
import { z } from 'zod';

/** What the planning and execution stage is configured with. */
export interface ExecutionConfig {
  /** The composed supergraph file; relative paths are resolved from the working directory. */
  supergraphPath: string;
  /** Per-subgraph routing URL overrides, keyed by subgraph name as in the supergraph. */
  subgraphUrls: Record<string, string>;
  /** Watch the supergraph file and serve each valid new version without a restart. */
  hotReload: boolean;
  /** Let ApolloGateway report anonymous usage metrics to Apollo; off unless asked for. */
  anonymousTelemetry: boolean;
}

export const executionConfigSchema = z
  .object({
    supergraphPath: z.string().min(1).default(join(__dirname, '..', '..', 'supergraph.graphql')),
    subgraphUrls: z.record(z.string(), z.string().url()).default({}),
    hotReload: z.boolean().default(false),
    anonymousTelemetry: z.boolean().default(false),
  })
  .strict()
  .default({}) satisfies z.ZodType<ExecutionConfig, z.ZodTypeDef, unknown>;
