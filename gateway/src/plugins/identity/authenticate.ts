import type { Meter } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import { ANONYMOUS, type Logger, type Principal } from '@switchyard/service-kit';
import { Refusal } from '../../core/plugin';
import { ApiKeyStore, type ApiKeysStatus } from './api-keys';
import type { AuthenticationConfig, TokenSource } from './config';
import type { KeySetStatus } from './key-cache';
import { createAccessTokenVerifier, TokenRejectedError, TokenUnverifiableError, type AccessTokenVerifier } from './verify-access-token';

export type Authenticate = (headers: IncomingHttpHeaders) => Promise<Principal>;

export const API_KEY_HEADER = 'x-api-key';

export interface Identity {
  authenticate: Authenticate;
  /** For /readyz's body: each key source's freshness and the API keys loaded. */
  status(): { jwks: KeySetStatus[]; api_keys: ApiKeysStatus };
  close(): void;
}

/** 401 with RFC 6750's challenge, so a client library knows to get a new token rather than retry. */
const unauthenticated = (message: string, reason: string) =>
  new Refusal(401, 'UNAUTHENTICATED', message, { headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${reason}"` } });

/**
 * Credentials to one Principal. No credential is anonymous (fields that need a user
 * say so later); a credential that is present but invalid is refused with 401 (a Refusal) and its reason, so a
 * client never silently runs as anonymous with a broken token (unless on_error: Continue says so).
 */
export async function createIdentity(config: AuthenticationConfig, rateLimitClasses: string[], logger: Logger, meter?: Meter): Promise<Identity> {
  const jwt = config.router.jwt;
  const apiKeys = await ApiKeyStore.create(config.api_keys, rateLimitClasses, logger);
  let verifier: AccessTokenVerifier | undefined;
  try {
    verifier = jwt && (await createAccessTokenVerifier(jwt, logger, meter));
  } catch (err) {
    apiKeys.close();
    throw err;
  }
  const sources = jwt?.sources ?? [{ type: 'header', name: 'authorization', value_prefix: 'Bearer' }];

  async function fromToken(token: string): Promise<Principal> {
    if (!verifier) throw unauthenticated('access token refused: this gateway accepts no tokens (no JWT issuer is configured)', 'no issuer configured');
    try {
      return await verifier.verify(token);
    } catch (err) {
      if (jwt!.on_error === 'Continue') return ANONYMOUS;
      if (err instanceof TokenRejectedError) throw unauthenticated(`access token refused: ${err.reason}`, err.reason);
      if (err instanceof TokenUnverifiableError) {
        logger.warn({ error: err.message }, 'cannot verify an access token: no keys');
        throw new Refusal(503, 'SERVICE_UNAVAILABLE', 'cannot verify access tokens right now');
      }
      throw err;
    }
  }

  return {
    async authenticate(headers) {
      const token = tokenFrom(headers, sources);
      const apiKey = headers[API_KEY_HEADER];
      if (apiKey !== undefined && token !== undefined) {
        // Two credentials could name two callers; picking one silently would hide a client's mistake.
        throw new Refusal(400, 'BAD_REQUEST', `send either an access token or an ${API_KEY_HEADER}, not both`);
      }
      if (token !== undefined) {
        if (token.malformed && jwt?.on_error === 'Continue') return ANONYMOUS;
        if (token.malformed) throw unauthenticated(`access token refused: ${token.malformed}`, 'malformed');
        return fromToken(token.value);
      }
      if (apiKey !== undefined) {
        const principal = typeof apiKey === 'string' ? apiKeys.lookup(apiKey) : undefined;
        if (!principal) throw unauthenticated('API key refused: unknown API key', 'unknown API key');
        return principal;
      }
      return ANONYMOUS;
    },
    status: () => ({ jwks: verifier?.status() ?? [], api_keys: apiKeys.status() }),
    close() {
      verifier?.close();
      apiKeys.close();
    },
  };
}

/** The token from the first configured source present, or what is wrong with that source's value. */
function tokenFrom(headers: IncomingHttpHeaders, sources: TokenSource[]): { value: string; malformed?: string } | undefined {
  for (const source of sources) {
    if (source.type === 'header') {
      const raw = headers[source.name];
      if (raw === undefined) continue;
      const value = Array.isArray(raw) ? raw.join(',') : raw;
      if (source.value_prefix === '') return value.trim() ? { value: value.trim() } : { value, malformed: `the ${source.name} header is empty` };
      const [prefix, token, ...rest] = value.trim().split(/\s+/);
      if (prefix?.toLowerCase() !== source.value_prefix.toLowerCase() || !token || rest.length > 0) {
        return { value, malformed: `the ${source.name} header must be "${source.value_prefix} <token>"` };
      }
      return { value: token };
    }
    const value = cookieValue(headers.cookie, source.name);
    if (value !== undefined) return { value };
  }
  return undefined;
}

/**
 * One cookie's value by name. Written here because the identity stage reads only the raw header: one
 * split, no decoding (a JWT is already URL-safe), so a cookie parser dependency would add nothing.
 */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
