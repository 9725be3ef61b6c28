import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyLike } from 'jose';

export interface TestSigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyLike;
  publicKey: KeyLike;
  publicJwk: JWK;
}

export async function makeSigningKey(kid: string, alg: TestSigningKey['alg'] = 'RS256'): Promise<TestSigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/**
 * An identity provider's JWKS endpoint that a test controls: which keys it serves, whether it answers,
 * and how many times it was asked.
 */
export interface JwksServer {
  readonly url: string;
  readonly issuer: string;
  readonly audience: string;
  /** The keys served; replace to rotate. */
  keys: TestSigningKey[];
  /** While true every fetch gets a 503, as from a provider that is down. */
  down: boolean;
  fetches: number;
  /** Signs a token for `usr_001` with iat now and exp in 10 minutes; `expiresIn: null` leaves exp to `claims`, as does an `iat` there. */
  sign(
    key: TestSigningKey,
    claims?: Record<string, unknown>,
    options?: { expiresIn?: string | number | null; notBefore?: string | number; issuer?: string; audience?: string },
  ): Promise<string>;
  close(): Promise<void>;
}

export async function startJwksServer(options: { issuer?: string; audience?: string } = {}): Promise<JwksServer> {
  const state = {
    keys: [] as TestSigningKey[],
    down: false,
    fetches: 0,
  };
  const server = createServer((_request, res) => {
    state.fetches++;
    if (state.down) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = options.issuer ?? 'https://idp.test/';
  const audience = options.audience ?? 'switchyard-test';
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    issuer,
    audience,
    get keys() {
      return state.keys;
    },
    set keys(keys) {
      state.keys = keys;
    },
    get down() {
      return state.down;
    },
    set down(down) {
      state.down = down;
    },
    get fetches() {
      return state.fetches;
    },
    set fetches(n) {
      state.fetches = n;
    },
    sign(key, claims = {}, o = {}) {
      const jwt = new SignJWT({ sub: 'usr_001', ...claims } as JWTPayload)
        .setProtectedHeader({ alg: key.alg, kid: key.kid })
        .setIssuer(o.issuer ?? issuer)
        .setAudience(o.audience ?? audience);
      if (claims.iat === undefined) jwt.setIssuedAt();
      if (o.expiresIn !== null) jwt.setExpirationTime(o.expiresIn ?? '10m');
      if (o.notBefore !== undefined) jwt.setNotBefore(o.notBefore);
      return jwt.sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
