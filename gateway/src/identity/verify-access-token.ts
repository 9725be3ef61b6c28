import type { Meter } from '@opentelemetry/api';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { Logger, Principal } from '@switchyard/service-kit';
import type { JwksSourceConfig, JwsAlgorithm, JwtConfig } from './config';
import { JwksKeyCache, KeysUnavailableError, StaticKeySet, UnknownKeyError, type KeySetStatus } from './key-cache';

/** Why a token was refused, in words safe to show the client (no claim values, no key material). */
export type TokenRejection =
  | 'expired'
  | 'not yet valid'
  | 'bad signature'
  | 'wrong issuer'
  | 'wrong audience'
  | 'unknown key'
  | 'unsupported algorithm'
  | 'malformed'
  | 'too large'
  | 'no subject';

export class TokenRejectedError extends Error {
  constructor(readonly reason: TokenRejection) {
    super(reason);
  }
}

/** The issuer's keys cannot be had right now (never fetched, or past max_stale). */
export class TokenUnverifiableError extends Error {}

interface KeySource {
  config: JwksSourceConfig;
  keys: JwksKeyCache | StaticKeySet;
}

export interface AccessTokenVerifier {
  verify(token: string): Promise<Principal>;
  status(): KeySetStatus[];
  close(): void;
}

/** Builds the key sources (fetching each JWKS once; a provider that is down is reported, not fatal). */
export async function createAccessTokenVerifier(jwt: JwtConfig, logger: Logger, meter?: Meter): Promise<AccessTokenVerifier> {
  const sources: KeySource[] = await Promise.all(
    jwt.jwks.map(async (config, i): Promise<KeySource> => {
      if (config.keys) return { config, keys: await StaticKeySet.create({ ...config, keys: config.keys }, `authentication.router.jwt.jwks.${i}`) };
      const cache = new JwksKeyCache({ ...config, url: config.url! }, logger, meter);
      await cache.start();
      return { config, keys: cache };
    }),
  );
  const clockTolerance = Math.round(jwt.clock_skew / 1000);

  return {
    async verify(token) {
      if (token.length > jwt.max_token_size) throw new TokenRejectedError('too large');
      let alg: JwsAlgorithm;
      let issuer: unknown;
      try {
        const header = decodeProtectedHeader(token);
        issuer = decodeJwt(token).iss;
        alg = header.alg as JwsAlgorithm;
      } catch {
        throw new TokenRejectedError('malformed');
      }
      // The token's issuer says which source's keys sign it; the signature check still decides.
      const source = sources.find((s) => typeof issuer === 'string' && s.config.issuers.includes(issuer)) ?? sources[0]!;
      if (!(source.config.algorithms as string[]).includes(alg)) throw new TokenRejectedError('unsupported algorithm');
      try {
        const { payload } = await jwtVerify(token, (header) => source.keys.keyFor(header.kid, header.alg as JwsAlgorithm), {
          issuer: source.config.issuers,
          audience: source.config.audiences,
          algorithms: source.config.algorithms,
          clockTolerance,
        });
        if (!payload.sub) throw new TokenRejectedError('no subject');
        return { kind: 'user', id: payload.sub, scopes: scopesOf(payload), claims: payload };
      } catch (err) {
        throw classify(err);
      }
    },
    status: () => sources.map((s) => s.keys.status()),
    close() {
      for (const s of sources) if (s.keys instanceof JwksKeyCache) s.keys.close();
    },
  };
}

function classify(err: unknown): Error {
  if (err instanceof TokenRejectedError) return err;
  if (err instanceof UnknownKeyError) return new TokenRejectedError('unknown key');
  if (err instanceof KeysUnavailableError) return new TokenUnverifiableError(err.message);
  if (err instanceof joseErrors.JWTExpired) return new TokenRejectedError('expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return new TokenRejectedError('not yet valid');
    if (err.claim === 'iss') return new TokenRejectedError('wrong issuer');
    if (err.claim === 'aud') return new TokenRejectedError('wrong audience');
    return new TokenRejectedError('malformed');
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenRejectedError('bad signature');
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) return new TokenRejectedError('unsupported algorithm');
  // JWSInvalid, JWTInvalid, and jose's TypeErrors for a key that does not fit the header: the token is at fault.
  return new TokenRejectedError('malformed');
}

/** OAuth scopes arrive as a space-separated `scope` string or an `scp` array (or string), depending on the issuer. */
function scopesOf(payload: Record<string, unknown>): string[] {
  const raw = typeof payload.scope === 'string' ? payload.scope : payload.scp;
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === 'string' && s !== '');
  return [];
}
