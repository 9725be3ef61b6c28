import type { Logger } from '@switchyard/service-kit';
import type { GraphQLDataSource } from '@apollo/gateway';
import type { RequestContext } from '../context';
import type { ExecutionConfig } from './config';
import type { PrePlanningStage } from './pre-planning';
import type { QueryPlanCacheObserver } from './query-plan-cache';
import type { SubgraphEndpoint } from './supergraph';
import { SupergraphGateway } from './supergraph-gateway';
import { SupergraphManager } from './supergraph-manager';

export type { SubgraphEndpoint } from './supergraph';

export interface Execution {
  /** For `new ApolloServer({ gateway })`; Apollo Server loads and stops it. */
  gateway: SupergraphGateway;
  /** The supergraph file: `status()` for readiness, `active` for the version new requests get. */
  supergraph: SupergraphManager;
  /** Every subgraph of the active supergraph with the URL the gateway calls (after overrides). */
  readonly subgraphs: SubgraphEndpoint[];
}

/**
 * Planning and execution: Apollo Gateway on a supergraph file, with the pre-planning stages in front of
 * the planner. The file is read and checked here, so a missing or broken supergraph stops the gateway
 * at start instead of serving errors; ApolloGateway itself is loaded by Apollo Server's start().
 */
export function createExecution(
  config: ExecutionConfig,
  /** The transport for one subgraph, at the URL the gateway calls it on. */
  dataSourceFor: (subgraph: string, url: string) => GraphQLDataSource<RequestContext>,
  logger: Logger,
  stages: readonly PrePlanningStage[] = [],
  planCacheObserver?: QueryPlanCacheObserver,
): Execution {
  const supergraph = new SupergraphManager({
    path: config.supergraphPath,
    subgraphUrls: config.subgraphUrls,
    hotReload: config.hotReload,
    check: config.checkSupergraph,
    logger,
  });
  const gateway = new SupergraphGateway({ supergraphs: supergraph, dataSourceFor, logger, stages, anonymousTelemetry: config.anonymousTelemetry, planCacheObserver });
  return {
    gateway,
    supergraph,
    get subgraphs() {
      return supergraph.active.subgraphs;
    },
  };
}
