/**
 * A local token issuer for development and tests: an ES256 key, its JWKS, and a /token endpoint. It
 * stands in for a real identity provider; the gateway verifies its tokens exactly as it would verify
 * Auth0's or Cognito's, through the JWKS URL. Run alone (scripts/dev-issuer.ts), it keeps its key on disk so
 * tokens outlive a restart.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import Fastify from 'fastify';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type KeyLike } from 'jose';
import pino from 'pino';
import { DEV_AUDIENCE, devIssuerUrl } from './dev-issuer-settings';

/** Where the issuer and `npm run token` keep the signing key: .switchyard/ at the repository root, from src/ or dist/; git-ignored. */
export const DEV_ISSUER_KEY_DIR = resolve(__dirname, '..', '..', '..', '.switchyard', 'dev-issuer');

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyLike;
  readonly publicJwk: JWK;
}

export interface TokenOptions {
  scopes?: string[];
  /** A jose time span such as '1h' or '15m'; negative ('-5m') makes an expired token. */
  expiresIn?: string;
}

export interface DevIssuer {
  /** Base URL (no path) at which this process reaches the issuer. */
  readonly url: string;
  readonly port: number;
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  /** Signs an access token for `sub` with the given scopes, valid for an hour unless told otherwise. */
  issue(sub: string, options?: TokenOptions): Promise<string>;
  close(): Promise<void>;
}

export async function generateSigningKey(): Promise<SigningKey> {
  return signingKeyFromJwk(await newPrivateJwk());
}

async function newPrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return exportJWK(privateKey);
}

async function signingKeyFromJwk(privateJwk: JWK): Promise<SigningKey> {
  const { kty, crv, x, y } = privateJwk;
  const kid = await calculateJwkThumbprint({ kty, crv, x, y });
  return {
    kid,
    privateKey: (await importJWK(privateJwk, 'ES256')) as KeyLike,
    publicJwk: { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' },
  };
}

/** Reads the key from `dir`, or makes one there (mode 0600) if there is none yet. */
export async function loadOrCreateSigningKey(dir = DEV_ISSUER_KEY_DIR): Promise<SigningKey> {
  const file = join(dir, 'signing-key.json');
  try {
    return await readSigningKey(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const fresh = join(dir, `signing-key.${randomUUID()}.tmp`);
  await writeFile(fresh, `${JSON.stringify(await newPrivateJwk())}\n`, { mode: 0o600 });
  try {
    // link() fails if the file exists, so when the issuer and `npm run token` race, both end up with the first key.
    await link(fresh, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(fresh);
  }
  return readSigningKey(file);
}

async function readSigningKey(file: string): Promise<SigningKey> {
  const text = await readFile(file, 'utf8');
  try {
    const jwk = JSON.parse(text) as JWK;
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d) throw new Error('not an ES256 private key');
    return await signingKeyFromJwk(jwk);
  } catch (err) {
    throw new Error(`${file} is not a usable signing key (${(err as Error).message}); delete it and a new one is made`);
  }
}

export function signAccessToken(
  key: SigningKey,
  claims: { issuer: string; audience: string; sub: string } & TokenOptions,
): Promise<string> {
  return new SignJWT({ scope: (claims.scopes ?? []).join(' ') })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setSubject(claims.sub)
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '1h')
    .sign(key.privateKey);
}

/** Serves the issuer; without `signingKey` it signs with a fresh key that lives only in memory. */
export async function startDevIssuer(options: {
  port: number;
  host?: string;
  audience?: string;
  signingKey?: SigningKey;
  logLevel?: string;
}): Promise<DevIssuer> {
  const key = options.signingKey ?? (await generateSigningKey());
  const audience = options.audience ?? DEV_AUDIENCE;
  const host = options.host ?? '127.0.0.1';
  // Logs go to stderr like every other service's, so stdout stays for the ready line.
  const app = Fastify({ loggerInstance: pino({ level: options.logLevel ?? 'warn', base: { service: 'issuer' } }, pino.destination(2)) });
  let issuer = '';
  const issue = (sub: string, o: TokenOptions = {}) => signAccessToken(key, { issuer, audience, sub, ...o });

  const jwks = { keys: [key.publicJwk] };
  // Liveness, as every other service of npm start answers it (the scenarios ask it before they begin).
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/.well-known/jwks.json', async () => jwks);
  app.get<{ Querystring: { sub: string; scope: string } }>(
    '/token',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            sub: { type: 'string', minLength: 1, maxLength: 200, default: 'usr_001' },
            scope: { type: 'string', maxLength: 2000, default: '' },
          },
        },
      },
    },
    async (req) => ({
      access_token: await issue(req.query.sub, { scopes: req.query.scope.split(' ').filter(Boolean) }),
      token_type: 'Bearer',
      expires_in: 3600,
    }),
  );

  await app.listen({ port: options.port, host });
  const { port } = app.server.address() as AddressInfo;
  // A wildcard bind is reached through loopback; an explicit address is reached as given.
  const reachableHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${reachableHost}:${port}`;
  issuer = devIssuerUrl(port);
  return { url, port, issuer, audience, jwksUrl: `${url}/.well-known/jwks.json`, issue, close: () => app.close() };
}
