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
export function createSubgraphHttpClient(config: TrafficShapingConfig['all'], fetched?: SubgraphFetched): SubgraphHttpClient {
  const agent = new Agent({ connections: config.connections, keepAliveTimeout: config.keep_alive_timeout });
  const record = (call: SubgraphCall, start: number, status: number | undefined, errorType: string | undefined) => {
    if (fetched && !call.probe) fetched(call.context, { subgraph: call.subgraph, seconds: (performance.now() - start) / 1000, status, errorType });
  };
  return {
    async post(call) {
      const start = performance.now();
      let status: number;
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
        text = await res.body.text();
      } catch (err) {
        const failure = failureOf(err, call.signal?.aborted ?? false);
        record(call, start, undefined, failure.type);
        throw fetchFailed(call.subgraph, failure.reason);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        record(call, start, status, 'invalid_json');
        throw fetchFailed(call.subgraph, `HTTP ${status} without a JSON body`);
      }
      // A subgraph may answer a GraphQL error with a 4xx; its errors then say more than the status.
      const hasErrors = typeof body === 'object' && body !== null && Array.isArray((body as { errors?: unknown }).errors);
      const failed = status < 200 || status > 299;
      // error.type is the status for a failed answer (semantic conventions), whatever its body.
      record(call, start, status, failed ? String(status) : undefined);
      if (failed && !hasErrors) throw fetchFailed(call.subgraph, `HTTP ${status}`);
      return body;
    },
    close: () => agent.close(),
  };
}

/** Why a fetch got no answer: `type` for the metrics' error.type (a few fixed values), `reason` in words for the client. */
const FAILURES: Record<string, { type: string; reason: string }> = {
  UND_ERR_HEADERS_TIMEOUT: { type: 'timeout', reason: 'timed out' },
  UND_ERR_BODY_TIMEOUT: { type: 'timeout', reason: 'timed out' },
  ECONNREFUSED: { type: 'connection_refused', reason: 'connection refused' },
  ECONNRESET: { type: 'connection_reset', reason: 'connection reset' },
  UND_ERR_SOCKET: { type: 'connection_reset', reason: 'connection reset' },
  ENOTFOUND: { type: 'host_not_found', reason: 'host not found' },
  EAI_AGAIN: { type: 'host_not_found', reason: 'host not found' },
};
const CANCELLED = { type: 'cancelled', reason: 'the request was cancelled' };
const OTHER_FAILURE = { type: '_OTHER', reason: 'request failed' };

function failureOf(err: unknown, cancelled: boolean): { type: string; reason: string } {
  if (cancelled) return CANCELLED;
  const code = (err as { code?: string }).code;
  return (code && Object.hasOwn(FAILURES, code) && FAILURES[code]) || OTHER_FAILURE;
}

/**
 * A subgraph that could not be reached costs only its own fields; the client is told which subgraph and
 * why in words (Apollo Router's SUBREQUEST_HTTP_ERROR), not the socket error's details.
 */
function fetchFailed(subgraph: string, reason: string): GraphQLError {
  return new GraphQLError(`HTTP fetch failed from '${subgraph}': ${reason}`, {
    extensions: { code: 'SUBREQUEST_HTTP_ERROR', service: subgraph, reason },
  });
}
