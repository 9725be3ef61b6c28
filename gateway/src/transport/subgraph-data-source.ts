import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { randomUUID } from 'node:crypto';
import { ANONYMOUS, signSubgraphRequest } from '@switchyard/service-kit';
import type { RequestContext } from '../context';
import type { SubgraphHttpClient } from './subgraph-http-client';

/**
 * The headers a subgraph gets: never the client's (cookies, tokens), only the request id and the
 * verified principal, with a signature (shared secret) over them, the subgraph's name and the exact body,
 * so that the subgraph can tell the request came from here, for it, as it is. Anonymous requests and the
 * gateway's own (readiness probes: no request context, a `gateway-` request id of their own) are signed too:
 * Switchyard's subgraphs refuse anything unsigned. Without a secret nothing is signed.
 */
export function subgraphHeaders(context: RequestContext | undefined, signingSecret: string | undefined, subgraph: string, body: string): Record<string, string> {
  // Named so that the subgraphs' logs tell the gateway's own requests from clients'.
  const requestId = context?.requestId || `gateway-${randomUUID()}`;
  if (!signingSecret) return { 'content-type': 'application/json', 'x-request-id': requestId };
  const principal = context?.principal ?? ANONYMOUS;
  return { 'content-type': 'application/json', ...signSubgraphRequest({ secret: signingSecret, principal, requestId, subgraph, body }) };
}

/**
 * The transport stage for one subgraph: Apollo Gateway's data source interface on our HTTP client.
 * Written instead of extending RemoteGraphQLDataSource, whose fetcher is called with only (url, init):
 * it cannot pass the client's abort signal without a per-request side channel (AsyncLocalStorage, which
 * on Node 20 slows every promise in the process), and it builds a node-fetch Request and Headers per call.
 */
export class SubgraphDataSource implements GraphQLDataSource<RequestContext> {
  constructor(
    private readonly subgraph: string,
    private readonly url: string,
    private readonly client: SubgraphHttpClient,
    private readonly timeoutMs: number,
    private readonly signingSecret: string | undefined,
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<RequestContext>): Promise<GatewayGraphQLResponse> {
    // Only a client's operation has a request context; health checks and schema loads have none.
    const context = 'incomingRequestContext' in options ? options.context : undefined;
    const { query, variables, operationName, extensions } = options.request;
    const body = JSON.stringify({ query, variables, operationName, extensions });
    const answer = await this.client.post({
      subgraph: this.subgraph,
      url: this.url,
      headers: subgraphHeaders(context, this.signingSecret, this.subgraph, body),
      body,
      timeoutMs: this.timeoutMs,
      signal: context?.signal,
    });
    return answer as GatewayGraphQLResponse;
  }
}
