import { join } from 'node:path';
import { booleanFromEnv, httpUrl, type EnvBindings } from '@switchyard/service-kit';
import { z } from 'zod';
import { graphqlPath } from '../http/config';
import type { ActiveSupergraph } from './supergraph';

/** The supergraph shipped beside the gateway package, found from src/ and dist/ alike. */
const BUNDLED_SUPERGRAPH = join(__dirname, '..', '..', 'supergraph.graphql');

/** supergraph.schema_path and hot_reload: the schema half of the `supergraph` section. */
export const executionSupergraphKeys = z.object({
  schema_path: z
    .string()
    .min(1)
    .optional()
    // A transform rather than .default(), so the JSON Schema does not carry this machine's absolute path.
    .transform((path) => path ?? BUNDLED_SUPERGRAPH)
    .describe('The composed supergraph; relative paths resolve from the working directory. Default: gateway/supergraph.graphql. env SUPERGRAPH_PATH; CLI --supergraph'),
  hot_reload: booleanFromEnv.default(true).describe('Reload the supergraph when the file changes.'),
  executor: z
    .enum(['switchyard', 'apollo'])
    .default('switchyard')
    .describe("Who runs Apollo's query plans: switchyard (our executor, proven against Apollo's by a differential test) or apollo (@apollo/gateway's own). Planning is Apollo's either way. env SUPERGRAPH_EXECUTOR"),
});

export const overrideSubgraphUrlSchema = z
  .record(z.string().min(1), httpUrl)
  .default({})
  .describe('Routing URL per subgraph name, replacing the one in the supergraph. env SUBGRAPH_<NAME>_URL');

/**
 * contracts: each a variant of the supergraph (composed from contracts.yaml by `npm run compose`) served
 * on its own path by the same gateway, with the same plugins: authorization, limits and rate limits.
 */
export const contractsConfigSchema = z
  .record(
    z.string().regex(/^[a-z][a-z0-9_-]*$/, 'a contract name is lower-case letters, digits, - and _'),
    z
      .object({
        path: graphqlPath.describe('Where the contract is served, e.g. /public/graphql.'),
        schema_path: z.string().min(1).describe("The contract's supergraph, as `npm run compose` writes it (gateway/contracts/<name>.graphql); relative paths resolve from the working directory."),
      })
      .strict(),
  )
  .default({})
  .describe('Contracts served beside the supergraph, by name. None by default. env CONTRACT_<NAME>_PATH, CONTRACT_<NAME>_SCHEMA_PATH');

/**
 * SUBGRAPH_<NAME>_URL routes subgraph <name>, and CONTRACT_<NAME>_PATH / CONTRACT_<NAME>_SCHEMA_PATH serve
 * contract <name> (names lower-cased): which names exist depends on the environment.
 */
export function executionEnvBindings(env: NodeJS.ProcessEnv): EnvBindings {
  const bindings: EnvBindings = { SUPERGRAPH_PATH: 'supergraph.schema_path', SUPERGRAPH_EXECUTOR: 'supergraph.executor' };
  for (const name of Object.keys(env)) {
    const subgraph = /^SUBGRAPH_([A-Z0-9_]+)_URL$/.exec(name);
    if (subgraph) bindings[name] = `override_subgraph_url.${subgraph[1]!.toLowerCase()}`;
    // SCHEMA_PATH first: CONTRACT_PUBLIC_SCHEMA_PATH also ends in _PATH.
    const contract = /^CONTRACT_([A-Z0-9_]+?)_(SCHEMA_PATH|PATH)$/.exec(name);
    if (contract) bindings[name] = `contracts.${contract[1]!.toLowerCase()}.${contract[2]!.toLowerCase()}`;
  }
  return bindings;
}

export type PlanExecutorName = 'switchyard' | 'apollo';

/** What the planning and execution stage is given, mapped from the sections above by pipeline.ts. */
export interface ExecutionConfig {
  /** The composed supergraph file; relative paths are resolved from the working directory. */
  supergraphPath: string;
  /** Per-subgraph routing URL overrides, keyed by subgraph name as in the supergraph. */
  subgraphUrls: Record<string, string>;
  /** Watch the supergraph file and serve each valid new version without a restart. */
  hotReload: boolean;
  /** Who runs the query plans Apollo's planner makes: our executor (the default) or ApolloGateway's own. */
  executor?: PlanExecutorName;
  /** Let ApolloGateway report anonymous usage metrics to Apollo; off unless asked for. */
  anonymousTelemetry: boolean;
  /** Contracts, each served from its own supergraph file with the same checks, URLs and hot reload. */
  contracts?: { name: string; supergraphPath: string }[];
  /** Throws for a supergraph the rest of the config cannot serve safely; see SupergraphManagerOptions.check. */
  checkSupergraph?: (supergraph: ActiveSupergraph) => void;
}
