import { Refusal, type GatewayPlugin } from '../../core/plugin';
import type { CsrfConfig } from './config';

/** The content types a browser sends cross-site without a preflight (the CORS "simple" ones). */
const SIMPLE_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/**
 * CSRF prevention (Router's csrf keys): a browser page on another site can make a simple GET or POST to
 * the gateway, with the user's cookies, without a CORS preflight. Such a request is refused unless it
 * carries a content type a simple request cannot have, or one of required_headers, which only a script
 * the gateway's CORS policy allowed can set.
 */
export function useCsrfPrevention(config: CsrfConfig): GatewayPlugin {
  const message =
    "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a 'content-type' header " +
    `(with a type that is not one of ${[...SIMPLE_TYPES].join(', ')}) or provide a non-empty value for one of the following headers: ${config.required_headers.join(', ')}`;
  return {
    name: 'csrf',
    stage: 'http',
    onRequest({ http: { headers } }) {
      if (config.unsafe_disabled) return;
      const contentType = headers['content-type'];
      if (typeof contentType === 'string') {
        const type = contentType.split(';')[0]!.trim().toLowerCase();
        if (!SIMPLE_TYPES.has(type)) return;
      }
      if (config.required_headers.some((name) => typeof headers[name] === 'string' && headers[name] !== '')) return;
      throw new Refusal(400, 'BAD_REQUEST', message);
    },
  };
}
