import type { Meter } from '@opentelemetry/api';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { isForwardablePrincipalId, MalformedScopes, scopesFromClaims, type Logger, type Principal } from '@switchyard/service-kit';
import type { JwksSourceConfig, JwsAlgorithm, JwtConfig } from './config';
import { JwksKeyCache, KeysUnavailableError, StaticKeySet, UnknownKeyError, type KeySetStatus } from './key-cache';

/** Why a token was refused, in words safe to show the client (no claim values, no key material). */
export type TokenRejection =
  | 'expired'
  | 'missing exp'
  | 'not yet valid'
  | 'issued in the future'
  | 'bad signature'
  | 'wrong issuer'
  | 'wrong audience'
  | 'unknown key'
  | 'unsupported algorithm'
  | 'malformed'
  | 'malformed scopes'
  | 'too large'
  | 'no subject'
  | 'malformed subject';

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

/**
 * Tokens already verified, so that a client sending the same token on every request pays for one
 * signature check (ES256 through jose: about 0.5 ms of CPU, a third of this gateway's throughput on the
 * benchmark) rather than one per request. An entry holds only while its key set's generation is the one
 * it was verified under (a refresh that may remove its key, or keys past max_stale, end it) and until the
 * token expires; the oldest entries go first once the cache is full.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, { principal: Principal; source: KeySource; generation: number; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get(token: string): Principal | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.generation === entry.source.keys.generation && this.now() < entry.expiresAt) return entry.principal;
    this.entries.delete(token);
    return undefined;
  }

  set(token: string, principal: Principal, source: KeySource, generation: number, expiresAt: number): void {
    if (generation < 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { principal, source, generation, expiresAt });
  }
}

/** At most this long between two signature checks of one token, whatever its exp says (or when it has none). */
const VERIFIED_TOKEN_TTL_MS = 5 * 60_000;
const VERIFIED_TOKENS_MAX = 10_000;

export interface AccessTokenVerifier {
  verify(token: string): Promise<Principal>;
  status(): KeySetStatus[];
  close(): void;
}

/** Builds the key sources (fetching each JWKS once; a provider that is down is reported, not fatal). */
export async function createAccessTokenVerifier(
  jwt: JwtConfig,
  logger: Logger,
  meter?: Meter,
  /** Epoch milliseconds; tests move it instead of waiting. */
  now: () => number = Date.now,
): Promise<AccessTokenVerifier> {
  const sources: KeySource[] = await Promise.all(
    jwt.jwks.map(async (config, i): Promise<KeySource> => {
      if (config.keys) return { config, keys: await StaticKeySet.create({ ...config, keys: config.keys }, `authentication.router.jwt.jwks.${i}`) };
      const cache = new JwksKeyCache({ ...config, url: config.url! }, logger, meter);
      await cache.start();
      return { config, keys: cache };
    }),
  );
  const clockTolerance = Math.round(jwt.clock_skew / 1000);
  const verified = new VerifiedTokens(VERIFIED_TOKENS_MAX, now);

  return {
    async verify(token) {
      if (token.length > jwt.max_token_size) throw new TokenRejectedError('too large');
      const known = verified.get(token);
      if (known) return known;
      if (!isCanonicalCompactJws(token)) throw new TokenRejectedError('malformed');
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
      const generation = source.keys.generation;
      const verifiedAt = now();
      try {
        const { payload } = await jwtVerify(token, (header) => source.keys.keyFor(header.kid, header.alg as JwsAlgorithm), {
          issuer: source.config.issuers,
          audience: source.config.audiences,
          algorithms: source.config.algorithms,
          // Without exp a token is good for as long as its key is: only an issuer said to mint such tokens gets them through.
          requiredClaims: source.config.allow_missing_exp ? [] : ['exp'],
          clockTolerance,
          currentDate: new Date(verifiedAt),
        });
        if (payload.sub === undefined || payload.sub === '') throw new TokenRejectedError('no subject');
        // The subject is the principal id each subgraph is sent: a number, a list, or a string a header cannot carry unchanged would fail every fetch.
        if (!isForwardablePrincipalId(payload.sub)) throw new TokenRejectedError('malformed subject');
        // jose checks iat only against a maximum age; one issued later than now is a broken clock or a token minted for later.
        if (payload.iat !== undefined && payload.iat > verifiedAt / 1000 + clockTolerance) throw new TokenRejectedError('issued in the future');
        const principal: Principal = { kind: 'user', id: payload.sub, scopes: scopesOf(payload), claims: payload };
        const expiresAt = Math.min(verifiedAt + VERIFIED_TOKEN_TTL_MS, payload.exp === undefined ? Infinity : (payload.exp + clockTolerance) * 1000);
        verified.set(token, principal, source, generation, expiresAt);
        return principal;
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

/**
 * A compact JWS in its one spelling: three base64url segments without padding, each the encoding of its
 * own bytes. jose decodes leniently (padding, "+" and "/", the unused low bits of the last character), so
 * one signed token would otherwise verify under many spellings, each a different string to whatever keys
 * by the token (a revocation list, a log search, the verified-token cache).
 */
function isCanonicalCompactJws(token: string): boolean {
  const segments = token.split('.');
  return segments.length === 3 && segments.every((segment) => BASE64URL.test(segment) && Buffer.from(segment, 'base64url').toString('base64url') === segment);
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function classify(err: unknown): Error {
  if (err instanceof TokenRejectedError) return err;
  if (err instanceof UnknownKeyError) return new TokenRejectedError('unknown key');
  if (err instanceof KeysUnavailableError) return new TokenUnverifiableError(err.message);
  if (err instanceof joseErrors.JWTExpired) return new TokenRejectedError('expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'exp' && err.reason === 'missing') return new TokenRejectedError('missing exp');
    // A time claim that is not a number (exp: null, exp: "tomorrow") says nothing about time: the token is at fault.
    if (err.reason === 'invalid') return new TokenRejectedError('malformed');
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

/**
 * The token's scopes, read by the same parser the subgraphs read the forwarded scopes with: a scope that
 * is not an RFC 6749 scope-token refuses the token, since dropping it or reading it another way could
 * grant what the issuer did not mean.
 */
function scopesOf(payload: Record<string, unknown>): string[] {
  try {
    return scopesFromClaims(payload);
  } catch (err) {
    if (err instanceof MalformedScopes) throw new TokenRejectedError('malformed scopes');
    throw err;
  }
}
