import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import { ApolloGateway, type GatewayConfig, type GraphQLDataSource } from '@apollo/gateway';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Logger } from '@switchyard/service-kit';
import type { RequestContext } from '../context';
import { ObservedQueryPlanCache, type QueryPlanCacheObserver } from './query-plan-cache';
import { runPrePlanningStages, type ChangedOperation, type PrePlanningStage } from './pre-planning';
import type { ActiveSupergraph } from './supergraph';
import type { SupergraphManager } from './supergraph-manager';

/*
 * Apollo Server 5 calls gateways through v2 of @apollo/server-gateway-interface, a copy nested under
 * @apollo/server; ApolloGateway 2.14 implements v1 (a bare import of the package from here resolves to
 * that v1 copy too). So the v2 types are taken from the option Apollo Server declares. The two majors
 * differ only in which majors of @apollo/utils.logger, .keyvaluecache and .fetcher type the request
 * context's logger, cache and headers, and those agree structurally, so `forApolloGateway` below passes
 * a v2 context where v1 is expected with no cast: if a future major breaks that, it stops compiling there.
 */
type ServerGateway = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type ServerLoadResult = Awaited<ReturnType<ServerGateway['load']>>;
type ServerExecutor = NonNullable<ServerLoadResult['executor']>;
type ServerRequestContext = Parameters<ServerExecutor>[0];
type ServerExecutionResult = Awaited<ReturnType<ServerExecutor>>;
type SchemaListener = Parameters<ServerGateway['onSchemaLoadOrUpdate']>[0];
type ApolloGatewayExecutor = Awaited<ReturnType<ApolloGateway['load']>>['executor'];
type ApolloGatewayRequestContext = Parameters<ApolloGatewayExecutor>[0];

/** One supergraph version as served: its own ApolloGateway, planner and plan cache. */
interface ServedSupergraph {
  supergraph: ActiveSupergraph;
  gateway: ApolloGateway;
  executor: ApolloGatewayExecutor;
  apiSchema: GraphQLSchema;
  planCache: ObservedQueryPlanCache;
  inFlight: number;
  retired: boolean;
}

export interface SupergraphGatewayOptions {
  supergraphs: SupergraphManager;
  /** The transport for one subgraph, at the URL the gateway calls it on. */
  dataSourceFor: (subgraph: string, url: string) => GraphQLDataSource<RequestContext>;
  logger: Logger;
  stages: readonly PrePlanningStage[];
  anonymousTelemetry: boolean;
  /** Told of every query-plan cache lookup; each supergraph version has its own cache. */
  planCacheObserver?: QueryPlanCacheObserver;
}

const UNOBSERVED: QueryPlanCacheObserver = { hit: () => undefined, miss: () => undefined };

/**
 * The gateway Apollo Server runs: planning and execution by ApolloGateway, one instance per supergraph
 * version, with the pre-planning stages in front of the planner.
 *
 * ApolloGateway's own hot reload (`supergraphSdl: ({ update }) => ...`) swaps the planner under requests
 * already in flight: its executor reads the current schema and planner when called, and again after an
 * await inside it, so an operation Apollo Server validated against the old schema could be planned on the
 * new one. Here Apollo Server's per-request `schema` (the API schema it validated the operation against)
 * selects the version that made it, so every request is planned and executed on the schema it started with.
 */
export class SupergraphGateway implements ServerGateway {
  private readonly listeners = new Set<SchemaListener>();
  private readonly servedBySchema = new WeakMap<GraphQLSchema, ServedSupergraph>();
  /** Versions not yet stopped: the current one and retired ones with requests still in flight. */
  private readonly running = new Set<ServedSupergraph>();
  private current?: ServedSupergraph;

  constructor(private readonly options: SupergraphGatewayOptions) {}

  /** Plans cached for the supergraph new requests get. */
  planCacheSize(): number {
    return this.current?.planCache.size ?? 0;
  }

  onSchemaLoadOrUpdate(listener: SchemaListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async load(): Promise<ServerLoadResult> {
    await this.options.supergraphs.start(async (next) => {
      const served = await this.serve(next);
      return () => {
        const previous = this.current;
        this.current = served;
        this.servedBySchema.set(served.apiSchema, served);
        this.notify(served);
        if (previous) this.retire(previous);
      };
    });
    return { executor: this.execute };
  }

  async stop(): Promise<void> {
    await this.options.supergraphs.close();
    await Promise.all([...this.running].map((served) => this.stopServed(served)));
  }

  private readonly execute: ServerExecutor = async (requestContext) => {
    try {
      return await this.planAndExecute(requestContext);
    } catch (err) {
      if (err instanceof GraphQLError) throw err;
      // Apollo Server would wrap this in a GraphQLError carrying its message, which formatError lets through.
      this.options.logger.error({
        requestId: requestContext.context.requestId,
        error: (err as Error)?.stack ?? String(err),
      }, 'planning or execution failed');
      throw new GraphQLError('internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    }
  };

  private async planAndExecute(requestContext: ServerRequestContext): Promise<ServerExecutionResult> {
    const served = this.servedBySchema.get(requestContext.schema);
    if (!served) throw new Error('the operation was validated against a schema this gateway never served');
    const { context } = requestContext;
    if (!isRequestContext(context)) throw new Error('Apollo Server passed a context that is not a RequestContext');
    served.inFlight += 1;
    try {
      const outcome = await runPrePlanningStages(this.options.stages, {
        document: requestContext.document,
        operationName: requestContext.operationName,
        variables: requestContext.request.variables ?? {},
        queryHash: requestContext.queryHash,
        apiSchema: served.apiSchema,
        context,
        supergraph: served.supergraph,
      });
      if (outcome.kind === 'refused') return { errors: outcome.errors };
      if (outcome.kind === 'unchanged') return await served.executor(requestContext);
      const result = await served.executor(forApolloGateway(requestContext, outcome.operation));
      for (const complete of outcome.completions) complete(result);
      return result;
    } finally {
      served.inFlight -= 1;
      if (served.retired && served.inFlight === 0) void this.stopServed(served);
    }
  }

  private async serve(supergraph: ActiveSupergraph): Promise<ServedSupergraph> {
    // ApolloGateway's constructor reads this, and unless it is set starts an exporter that probes cloud
    // metadata endpoints and sends hourly usage metrics to Apollo. Apollo Server does not read it.
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
    const served = { supergraph, gateway, executor: loaded.executor, apiSchema: loaded.schema, planCache, inFlight: 0, retired: false };
    this.running.add(served);
    return served;
  }

  private notify(served: ServedSupergraph): void {
    for (const listener of this.listeners) {
      try {
        listener({ apiSchema: served.apiSchema, coreSupergraphSdl: served.supergraph.sdl });
      } catch (err) {
        this.options.logger.error({ error: (err as Error).message }, 'a schema listener failed');
      }
    }
  }

  /** A replaced version keeps serving the requests that started on it and stops after the last one. */
  private retire(served: ServedSupergraph): void {
    served.retired = true;
    if (served.inFlight === 0) void this.stopServed(served);
  }

  private async stopServed(served: ServedSupergraph): Promise<void> {
    this.running.delete(served);
    try {
      // Only disposes what ApolloGateway started (the telemetry exporter); its executor never checks
      // whether it was stopped, so a request validated before a swap that reaches it afterwards still runs.
      await served.gateway.stop();
    } catch (err) {
      this.options.logger.warn({ error: (err as Error).message }, 'stopping a replaced gateway failed');
    }
  }
}

/** Apollo Server hands gateways the context typed as a record; ours is the RequestContext the HTTP stage made. */
function isRequestContext(context: Record<string, any>): context is RequestContext {
  return typeof context.requestId === 'string';
}

/** The request context ApolloGateway plans and executes with, carrying the changed operation and its plan-cache key. */
function forApolloGateway(requestContext: ServerRequestContext, changed: ChangedOperation): ApolloGatewayRequestContext {
  return { ...requestContext, document: changed.document, operation: changed.operation, source: changed.source, queryHash: changed.queryHash };
}
