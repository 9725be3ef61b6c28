import type { Principal } from '@switchyard/service-kit';
import type { FastifyBaseLogger } from 'fastify';
import type { DocumentNode, OperationDefinitionNode, OperationTypeNode } from 'graphql';
import type { ServedSupergraph } from '../execution/supergraph-gateway';
import type { SubgraphResponse } from './plugin';

/** Longer client names or versions are kept as `unknown`: a label, not a payload. */
const MAX_CLIENT_FIELD_LENGTH = 64;

/** The stages of the request path, in order; a decision names the one that made it. */
export type Stage = 'http' | 'identity' | 'admission' | 'authorization' | 'execution' | 'transport';

/** Something a plugin decided about the request (a limit hit, a field denied), for logs and metrics. */
export interface Decision {
  stage: Stage;
  code: string;
  /** False when the plugin only reports (dry run, warn_only) and let the request through. */
  enforced: boolean;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * A GraphQL-over-HTTP request as the core read it, once: every plugin and the executor see these values
 * and nothing else of the query string or body.
 */
export interface GraphQLParams {
  query?: string;
  operationName?: string;
  /** As sent; the executor gets the coerced values in ResolvedOperation.variables. */
  variables: Record<string, unknown>;
  extensions: Record<string, unknown>;
}

/** The operation the request runs: parsed and validated once, resolved by name, variables coerced once. */
export interface ResolvedOperation {
  /** The supergraph version the document was validated against; it is also planned and executed on it. */
  served: ServedSupergraph;
  /** The operation text the document was parsed from. */
  source: string;
  /** SHA-256 of the source (the plan-cache key, with any pre-planning changes). */
  queryHash: string;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  operationName: string | undefined;
  type: OperationTypeNode;
  /** Declared variables only, defaults applied, coerced by their types. */
  variables: Readonly<Record<string, unknown>>;
}

/** Which client application sent the request, as it says (Apollo's client awareness headers); never trusted for access. */
export interface ClientIdentity {
  /** apollographql-client-name, or `unknown`. */
  name: string;
  /** apollographql-client-version, or `unknown`. */
  version: string;
}

/** The static cost estimate demand control made, read by the rate limiter and the metrics. */
export interface CostAssessment {
  estimated: number;
  max: number;
  mode: 'measure' | 'enforce';
  result: 'COST_OK' | 'COST_ESTIMATED_TOO_EXPENSIVE';
}

/** Why a request's signal aborted when its deadline passed, as opposed to its client going away. */
export class DeadlinePassed extends Error {
  constructor() {
    super('deadline passed');
  }
}

export type AnsweredBy = 'execution' | 'shared_execution' | 'plugin';

/**
 * Everything one request carries from plugin to plugin, created when its first byte arrives. Plugins
 * read it and fill in their part (identity the principal, demand control the cost); nothing about a
 * request lives in a side map.
 */
export interface RequestContext {
  /** Echoed to the client as x-request-id and passed to every subgraph, to tie one request's logs together. */
  readonly requestId: string;
  /** pino child logger bound to this request's id. */
  readonly logger: FastifyBaseLogger;
  /** When the request arrived, on the gateway's clock (epoch ms). */
  readonly receivedAt: number;
  /** Epoch ms by which the request must be answered (traffic_shaping.router.timeout); no subgraph fetch is given longer. */
  readonly deadline: number;
  /** Aborts when the client disconnects or the deadline passes (reason: a DeadlinePassed). */
  readonly signal: AbortSignal;
  readonly http: {
    readonly method: string;
    /** Request headers, names in lower case. */
    readonly headers: Readonly<Record<string, string | string[] | undefined>>;
    /** The client's address: the socket's peer, or X-Forwarded-For through rate_limit.trusted_proxy_hops. */
    readonly clientAddress: string;
  };
  /** The client application, from apollographql-client-name and -version. */
  readonly client: ClientIdentity;
  /** The contract the request's path serves (contracts.<name>), or undefined for the full supergraph. */
  readonly contract?: string;
  /** Who is calling; anonymous until the identity plugin finds a credential. */
  principal: Principal;
  /** Set by the core once the HTTP request is read. */
  params?: GraphQLParams;
  /** Set by the core once the document is parsed, validated and resolved. */
  operation?: ResolvedOperation;
  cost?: CostAssessment;
  /**
   * How the core came by the answer, once it has one: executed for this request, shared with an identical
   * request's execution in flight (traffic_shaping.router.dedupe), or given by a plugin's beforeExecution
   * (the response cache). Metrics and the request's span carry it.
   */
  answeredBy?: AnsweredBy;
  /** Response headers plugins add (rate-limit standing, say); the core sends them with whatever the answer is. */
  readonly responseHeaders: Record<string, string>;
  /** Extensions plugins add to the response body (the cost, when the client asks for it). */
  readonly responseExtensions: Record<string, unknown>;
  /** What each subgraph fetch for this request came to, in the order they ended: their headers feed the response's. */
  readonly fetches: SubgraphResponse[];
  readonly decisions: Decision[];
}

/** The client identity a request's headers claim; a missing, repeated or overlong value is `unknown`. */
export function clientIdentityOf(headers: Readonly<Record<string, string | string[] | undefined>>): ClientIdentity {
  const field = (value: string | string[] | undefined) => (typeof value === 'string' && value !== '' && value.length <= MAX_CLIENT_FIELD_LENGTH ? value : 'unknown');
  return { name: field(headers['apollographql-client-name']), version: field(headers['apollographql-client-version']) };
}
