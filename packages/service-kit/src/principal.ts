import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** What kind of caller a request comes from: a signed-in user (JWT), a machine client (API key), or nobody. */
export type PrincipalKind = 'user' | 'apiKey' | 'anonymous';

/**
 * Who is calling, as the gateway established it. The gateway is the only caller the mesh lets reach a
 * subgraph's /graphql, and it signs the principal it forwards (see signIdentity), so subgraphs take this
 * from the gateway's headers and never see raw credentials.
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
  /** `t=<epoch ms>,v1=<base64url HMAC-SHA256>`: see signIdentity. */
  signature: 'x-switchyard-identity-signature',
  requestId: 'x-request-id',
} as const;

/** A signature older or newer than this (clock difference included) is refused as stale. */
export const IDENTITY_MAX_AGE_MS = 60_000;
/** The shortest IDENTITY_SIGNING_SECRET accepted: 32 bytes of text, as `openssl rand -hex 16` prints. */
export const IDENTITY_SECRET_MIN_LENGTH = 32;

/** A subgraph refused the identity headers: forged, unsigned, stale. The reason is safe to show. */
export class IdentityRefused extends Error {}

/**
 * The HMAC-SHA256 the gateway puts beside the principal headers, over everything a subgraph trusts
 * (kind, id, scopes), the request id (a captured signature cannot be replayed under another id's logs)
 * and the signing time (nor later than IDENTITY_MAX_AGE_MS). Hand-written because it is three lines of
 * node:crypto; a JWT library would add a token format for nothing. Costs microseconds a request.
 */
export function signIdentity(secret: string, principal: Pick<Principal, 'kind' | 'id' | 'scopes'>, requestId: string, at: number): string {
  return `t=${at},v1=${identityMac(secret, principal.kind, principal.id, principal.scopes.join(' '), requestId, at)}`;
}

function identityMac(secret: string, kind: string, id: string, scopes: string, requestId: string, at: number): string {
  // Newline-separated: no field can contain one (HTTP header values cannot), so the fields cannot be shifted.
  return createHmac('sha256', secret).update(`v1\n${kind}\n${id}\n${scopes}\n${requestId}\n${at}`).digest('base64url');
}

/** The headers that carry a principal to a subgraph, signed; none for anonymous. */
export function principalToHeaders(principal: Principal, signing: { secret: string; requestId: string; now?: number }): Record<string, string> {
  if (principal.kind === 'anonymous') return {};
  return {
    [PRINCIPAL_HEADERS.kind]: principal.kind,
    [PRINCIPAL_HEADERS.id]: principal.id,
    [PRINCIPAL_HEADERS.scopes]: principal.scopes.join(' '),
    [PRINCIPAL_HEADERS.signature]: signIdentity(signing.secret, principal, signing.requestId, signing.now ?? Date.now()),
  };
}

/**
 * The principal a request's headers carry, verified: no principal headers is ANONYMOUS; principal
 * headers without a valid, fresh signature are refused (IdentityRefused), never taken as anonymous, so a
 * forged identity is an error that shows up rather than a quiet downgrade.
 */
export function principalFromHeaders(headers: IncomingHttpHeaders, secret: string, now = Date.now()): Principal {
  const kind = headers[PRINCIPAL_HEADERS.kind];
  const id = headers[PRINCIPAL_HEADERS.id];
  const scopes = headers[PRINCIPAL_HEADERS.scopes];
  const signature = headers[PRINCIPAL_HEADERS.signature];
  if (kind === undefined && id === undefined && scopes === undefined && signature === undefined) return ANONYMOUS;
  if ((kind !== 'user' && kind !== 'apiKey') || typeof id !== 'string' || id === '') throw new IdentityRefused('malformed identity headers');
  if (typeof signature !== 'string') throw new IdentityRefused('identity headers without a signature');
  const match = /^t=(\d{1,15}),v1=([A-Za-z0-9_-]{43})$/.exec(signature);
  if (!match) throw new IdentityRefused('malformed identity signature');
  const at = Number(match[1]);
  if (Math.abs(now - at) > IDENTITY_MAX_AGE_MS) throw new IdentityRefused('stale identity signature');
  const requestId = headers[PRINCIPAL_HEADERS.requestId];
  const scopeText = typeof scopes === 'string' ? scopes : '';
  const expected = identityMac(secret, kind, id, scopeText, typeof requestId === 'string' ? requestId : '', at);
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(match[2]!))) throw new IdentityRefused('identity signature does not match');
  return { kind, id, scopes: scopeText !== '' ? scopeText.split(' ') : [], claims: {} };
}
