import { ApolloGateway, type GatewayConfig, type GraphQLDataSource } from '@apollo/gateway';
import { GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Logger } from '@switchyard/service-kit';
import type { PlanExecutorName } from './config';
import { createPlanExecutor, type ApolloGatewayExecutor } from './plan-executor/executor';
import type { RequestContext, ResolvedOperation } from '../core/context';
import { OverrideLabels, type ProgressiveOverride, type QueryPlanner } from './progressive-override';
import { ObservedQueryPlanCache, type QueryPlanCacheObserver } from './query-plan-cache';
import type { ActiveSupergraph } from './supergraph';
import type { SupergraphManager } from './supergraph-manager';

type ApolloGatewayRequestContext = Parameters<ApolloGatewayExecutor>[0];

/** One supergraph version as served: its own ApolloGateway, planner and plan cache. */
export interface ServedSupergraph {
  readonly supergraph: ActiveSupergraph;
  readonly apiSchema: GraphQLSchema;
  readonly gateway: ApolloGateway;
  readonly executor: ApolloGatewayExecutor;
  readonly planCache: ObservedQueryPlanCache;
  /** Progressive override's labels, when the supergraph has any. */
  readonly overrides?: OverrideLabels;
  inFlight: number;
  retired: boolean;
}

/** What is planned: the resolved operation, or the document a plugin changed it into with its plan-cache key. */
export interface PlannedOperation {
  operation: ResolvedOperation;
  document: DocumentNode;
  source: string;
  queryHash: string;
}

export interface SupergraphGatewayOptions {
  supergraphs: SupergraphManager;
  /** The transport for one subgraph, at the URL the gateway calls it on. */
  dataSourceFor: (subgraph: string, url: string) => GraphQLDataSource<RequestContext>;
  logger: Logger;
  anonymousTelemetry: boolean;
  /** Who runs the plans: our executor (plan-executor/, the default) or ApolloGateway's own. */
  executor?: PlanExecutorName;
  /** Told of every query-plan cache lookup; each supergraph version has its own cache. */
  planCacheObserver?: QueryPlanCacheObserver;
  /** How `percent(N)` override labels are drawn and reported; Math.random and unreported by default. */
  overrides?: ProgressiveOverride;
}

const UNOBSERVED: QueryPlanCacheObserver = { hit: () => undefined, miss: () => undefined };

/**
 * Planning by ApolloGateway and execution by it or by our executor (supergraph.executor), one instance per
 * supergraph version. The core validates an operation against `current()` and executes it on that same version, so a hot reload never plans an
 * operation on a schema it was not validated against; a replaced version stops after its last request.
 */
export class SupergraphGateway {
  /** Versions not yet stopped: the current one and retired ones with requests still in flight. */
  private readonly running = new Set<ServedSupergraph>();
  private served?: ServedSupergraph;

  constructor(private readonly options: SupergraphGatewayOptions) {}

  /** The version new requests get. */
  current(): ServedSupergraph {
    if (!this.served) throw new Error('the supergraph is not loaded yet');
    return this.served;
  }

  /** Plans cached for the supergraph new requests get. */
  planCacheSize(): number {
    return this.served?.planCache.size ?? 0;
  }

  async start(): Promise<void> {
    await this.options.supergraphs.start(async (next) => {
      const served = await this.serve(next);
      return () => {
        const previous = this.served;
        this.served = served;
        if (previous) this.retire(previous);
      };
    });
  }

  async stop(): Promise<void> {
    await this.options.supergraphs.close();
    await Promise.all([...this.running].map((served) => this.stopServed(served)));
  }

  /** Plans (or finds the plan of) the operation and executes it; variables are the coerced ones. */
  async execute(context: RequestContext, planned: PlannedOperation): Promise<ExecutionResult> {
    const { served } = planned.operation;
    served.inFlight += 1;
    try {
      const run = async (queryHash: string) => (await served.executor(this.requestContextFor(context, { ...planned, queryHash }))) as ExecutionResult;
      return await (served.overrides ? served.overrides.run(planned.document, planned.queryHash, run) : run(planned.queryHash));
    } catch (err) {
      if (err instanceof GraphQLError) return { errors: [err] };
      this.options.logger.error({ requestId: context.requestId, error: (err as Error)?.stack ?? String(err) }, 'planning or execution failed');
      return { errors: [new GraphQLError('internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] };
    } finally {
      served.inFlight -= 1;
      if (served.retired && served.inFlight === 0) void this.stopServed(served);
    }
  }

  /**
   * What ApolloGateway's executor reads: the request (its variables are forwarded to subgraphs and decide
   * @skip/@include, so they are the coerced ones, defaults applied), the document and its hash (the plan
   * cache key), our context for the data sources, and a metrics object it writes into.
   */
  private requestContextFor(context: RequestContext, planned: PlannedOperation): ApolloGatewayRequestContext {
    const { operation } = planned;
    return {
      request: { query: planned.source, operationName: operation.operationName, variables: operation.variables as Record<string, unknown> },
      document: planned.document,
      source: planned.source,
      queryHash: planned.queryHash,
      operationName: operation.operationName ?? null,
      operation: operation.operation,
      schema: operation.served.apiSchema,
      context: context as unknown as Record<string, unknown>,
      logger: context.logger,
      metrics: {},
      cache: undefined as never,
      overallCachePolicy: undefined as never,
    } as unknown as ApolloGatewayRequestContext;
  }

  private async serve(supergraph: ActiveSupergraph): Promise<ServedSupergraph> {
    // ApolloGateway's constructor reads this, and unless it is set starts an exporter that probes cloud
    // metadata endpoints and sends hourly usage metrics to Apollo.
    if (!this.options.anonymousTelemetry) process.env.APOLLO_TELEMETRY_DISABLED = 'true';
    const { dataSourceFor, logger } = this.options;
    const urlOf = new Map(supergraph.subgraphs.map((s) => [s.name, s.url]));
    const planCache = new ObservedQueryPlanCache(this.options.planCacheObserver ?? UNOBSERVED);
    const config: GatewayConfig = {
      supergraphSdl: supergraph.gatewaySdl,
      queryPlannerConfig: { cache: planCache },
      logger: {
        debug: (m) => logger.debug(String(m)),
        info: (m) => logger.info(String(m)),
        warn: (m) => logger.warn(String(m)),
        error: (m) => logger.error(String(m)),
      },
      buildService: ({ name, url }) => dataSourceFor(name, urlOf.get(name) ?? url!),
    };
    const gateway = new ApolloGateway(config);
    let loaded: Awaited<ReturnType<ApolloGateway['load']>>;
    try {
      loaded = await gateway.load();
    } catch (err) {
      throw new Error(`supergraphPath: ApolloGateway refused ${supergraph.path}: ${(err as Error).message}`);
    }
    const labels = new OverrideLabels(supergraph.gatewaySdl, loaded.schema, this.options.overrides ?? { random: Math.random });
    // ApolloGateway keeps its planner private and never gives it labels: the one place to hand them over.
    if (labels.active) labels.attach((gateway as unknown as { queryPlanner: QueryPlanner }).queryPlanner);
    const served: ServedSupergraph = {
      supergraph,
      gateway,
      executor: this.options.executor === 'apollo' ? loaded.executor : createPlanExecutor(gateway, logger),
      apiSchema: loaded.schema,
      planCache,
      ...(labels.active && { overrides: labels }),
      inFlight: 0,
      retired: false,
    };
    this.running.add(served);
    return served;
  }

  /** A replaced version keeps serving the requests that started on it and stops after the last one. */
  private retire(served: ServedSupergraph): void {
    served.retired = true;
    if (served.inFlight === 0) void this.stopServed(served);
  }

  private async stopServed(served: ServedSupergraph): Promise<void> {
    if (!this.running.delete(served)) return;
    try {
      // Only disposes what ApolloGateway started (the telemetry exporter); its executor never checks
      // whether it was stopped, so a request validated before a swap that reaches it afterwards still runs.
      await served.gateway.stop();
    } catch (err) {
      this.options.logger.warn({ error: (err as Error).message }, 'stopping a replaced gateway failed');
    }
  }
}
