import { PRINCIPAL_HEADERS } from '@switchyard/service-kit';

/** Hop-by-hop headers (RFC 9110 7.6.1): they describe one connection and are never forwarded. */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** How a message is framed and encoded: the gateway writes these for the body it sends. */
const FRAMING: ReadonlySet<string> = new Set(['content-length', 'content-type', 'content-encoding', 'host', 'accept-encoding', 'expect']);

/** The headers the principal signature covers (and x-request-id, which it also covers). */
const SIGNED: ReadonlySet<string> = new Set(Object.values(PRINCIPAL_HEADERS));

/** Any header of Switchyard's own namespace, so a header added to the signature later is covered already. */
const OWN_PREFIX = 'x-switchyard-';

/** Response headers the gateway itself decides: the merged cache policy, CORS, the rate-limit standing. */
const GATEWAY_RESPONSE: ReadonlySet<string> = new Set(['cache-control', 'age', 'cache-tag', 'x-request-id', 'ratelimit', 'ratelimit-policy', 'retry-after', 'set-cookie2', 'vary']);

/** Whether no request rule may set, copy or remove this header (lower-case name). */
export function isReservedRequestHeader(name: string): boolean {
  return HOP_BY_HOP.has(name) || FRAMING.has(name) || SIGNED.has(name) || name.startsWith(OWN_PREFIX);
}

/** Whether no response rule may pass this header to the client (lower-case name). */
export function isReservedResponseHeader(name: string): boolean {
  return HOP_BY_HOP.has(name) || FRAMING.has(name) || GATEWAY_RESPONSE.has(name) || name.startsWith('access-control-') || name.startsWith(OWN_PREFIX);
}

/** The names a message's Connection header lists: hop-by-hop for that message too (RFC 9110 7.6.1). */
export function connectionListed(connection: string | string[] | undefined): Set<string> {
  const value = Array.isArray(connection) ? connection.join(',') : (connection ?? '');
  return new Set(value.split(',').map((token) => token.trim().toLowerCase()).filter(Boolean));
}
