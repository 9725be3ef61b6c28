import { join } from 'node:path';
import { z } from 'zod';

export const executionConfigSchema = z
  .object({
    /** The composed supergraph; relative paths are resolved from the working directory. Ours by default. */
    supergraphPath: z.string().min(1).default(join(__dirname, '..', '..', 'supergraph.graphql')),
    /** Per-subgraph routing URL overrides, keyed by subgraph name as in supergraph.yaml. */
    subgraphUrls: z.record(z.string(), z.string().url()).default({}),
  })
  .strict()
  .default({});

export type ExecutionConfig = z.infer<typeof executionConfigSchema>;
