import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { loadOrCreateSigningKey, startDevIssuer, type DevIssuer } from './dev-issuer';

const emptyDir = () => join(mkdtempSync(join(tmpdir(), 'dev-issuer-test-')), 'keys');

describe('the development signing key', () => {
  it('is made on first use, private to its owner (0600, folder 0700), and the same key is read back later', async () => {
    const dir = emptyDir();
    const made = await loadOrCreateSigningKey(dir);
    expect(readdirSync(dir)).toEqual(['signing-key.json']);
    expect(statSync(join(dir, 'signing-key.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);

    const again = await loadOrCreateSigningKey(dir);
    expect(again.kid).toBe(made.kid);
    expect(again.publicJwk).toEqual(made.publicJwk);
  });

  it('is one key when the issuer and npm run token make it at the same moment', async () => {
    const dir = emptyDir();
    const keys = await Promise.all([loadOrCreateSigningKey(dir), loadOrCreateSigningKey(dir), loadOrCreateSigningKey(dir)]);
    expect(new Set(keys.map((k) => k.kid)).size).toBe(1);
    expect(readdirSync(dir)).toEqual(['signing-key.json']);
  });

  it('refuses a damaged key file with a message that names it and says what to do', async () => {
    const dir = emptyDir();
    await loadOrCreateSigningKey(dir);
    writeFileSync(join(dir, 'signing-key.json'), '{"kty":"oct"}');
    await expect(loadOrCreateSigningKey(dir)).rejects.toThrow(
      `${join(dir, 'signing-key.json')} is not a usable signing key (not an ES256 private key); delete it and a new one is made`,
    );
  });
});

describe('startDevIssuer', () => {
  let issuer: DevIssuer;
  beforeAll(async () => {
    issuer = await startDevIssuer({ port: 0, signingKey: await loadOrCreateSigningKey(emptyDir()) });
  });
  afterAll(() => issuer.close());

  it('signs /token for the given user and scopes, verifiable with its JWKS, issuer http://localhost:<port>', async () => {
    expect(issuer.issuer).toBe(`http://localhost:${issuer.port}`);
    const res = await fetch(`${issuer.url}/token?sub=usr_003&scope=orders:read%20orders:write`);
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    expect({ status: res.status, token_type: body.token_type, expires_in: body.expires_in }).toEqual({ status: 200, token_type: 'Bearer', expires_in: 3600 });

    const jwks = createLocalJWKSet(await (await fetch(issuer.jwksUrl)).json());
    const { payload } = await jwtVerify(body.access_token, jwks, { issuer: issuer.issuer, audience: 'switchyard' });
    expect({ sub: payload.sub, scope: payload.scope, lifetime: payload.exp! - payload.iat! }).toEqual({
      sub: 'usr_003',
      scope: 'orders:read orders:write',
      lifetime: 3600,
    });
  });

  it('answers /healthz as the other services do', async () => {
    const res = await fetch(`${issuer.url}/healthz`);
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('answers a /token request with an empty sub with 400 and a message, not a token', async () => {
    const res = await fetch(`${issuer.url}/token?sub=`);
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 400,
      body: { statusCode: 400, code: 'FST_ERR_VALIDATION', error: 'Bad Request', message: 'querystring/sub must NOT have fewer than 1 characters' },
    });
  });
});
