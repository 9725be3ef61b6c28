import type { ApolloGateway, GraphQLDataSource, ServiceMap } from '@apollo/gateway';
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types';
import { applyRewrites, isObjectOfType } from '@apollo/gateway/dist/dataRewrites';
import { generateHydratedPaths } from '@apollo/gateway/dist/executeQueryPlan';
import { OpenTelemetrySpanNames, tracer } from '@apollo/gateway/dist/utilities/opentelemetry';
import { ERRORS, errorCodeDef, type Operation } from '@apollo/federation-internals';
import { assert } from '@apollo/federation-internals/dist/utils';
import { evaluateCondition, type FetchNode, type PlanNode, type QueryPlan, type QueryPlanSelectionNode, type ResponsePath } from '@apollo/query-planner';
import { SpanStatusCode } from '@opentelemetry/api';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';

type Entity = Record<string, unknown>;
/** ApolloGateway's executor, and the request context it is called with. */
export type ApolloGatewayExecutor = Awaited<ReturnType<ApolloGateway['load']>>['executor'];
export type IncomingRequestContext = Parameters<ApolloGatewayExecutor>[0];

/** What one plan's run needs: the gateway's data sources and schemas, and the client's request. */
export interface PlanRunEnvironment {
  serviceMap: ServiceMap;
  supergraphSchema: GraphQLSchema;
  /** The operation as Apollo reads it, for the defaults of Condition nodes' variables. */
  operation: Operation;
  requestContext: IncomingRequestContext;
}

/**
 * Whether a plan is run here. Not: @defer (Apollo's gateway refuses it when it runs it), subscriptions
 * (it refuses those too), and fetches with contextRewrites (@fromContext; Apollo's gateway ignores them,
 * and leaving those plans to it keeps that behaviour whatever it becomes). Decided once per plan.
 */
export function runsHere(plan: QueryPlan): boolean {
  const supported = (node: PlanNode): boolean => {
    switch (node.kind) {
      case 'Sequence':
      case 'Parallel':
        return node.nodes.every(supported);
      case 'Flatten':
        return supported(node.node);
      case 'Fetch':
        return !node.contextRewrites?.length;
      case 'Condition':
        return (!node.ifClause || supported(node.ifClause)) && (!node.elseClause || supported(node.elseClause));
      default:
        return false;
    }
  };
  return !plan.node || (plan.node.kind !== 'Subscription' && supported(plan.node));
}

/**
 * One run of a query plan, with Apollo's gateway's semantics (executeQueryPlan.js): every subgraph
 * answer is merged in place into one tree (`data`), entity answers into the very objects their
 * representations were read from, and every fetch's errors are collected in the order answers arrive,
 * with Apollo's messages, codes, paths and serviceName. Representations are not deduplicated, since
 * Apollo's gateway does not: a subgraph gets the same request body from both executors.
 */
export class PlanRun {
  readonly data: Entity = {};
  readonly errors: unknown[] = [];

  constructor(private readonly env: PlanRunEnvironment) {}

  async run(node: PlanNode, path: ResponsePath, data: unknown): Promise<void> {
    switch (node.kind) {
      case 'Sequence':
        for (const child of node.nodes) await this.run(child, path, data);
        return;
      case 'Parallel':
        await Promise.all(node.nodes.map((child) => this.run(child, path, data)));
        return;
      case 'Flatten': {
        const inner = flattenAt(data, node.path, 0);
        if (inner) await this.run(node.node, path.concat(node.path), inner);
        return;
      }
      case 'Fetch':
        try {
          await this.fetch(node, path, data);
        } catch (err) {
          this.errors.push(err);
        }
        return;
      case 'Condition': {
        const { requestContext, operation } = this.env;
        const branch = evaluateCondition(node, operation.variableDefinitions, requestContext.request.variables) ? node.ifClause : node.elseClause;
        if (branch) await this.run(branch, path, data);
        return;
      }
      default:
        throw new Error(`a ${node.kind} node is run by Apollo's executor`);
    }
  }

  private fetch(fetch: FetchNode, path: ResponsePath, data: unknown): Promise<void> {
    // The span undici's client spans nest under, as under Apollo's executor.
    return tracer.startActiveSpan(OpenTelemetrySpanNames.FETCH, { attributes: { service: fetch.serviceName } }, async (span) => {
      try {
        await this.fetchIn(fetch, path, data);
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  private async fetchIn(fetch: FetchNode, path: ResponsePath, data: unknown): Promise<void> {
    const service = this.env.serviceMap[fetch.serviceName];
    if (!service) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);
    const entities = (Array.isArray(data) ? data.filter((entity) => entity !== null && entity !== undefined) : [data]) as Entity[];
    if (entities.length < 1) return;
    // Without a prototype: a variable may be named __proto__.
    const variables: Record<string, unknown> = Object.create(null);
    const provided = this.env.requestContext.request.variables;
    for (const name of fetch.variableUsages ?? []) {
      if (provided && hasOwn.call(provided, name) && provided[name] !== undefined) variables[name] = provided[name];
    }
    const schema = this.env.supergraphSchema;
    if (!fetch.requires) {
      const received = await this.send(service, fetch, path, variables);
      if (received) applyRewrites(schema, fetch.outputRewrites, received);
      for (const entity of entities) deepMerge(entity, received);
      return;
    }
    const representations: Entity[] = [];
    const representedEntities: Entity[] = [];
    for (const entity of entities) {
      const representation = representationOf(schema, entity, fetch.requires);
      if (representation && representation.__typename) {
        applyRewrites(schema, fetch.inputRewrites, representation);
        representations.push(representation);
        representedEntities.push(entity);
      }
    }
    if (representations.length < 1) return;
    if ('representations' in variables) throw new Error(`Variables cannot contain key "representations"`);
    const received = await this.send(service, fetch, path, { ...variables, representations });
    if (!received) return;
    const answered = received._entities;
    if (!(answered && Array.isArray(answered))) throw new Error(`Expected "data._entities" in response to be an array`);
    if (answered.length !== representations.length) throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
    for (let i = 0; i < representations.length; i++) {
      const entity = answered[i] as Entity | null;
      const existing = representedEntities[i]!;
      if (entity && !entity.__typename) entity.__typename = existing.__typename;
      applyRewrites(schema, fetch.outputRewrites, entity as Entity);
      deepMerge(existing, entity);
    }
  }

  /** One subgraph request; its errors are recorded at once, with the paths the client knows. */
  private async send(service: GraphQLDataSource, fetch: FetchNode, path: ResponsePath, variables: Record<string, unknown>): Promise<Entity | null | undefined> {
    const { requestContext } = this.env;
    const response = await service.process({
      kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
      request: { query: fetch.operation, variables, operationName: fetch.operationName },
      incomingRequestContext: requestContext,
      context: requestContext.context,
      document: fetch.operationDocumentNode,
      pathInIncomingRequest: path,
    });
    if (response.errors) {
      const pathOf = errorPaths(fetch, path, this.data);
      for (const error of response.errors) this.errors.push(downstreamServiceError(error, fetch.serviceName, pathOf));
    }
    return response.data as Entity | null | undefined;
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

/** The values at a Flatten node's path, `@` flattening one list level, as Apollo's flattenResultsAtPath. */
function flattenAt(value: unknown, path: ResponsePath, from: number): unknown {
  if (from === path.length || value === undefined || value === null) return value;
  const key = path[from]!;
  if (key === '@') {
    if (!Array.isArray(value)) assert(false, `Expected a list at ${path.slice(0, from).join('.') || 'the root'}`);
    const flattened: unknown[] = [];
    for (const element of value) {
      const inner = flattenAt(element, path, from + 1);
      if (Array.isArray(inner)) for (const item of inner) flattened.push(item);
      else flattened.push(inner);
    }
    return flattened;
  }
  if (typeof key !== 'string') assert(false, `Unexpected ${typeof key} found in path`);
  if (Array.isArray(value)) assert(false, `Unexpected array in result for path element ${key}`);
  return flattenAt(hasOwn.call(value, key) ? (value as Entity)[key] : undefined, path, from + 1);
}

/**
 * An entity's representation: the `requires` selection read off it; null when a field is missing, and
 * an inline fragment without a type condition is skipped (both as Apollo's executeSelectionSet).
 */
function representationOf(schema: GraphQLSchema, source: unknown, selections: readonly QueryPlanSelectionNode[]): Entity | null {
  if (source === null) return null;
  const result: Entity = {};
  for (const selection of selections) {
    if (selection.kind === 'Field') {
      const name = selection.alias ?? selection.name;
      if (!hasOwn.call(source, name)) return null;
      const value = (source as Entity)[name];
      if (value === undefined) return null;
      const inner = selection.selections;
      if (Array.isArray(value)) result[name] = value.map((element) => (inner ? representationOf(schema, element, inner) : element));
      else result[name] = inner ? representationOf(schema, value, inner) : value;
    } else {
      if (!selection.typeCondition || !source) continue;
      if (isObjectOfType(schema, source as Entity, selection.typeCondition)) deepMerge(result, representationOf(schema, source, selection.selections));
    }
  }
  return result;
}

const isObject = (value: unknown): value is Entity => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Apollo's deepMerge: a subgraph's answer into what is already there, objects key by key, lists of equal
 * length element by element, anything else replaced; an inherited key becomes an own property first.
 */
function deepMerge(target: Entity, source: Entity | null | undefined): void {
  if (source === undefined || source === null) return;
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value === undefined) continue;
    if (key in target && !hasOwn.call(target, key)) Object.defineProperty(target, key, { configurable: true, enumerable: true, value: undefined, writable: true });
    const existing = target[key];
    if (existing && isObject(value)) {
      deepMerge(existing as Entity, value);
    } else if (Array.isArray(value) && Array.isArray(existing) && value.length === existing.length) {
      for (let i = 0; i < value.length; i++) {
        if (isObject(existing[i]) && isObject(value[i])) deepMerge(existing[i], value[i]);
        else existing[i] = value[i];
      }
    } else {
      target[key] = value;
    }
  }
}

/**
 * A subgraph error's path in the client's response. For an entity fetch, `_entities[i]` becomes the path of
 * the i-th non-null object at the fetch's path in the whole result, as Apollo computes it (lazily, once).
 */
function errorPaths(fetch: FetchNode, path: ResponsePath, fullResult: Entity): (errorPath: ReadonlyArray<string | number> | undefined) => ResponsePath | undefined {
  let hydrated: ResponsePath[] | undefined;
  return (errorPath) => {
    if (fetch.requires && typeof errorPath?.[1] === 'number') {
      if (!hydrated) {
        hydrated = [];
        generateHydratedPaths([], path, fullResult, hydrated);
      }
      return [...(hydrated[errorPath[1]] ?? []), ...errorPath.slice(2)];
    }
    return errorPath ? [...path, ...errorPath] : undefined;
  };
}

/** A subgraph's error as Apollo reports it: its message, the client's path, its extensions plus serviceName. */
function downstreamServiceError(original: GraphQLFormattedError, serviceName: string, pathOf: ReturnType<typeof errorPaths>): GraphQLError {
  const message = original.message || `Error while fetching subquery from service "${serviceName}"`;
  const { extensions } = original;
  const options = { originalError: original as Error, path: pathOf(original.path), extensions: { ...extensions, serviceName } };
  const codeDef = errorCodeDef(original as GraphQLError);
  if (!codeDef && extensions?.code) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}
