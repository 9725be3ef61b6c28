import type { IncomingHttpHeaders } from 'node:http';

/**
 * Who is calling, as the gateway established it. The gateway is the only caller the mesh lets reach a
 * subgraph's /graphql, so subgraphs trust these headers and never see raw credentials.
 */
export interface Principal {
  userId: string;
  scopes: string[];
}

export const PRINCIPAL_HEADERS = {
  userId: 'x-switchyard-user-id',
  scopes: 'x-switchyard-scopes',
} as const;

export function principalToHeaders(principal: Principal): Record<string, string> {
  return { [PRINCIPAL_HEADERS.userId]: principal.userId, [PRINCIPAL_HEADERS.scopes]: principal.scopes.join(' ') };
}

export function principalFromHeaders(headers: IncomingHttpHeaders): Principal | null {
  const userId = headers[PRINCIPAL_HEADERS.userId];
  if (typeof userId !== 'string' || userId === '') return null;
  const scopes = headers[PRINCIPAL_HEADERS.scopes];
  return { userId, scopes: typeof scopes === 'string' && scopes !== '' ? scopes.split(' ') : [] };
}
