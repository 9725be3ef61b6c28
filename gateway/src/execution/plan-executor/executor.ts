import { createHash } from 'node:crypto';
import { buildOperationContext, executeQueryPlan, type ApolloGateway, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import { OpenTelemetryAttributeNames, OpenTelemetrySpanNames, tracer } from '@apollo/gateway/dist/utilities/opentelemetry';
import { operationFromDocument, type Operation, type Schema } from '@apollo/federation-internals';
import type { QueryPlan, QueryPlanner } from '@apollo/query-planner';
import { SpanStatusCode } from '@opentelemetry/api';
import type { Logger } from '@switchyard/service-kit';
import { GraphQLError, Kind, type DocumentNode, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { QueryPlanCache } from '../query-plan-cache';
import { PlanRun, runsHere, type ApolloGatewayExecutor, type IncomingRequestContext } from './plan-run';
import { ResponseShape, UnsupportedOperation } from './response-shape';

export type { ApolloGatewayExecutor } from './plan-run';

/** What of ApolloGateway this executor uses: its private state, read per request as its own executor does. */
interface ApolloGatewayInternals {
  schema: GraphQLSchema;
  apiSchema: Schema;
  supergraphSchema: GraphQLSchema;
  queryPlanStore: QueryPlanCache;
  queryPlanner: QueryPlanner;
  serviceMap: Record<string, { dataSource: GraphQLDataSource }>;
  recursiveSelectionsLimitDisabled: boolean;
  nonLocalSelectionsLimitDisabled: boolean;
  logger: { warn(message: string): void; error(message: string): void };
  config: { telemetry?: Parameters<typeof executeQueryPlan>[6] };
  validateIncomingRequest(requestContext: IncomingRequestContext, operationContext: ReturnType<typeof buildOperationContext>): readonly GraphQLError[];
}

/** An operation as this executor runs it: Apollo's reading of it and its answer's shape. */
interface PreparedOperation {
  operation: Operation;
  shape: ResponseShape;
}

/**
 * Switchyard's query-plan executor in place of ApolloGateway's own (supergraph.executor: switchyard).
 * Everything up to the plan is ApolloGateway's, step for step: the operation context, the variables
 * check, the plan cache and its keys, Apollo's query planner (progressive override's labels included,
 * see progressive-override.ts). The plan is then run by PlanRun and the answer cut by ResponseShape, both
 * with Apollo's semantics (the differential test, differential.test.ts, sends the same operations through
 * both executors and compares whole responses and subgraph requests).
 *
 * Left to Apollo's executeQueryPlan, decided once per plan and once per operation and cached: plans with
 * @defer, subscriptions or contextRewrites (see runsHere), and operations with introspection fields
 * (__schema, __type) or a response key named __proto__; each such decision is logged once (info).
 *
 * Not reproduced: Apollo's federated tracing (ftv1, asked for only when Apollo usage reporting captures
 * traces, which this gateway never enables), its metrics.nonFtv1ErrorPaths (read only by that reporting)
 * and its gateway.request, gateway.execute and gateway.postprocessing spans; the gateway.validate,
 * gateway.plan and gateway.fetch spans are kept. Answers of parallel fetches are handled in the order they
 * arrive, as Apollo's are; only answers arriving within the same tick could be taken in another order.
 */
export function createPlanExecutor(gateway: ApolloGateway, logger: Logger): ApolloGatewayExecutor {
  const apollo = gateway as unknown as ApolloGatewayInternals;
  const leftToApollo = (reason: string) => logger.info({ reason }, "operation left to Apollo's executor");
  const plansRunHere = new WeakMap<QueryPlan, boolean>();
  const prepared = new WeakMap<OperationDefinitionNode, PreparedOperation | null>();

  const prepare = (operationContext: ReturnType<typeof buildOperationContext>): PreparedOperation | null => {
    let found = prepared.get(operationContext.operation);
    if (found !== undefined) return found;
    try {
      // As executeQueryPlan reads it, once per document instead of once per request.
      const operation = operationFromDocument(
        apollo.apiSchema,
        { kind: Kind.DOCUMENT, definitions: [operationContext.operation, ...Object.values(operationContext.fragments)] },
        { validate: false },
      );
      found = { operation, shape: new ResponseShape(operation) };
    } catch (err) {
      // Apollo's executor reports a GraphQLError here the way it always has.
      if (!(err instanceof UnsupportedOperation) && !(err instanceof GraphQLError)) throw err;
      leftToApollo(err.message);
      found = null;
    }
    prepared.set(operationContext.operation, found);
    return found;
  };

  const planFor = async (requestContext: IncomingRequestContext, document: DocumentNode, key: string): Promise<QueryPlan> => {
    const cached = await apollo.queryPlanStore.get(key);
    if (cached) return cached;
    const { operationName } = requestContext.request;
    const plan = tracer.startActiveSpan(OpenTelemetrySpanNames.PLAN, requestContext.operationName ? { attributes: { [OpenTelemetryAttributeNames.GRAPHQL_OPERATION_NAME]: requestContext.operationName } } : {}, (span) => {
      try {
        const operation = operationFromDocument(apollo.apiSchema, document, { operationName: operationName ?? undefined });
        return apollo.queryPlanner.buildQueryPlan(operation, {
          recursiveSelectionsLimitDisabled: apollo.recursiveSelectionsLimitDisabled,
          nonLocalSelectionsLimitDisabled: apollo.nonLocalSelectionsLimitDisabled,
        });
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    });
    try {
      await apollo.queryPlanStore.set(key, plan);
    } catch (err) {
      apollo.logger.warn('Could not store queryPlan' + ((err as Error)?.message || err));
    }
    return plan;
  };

  return async (requestContext) => {
    const { request, document, queryHash } = requestContext;
    const key = request.operationName ? createHash('sha256').update(queryHash).update(request.operationName).digest('hex') : queryHash;
    const operationContext = buildOperationContext({ schema: apollo.schema, operationDocument: document, operationName: request.operationName });
    const validationErrors = apollo.validateIncomingRequest(requestContext, operationContext);
    if (validationErrors.length > 0) return { errors: validationErrors };
    const plan = await planFor(requestContext, document, key);
    const serviceMap: ServiceMap = Object.create(null);
    for (const [name, { dataSource }] of Object.entries(apollo.serviceMap)) serviceMap[name] = dataSource;

    let runHere = plansRunHere.get(plan);
    if (runHere === undefined) {
      plansRunHere.set(plan, (runHere = runsHere(plan)));
      if (!runHere) leftToApollo('the plan has @defer, a subscription or contextRewrites');
    }
    const operation = runHere ? prepare(operationContext) : null;
    if (!operation) return executeQueryPlan(plan, serviceMap, requestContext, operationContext, apollo.supergraphSchema, apollo.apiSchema, apollo.config.telemetry);
    return run(plan, operation, { serviceMap, supergraphSchema: apollo.supergraphSchema, operation: operation.operation, requestContext }, apollo.logger);
  };
}

/** The plan's fetches, then the answer, reported as executeQueryPlan reports it. */
async function run(plan: QueryPlan, { shape }: PreparedOperation, environment: ConstructorParameters<typeof PlanRun>[0], logger: ApolloGatewayInternals['logger']): Promise<ExecutionResult> {
  const planRun = new PlanRun(environment);
  if (plan.node) await planRun.run(plan.node as Parameters<PlanRun['run']>[0], [], planRun.data);
  let shaped: ReturnType<ResponseShape['shape']>;
  try {
    shaped = shape.shape(planRun.data, shape.variablesFor(environment.requestContext.request.variables));
  } catch (error) {
    if (error instanceof GraphQLError) return { errors: [error] };
    if (error instanceof Error) return { errors: [new GraphQLError(error.message, { originalError: error })] };
    logger.error('Unexpected error during query plan execution: ' + error);
    return { errors: [new GraphQLError('Unexpected error during query plan execution')] };
  }
  const errors = planRun.errors as GraphQLError[];
  // Apollo's rule: value-completion errors go to extensions when no fetch failed, and are dropped otherwise.
  if (errors.length === 0 && shaped.errors.length > 0) return { extensions: { valueCompletion: shaped.errors }, data: shaped.data };
  return errors.length === 0 ? { data: shaped.data } : { errors, data: shaped.data };
}
