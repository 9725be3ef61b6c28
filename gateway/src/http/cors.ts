import type { FastifyCorsOptions, FastifyCorsOptionsDelegateCallback } from '@fastify/cors';
import type { GatewayConfig } from '../config';

type CorsConfig = GatewayConfig['cors'];

/** Headers a browser client may send when a policy lists none of its own. */
export const DEFAULT_ALLOWED_HEADERS = [
  'content-type',
  'authorization',
  'x-api-key',
  'apollographql-client-name',
  'apollographql-client-version',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'x-request-id',
];

/**
 * Router-style CORS: the first policy whose origins list the request's Origin decides what that origin
 * may do; an origin no policy lists gets no CORS headers (the browser then blocks the response).
 * @fastify/cors does the header work; this only picks the policy.
 */
export function corsOptionsFor(config: CorsConfig): FastifyCorsOptionsDelegateCallback {
  const maxAge = Math.round(config.max_age / 1000);
  return (request, callback) => {
    const origin = request.headers.origin;
    const policy = config.allow_any_origin
      ? { origins: ['*'], allow_credentials: false, allow_headers: [], expose_headers: ['x-request-id'], methods: ['GET', 'POST', 'OPTIONS'] }
      : config.policies.find((p) => origin !== undefined && p.origins.includes(origin));
    if (!policy) {
      callback(null, { origin: false });
      return;
    }
    const options: FastifyCorsOptions = {
      origin: config.allow_any_origin ? '*' : origin,
      credentials: policy.allow_credentials,
      allowedHeaders: policy.allow_headers.length ? policy.allow_headers : DEFAULT_ALLOWED_HEADERS,
      exposedHeaders: policy.expose_headers,
      methods: policy.methods,
      maxAge,
    };
    callback(null, options);
  };
}
