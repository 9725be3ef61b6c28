import type { Logger } from '@switchyard/service-kit';
import type { GraphQLDataSource } from '@apollo/gateway';
import type { RequestContext } from '../core/context';
import type { ExecutionConfig } from './config';
import type { ProgressiveOverride } from './progressive-override';
import type { QueryPlanCacheObserver } from './query-plan-cache';
import type { SubgraphEndpoint } from './supergraph';
import { SupergraphGateway } from './supergraph-gateway';
import { SupergraphManager } from './supergraph-manager';

export type { SubgraphEndpoint } from './supergraph';

export interface Execution {
  /** Plans and executes on the supergraph version an operation was validated against. */
  gateway: SupergraphGateway;
  /** The supergraph file: `status()` for readiness, `active` for the version new requests get. */
  supergraph: SupergraphManager;
  /** Every subgraph of the active supergraph with the URL the gateway calls (after overrides). */
  readonly subgraphs: SubgraphEndpoint[];
  /** Each contract's own planning and execution, by name, on its own supergraph file. */
  contracts: ReadonlyMap<string, { gateway: SupergraphGateway; supergraph: SupergraphManager }>;
  /** The full supergraph's gateway, or a contract's. */
  gatewayFor(contract: string | undefined): SupergraphGateway;
}

/**
 * Planning and execution: Apollo Gateway on a supergraph file. The file is read and checked at start,
 * so a missing or broken supergraph stops the gateway instead of serving errors.
 */
export function createExecution(
  config: ExecutionConfig,
  /** The transport for one subgraph, at the URL the gateway calls it on. */
  dataSourceFor: (subgraph: string, url: string) => GraphQLDataSource<RequestContext>,
  logger: Logger,
  planCacheObserver?: QueryPlanCacheObserver,
  overrides?: ProgressiveOverride,
): Execution {
  const served = (path: string) => {
    const supergraph = new SupergraphManager({ path, subgraphUrls: config.subgraphUrls, hotReload: config.hotReload, check: config.checkSupergraph, logger });
    const gateway = new SupergraphGateway({ supergraphs: supergraph, dataSourceFor, logger, anonymousTelemetry: config.anonymousTelemetry, executor: config.executor, planCacheObserver, overrides });
    return { supergraph, gateway };
  };
  const { supergraph, gateway } = served(config.supergraphPath);
  const contracts = new Map(
    (config.contracts ?? []).map((c) => {
      try {
        return [c.name, served(c.supergraphPath)];
      } catch (err) {
        // The manager names the supergraph's keys; say which contract's file it was.
        throw new Error(`contracts.${c.name}.schema_path: ${(err as Error).message}`);
      }
    }),
  );
  return {
    gateway,
    supergraph,
    get subgraphs() {
      return supergraph.active.subgraphs;
    },
    contracts,
    gatewayFor(contract) {
      if (contract === undefined) return gateway;
      const found = contracts.get(contract);
      if (!found) throw new Error(`no contract named ${contract}`);
      return found.gateway;
    },
  };
}
