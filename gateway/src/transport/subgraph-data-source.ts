import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { principalToHeaders } from '@switchyard/service-kit';
import type { RequestContext } from '../context';
import type { SubgraphHttpClient } from './subgraph-http-client';

/**
 * The headers a subgraph gets: never the client's (cookies, tokens), only the request id and the
 * verified principal, signed with the shared secret so that the subgraph can tell it came from here.
 * Without a secret no principal is forwarded at all: an unsigned one would be trusted by nobody.
 */
export function subgraphHeaders(context: RequestContext | undefined, signingSecret: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // Health checks and the gateway's own requests carry no request context.
  if (!context?.requestId) return headers;
  headers['x-request-id'] = context.requestId;
  if (signingSecret) Object.assign(headers, principalToHeaders(context.principal, { secret: signingSecret, requestId: context.requestId }));
  return headers;
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
    const answer = await this.client.post({
      subgraph: this.subgraph,
      url: this.url,
      headers: subgraphHeaders(context, this.signingSecret),
      body: JSON.stringify({ query, variables, operationName, extensions }),
      timeoutMs: this.timeoutMs,
      signal: context?.signal,
    });
    return answer as GatewayGraphQLResponse;
  }
}
