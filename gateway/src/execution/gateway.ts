import type { Logger } from '@switchyard/service-kit';
import type { GraphQLDataSource } from '@apollo/gateway';
import type { RequestContext } from '../core/context';
import type { ExecutionConfig } from './config';
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
): Execution {
  const supergraph = new SupergraphManager({
    path: config.supergraphPath,
    subgraphUrls: config.subgraphUrls,
    hotReload: config.hotReload,
    check: config.checkSupergraph,
    logger,
  });
  const gateway = new SupergraphGateway({ supergraphs: supergraph, dataSourceFor, logger, anonymousTelemetry: config.anonymousTelemetry, planCacheObserver });
  return {
    gateway,
    supergraph,
    get subgraphs() {
      return supergraph.active.subgraphs;
    },
  };
}
