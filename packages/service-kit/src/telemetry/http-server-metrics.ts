import type { Attributes, Histogram, UpDownCounter } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DURATION_BUCKETS_S, type ServiceMetrics } from './metrics';

/** Methods outside this set are reported as _OTHER (semantic conventions), so a client cannot add labels. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

export interface HttpServerMetrics {
  /** Records a response the server wrote itself, bypassing Fastify's onResponse (a hijacked reply). */
  responded(request: FastifyRequest, reply: FastifyReply, status: number): void;
}

/**
 * http.server.request.duration and http.server.active_requests, labelled with the route pattern (never
 * the raw URL, which carries ids and query strings), the method and the status. The attribute objects
 * are made once per (route, method, status) and reused, so a request allocates none.
 */
export function instrumentHttpServer(app: FastifyInstance, metrics: ServiceMetrics): HttpServerMetrics {
  const duration: Histogram = metrics.meter.createHistogram('http.server.request.duration', {
    unit: 's',
    description: 'Duration of HTTP server requests.',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  });
  const active: UpDownCounter = metrics.meter.createUpDownCounter('http.server.active_requests', {
    unit: '{request}',
    description: 'HTTP server requests in progress.',
  });
  const activeAttributes = new Map<string, Attributes>();
  const durationAttributes = new Map<string, Map<string, Map<number, Attributes>>>();
  const methodOf = (request: FastifyRequest) => (KNOWN_METHODS.has(request.method) ? request.method : '_OTHER');
  const activeAttributesOf = (method: string) => {
    let attributes = activeAttributes.get(method);
    if (!attributes) activeAttributes.set(method, (attributes = { 'http.request.method': method, 'url.scheme': 'http' }));
    return attributes;
  };
  const durationAttributesOf = (method: string, route: string, status: number) => {
    let byMethod = durationAttributes.get(route);
    if (!byMethod) durationAttributes.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let attributes = byStatus.get(status);
    if (!attributes) {
      // No http.route for a request no route matched (semantic conventions): the 404s share one series.
      attributes = route ? { 'http.request.method': method, 'http.route': route, 'http.response.status_code': status } : { 'http.request.method': method, 'http.response.status_code': status };
      byStatus.set(status, attributes);
    }
    return attributes;
  };
  const record = (request: FastifyRequest, reply: FastifyReply, status: number) => {
    const method = methodOf(request);
    active.add(-1, activeAttributesOf(method));
    // routeOptions.url is the pattern ('/orders/:id'); undefined when no route matched.
    duration.record(reply.elapsedTime / 1000, durationAttributesOf(method, request.routeOptions.url ?? '', status));
  };
  app.addHook('onRequest', async (request) => {
    active.add(1, activeAttributesOf(methodOf(request)));
  });
  app.addHook('onResponse', async (request, reply) => record(request, reply, reply.statusCode));
  return { responded: record };
}
