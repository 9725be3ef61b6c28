import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { graphqlRoutes, healthRoutes, type Route } from '@switchyard/service-kit';
import type { Logger } from 'pino';
import type { RequestContext } from '../context';
import type { Authenticate } from '../identity/verify-access-token';
import type { HttpConfig } from './config';
import { answerPreflight, applyCors } from './cors';
import { graphiqlRoutes } from './graphiql';

export const GRAPHQL_PATH = '/graphql';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface GatewayRoutesOptions {
  config: HttpConfig;
  apollo: ApolloServer<RequestContext>;
  authenticate: Authenticate;
  readinessChecks: Record<string, () => Promise<void>>;
  requestLogger: Logger;
}

/**
 * The HTTP stage: CORS, body limits and CSRF (Apollo's csrfPrevention) at the door, then the identity
 * stage builds the RequestContext that the rest of the pipeline carries.
 */
export function gatewayRoutes({ config, apollo, authenticate, readinessChecks, requestLogger }: GatewayRoutesOptions): Route[] {
  const createContext = async (req: IncomingMessage, res: ServerResponse): Promise<RequestContext> => {
    const offered = req.headers['x-request-id'];
    const requestId = typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();
    res.setHeader('x-request-id', requestId);
    return { requestId, principal: await authenticate(req.headers), logger: requestLogger.child({ requestId }), decisions: [] };
  };
  const graphql = graphqlRoutes(apollo, { path: GRAPHQL_PATH, bodyLimitBytes: config.bodyLimitBytes, context: createContext }).map(
    (route): Route => ({
      ...route,
      handle: (req, res, url) => {
        applyCors(req, res, config.cors);
        return route.handle(req, res, url);
      },
    }),
  );
  return [
    ...graphql,
    { method: 'OPTIONS', path: GRAPHQL_PATH, handle: (req, res) => answerPreflight(req, res, config.cors) },
    ...(config.graphiql ? graphiqlRoutes(GRAPHQL_PATH) : []),
    ...healthRoutes(readinessChecks),
  ];
}
