import { booleanFromEnv, type EnvBindings } from '@switchyard/service-kit';
import { z } from 'zod';

/** What a subgraph's failure means for the operation that needed it. */
export const criticalitySchema = z.enum(['optional', 'critical']);
export type Criticality = z.infer<typeof criticalitySchema>;

/**
 * include_subgraph_errors, Apollo Router's key: whether the errors a subgraph answers with reach the client
 * as it wrote them. Masked (the default), the client gets the error's code, its path and the subgraph's
 * name, and the log gets the message. Trust is per subgraph, not per code: a subgraph chooses its codes,
 * so BAD_USER_INPUT says nothing about whether its message is fit for a client.
 */
export const includeSubgraphErrorsConfigSchema = z
  .object({
    all: booleanFromEnv.default(false).describe('Pass every subgraph\'s errors to clients unmasked.'),
    subgraphs: z
      .record(z.string().min(1), booleanFromEnv)
      .default({})
      .describe('Per subgraph, replaces `all`: true passes its errors unmasked (ours, whose messages are written for clients), false masks them. env INCLUDE_SUBGRAPH_ERRORS (comma list of names)'),
  })
  .strict()
  .default({});

export type IncludeSubgraphErrorsConfig = z.infer<typeof includeSubgraphErrorsConfigSchema>;

const names = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

export const subgraphErrorsEnvBindings: EnvBindings = {
  INCLUDE_SUBGRAPH_ERRORS: (text) => Object.fromEntries(names(text).map((name) => [`include_subgraph_errors.subgraphs.${name}`, true])),
  CRITICAL_SUBGRAPHS: (text) => Object.fromEntries(names(text).map((name) => [`traffic_shaping.subgraphs.${name}.criticality`, 'critical'])),
};
