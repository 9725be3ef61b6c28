import type { Logger, ReadinessReport } from '@switchyard/service-kit';
import type { Meter } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import type { DocumentNode, ExecutionResult, GraphQLError, ParseOptions, ValidationRule } from 'graphql';
import type { Execution } from '../execution/gateway';
import type { GraphQLParams, RequestContext, ResolvedOperation, Stage } from './context';

/**
 * A refusal: a plugin throws it from a hook to end the request with this status and error. The core
 * records it as an enforced decision of the plugin's stage, so the plugin makes one call, not three.
 */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly options: {
      headers?: Record<string, string>;
      /** Further error extensions for the client (the measured value and its maximum, say). */
      extensions?: Record<string, unknown>;
      /** Several errors at once (one per unauthorized path); message and code describe them together. */
      errors?: readonly GraphQLError[];
    } = {},
  ) {
    super(message);
  }
}

/** An operation as it goes to the planner: a plugin may hand back another document in its place. */
export interface PlanningInput {
  document: DocumentNode;
  /** The operation as the client sent it, whatever earlier plugins changed. */
  original: ResolvedOperation;
}

/** The operation about to be executed, after every beforePlanning change. */
export interface PlannedExecution {
  operation: ResolvedOperation;
  document: DocumentNode;
  /** Identifies the document as executed: the source's hash and every plugin's change key. */
  queryHash: string;
}

/** Edits the executed result in place before it is sent: a plugin that removed selections puts back what the client must see. */
export type CompleteResult = (result: ExecutionResult) => void;

export interface PlanningChange {
  /** The operation to plan and execute instead; it must still be valid against the API schema. */
  document: DocumentNode;
  /** Identifies the change fully: two requests with the same text and the same keys share a query plan. */
  cacheKey: string;
  completeResult?: CompleteResult;
}

/** One subgraph fetch, before it is sent: plugins may add headers; the body is final. */
export interface SubgraphRequest {
  readonly subgraph: string;
  readonly url: string;
  readonly body: string;
  readonly headers: Record<string, string>;
}

/** What one subgraph fetch came to. */
export interface SubgraphResponse {
  readonly subgraph: string;
  readonly seconds: number;
  /** The HTTP status, when there was an answer. */
  readonly status?: number;
  /** Why it failed (timeout, connection_refused, a status), or undefined. */
  readonly errorType?: string;
  /**
   * Not a call of its own: it waited on an identical fetch in flight (traffic_shaping deduplicate_query),
   * whose own outcome is reported with that fetch. Every prepared fetch gets exactly one response.
   */
  readonly shared?: boolean;
  /** The answer's headers, names in lower case (Set-Cookie as a list), when there was an answer. */
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * Not a call at all: entities the entity cache answered with. Only recorded in the request's fetches
   * (no onSubgraphResponse), so that its Cache-Control (what is left of their max-age) joins the merge.
   */
  readonly cached?: boolean;
}

/** A client's subgraph fetch as the executor asks for it, before it is written and prepared by the plugins. */
export interface SubgraphFetch {
  readonly subgraph: string;
  readonly query?: string;
  readonly variables?: Readonly<Record<string, unknown>>;
  readonly operationName?: string;
  readonly extensions?: Readonly<Record<string, unknown>>;
}

/** A subgraph's answer to one fetch: the parsed body, and the headers it came with when it came over HTTP. */
export interface SubgraphAnswer {
  body: { data?: Record<string, unknown> | null; errors?: readonly Record<string, unknown>[]; extensions?: Record<string, unknown> };
  headers?: SubgraphResponse['headers'];
}

/** Sends a fetch (the one given, or one a plugin narrowed) through the transport: prepared, signed, retried. */
export type SendSubgraphFetch = (fetch: SubgraphFetch) => Promise<SubgraphAnswer>;

/** The answer about to be sent. Plugins may add headers or extensions in onResponse. */
export interface GatewayResponse {
  status: number;
  /** A list only for Set-Cookie, which is sent once per value. */
  headers: Record<string, string | string[]>;
  body: { data?: unknown; errors?: readonly unknown[]; extensions?: Record<string, unknown> };
}

/** What the gateway gives a plugin when it starts: the execution (supergraph, plan cache) and readiness. */
export interface GatewayRuntime {
  execution: Execution;
  logger: Logger;
  meter?: Meter;
}

/**
 * The contract between the core pipeline and a concern. The core owns the order; each hook is called for
 * every plugin that has it, in the order plugins are listed:
 *
 *   onRequest     headers known, body not yet read as GraphQL   (identity, CSRF, request-count rate limit)
 *   onParams      query string or body read once               (persisted operations, safelist)
 *   [core]        one parse, one validation, operation resolved, variables coerced once
 *   onOperation   the resolved operation                        (operation limits in warn_only)
 *   beforePlanning in order, each on the previous change       (authorization, demand control, cost charge)
 *   beforeExecution the first result one returns is the answer   (response cache)
 *   [core]        planning and execution (Apollo Gateway's planner)
 *   aroundSubgraphFetch, per client fetch, before it is written (entity cache)
 *   onSubgraphRequest / onSubgraphResponse, per fetch sent      (principal signing, fetch metrics)
 *   onResponse    the answer, before it is sent                 (rate-limit headers, cost extension)
 *   onEnd         after it is sent, whatever happened            (metrics)
 *
 * A hook refuses by throwing a Refusal. Anything else it throws is a bug: logged, and a masked 500.
 */
export interface GatewayPlugin {
  /** Names the plugin in decisions, spans and errors: `rate_limit`, `authorization`. */
  readonly name: string;
  /** The stage its decisions belong to. */
  readonly stage: Stage;
  /** Parser options the document is parsed with (token limits). */
  readonly parseOptions?: ParseOptions;
  /** Validation rules run with graphql-js's own, first. */
  readonly validationRules?: readonly ValidationRule[];
  /** Gives a parse failure its own error (a token limit's code); undefined leaves it GRAPHQL_PARSE_FAILED. */
  explainParseFailure?(error: Error, source: string): GraphQLError | undefined;

  /** Called once when the gateway starts, before it takes requests. */
  start?(runtime: GatewayRuntime): void | Promise<void>;
  onRequest?(context: RequestContext): void | Promise<void>;
  /** May return other params (a persisted query id resolved to its text). */
  onParams?(context: RequestContext, params: GraphQLParams): GraphQLParams | void | Promise<GraphQLParams | void>;
  onOperation?(context: RequestContext, operation: ResolvedOperation): void | Promise<void>;
  beforePlanning?(context: RequestContext, input: PlanningInput): PlanningChange | void | Promise<PlanningChange | void>;
  /**
   * Given the operation as it will be executed (its plan-cache hash includes every plugin's change), may
   * return a result to answer with instead of executing it: a cached answer.
   */
  beforeExecution?(context: RequestContext, planned: PlannedExecution): ExecutionResult | void | Promise<ExecutionResult | void>;
  /**
   * Wraps a client's subgraph fetch before its body is written (and signed): may answer it, in part or
   * whole, without sending, and send the rest with `send`. Wrappers nest in the order plugins are listed.
   */
  aroundSubgraphFetch?(context: RequestContext, fetch: SubgraphFetch, send: SendSubgraphFetch): Promise<SubgraphAnswer>;
  onSubgraphRequest?(context: RequestContext | undefined, request: SubgraphRequest): void;
  onSubgraphResponse?(context: RequestContext | undefined, response: SubgraphResponse): void;
  onResponse?(context: RequestContext, response: GatewayResponse): void | Promise<void>;
  onEnd?(context: RequestContext, response: GatewayResponse): void;
  /** A cache drops every entry carrying any of these tags (`Product`, `Product:p1`) and resolves with how many went. */
  invalidate?(tags: readonly string[]): Promise<number>;
  /** Routes it serves on the operators' listener (health_check.listen), never on the public port. */
  adminRoutes?(app: FastifyInstance): void;
  /** Its part of /readyz's body; reported, not required. */
  readiness?(): Record<string, unknown>;
  /** Stops what it started (pollers, connections). Called once, in reverse order of the plugin list. */
  dispose?(): void | Promise<void>;
}

export type { ReadinessReport };
