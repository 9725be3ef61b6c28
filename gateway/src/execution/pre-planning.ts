import { createHash } from 'node:crypto';
import {
  getOperationAST,
  GraphQLError,
  print,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { RequestContext } from '../context';
import type { ActiveSupergraph } from './supergraph';

export interface PrePlanningInput {
  /** The operation as Apollo Server parsed and validated it, or as the previous stage changed it. */
  document: DocumentNode;
  /** The name of the operation being run; null for an anonymous one. */
  operationName: string | null;
  /** The request's variables as the client sent them (for @skip/@include), not yet coerced. */
  variables: Readonly<Record<string, unknown>>;
  context: RequestContext;
  /** The supergraph this request was validated against and will be planned on. */
  supergraph: ActiveSupergraph;
}

/** Edits the executed result in place: a stage that removed selections puts back what the client must see. */
export type CompleteResult = (result: ExecutionResult) => void;

export interface PrePlanningChange {
  /** The operation to plan and execute instead; it must still be valid against the API schema. */
  document: DocumentNode;
  /**
   * Distinguishes this change in the plan-cache key: two requests with the same operation text whose
   * stages return the same cache keys share a query plan, so the key must identify the change fully.
   */
  cacheKey: string;
  /** Called with the result of executing the changed operation, before it is sent; stages' run last first. */
  completeResult?: CompleteResult;
}

/**
 * A stage that runs after Apollo Server has parsed and validated an operation and before the query
 * planner sees it. It returns a change, undefined to leave the operation as it is, or throws a
 * GraphQLError (or an OperationRefused carrying several) to refuse the operation: the client gets those
 * errors with status 400 (Apollo Server's for a result with errors and no data) unless an error sets
 * `extensions.http.status`. Any other error is a bug: logged, and a masked 500 for the client.
 */
export interface PrePlanningStage {
  name: string;
  beforePlanning(input: PrePlanningInput): PrePlanningChange | undefined | Promise<PrePlanningChange | undefined>;
}

/** Refuses an operation with several errors at once (one per unauthorized path, say). */
export class OperationRefused extends Error {
  constructor(readonly errors: readonly GraphQLError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

/** What the planner gets when a stage changed the operation. */
export interface ChangedOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  source: string;
  /** ApolloGateway keys its query-plan cache by this (and the operation name). */
  queryHash: string;
}

export type PrePlanningOutcome =
  | { kind: 'unchanged' }
  | { kind: 'changed'; operation: ChangedOperation; completions: CompleteResult[] }
  | { kind: 'refused'; errors: readonly GraphQLError[] };

export interface PrePlanningRequest {
  document: DocumentNode;
  operationName: string | null;
  variables: Readonly<Record<string, unknown>>;
  /** Apollo Server's hash of the operation text. */
  queryHash: string;
  /** The API schema the operation was validated against. */
  apiSchema: GraphQLSchema;
  context: RequestContext;
  supergraph: ActiveSupergraph;
}

/** Changed documents already validated against an API schema, with their printed text. */
const validated = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, string>>();

function validatedOn(apiSchema: GraphQLSchema): WeakMap<DocumentNode, string> {
  let documents = validated.get(apiSchema);
  if (!documents) validated.set(apiSchema, (documents = new WeakMap()));
  return documents;
}

/** Runs the stages in order, each on the previous one's document. */
export async function runPrePlanningStages(stages: readonly PrePlanningStage[], request: PrePlanningRequest): Promise<PrePlanningOutcome> {
  let document = request.document;
  const changes: [stage: string, cacheKey: string][] = [];
  const completions: CompleteResult[] = [];
  for (const stage of stages) {
    let change: PrePlanningChange | undefined;
    try {
      change = await stage.beforePlanning({
        document,
        operationName: request.operationName,
        variables: request.variables,
        context: request.context,
        supergraph: request.supergraph,
      });
    } catch (err) {
      if (err instanceof GraphQLError) return { kind: 'refused', errors: [err] };
      if (err instanceof OperationRefused) return { kind: 'refused', errors: err.errors };
      throw err;
    }
    if (!change) continue;
    // Checked here rather than left to the planner so that the error names the stage that broke it.
    // Once per changed document: a stage that caches its change hands back the same object.
    if (!validatedOn(request.apiSchema).has(change.document)) {
      const [invalid] = validate(request.apiSchema, change.document);
      if (invalid) throw new Error(`pre-planning stage ${stage.name} produced an invalid operation: ${invalid.message}`);
      validatedOn(request.apiSchema).set(change.document, print(change.document));
    }
    document = change.document;
    changes.push([stage.name, change.cacheKey]);
    if (change.completeResult) completions.unshift(change.completeResult);
  }
  if (changes.length === 0) return { kind: 'unchanged' };
  const operation = getOperationAST(document, request.operationName);
  if (!operation) throw new Error(`pre-planning stages ${changes.map(([name]) => name).join(', ')} removed operation ${request.operationName ?? '(anonymous)'}`);
  return {
    kind: 'changed',
    operation: {
      document,
      operation,
      source: validatedOn(request.apiSchema).get(document)!,
      queryHash: createHash('sha256').update(JSON.stringify([request.queryHash, changes])).digest('hex'),
    },
    completions,
  };
}
