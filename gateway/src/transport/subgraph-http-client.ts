import { GraphQLError } from 'graphql';
import { Agent, request } from 'undici';
import type { GatewayConfig } from '../config';

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
export function createSubgraphHttpClient(config: GatewayConfig['traffic_shaping']['all']): SubgraphHttpClient {
  const agent = new Agent({ connections: config.connections, keepAliveTimeout: config.keep_alive_timeout });
  return {
    async post(call) {
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
        throw fetchFailed(call.subgraph, reasonFor(err, call.signal?.aborted ?? false));
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw fetchFailed(call.subgraph, `HTTP ${status} without a JSON body`);
      }
      // A subgraph may answer a GraphQL error with a 4xx; its errors then say more than the status.
      const hasErrors = typeof body === 'object' && body !== null && Array.isArray((body as { errors?: unknown }).errors);
      if ((status < 200 || status > 299) && !hasErrors) throw fetchFailed(call.subgraph, `HTTP ${status}`);
      return body;
    },
    close: () => agent.close(),
  };
}

function reasonFor(err: unknown, cancelled: boolean): string {
  if (cancelled) return 'the request was cancelled';
  switch ((err as { code?: string }).code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timed out';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    default:
      return 'request failed';
  }
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
