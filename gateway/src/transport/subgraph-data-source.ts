import { randomUUID } from 'node:crypto';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { RequestContext } from '../core/context';
import type { SendSubgraphFetch, SubgraphAnswer, SubgraphFetch, SubgraphRequest, SubgraphResponse } from '../core/plugin';
import type { SubgraphTrafficSettings } from './config';
import type { RetryPolicy } from './retry';
import { SubgraphFetchError, type SubgraphHttpClient } from './subgraph-http-client';

/** The client request's id, or one named so that subgraphs' logs tell the gateway's own requests from clients'. */
export const requestIdOf = (context: RequestContext | undefined): string => context?.requestId ?? `gateway-${randomUUID()}`;

/** The plugins' say on each fetch (the core's onSubgraphRequest hooks): headers, given the final body. */
export type PrepareSubgraphRequest = (context: RequestContext | undefined, request: SubgraphRequest) => void;

/** The plugins that wrap a client's fetch before it is written (the core's aroundSubgraphFetch hooks). */
export type WrapSubgraphFetch = (context: RequestContext, fetch: SubgraphFetch, send: SendSubgraphFetch) => Promise<SubgraphAnswer>;

/** Waits `ms`, or less if the signal aborts first; the gateway's clock decides in tests. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });

/** Apollo Gateway writes each fetch as `query ...`, `mutation ...` or a bare selection set (a query). */
const QUERY = /^\s*(?:query\b|\{)/;

/**
 * The transport for one subgraph: Apollo Gateway's data source interface on our HTTP client. A subgraph
 * gets none of the client's headers (cookies, tokens): only what the plugins add (the request id, the
 * signed principal). Written instead of extending RemoteGraphQLDataSource, whose fetcher is called with
 * only (url, init): it cannot pass the client's abort signal without a per-request side channel, and it
 * builds a node-fetch Request and Headers per call.
 *
 * Retries live here, since only here can a request be sent again: each attempt is prepared afresh by the
 * plugins (so its signature is fresh, and an open circuit breaker can stop it) and gets what is left of
 * the request's deadline.
 */
export class SubgraphDataSource implements GraphQLDataSource<RequestContext> {
  constructor(
    private readonly subgraph: string,
    private readonly url: string,
    private readonly client: SubgraphHttpClient,
    private readonly settings: Pick<SubgraphTrafficSettings, 'timeout' | 'deduplicateQuery'>,
    private readonly prepare: PrepareSubgraphRequest,
    private readonly now: () => number = Date.now,
    private readonly retry?: RetryPolicy,
    private readonly wait: Sleep = sleep,
    private readonly wrap?: WrapSubgraphFetch,
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<RequestContext>): Promise<GatewayGraphQLResponse> {
    // Only a client's operation has a request context; health checks and schema loads have none.
    const context = 'incomingRequestContext' in options ? options.context : undefined;
    const { query, variables, operationName, extensions } = options.request;
    const fetch: SubgraphFetch = { subgraph: this.subgraph, query, variables, operationName, extensions };
    const answer = context && this.wrap ? await this.wrap(context, fetch, (wrapped) => this.send(context, wrapped, true)) : await this.send(context, fetch);
    return answer.body as GatewayGraphQLResponse;
  }

  /** Writes the fetch, has the plugins prepare it and posts it, retrying a query within the policy. */
  private async send(context: RequestContext | undefined, fetch: SubgraphFetch, withHeaders = false): Promise<SubgraphAnswer> {
    const { query, variables, operationName, extensions } = fetch;
    const body = JSON.stringify({ query, variables, operationName, extensions });
    // The answer's headers, for a plugin that wraps the fetch (its Cache-Control): the last attempt's.
    let headers: SubgraphResponse['headers'];
    const observe = withHeaders ? (response: SubgraphResponse) => void (headers = response.headers) : undefined;
    const retry = context && this.retry?.enabled ? this.retry : undefined;
    retry?.budget.recordRequest();
    const isQuery = query !== undefined && QUERY.test(query);
    // Mutations are never sent twice: the subgraph may have committed one that timed out.
    const retryable = retry !== undefined && isQuery;
    // Nor shared: each must run. Only a client's queries are, never a probe's.
    const shareable = context !== undefined && isQuery && this.settings.deduplicateQuery;
    for (let attempts = 1; ; attempts++) {
      const request: SubgraphRequest = {
        subgraph: this.subgraph,
        url: this.url,
        body,
        headers: { 'content-type': 'application/json', 'x-request-id': requestIdOf(context) },
      };
      this.prepare(context, request);
      // The subgraph's own timeout, or what is left of the request's deadline if that is sooner.
      const ownTimeout = this.settings.timeout;
      const timeoutMs = context ? Math.max(1, Math.min(ownTimeout, context.deadline - this.now())) : ownTimeout;
      try {
        const answered = (await this.client.post({ ...request, timeoutMs, signal: context?.signal, context, ...(shareable && { shareable }), ...(observe && { observe }) })) as SubgraphAnswer['body'];
        return { body: answered, headers };
      } catch (err) {
        if (!retryable || !(err instanceof SubgraphFetchError)) throw err;
        const delay = retry.delayBefore(attempts, err.failure, context!.deadline);
        if (delay === undefined) throw err;
        await this.wait(delay, context!.signal);
        if (context!.signal.aborted) throw err;
      }
    }
  }
}
