import type { ApolloServer, BaseContext } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface GraphQLRouteOptions<C extends BaseContext> {
  path?: string;
  /** GET and POST unless narrowed. */
  methods?: ('GET' | 'POST')[];
  /**
   * The request's context for GraphQL execution. Anything that can refuse a request (a bad token) runs
   * earlier, in a Fastify hook, so its HttpError becomes the response instead of Apollo's
   * "context creation failed" 500.
   */
  context: (request: FastifyRequest, reply: FastifyReply) => Promise<C>;
}

/** Serves an ApolloServer (GET, POST and landing pages) through Apollo's Fastify integration. */
export function registerGraphQLRoute<C extends BaseContext>(
  app: FastifyInstance,
  apollo: ApolloServer<C>,
  options: GraphQLRouteOptions<C>,
): void {
  app.route({ method: options.methods ?? ['GET', 'POST'], url: options.path ?? '/graphql', handler: fastifyApolloHandler(apollo, { context: options.context }) });
}
