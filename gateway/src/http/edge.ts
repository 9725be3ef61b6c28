import cors from '@fastify/cors';
import { ANONYMOUS, registerHealthRoutes } from '@switchyard/service-kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../config';
import { clientIdentityOf, DeadlinePassed, type RequestContext } from '../core/context';
import { paramsFromBody, paramsFromQueryString } from '../core/graphql-params';
import type { GatewayResponse } from '../core/plugin';
import type { Pipeline } from '../core/pipeline';
import { clientAddress } from '../plugins/rate-limit/client';
import { corsOptionsFor } from './cors';
import { registerGraphiql } from './graphiql';
import { landingPage, wantsLandingPage } from './landing-page';
import { publicReadiness, type Readiness } from './readiness';
import { registerDebugTraces } from '../plugins/tracing/debug-traces';

declare module 'fastify' {
  interface FastifyRequest {
    /** The gateway's request context; made by the GraphQL route's first hook. */
    ctx: RequestContext;
    /** The answer the pipeline gave, for its onEnd hooks once it is sent. */
    answered?: GatewayResponse;
  }
}

export interface HttpEdgeOptions {
  config: Pick<GatewayConfig, 'supergraph' | 'contracts' | 'cors' | 'graphiql' | 'sandbox' | 'traffic_shaping' | 'rate_limit' | 'health_check' | 'telemetry'>;
  pipeline: Pipeline;
  /** The full report; the public /readyz serves only its summary (health_check.listen serves it all). */
  readiness: Readiness;
  /** Epoch milliseconds; injectable so that tests control time. */
  now: () => number;
}

/**
 * The HTTP edge: CORS at the door, then the GraphQL route hands each request to the pipeline. The request
 * context is made at the route's first hook; the pipeline's HTTP phase (identity, CSRF, request-count
 * limit) runs there too, before Fastify reads the body. Body and header limits, timeouts and error bodies
 * come from service-kit's server.
 */
export async function registerHttpEdge(app: FastifyInstance, options: HttpEdgeOptions): Promise<void> {
  const { config, pipeline, now } = options;
  const routerTimeoutMs = config.traffic_shaping.router.timeout;
  await app.register(cors, () => corsOptionsFor(config.cors));

  await app.register(async (graphql) => {
    graphql.decorateRequest('ctx', null as unknown as RequestContext);
    graphql.decorateRequest('answered', undefined);
    graphql.addHook('onRequest', async (request, reply) => {
      // One controller and one timer per request: the deadline, or a client that goes away (its response
      // closed before it finished), stops the request's subgraph fetches.
      const cancel = new AbortController();
      const deadline = setTimeout(() => cancel.abort(new DeadlinePassed()), routerTimeoutMs);
      reply.raw.once('close', () => {
        clearTimeout(deadline);
        if (!reply.raw.writableFinished) cancel.abort(new Error('client disconnected'));
      });
      const receivedAt = now();
      request.ctx = {
        requestId: request.id,
        logger: request.log,
        receivedAt,
        deadline: receivedAt + routerTimeoutMs,
        signal: cancel.signal,
        http: { method: request.method, headers: request.headers, clientAddress: clientAddress(request.raw, config.rate_limit.trusted_proxy_hops) },
        client: clientIdentityOf(request.headers),
        contract: (request.routeOptions.config as { contract?: string }).contract,
        principal: ANONYMOUS,
        responseHeaders: {},
        responseExtensions: {},
        fetches: [],
        decisions: [],
      };
      if (request.method === 'GET' && config.sandbox.enabled && wantsLandingPage(request.headers.accept)) return;
      const refused = await pipeline.receive(request.ctx);
      if (refused) return send(request, reply, refused);
    });
    graphql.addHook('onResponse', async (request) => {
      if (request.answered) pipeline.end(request.ctx, request.answered);
    });
    // The supergraph's endpoint, and each contract's: the same request path on another API schema.
    const endpoints = [{ path: config.supergraph.path, contract: undefined }, ...Object.entries(config.contracts).map(([name, c]) => ({ path: c.path, contract: name }))];
    for (const { path, contract } of endpoints) {
      graphql.route({
        method: ['GET', 'POST'],
        url: path,
        config: { contract },
        handler: async (request, reply) => {
          if (request.method === 'GET' && config.sandbox.enabled && wantsLandingPage(request.headers.accept)) {
            return reply.type('text/html; charset=utf-8').send(landingPage(path, config.graphiql.enabled));
          }
          const answer = await pipeline.handle(request.ctx, () => (request.method === 'GET' ? paramsFromQueryString(request.raw.url ?? '') : paramsFromBody(request.body)));
          return send(request, reply, answer);
        },
      });
    }
  });

  if (config.graphiql.enabled) registerGraphiql(app, config.supergraph.path);
  if (config.health_check.enabled) registerHealthRoutes(app, publicReadiness(options.readiness));
  const debugTraces = config.telemetry.exporters.tracing.debug_traces;
  if (debugTraces.enabled) registerDebugTraces(app, debugTraces.store_url);
}

function send(request: FastifyRequest, reply: FastifyReply, answer: GatewayResponse): FastifyReply {
  request.answered = answer;
  return reply.code(answer.status).headers(answer.headers).send(JSON.stringify(answer.body));
}
