import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { Principal } from '@switchyard/service-kit';

/**
 * The address an anonymous client is keyed by: the socket's peer, or the X-Forwarded-For entry
 * `trustedHops` proxies back. Entries further left were written by the client and are never trusted.
 */
export function clientAddress(request: IncomingMessage, trustedHops: number): string {
  return proxyAddr(request, (_address, hop) => hop < trustedHops);
}

/** Whom a request is charged to: its user or API key, or its address when anonymous. */
export function clientKey(principal: Principal, address: string): string {
  return principal.kind === 'anonymous' ? `ip:${address}` : `${principal.kind}:${principal.id}`;
}
