import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { parseJsonBody, readBody } from './http';
import type { Route } from './server';

export interface GraphQLRouteOptions<C extends BaseContext> {
  path?: string;
  bodyLimitBytes: number;
  /**
   * Builds the request's context before GraphQL execution starts; an HttpError thrown here (say, a bad
   * token) becomes that HTTP response, without a "context creation failed" wrapper.
   */
  context: (req: IncomingMessage, res: ServerResponse) => Promise<C>;
}

/** Serves an ApolloServer over node:http (GET, POST and landing pages) with a bounded, validated body. */
export function graphqlRoutes<C extends BaseContext>(apollo: ApolloServer<C>, options: GraphQLRouteOptions<C>): Route[] {
  const handle = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const method = (req.method ?? 'GET').toUpperCase();
    let body: unknown;
    if (method === 'POST') {
      const text = await readBody(req, options.bodyLimitBytes);
      body = (headers.get('content-type') ?? '').includes('json') ? parseJsonBody(text) : text;
    }
    const contextValue = await options.context(req, res);
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method, headers, search: url.search, body },
      context: async () => contextValue,
    });
    for (const [name, value] of result.headers) res.setHeader(name, value);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  };
  const path = options.path ?? '/graphql';
  return [
    { method: 'GET', path, handle },
    { method: 'POST', path, handle },
  ];
}
