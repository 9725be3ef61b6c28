import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { exportSPKI, SignJWT, UnsecuredJWT, base64url } from 'jose';
import { ANONYMOUS, createLogger } from '@switchyard/service-kit';
import { Refusal } from '../gateway/src/core/plugin';
import { hashApiKey, generateApiKey } from '../gateway/src/plugins/identity/api-keys';
import { authenticationConfigSchema } from '../gateway/src/plugins/identity/config';
import { createIdentity, type Identity } from '../gateway/src/plugins/identity/authenticate';
import { eventually } from './support/execution';
import { makeSigningKey, startJwksServer, type JwksServer, type TestSigningKey } from './support/jwks-server';
import { startPlatform, type Platform } from './support/platform';

const logger = createLogger('gateway', 'silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function identityFor(jwks: JwksServer, jwt: Record<string, unknown> = {}, entry: Record<string, unknown> = {}, apiKeys: Record<string, unknown> = {}) {
  const config = authenticationConfigSchema.parse({
    router: { jwt: { jwks: [{ url: jwks.url, issuers: [jwks.issuer], audiences: [jwks.audience], ...entry }], ...jwt } },
    api_keys: apiKeys,
  });
  return createIdentity(config, ['anonymous', 'user', 'machines'], logger);
}

/** What the identity stage answers: the principal, or the refusal's status, code, message and challenge. */
async function outcome(identity: Identity, headers: Record<string, string>) {
  try {
    return await identity.authenticate(headers);
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    return { status: err.status, code: err.code, message: err.message, challenge: err.options.headers?.['www-authenticate'] };
  }
}

const refused = (reason: string) => ({
  status: 401,
  code: 'UNAUTHENTICATED',
  message: `access token refused: ${reason}`,
  challenge: `Bearer error="invalid_token", error_description="${reason}"`,
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('the identity stage against a JWKS server it does not control', () => {
  let jwks: JwksServer;
  let current: TestSigningKey;
  let identity: Identity;

  beforeAll(async () => {
    jwks = await startJwksServer();
    current = await makeSigningKey('key-1');
    jwks.keys = [current];
    identity = await identityFor(jwks);
  });
  afterAll(async () => {
    identity.close();
    await jwks.close();
  });

  it('a valid token becomes a user principal with the scopes of `scope`, and of `scp` for issuers that use it', async () => {
    const token = await jwks.sign(current, { sub: 'usr_003', scope: 'orders:read orders:write' });
    expect(await identity.authenticate(bearer(token))).toMatchObject({ kind: 'user', id: 'usr_003', scopes: ['orders:read', 'orders:write'] });
    const scp = await jwks.sign(current, { sub: 'usr_004', scp: ['users:read'] });
    expect(await identity.authenticate(bearer(scp))).toMatchObject({ kind: 'user', id: 'usr_004', scopes: ['users:read'] });
  });

  it('a token whose scopes are not RFC 6749 scope-tokens is refused whole (401 malformed scopes), none dropped', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['an `scp` element hiding a second scope after a space', { scp: ['x orders:read:any'] }],
      ['an `scp` element with a tab', { scp: ['x\torders:read:any'] }],
      ['an `scp` element with a newline', { scp: ['x\norders:read:any'] }],
      ['an empty `scp` element', { scp: ['orders:read', ''] }],
      ['a non-string `scp` element', { scp: ['orders:read', 42] }],
      ['a `scope` string with a double space', { scope: 'orders:read  orders:write' }],
    ];
    for (const [scenario, claims] of cases) {
      expect([scenario, await outcome(identity, bearer(await jwks.sign(current, { sub: 'usr_003', ...claims })))]).toEqual([scenario, refused('malformed scopes')]);
    }
  });

  it('no credential at all is anonymous, not an error', async () => {
    expect(await identity.authenticate({})).toBe(ANONYMOUS);
  });

  it('refuses each kind of bad token with 401 and its reason', async () => {
    const other = await makeSigningKey('key-1');
    const valid = await jwks.sign(current);
    const [head, , signature] = valid.split('.');
    const tampered = `${head}.${base64url.encode(JSON.stringify({ sub: 'usr_001', iss: jwks.issuer, aud: jwks.audience, exp: 4102444800, scope: 'users:read' }))}.${signature}`;
    const rsaPublicPem = await exportSPKI(current.publicKey);
    const hs256WithPublicKey = await new SignJWT({ sub: 'usr_001' })
      .setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
      .setIssuer(jwks.issuer)
      .setAudience(jwks.audience)
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(rsaPublicPem));
    const none = new UnsecuredJWT({ sub: 'usr_001' }).setIssuer(jwks.issuer).setAudience(jwks.audience).setExpirationTime('10m').encode();
    const cases: [string, string, string][] = [
      ['expired', await jwks.sign(current, {}, { expiresIn: Math.floor(Date.now() / 1000) - 120 }), 'expired'],
      ['not yet valid', await jwks.sign(current, {}, { notBefore: '5m' }), 'not yet valid'],
      ['wrong issuer', await jwks.sign(current, {}, { issuer: 'https://evil.test/' }), 'wrong issuer'],
      ['wrong audience', await jwks.sign(current, {}, { audience: 'another-api' }), 'wrong audience'],
      ['signed by a key the provider does not have, under its kid', await jwks.sign(other), 'bad signature'],
      ['tampered payload', tampered, 'bad signature'],
      ['alg none', none, 'unsupported algorithm'],
      ['HS256 with the RSA public key as the secret', hs256WithPublicKey, 'unsupported algorithm'],
      ['oversized', await jwks.sign(current, { pad: 'x'.repeat(9000) }), 'too large'],
      ['garbage', 'not-a-jwt', 'malformed'],
      ['no subject', await jwks.sign(current, { sub: undefined }), 'no subject'],
      ['no exp', await jwks.sign(current, {}, { expiresIn: null }), 'missing exp'],
      ['exp null', await jwks.sign(current, { exp: null }, { expiresIn: null }), 'malformed'],
      ['exp a string', await jwks.sign(current, { exp: '4102444800' }, { expiresIn: null }), 'malformed'],
      ['iat an hour from now', await jwks.sign(current, { iat: Math.floor(Date.now() / 1000) + 3600 }), 'issued in the future'],
    ];
    for (const [scenario, token, reason] of cases) {
      expect([scenario, await outcome(identity, bearer(token))]).toEqual([scenario, refused(reason)]);
    }
  });

  it('allow_missing_exp lets an issuer that mints tokens without exp through; their exp, when present, still counts', async () => {
    const lenient = await identityFor(jwks, {}, { allow_missing_exp: true });
    try {
      expect(await lenient.authenticate(bearer(await jwks.sign(current, { sub: 'usr_020' }, { expiresIn: null })))).toMatchObject({ kind: 'user', id: 'usr_020' });
      expect(await outcome(lenient, bearer(await jwks.sign(current, { exp: null }, { expiresIn: null })))).toEqual(refused('malformed'));
      expect(await outcome(lenient, bearer(await jwks.sign(current, {}, { expiresIn: Math.floor(Date.now() / 1000) - 120 })))).toEqual(refused('expired'));
    } finally {
      lenient.close();
    }
  });

  it('an Authorization header that is not "Bearer <token>" is refused as malformed', async () => {
    expect(await outcome(identity, { authorization: 'Basic dXNlcjpwYXNz' })).toEqual({
      ...refused('the authorization header must be "Bearer <token>"'),
      challenge: 'Bearer error="invalid_token", error_description="malformed"',
    });
  });

  it('a token and an API key together are a 400: two credentials could name two callers', async () => {
    expect(await outcome(identity, { ...bearer(await jwks.sign(current)), 'x-api-key': 'sy_whatever' })).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
      message: 'send either an access token or an x-api-key, not both',
      challenge: undefined,
    });
  });

  it('1000 tokens with made-up kids cost at most one extra fetch, and each is refused as an unknown key', async () => {
    const before = jwks.fetches;
    const forged = await Promise.all(Array.from({ length: 1000 }, async (_, i) => jwks.sign({ ...current, kid: `made-up-${i}` })));
    const outcomes = await Promise.all(forged.map((token) => outcome(identity, bearer(token))));
    expect(new Set(outcomes.map((o) => JSON.stringify(o)))).toEqual(new Set([JSON.stringify(refused('unknown key'))]));
    expect(jwks.fetches - before).toBeLessThanOrEqual(1);
  });
});

/** Collects on demand, so a test reads the instruments' values without an exporter. */
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

async function collected(reader: MetricReader): Promise<Record<string, { attributes: Record<string, unknown>; value: unknown }[]>> {
  const { resourceMetrics } = await reader.collect();
  return Object.fromEntries(
    resourceMetrics.scopeMetrics.flatMap((scope) =>
      scope.metrics.map((m) => [m.descriptor.name, m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value }))]),
    ),
  );
}

describe('key rotation and provider outages', () => {
  let jwks: JwksServer;
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  beforeAll(() => {
    metrics.setGlobalMeterProvider(meterProvider);
  });
  afterAll(async () => {
    metrics.disable();
    await meterProvider.shutdown();
  });
  beforeEach(async () => {
    jwks = await startJwksServer();
  });
  afterEach(() => jwks.close());

  it('a new key verifies without a restart, and the old kid is refused after the next poll once removed', async () => {
    const oldKey = await makeSigningKey('2026-old');
    const newKey = await makeSigningKey('2026-new', 'ES256');
    jwks.keys = [oldKey];
    const identity = await identityFor(jwks, {}, { poll_interval: '200ms' });
    try {
      expect(await identity.authenticate(bearer(await jwks.sign(oldKey)))).toMatchObject({ kind: 'user' });
      jwks.keys = [oldKey, newKey];
      // The new kid is unknown to the cache: one refresh picks it up at once.
      expect(await identity.authenticate(bearer(await jwks.sign(newKey, { sub: 'usr_009' })))).toMatchObject({ kind: 'user', id: 'usr_009' });
      jwks.keys = [newKey];
      const fetched = jwks.fetches;
      await eventually(() => jwks.fetches >= fetched + 2, 'two more polls');
      expect(await outcome(identity, bearer(await jwks.sign(oldKey)))).toEqual(refused('unknown key'));
      expect(identity.status().jwks).toEqual([{ source: jwks.url, keys: 1, lastSuccess: expect.any(String), stale: false, expired: false }]);
    } finally {
      identity.close();
    }
  });

  it('a token verified once is remembered only while its key set lasts and until it expires', async () => {
    const key = await makeSigningKey('remembered');
    jwks.keys = [key];
    const identity = await identityFor(jwks, { clock_skew: '0s' }, { poll_interval: '200ms' });
    try {
      const token = await jwks.sign(key, { sub: 'usr_011' });
      const shortLived = await jwks.sign(key, { sub: 'usr_012' }, { expiresIn: '2s' });
      const fetched = jwks.fetches;
      for (let i = 0; i < 50; i++) expect(await identity.authenticate(bearer(token))).toMatchObject({ kind: 'user', id: 'usr_011' });
      expect(await identity.authenticate(bearer(shortLived))).toMatchObject({ kind: 'user', id: 'usr_012' });
      // The very same token string, once the key that signed it is gone from the JWKS.
      jwks.keys = [];
      await eventually(() => jwks.fetches >= fetched + 2, 'two more polls');
      expect(await outcome(identity, bearer(token))).toEqual(refused('unknown key'));
      jwks.keys = [key];
      const refetched = jwks.fetches;
      await eventually(() => jwks.fetches >= refetched + 2, 'two more polls');
      expect(await identity.authenticate(bearer(token))).toMatchObject({ kind: 'user', id: 'usr_011' });
      await new Promise((r) => setTimeout(r, 2_100));
      expect(await outcome(identity, bearer(shortLived))).toEqual(refused('expired'));
    } finally {
      identity.close();
    }
  });

  it('while the provider is down the cached keys keep verifying until max_stale, then tokens get 503 and status says so', async () => {
    const key = await makeSigningKey('k');
    jwks.keys = [key];
    const identity = await identityFor(jwks, {}, { poll_interval: '100ms', max_stale: '1500ms' });
    try {
      const token = await jwks.sign(key);
      jwks.down = true;
      const fetched = jwks.fetches;
      await eventually(() => jwks.fetches >= fetched + 2, 'two failed polls');
      expect(await identity.authenticate(bearer(token))).toMatchObject({ kind: 'user', id: 'usr_001' });
      expect(identity.status().jwks).toEqual([
        { source: jwks.url, keys: 1, lastSuccess: expect.any(String), stale: true, expired: false, lastFailure: { at: expect.any(String), message: 'answered HTTP 503' } },
      ]);
      await sleep(1600);
      expect(await outcome(identity, bearer(token))).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE', message: 'cannot verify access tokens right now', challenge: undefined });
      expect(identity.status().jwks[0]).toMatchObject({ keys: 0, stale: true, expired: true });
      const recorded = await collected(reader);
      const fetches = (outcome: string) => recorded['switchyard.jwks.fetch']!.find((p) => p.attributes.url === jwks.url && p.attributes.outcome === outcome)?.value;
      expect(fetches('success')).toBe(1);
      expect(fetches('failure')).toBeGreaterThanOrEqual(2);
      expect(recorded['switchyard.jwks.age']!.find((p) => p.attributes.url === jwks.url)?.value).toBeGreaterThan(1.5);
      jwks.down = false;
      await eventually(() => identity.status().jwks[0]!.stale === false, 'the provider answers again');
      expect(await identity.authenticate(bearer(token))).toMatchObject({ kind: 'user' });
    } finally {
      identity.close();
    }
  });

  it('a provider that is down at start does not stop the start; tokens verify once it answers', async () => {
    const key = await makeSigningKey('k');
    jwks.keys = [key];
    jwks.down = true;
    const identity = await identityFor(jwks, {}, { poll_interval: '100ms' });
    try {
      expect(identity.status().jwks[0]).toMatchObject({ keys: 0, lastSuccess: null, stale: true, expired: true });
      const token = await jwks.sign(key);
      expect(await outcome(identity, bearer(token))).toMatchObject({ status: 503 });
      jwks.down = false;
      await eventually(() => identity.status().jwks[0]!.keys === 1, 'the first successful poll');
      expect(await identity.authenticate(bearer(token))).toMatchObject({ kind: 'user' });
    } finally {
      identity.close();
    }
  });
});

describe('token sources, on_error and static keys', () => {
  let jwks: JwksServer;
  let key: TestSigningKey;
  beforeAll(async () => {
    jwks = await startJwksServer();
    key = await makeSigningKey('k');
    jwks.keys = [key];
  });
  afterAll(() => jwks.close());

  it('reads the token from a cookie when the sources say so', async () => {
    const identity = await identityFor(jwks, { sources: [{ type: 'header', name: 'Authorization' }, { type: 'cookie', name: 'access_token' }] });
    try {
      const token = await jwks.sign(key, { sub: 'usr_007' });
      expect(await identity.authenticate({ cookie: `theme=dark; access_token=${token}` })).toMatchObject({ kind: 'user', id: 'usr_007' });
      expect(await outcome(identity, { cookie: 'access_token=garbage' })).toEqual(refused('malformed'));
    } finally {
      identity.close();
    }
  });

  it('on_error: Continue serves a bad token as anonymous', async () => {
    const identity = await identityFor(jwks, { on_error: 'Continue' });
    try {
      expect(await identity.authenticate(bearer('garbage'))).toBe(ANONYMOUS);
      expect(await identity.authenticate(bearer(await jwks.sign(key, {}, { audience: 'other' })))).toBe(ANONYMOUS);
    } finally {
      identity.close();
    }
  });

  it('static keys (a JWK, or a PEM with its kid) verify tokens with no JWKS url, for each issuer', async () => {
    const pemKey = await makeSigningKey('pem-key');
    const config = authenticationConfigSchema.parse({
      router: {
        jwt: {
          jwks: [
            { keys: [key.publicJwk], issuers: ['https://a.test/'], audiences: ['api'] },
            { keys: [{ kid: 'pem-key', pem: await exportSPKI(pemKey.publicKey) }], issuers: ['https://b.test/'], audiences: ['api'], algorithms: ['RS256'] },
          ],
        },
      },
    });
    const identity = await createIdentity(config, ['anonymous', 'user'], logger);
    try {
      const a = await jwks.sign(key, { sub: 'a-user' }, { issuer: 'https://a.test/', audience: 'api' });
      const b = await jwks.sign(pemKey, { sub: 'b-user' }, { issuer: 'https://b.test/', audience: 'api' });
      expect(await identity.authenticate(bearer(a))).toMatchObject({ id: 'a-user' });
      expect(await identity.authenticate(bearer(b))).toMatchObject({ id: 'b-user' });
      // b's issuer with a's key: b's source has no such kid.
      expect(await outcome(identity, bearer(await jwks.sign(key, {}, { issuer: 'https://b.test/', audience: 'api' })))).toEqual(refused('unknown key'));
      expect(identity.status().jwks).toEqual([
        { source: 'static', keys: 1, lastSuccess: null, stale: false, expired: false },
        { source: 'static', keys: 1, lastSuccess: null, stale: false, expired: false },
      ]);
    } finally {
      identity.close();
    }
  });
});

describe('API keys', () => {
  it('a key whose scopes are not RFC 6749 scope-tokens is refused at configuration, like a token would be', () => {
    const { sha256 } = generateApiKey();
    for (const scope of ['x orders:read:any', 'orders:read\torders:read:any', '', 'say"hi']) {
      const parsed = authenticationConfigSchema.safeParse({ api_keys: { keys: [{ name: 'ci', sha256, scopes: ['products:read', scope] }] } });
      expect([scope, parsed.success ? 'accepted' : parsed.error.issues.map((i) => [i.path.join('.'), i.message])]).toEqual([
        scope,
        [['api_keys.keys.0.scopes.1', 'must be an RFC 6749 scope-token: printable ASCII without spaces, " or \\']],
      ]);
    }
  });

  it('a key whose name a header cannot carry unchanged is refused at configuration: the name is the principal id sent to each subgraph', () => {
    const { sha256 } = generateApiKey();
    for (const name of ['ci ', ' ci', 'c\ti', '机器', 'ci\r\nx-switchyard-scopes: users:read']) {
      const parsed = authenticationConfigSchema.safeParse({ api_keys: { keys: [{ name, sha256 }] } });
      expect([name, parsed.success ? 'accepted' : parsed.error.issues.map((i) => i.path.join('.'))]).toEqual([name, ['api_keys.keys.0.name']]);
    }
    expect(authenticationConfigSchema.safeParse({ api_keys: { keys: [{ name: 'nightly build (ü)', sha256 }] } }).success).toBe(true);
  });

  it('a key listed by its hash is an apiKey principal with its scopes and rate-limit class; others are 401', async () => {
    const { key, sha256 } = generateApiKey();
    expect(sha256).toBe(hashApiKey(key));
    const identity = await createIdentity(
      authenticationConfigSchema.parse({ api_keys: { keys: [{ name: 'ci', sha256, scopes: ['products:read'], rate_limit_class: 'machines' }] } }),
      ['anonymous', 'user', 'machines'],
      logger,
    );
    try {
      expect(await identity.authenticate({ 'x-api-key': key })).toEqual({ kind: 'apiKey', id: 'ci', scopes: ['products:read'], claims: {}, rateLimitClass: 'machines' });
      expect(await outcome(identity, { 'x-api-key': `${key}x` })).toEqual({
        status: 401,
        code: 'UNAUTHENTICATED',
        message: 'API key refused: unknown API key',
        challenge: 'Bearer error="invalid_token", error_description="unknown API key"',
      });
    } finally {
      identity.close();
    }
  });

  it('a key file edited into something unreadable is refused, and the keys read before keep working', async () => {
    const { key, sha256 } = generateApiKey();
    const file = join(mkdtempSync(join(tmpdir(), 'apikeys-')), 'keys.yaml');
    writeFileSync(file, `- { name: ci, sha256: ${sha256} }\n`);
    const identity = await createIdentity(authenticationConfigSchema.parse({ api_keys: { file } }), ['anonymous', 'user'], logger);
    try {
      writeFileSync(file, '- { name: ci, sha256: not-a-hash }\n');
      await eventually(() => identity.status().api_keys.lastFailure !== undefined, 'the edit is read');
      expect(identity.status().api_keys).toEqual({
        keys: 1,
        file,
        loadedAt: expect.any(String),
        lastFailure: { at: expect.any(String), message: `${file}: 0.sha256: must be the hex SHA-256 of the key (npm run apikey prints it)` },
      });
      expect(await identity.authenticate({ 'x-api-key': key })).toMatchObject({ kind: 'apiKey', id: 'ci' });
    } finally {
      identity.close();
    }
  });

  it('a key file naming a rate-limit class that does not exist stops the start, naming the entry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apikeys-'));
    const file = join(dir, 'keys.yaml');
    writeFileSync(file, `- { name: ci, sha256: ${'a'.repeat(64)}, rate_limit_class: partners }\n`);
    await expect(createIdentity(authenticationConfigSchema.parse({ api_keys: { file } }), ['anonymous', 'user'], logger)).rejects.toThrow(
      `${file}: 0.rate_limit_class: names no class in rate_limit.classes (it has anonymous, user)`,
    );
  });
});

describe('through the gateway on the real subgraphs', () => {
  let platform: Platform;
  let jwks: JwksServer;
  let key: TestSigningKey;
  let keyFile: string;
  const ci = generateApiKey();
  const other = generateApiKey();
  const metered = generateApiKey();
  const post = (query: string, headers: Record<string, string>) =>
    fetch(platform.gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });
  const meteredEntry = `- { name: metered, sha256: ${metered.sha256}, rate_limit_class: machines }\n`;
  const writeKeys = (entries: { name: string; sha256: string }[]) => {
    // Replaced by rename, as editors and Kubernetes' Secret volumes do.
    writeFileSync(`${keyFile}.tmp`, entries.map((e) => `- { name: ${e.name}, sha256: ${e.sha256}, scopes: [products:read] }\n`).join('') + meteredEntry);
    renameSync(`${keyFile}.tmp`, keyFile);
  };

  beforeAll(async () => {
    jwks = await startJwksServer();
    key = await makeSigningKey('gw-key');
    jwks.keys = [key];
    keyFile = join(mkdtempSync(join(tmpdir(), 'apikeys-')), 'api-keys.yaml');
    writeKeys([
      { name: 'ci', sha256: ci.sha256 },
      { name: 'other', sha256: other.sha256 },
    ]);
    platform = await startPlatform('pglite', {
      'authentication.router.jwt': { jwks: [{ url: jwks.url, issuers: [jwks.issuer], audiences: [jwks.audience], poll_interval: '100ms', max_stale: '1h' }] },
      'authentication.api_keys.file': keyFile,
      'rate_limit.enabled': true,
      'rate_limit.classes': {
        anonymous: { requests: 10_000, cost: 100_000_000 },
        user: { requests: 10_000, cost: 100_000_000 },
        machines: { requests: 2, cost: 100_000_000, window: '1h' },
      },
    });
  });
  afterAll(async () => {
    await platform?.close();
    await jwks.close();
  });

  it('a bad token is 401 UNAUTHENTICATED with its reason and the Bearer challenge', async () => {
    const res = await post('{ products(first: 1) { edges { node { id } } } }', bearer(await jwks.sign(key, {}, { audience: 'another-api' })));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="wrong audience"');
    expect(await res.json()).toEqual({ errors: [{ message: 'access token refused: wrong audience', extensions: { code: 'UNAUTHENTICATED' } }] });
  });

  it('a token without exp is 401 "missing exp" at the gateway, with the Bearer challenge', async () => {
    const res = await post('{ me { id } }', bearer(await jwks.sign(key, { sub: 'usr_003' }, { expiresIn: null })));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="missing exp"');
    expect(await res.json()).toEqual({ errors: [{ message: 'access token refused: missing exp', extensions: { code: 'UNAUTHENTICATED' } }] });
  });

  it('a valid token reads `me` as its user', async () => {
    const res = await post('{ me { id } }', bearer(await jwks.sign(key, { sub: 'usr_003' })));
    expect(await res.json()).toEqual({ data: { me: { id: 'usr_003' } } });
  });

  it('an API key reads products; an unknown one is 401; a key removed from the file stops working without a restart', async () => {
    const query = '{ products(first: 2) { edges { node { id } } } }';
    const products = { data: { products: { edges: [{ node: { id: 'prd_0001' } }, { node: { id: 'prd_0002' } }] } } };
    expect(await (await post(query, { 'x-api-key': ci.key })).json()).toEqual(products);
    expect(await (await post(query, { 'x-api-key': other.key })).json()).toEqual(products);
    const unknown = await post(query, { 'x-api-key': generateApiKey().key });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual({ errors: [{ message: 'API key refused: unknown API key', extensions: { code: 'UNAUTHENTICATED' } }] });

    writeKeys([{ name: 'ci', sha256: ci.sha256 }]);
    for (let i = 0; i < 100 && (await post(query, { 'x-api-key': other.key })).status !== 401; i++) await sleep(50);
    expect((await post(query, { 'x-api-key': other.key })).status).toBe(401);
    expect(await (await post(query, { 'x-api-key': ci.key })).json()).toEqual(products);
  });

  it('an API key with products:read reads products and nothing else: no order, no user list, and `me` is no one', async () => {
    const mixed = await post('{ products(first: 1) { edges { node { id } } } me { id } order(id: "ord_s00001") { id status } }', { 'x-api-key': ci.key });
    expect(await mixed.json()).toEqual({
      data: { products: { edges: [{ node: { id: 'prd_0001' } }] }, me: null, order: null },
      errors: [{ message: 'Unauthorized field or type: the credential lacks scope orders:read', path: ['order'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE', missingScopes: [['orders:read']] } }],
    });
    const users = await post('{ users(first: 1) { edges { node { id } } } }', { 'x-api-key': ci.key });
    expect(await users.json()).toEqual({
      data: null,
      errors: [{ message: 'Unauthorized field or type: the credential lacks scope users:read', path: ['users'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE', missingScopes: [['users:read']] } }],
    });
  });

  it("an API key with a rate_limit_class is limited by that class", async () => {
    const query = '{ products(first: 1) { edges { node { id } } } }';
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(query, { 'x-api-key': metered.key })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const refused = await post(query, { 'x-api-key': metered.key });
    expect((await refused.json()).errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'requests', class: 'machines' });
  });

  it('/readyz on health_check.listen reports the key cache, and says stale while the provider is down; the public /readyz shows none of it', async () => {
    const readyz = async (base: string) => (await (await fetch(`${base}/readyz`)).json()) as any;
    const full = () => readyz(platform.gateway.healthCheckUrl!);
    expect((await full()).identity).toEqual({
      jwks: [{ source: jwks.url, keys: 1, lastSuccess: expect.any(String), stale: false, expired: false }],
      api_keys: { keys: 2, file: keyFile, loadedAt: expect.any(String) },
    });
    jwks.down = true;
    try {
      for (let i = 0; i < 100 && !(await full()).identity.jwks[0].stale; i++) await sleep(50);
      const body = await full();
      expect(body.identity.jwks[0]).toMatchObject({ stale: true, expired: false, keys: 1, lastFailure: { message: 'answered HTTP 503' } });
      // What the public port says meanwhile: no JWKS URL, no file path, no error text, only what is up.
      const shown = await readyz(platform.gateway.url);
      expect(Object.keys(shown)).toEqual(['status', 'supergraph', 'subgraphs']);
      const text = JSON.stringify(shown);
      for (const secret of [jwks.url, new URL(jwks.url).host, keyFile, body.supergraph.path, 'answered HTTP 503', 'http://', '/']) expect(text).not.toContain(secret);
      const res = await post('{ me { id } }', bearer(await jwks.sign(key, { sub: 'usr_005' })));
      expect(await res.json()).toEqual({ data: { me: { id: 'usr_005' } } });
    } finally {
      jwks.down = false;
    }
  });
});
