import { Refusal, type GatewayPlugin } from '../../core/plugin';
import type { CsrfConfig } from './config';

/** The content types a browser sends cross-site without a preflight (the CORS "simple" ones). */
const SIMPLE_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/**
 * CSRF prevention (Router's csrf keys). What a cross-site request forgery abuses is ambient credentials:
 * a page on another site makes the user's browser send a simple request (no CORS preflight) that carries
 * the user's cookies. So a simple request is refused when it carries a Cookie header, unless it has one of
 * required_headers, which only a script the CORS policy allowed can set. A simple request without cookies
 * is anyone's anonymous request and runs, so GraphQL clients that send short queries as plain GETs (urql)
 * work. What else a simple request could do is refused elsewhere whatever this says: a mutation over GET
 * gets 405, and a POST body that is not a JSON object (a form, text) is refused before it is read as GraphQL.
 */
export function useCsrfPrevention(config: CsrfConfig): GatewayPlugin {
  const message =
    'This operation has been blocked as a potential Cross-Site Request Forgery (CSRF): it carries cookies without a preflight. ' +
    `Send it with a 'content-type' that is not one of ${[...SIMPLE_TYPES].join(', ')}, or with a non-empty value for one of these headers: ${config.required_headers.join(', ')}`;
  return {
    name: 'csrf',
    stage: 'http',
    onRequest({ http: { headers } }) {
      if (config.unsafe_disabled || headers.cookie === undefined) return;
      const contentType = headers['content-type'];
      if (typeof contentType === 'string' && !SIMPLE_TYPES.has(contentType.split(';')[0]!.trim().toLowerCase())) return;
      if (config.required_headers.some((name) => typeof headers[name] === 'string' && headers[name] !== '')) return;
      throw new Refusal(400, 'BAD_REQUEST', message);
    },
  };
}
