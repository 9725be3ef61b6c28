import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { formatScopeList, MalformedScopes, parseScopeList } from './scopes';

/** What kind of caller a request comes from: a signed-in user (JWT), a machine client (API key), or nobody. */
export type PrincipalKind = 'user' | 'apiKey' | 'anonymous';

/**
 * Who is calling, as the gateway established it. The gateway is the only caller the mesh lets reach a
 * subgraph's /graphql, and it signs every request it sends there with the principal (see
 * signSubgraphRequest), so subgraphs take this from the gateway's headers and never see raw credentials.
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

/**
 * Who signed a request to a subgraph: a principal the gateway forwards (anonymous included), or a
 * service calling another service's internal API on its own behalf (orders reserving stock at products).
 */
export interface Caller {
  kind: PrincipalKind | 'service';
  /** user: the token's `sub`; apiKey: the key's name; service: the calling service's name; anonymous: empty. */
  id: string;
  scopes: readonly string[];
}

export const PRINCIPAL_HEADERS = {
  kind: 'x-switchyard-principal-kind',
  id: 'x-switchyard-principal-id',
  scopes: 'x-switchyard-scopes',
  /** `t=<epoch ms>,v2=<base64url HMAC-SHA256>`: see signSubgraphRequest. */
  signature: 'x-switchyard-identity-signature',
  requestId: 'x-request-id',
} as const;

/**
 * Whether a principal id travels in the identity headers unchanged. A header value is Latin-1 without
 * control characters, and HTTP strips spaces and tabs at its ends: any other id (a token's `sub` of
 * CJK, or with a trailing space) would not be sent, or would reach the subgraph as another string that
 * no longer matches its signature.
 */
export function isForwardablePrincipalId(id: unknown): id is string {
  return typeof id === 'string' && FORWARDABLE_ID.test(id);
}

const FORWARDABLE_ID = /^[\x21-\x7e\x80-\xff](?:[\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?$/;

/** A signature older or newer than this (clock difference included) is refused as stale. */
export const IDENTITY_MAX_AGE_MS = 60_000;
/** The shortest IDENTITY_SIGNING_SECRET accepted: 32 bytes of text, as `openssl rand -hex 16` prints. */
export const IDENTITY_SECRET_MIN_LENGTH = 32;

/** A subgraph refused a request's signature or identity headers: unsigned, forged, stale. The reason is safe to show. */
export class IdentityRefused extends Error {}

const CALLER_KINDS: ReadonlySet<string> = new Set<Caller['kind']>(['user', 'apiKey', 'anonymous', 'service']);

export interface SubgraphRequestSigning {
  secret: string;
  /** Who the request is for; anonymous too, so that a subgraph can refuse every request the gateway did not send. */
  principal: Caller;
  requestId: string;
  /** The subgraph (or service) the request goes to, by the name it knows itself by. */
  subgraph: string;
  /** The exact bytes to be sent. */
  body: string | Uint8Array;
  now?: number;
}

/**
 * The headers that make a request to a subgraph trusted: the caller (kind, id, scopes), the request id and
 * an HMAC-SHA256 over those, the target subgraph's name, the SHA-256 of the exact body and the signing
 * time. So a captured request cannot be replayed to another subgraph, with another operation or variables,
 * under another request id, or after IDENTITY_MAX_AGE_MS. Hand-written because it is a few lines of
 * node:crypto; a JWT library would add a token format for nothing. Costs microseconds a request.
 */
export function signSubgraphRequest(request: SubgraphRequestSigning): Record<string, string> {
  const { principal, requestId } = request;
  const at = request.now ?? Date.now();
  // The forwarded scopes must read back as the same list: formatScopeList refuses any that would not.
  const scopes = formatScopeList(principal.scopes);
  const mac = requestMac(request.secret, principal.kind, principal.id, scopes, requestId, request.subgraph, bodyDigest(request.body), at);
  return {
    [PRINCIPAL_HEADERS.requestId]: requestId,
    [PRINCIPAL_HEADERS.kind]: principal.kind,
    ...(principal.id !== '' && { [PRINCIPAL_HEADERS.id]: principal.id }),
    ...(scopes !== '' && { [PRINCIPAL_HEADERS.scopes]: scopes }),
    [PRINCIPAL_HEADERS.signature]: `t=${at},v2=${mac}`,
  };
}

const bodyDigest = (body: string | Uint8Array): string => createHash('sha256').update(body).digest('base64url');

function requestMac(secret: string, kind: string, id: string, scopes: string, requestId: string, subgraph: string, bodySha256: string, at: number): string {
  // A JSON array: no field (a token's `sub` included) can shift into its neighbour, whatever it contains.
  return createHmac('sha256', secret).update(JSON.stringify(['v2', kind, id, scopes, requestId, subgraph, bodySha256, at])).digest('base64url');
}

/**
 * The caller of a request a subgraph received, verified against the subgraph's own name and the raw
 * body bytes: a request without a valid, fresh signature over exactly these is refused (IdentityRefused),
 * whoever it claims to come from. Scopes are read with the parser the gateway signed them with.
 */
export function verifySubgraphRequest(
  headers: IncomingHttpHeaders,
  rawBody: Uint8Array,
  expected: { secret: string; subgraph: string; now?: number },
): Caller {
  const signature = headers[PRINCIPAL_HEADERS.signature];
  if (signature === undefined) throw new IdentityRefused('unsigned request: only the gateway may call this service');
  const match = typeof signature === 'string' ? /^t=(\d{1,15}),v2=([A-Za-z0-9_-]{43})$/.exec(signature) : null;
  if (!match) throw new IdentityRefused('malformed identity signature');
  const at = Number(match[1]);
  if (Math.abs((expected.now ?? Date.now()) - at) > IDENTITY_MAX_AGE_MS) throw new IdentityRefused('stale identity signature');
  const kind = headers[PRINCIPAL_HEADERS.kind];
  const id = headers[PRINCIPAL_HEADERS.id] ?? '';
  const scopes = headers[PRINCIPAL_HEADERS.scopes] ?? '';
  const requestId = headers[PRINCIPAL_HEADERS.requestId];
  if (typeof kind !== 'string' || !CALLER_KINDS.has(kind) || typeof id !== 'string' || typeof scopes !== 'string' || typeof requestId !== 'string') {
    throw new IdentityRefused('malformed identity headers');
  }
  if (kind === 'anonymous' ? id !== '' || scopes !== '' : id === '') throw new IdentityRefused('malformed identity headers');
  const mac = requestMac(expected.secret, kind, id, scopes, requestId, expected.subgraph, bodyDigest(rawBody), at);
  if (!timingSafeEqual(Buffer.from(mac), Buffer.from(match[2]!))) throw new IdentityRefused('identity signature does not match');
  try {
    return { kind: kind as Caller['kind'], id, scopes: parseScopeList(scopes) };
  } catch (err) {
    if (err instanceof MalformedScopes) throw new IdentityRefused('malformed identity headers');
    throw err;
  }
}
