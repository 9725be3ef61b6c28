import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { principalToHeaders } from '@switchyard/service-kit';
import type { RequestContext } from '../context';
import type { Fetcher } from './undici-fetcher';

/**
 * The transport stage for one subgraph. Client headers are not forwarded (a subgraph must not see a
 * client's cookies or tokens); the subgraph gets the verified principal and the request id instead.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<RequestContext> {
  constructor(url: string, fetcher: Fetcher) {
    super({ url, fetcher });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<RequestContext>): void {
    const headers = request.http!.headers;
    // Health checks and the gateway's own requests carry no request context.
    if (!context?.requestId) return;
    headers.set('x-request-id', context.requestId);
    if (context.principal) {
      for (const [name, value] of Object.entries(principalToHeaders(context.principal))) headers.set(name, value);
    }
  }
}
