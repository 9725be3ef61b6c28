import { randomUUID } from 'node:crypto';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { RequestContext } from '../core/context';
import type { SubgraphRequest } from '../core/plugin';
import type { SubgraphHttpClient } from './subgraph-http-client';

/** The client request's id, or one named so that subgraphs' logs tell the gateway's own requests from clients'. */
export const requestIdOf = (context: RequestContext | undefined): string => context?.requestId ?? `gateway-${randomUUID()}`;

/** The plugins' say on each fetch (the core's onSubgraphRequest hooks): headers, given the final body. */
export type PrepareSubgraphRequest = (context: RequestContext | undefined, request: SubgraphRequest) => void;

/**
 * The transport for one subgraph: Apollo Gateway's data source interface on our HTTP client. A subgraph
 * gets none of the client's headers (cookies, tokens): only what the plugins add (the request id, the
 * signed principal). Written instead of extending RemoteGraphQLDataSource, whose fetcher is called with
 * only (url, init): it cannot pass the client's abort signal without a per-request side channel, and it
 * builds a node-fetch Request and Headers per call.
 */
export class SubgraphDataSource implements GraphQLDataSource<RequestContext> {
  constructor(
    private readonly subgraph: string,
    private readonly url: string,
    private readonly client: SubgraphHttpClient,
    private readonly timeoutMs: number,
    private readonly prepare: PrepareSubgraphRequest,
    private readonly now: () => number = Date.now,
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<RequestContext>): Promise<GatewayGraphQLResponse> {
    // Only a client's operation has a request context; health checks and schema loads have none.
    const context = 'incomingRequestContext' in options ? options.context : undefined;
    const { query, variables, operationName, extensions } = options.request;
    const request: SubgraphRequest = {
      subgraph: this.subgraph,
      url: this.url,
      body: JSON.stringify({ query, variables, operationName, extensions }),
      headers: { 'content-type': 'application/json', 'x-request-id': requestIdOf(context) },
    };
    this.prepare(context, request);
    // The subgraph's own timeout, or what is left of the request's deadline if that is sooner.
    const timeoutMs = context ? Math.max(1, Math.min(this.timeoutMs, context.deadline - this.now())) : this.timeoutMs;
    const answer = await this.client.post({ ...request, timeoutMs, signal: context?.signal, context });
    return answer as GatewayGraphQLResponse;
  }
}
