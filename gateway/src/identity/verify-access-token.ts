import type { IncomingHttpHeaders } from 'node:http';
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import { ANONYMOUS, HttpError, type Principal } from '@switchyard/service-kit';
import type { GatewayConfig } from '../config';

export type Authenticate = (headers: IncomingHttpHeaders) => Promise<Principal>;

type JwtConfig = NonNullable<GatewayConfig['authentication']['router']['jwt']>;

const unauthenticated = (message: string) => new HttpError(401, message, 'UNAUTHENTICATED');

/**
 * The identity stage: turns the Authorization header into a Principal. No header means anonymous (fields
 * that need a user say so later); a header that is present but invalid is refused outright, so a client
 * never silently runs as anonymous with a broken token.
 */
export function createAuthenticator(jwt: JwtConfig | undefined): Authenticate {
  const keySets = (jwt?.jwks ?? []).map((entry) => ({
    ...entry,
    keys: createRemoteJWKSet(new URL(entry.url), { cooldownDuration: 30_000, timeoutDuration: 5_000 }),
  }));
  return async (headers) => {
    const header = headers.authorization;
    if (!header) return ANONYMOUS;
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthenticated('Authorization header must be "Bearer <token>"');
    if (!jwt || keySets.length === 0) throw unauthenticated('this gateway does not accept tokens: no JWT issuer is configured');
    const token = match[1]!;
    try {
      // With several key sets, the token's issuer says which one signs it; the signature check still decides.
      const claimed = keySets.length > 1 ? decodeJwt(token).iss : undefined;
      const entry = keySets.find((k) => claimed !== undefined && k.issuers.includes(claimed)) ?? keySets[0]!;
      const { payload } = await jwtVerify(token, entry.keys, {
        issuer: entry.issuers.length ? entry.issuers : undefined,
        audience: entry.audiences.length ? entry.audiences : undefined,
        algorithms: entry.algorithms,
        clockTolerance: Math.round(jwt.clock_skew / 1000),
      });
      if (!payload.sub) throw unauthenticated('access token has no subject (sub)');
      return { kind: 'user', id: payload.sub, scopes: scopesOf(payload), claims: payload };
    } catch (err) {
      if (err instanceof HttpError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw unauthenticated('access token expired');
      if (err instanceof joseErrors.JOSEError) throw unauthenticated(`invalid access token (${err.code})`);
      // The key set could not be fetched: our fault, not the client's.
      throw new HttpError(503, 'cannot verify access tokens right now', 'SERVICE_UNAVAILABLE');
    }
  };
}

/** OAuth scopes arrive as a space-separated `scope` string or an `scp` array, depending on the issuer. */
function scopesOf(payload: Record<string, unknown>): string[] {
  if (typeof payload.scope === 'string') return payload.scope.split(' ').filter(Boolean);
  if (Array.isArray(payload.scp)) return payload.scp.filter((s): s is string => typeof s === 'string');
  return [];
}
