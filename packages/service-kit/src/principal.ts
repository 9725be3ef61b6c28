import type { IncomingHttpHeaders } from 'node:http';

/** What kind of caller a request comes from: a signed-in user (JWT), a machine client (API key), or nobody. */
export type PrincipalKind = 'user' | 'apiKey' | 'anonymous';

/**
 * Who is calling, as the gateway established it. The gateway is the only caller the mesh lets reach a
 * subgraph's /graphql, so subgraphs take this from the gateway's headers and never see raw credentials.
 */
export interface Principal {
  kind: PrincipalKind;
  /** user: the token's `sub`; apiKey: the key's name; anonymous: empty. */
  id: string;
  scopes: string[];
  /** The verified token's claims (users only); kept in the gateway, never sent to subgraphs. */
  claims: Record<string, unknown>;
  /** The rate-limit class an API key names, if any. */
  rateLimitClass?: string;
}

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', id: '', scopes: [], claims: {} }) as Principal;

export const PRINCIPAL_HEADERS = {
  kind: 'x-switchyard-principal-kind',
  id: 'x-switchyard-principal-id',
  scopes: 'x-switchyard-scopes',
} as const;

export function principalToHeaders(principal: Principal): Record<string, string> {
  if (principal.kind === 'anonymous') return {};
  return {
    [PRINCIPAL_HEADERS.kind]: principal.kind,
    [PRINCIPAL_HEADERS.id]: principal.id,
    [PRINCIPAL_HEADERS.scopes]: principal.scopes.join(' '),
  };
}

export function principalFromHeaders(headers: IncomingHttpHeaders): Principal {
  const kind = headers[PRINCIPAL_HEADERS.kind];
  const id = headers[PRINCIPAL_HEADERS.id];
  if ((kind !== 'user' && kind !== 'apiKey') || typeof id !== 'string' || id === '') return ANONYMOUS;
  const scopes = headers[PRINCIPAL_HEADERS.scopes];
  return { kind, id, scopes: typeof scopes === 'string' && scopes !== '' ? scopes.split(' ') : [], claims: {} };
}
