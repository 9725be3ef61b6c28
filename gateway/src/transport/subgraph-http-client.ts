import { GraphQLError } from 'graphql';
import { Agent, request } from 'undici';
import type { RequestContext } from '../core/context';
import type { SubgraphResponse } from '../core/plugin';
import type { TrafficShapingConfig } from './config';

/** Told what each fetch came to (the core's onSubgraphResponse hooks). */
export type SubgraphFetched = (context: RequestContext | undefined, response: SubgraphResponse) => void;

export interface SubgraphCall {
  subgraph: string;
  url: string;
  headers: Record<string, string>;
  /** The GraphQL request, already serialized. */
  body: string;
  /** The subgraph must start its answer within this time, and its body may not stall longer. */
  timeoutMs: number;
  /** The client's request: when it disconnects or passes its deadline, this call stops too. */
  signal?: AbortSignal;
  /** May share the answer of an identical fetch in flight (a query, with deduplicate_query on). */
  shareable?: boolean;
  /** Told what this call came to, beside the plugins: the requests that shared it are told the same. */
  observe?: (response: SubgraphResponse) => void;
  /** A readiness probe: not subgraph traffic, so nobody is told of it. */
  probe?: boolean;
  /** The client request this fetch serves, for whoever is told of it. */
  context?: RequestContext;
}

export interface SubgraphHttpClient {
  /** POSTs to a subgraph and resolves with its parsed JSON answer; an unreachable subgraph is a SUBREQUEST_HTTP_ERROR. */
  post(call: SubgraphCall): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Subgraph HTTP on undici's request API: pooled keep-alive connections per subgraph origin, undici's own
 * per-request header and body timeouts (no timer or AbortSignal made per call), and the client's signal.
 */
export function createSubgraphHttpClient(config: Pick<TrafficShapingConfig['all'], 'connections' | 'keep_alive_timeout'>, fetched?: SubgraphFetched): SubgraphHttpClient {
  const agent = new Agent({ connections: config.connections, keepAliveTimeout: config.keep_alive_timeout });
  const record = (call: SubgraphCall, start: number, status: number | undefined, errorType: string | undefined, headers?: SubgraphResponse['headers']) => {
    if (call.probe) return;
    const response: SubgraphResponse = { subgraph: call.subgraph, seconds: (performance.now() - start) / 1000, status, errorType, headers };
    call.observe?.(response);
    fetched?.(call.context, response);
  };
  return {
    async post(call) {
      const start = performance.now();
      let status: number;
      let retryAfter: string | string[] | undefined;
      let headers: SubgraphResponse['headers'];
      let text: string;
      try {
        const res = await request(call.url, {
          method: 'POST',
          headers: call.headers,
          body: call.body,
          dispatcher: agent,
          headersTimeout: call.timeoutMs,
          bodyTimeout: call.timeoutMs,
          signal: call.signal,
        });
        status = res.statusCode;
        retryAfter = res.headers['retry-after'];
        headers = res.headers;
        text = await res.body.text();
      } catch (err) {
        const failure = failureOf(err, call.signal?.aborted ?? false);
        record(call, start, undefined, failure.type);
        throw new SubgraphFetchError(call.subgraph, failure);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        record(call, start, status, 'invalid_json', headers);
        throw new SubgraphFetchError(call.subgraph, { type: 'invalid_json', reason: `HTTP ${status} without a JSON body`, status });
      }
      // A subgraph may answer a GraphQL error with a 4xx; its errors then say more than the status. A
      // 502, 503 or 504 says the subgraph is unavailable whatever its body: a failure, which may be retried.
      const hasErrors = typeof body === 'object' && body !== null && Array.isArray((body as { errors?: unknown }).errors);
      const failed = status < 200 || status > 299;
      // error.type is the status for a failed answer (semantic conventions), whatever its body.
      record(call, start, status, failed ? String(status) : undefined, headers);
      if ((failed && !hasErrors) || UNAVAILABLE_STATUSES.has(status)) {
        throw new SubgraphFetchError(call.subgraph, statusFailure(status, typeof retryAfter === 'string' ? retryAfter : undefined));
      }
      return body;
    },
    close: () => agent.close(),
  };
}

/** What a failed fetch came to: `type` for the metrics' error.type (a few fixed values), `reason` in words for the client. */
export interface FetchFailure {
  readonly type: string;
  readonly reason: string;
  /** The HTTP status, when the subgraph answered. */
  readonly status?: number;
  /** The answer's Retry-After header, as sent. */
  readonly retryAfter?: string;
}

/** Statuses that say the subgraph (or the proxy in front of it) cannot answer now. */
const UNAVAILABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** Why a fetch got no answer, by the error's code. */
export const FETCH_FAILURES = {
  timeout: { type: 'timeout', reason: 'timed out' },
  connection_refused: { type: 'connection_refused', reason: 'connection refused' },
  connection_reset: { type: 'connection_reset', reason: 'connection reset' },
  host_not_found: { type: 'host_not_found', reason: 'host not found' },
  cancelled: { type: 'cancelled', reason: 'the request was cancelled' },
  other: { type: '_OTHER', reason: 'request failed' },
} as const satisfies Record<string, FetchFailure>;

const FAILURE_BY_CODE: Record<string, FetchFailure> = {
  UND_ERR_HEADERS_TIMEOUT: FETCH_FAILURES.timeout,
  UND_ERR_BODY_TIMEOUT: FETCH_FAILURES.timeout,
  ECONNREFUSED: FETCH_FAILURES.connection_refused,
  ECONNRESET: FETCH_FAILURES.connection_reset,
  UND_ERR_SOCKET: FETCH_FAILURES.connection_reset,
  ENOTFOUND: FETCH_FAILURES.host_not_found,
  EAI_AGAIN: FETCH_FAILURES.host_not_found,
};

/** A failed answer: its status is its error.type. */
export function statusFailure(status: number, retryAfter?: string): FetchFailure {
  return { type: String(status), reason: `HTTP ${status}`, status, ...(retryAfter !== undefined && { retryAfter }) };
}

function failureOf(err: unknown, cancelled: boolean): FetchFailure {
  if (cancelled) return FETCH_FAILURES.cancelled;
  const code = (err as { code?: string }).code;
  return (code && Object.hasOwn(FAILURE_BY_CODE, code) && FAILURE_BY_CODE[code]) || FETCH_FAILURES.other;
}

/**
 * A subgraph that could not be reached costs only its own fields; the client is told which subgraph and
 * why in words (Apollo Router's SUBREQUEST_HTTP_ERROR), not the socket error's details. The retry
 * policy reads `failure`.
 */
export class SubgraphFetchError extends GraphQLError {
  constructor(
    readonly subgraph: string,
    readonly failure: FetchFailure,
  ) {
    super(`HTTP fetch failed from '${subgraph}': ${failure.reason}`, { extensions: { code: 'SUBREQUEST_HTTP_ERROR', service: subgraph, reason: failure.reason } });
  }
}
