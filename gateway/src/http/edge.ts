import cors from '@fastify/cors';
import type { ApolloServer } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import { ANONYMOUS, HttpError, registerHealthRoutes, type Principal } from '@switchyard/service-kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../config';
import type { RequestContext } from '../context';
import { clientAddress } from '../admission/rate-limit/client';
import { corsOptionsFor } from './cors';
import { registerGraphiql } from './graphiql';
import type { Readiness } from './readiness';
import { registerDebugTraces } from '../telemetry/debug-traces';
import { withStageSpan } from '../telemetry/tracing';

declare module 'fastify' {
  interface FastifyRequest {
    /** The gateway's request context; set by the GraphQL route's first hook. */
    ctx: RequestContext;
  }
}

export interface HttpEdgeOptions {
  config: Pick<GatewayConfig, 'supergraph' | 'cors' | 'graphiql' | 'traffic_shaping' | 'rate_limit' | 'health_check' | 'telemetry'>;
  apollo: ApolloServer<RequestContext>;
  /** The identity stage: credentials to principal; throws an HttpError (401) for a bad credential. */
  authenticate: (headers: FastifyRequest['headers']) => Promise<Principal>;
  /** Admission at the HTTP stage, after identity (the persisted-query safelist); throws an HttpError to refuse. */
  admitOperation: (request: FastifyRequest) => void;
  readiness: Readiness;
  /** Called once each GraphQL request's response has been sent, with its context. */
  requestEnded?: (context: RequestContext) => void;
}

/**
 * The HTTP stage: CORS at the door, the request context created at the GraphQL route's first hook,
 * identity before GraphQL, then Apollo Server (CSRF prevention, GraphQL-over-HTTP). Body and header
 * limits, timeouts and error bodies come from service-kit's server.
 */
export async function registerHttpEdge(app: FastifyInstance, options: HttpEdgeOptions): Promise<void> {
  const { config, apollo, authenticate } = options;
  const routerTimeoutMs = config.traffic_shaping.router.timeout;
  await app.register(cors, () => corsOptionsFor(config.cors));

  const executeGraphQL = fastifyApolloHandler(apollo, { context: async (request) => request.ctx });
  await app.register(async (graphql) => {
    graphql.decorateRequest('ctx', null as unknown as RequestContext);
    graphql.addHook('onRequest', async (request, reply) => {
      // One controller and one timer per request: the deadline, or a client that goes away (its response
      // closed before it finished), stops the request's subgraph fetches.
      const cancel = new AbortController();
      const deadline = setTimeout(() => cancel.abort(new Error('deadline passed')), routerTimeoutMs);
      reply.raw.once('close', () => {
        clearTimeout(deadline);
        if (!reply.raw.writableFinished) cancel.abort(new Error('client disconnected'));
      });
      request.ctx = {
        requestId: request.id,
        logger: request.log,
        deadline: Date.now() + routerTimeoutMs,
        signal: cancel.signal,
        clientAddress: clientAddress(request.raw, config.rate_limit.trusted_proxy_hops),
        principal: ANONYMOUS,
        decisions: [],
      };
    });
    const { requestEnded } = options;
    if (requestEnded) graphql.addHook('onResponse', async (request) => requestEnded(request.ctx));
    graphql.addHook('preHandler', async (request) => {
      request.ctx.principal = await withStageSpan('identity', undefined, async (span) => {
        const principal = await authenticate(request.headers).catch((err: unknown) => {
          // A refused credential ends the request here; the decision is what metrics count it by.
          if (err instanceof HttpError) request.ctx.decisions.push({ stage: 'identity', code: err.code, enforced: true, message: err.message });
          throw err;
        });
        // The kind only: ids and scopes belong to the person, not to a trace backend.
        span.setAttribute('switchyard.principal.kind', principal.kind);
        return principal;
      });
      await withStageSpan('admission', 'persisted_queries', () => options.admitOperation(request));
    });
    graphql.route<{ Reply: string }>({
      method: ['GET', 'POST'],
      url: config.supergraph.path,
      handler: executeGraphQL,
    });
  });

  if (config.graphiql.enabled) registerGraphiql(app, config.supergraph.path);
  if (config.health_check.enabled) registerHealthRoutes(app, options.readiness);
  const debugTraces = config.telemetry.exporters.tracing.debug_traces;
  if (debugTraces.enabled) registerDebugTraces(app, debugTraces.store_url);
}
