import { resolve } from 'node:path';
import { startGateway, type RunningGateway } from '../gateway/src/main';
import { gatewayConfig, startPlatform, type Platform } from './support/platform';

/** /readyz once every subgraph has been probed at least once (probes run in the background). */
async function readinessOnceProbed(baseUrl: string): Promise<{ status: number; body: any }> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${baseUrl}/readyz`);
    const body = await res.json();
    const statuses = Object.values(body.subgraphs as Record<string, { status: string }>).map((s) => s.status);
    if (!statuses.includes('unknown') || attempt === 100) return { status: res.status, body };
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the gateway at the HTTP edge', () => {
  let platform: Platform;
  let url: string;
  beforeAll(async () => {
    platform = await startPlatform('pglite', { 'limits.max_depth': 8, 'limits.http_max_request_bytes': 20_000 });
    url = platform.gateway.graphqlUrl;
  });
  afterAll(() => platform?.close());

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('answers /healthz, and /readyz with only the status of the supergraph and of every subgraph it probed', async () => {
    const health = await fetch(`${platform.gateway.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const { status, body } = await readinessOnceProbed(platform.gateway.url);
    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'ready',
      supergraph: { loaded: true, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      subgraphs: { users: { status: 'up' }, products: { status: 'up' }, orders: { status: 'up' } },
    });
  });

  it('health_check.listen answers /healthz, and /readyz with the full report: the supergraph file, each probe and the key sources', async () => {
    const base = platform.gateway.healthCheckUrl!;
    const health = await fetch(`${base}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const { status, body } = await readinessOnceProbed(base);
    expect(status).toBe(200);
    const up = { status: 'up', checkedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) };
    expect(body).toEqual({
      status: 'ready',
      supergraph: { loaded: true, hash: expect.stringMatching(/^[0-9a-f]{64}$/), loadedAt: expect.any(String), path: resolve(__dirname, '..', 'gateway', 'supergraph.graphql') },
      subgraphs: { users: up, products: up, orders: up },
      identity: {
        jwks: [{ source: platform.issuer.jwksUrl, keys: expect.any(Number), lastSuccess: expect.any(String), stale: false, expired: false }],
        api_keys: { keys: 0 },
      },
      circuit_breakers: Object.fromEntries(['users', 'products', 'orders'].map((name) => [name, { state: 'closed', since: expect.any(String) }])),
    });
    // Nothing else is served there.
    expect((await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })).status).toBe(404);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it('malformed JSON gets 400 with a GraphQL-shaped error and no stack trace', async () => {
    const res = await post('{"query": "{ me { id }');
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(body.errors[0].message).toMatch(/malformed JSON/);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it('an oversized body gets 413 before it is parsed', async () => {
    const res = await post(JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(30_000) } }));
    expect(res.status).toBe(413);
    expect((await res.json()).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a bad or expired token gets 401 UNAUTHENTICATED instead of running anonymously', async () => {
    const garbage = await post('{"query":"{ me { id } }"}', { authorization: 'Bearer not-a-jwt' });
    expect(garbage.status).toBe(401);
    expect((await garbage.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const expired = await platform.issuer.issue('usr_001', { expiresIn: '-5m' });
    const late = await post('{"query":"{ me { id } }"}', { authorization: `Bearer ${expired}` });
    expect(late.status).toBe(401);
    expect((await late.json()).errors[0].message).toMatch(/expired/);
  });

  it('ignores a client that claims to be a user through the internal principal header', async () => {
    const res = await post('{"query":"{ me { id } }"}', { 'x-switchyard-principal-kind': 'user', 'x-switchyard-principal-id': 'usr_005', 'x-switchyard-scopes': 'admin' });
    // Anonymous, so `me` (@authenticated) is removed before planning.
    expect(await res.json()).toEqual({
      data: { me: null },
      errors: [
        { message: 'Unauthorized field or type: the request has no credential (a bearer token or an API key)', path: ['me'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE', missingCredential: true } },
      ],
    });
  });

  it('refuses a simple GET carrying cookies (CSRF), serves it with a preflight header, and serves a cookieless one (urql)', async () => {
    const query = encodeURIComponent('{ products(first: 1) { edges { node { id } } } }');
    const withCookies = await fetch(`${url}?query=${query}`, { headers: { cookie: 'session=abc' } });
    expect(withCookies.status).toBe(400);
    expect(((await withCookies.json()) as any).errors[0].message).toMatch(/^This operation has been blocked as a potential Cross-Site Request Forgery \(CSRF\)/);
    const preflighted = await fetch(`${url}?query=${query}`, { headers: { cookie: 'session=abc', 'apollo-require-preflight': 'true' } });
    expect(preflighted.status).toBe(200);
    const cookieless = await fetch(`${url}?query=${query}`);
    expect(cookieless.status).toBe(200);
  });

  it('allows listed browser origins (Apollo Studio) and no others', async () => {
    const preflight = (origin: string) =>
      fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    const studio = await preflight('https://studio.apollographql.com');
    expect(studio.headers.get('access-control-allow-origin')).toBe('https://studio.apollographql.com');
    expect(studio.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const evil = await preflight('https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('rejects an operation deeper than the admission limit before any subgraph is called', async () => {
    const before = platform.db.users.stats.statements + platform.db.orders.stats.statements;
    const res = await post(
      JSON.stringify({ query: '{ users(first: 1) { edges { node { orders(first: 1) { edges { node { user { orders(first: 1) { edges { node { id } } } } } } } } } } }' }),
    );
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].extensions).toMatchObject({ code: 'MAX_DEPTH_LIMIT', depth: 11, max_depth: 8 });
    expect(platform.db.users.stats.statements + platform.db.orders.stats.statements).toBe(before);
  });

  it('echoes a sane x-request-id and makes one up otherwise', async () => {
    const given = await post('{"query":"{ __typename }"}', { 'x-request-id': 'trace-me-123' });
    expect(given.headers.get('x-request-id')).toBe('trace-me-123');
    const made = await post('{"query":"{ __typename }"}', { 'x-request-id': 'bad id with spaces' });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('shows Apollo Sandbox to a browser that opens /graphql', async () => {
    const res = await fetch(url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/embeddable-sandbox|sandbox/i);
  });
});

describe('the gateway when a subgraph is down', () => {
  let platform: Platform;
  let gateway: RunningGateway;
  beforeAll(async () => {
    platform = await startPlatform('pglite');
    // A second gateway on the same subgraphs, except that orders points at a port nobody listens on.
    gateway = await startGateway(
      gatewayConfig({
        override_subgraph_url: {
          users: platform.gateway.subgraphs.find((s) => s.name === 'users')!.url,
          products: platform.gateway.subgraphs.find((s) => s.name === 'products')!.url,
          orders: 'http://127.0.0.1:9/graphql',
        },
        'traffic_shaping.all.timeout': 2000,
        'authentication.router.jwt': { jwks: [{ url: platform.issuer.jwksUrl, issuers: [platform.issuer.issuer], audiences: [platform.issuer.audience] }] },
      }),
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await platform?.close();
  });

  it('stays ready (partial results still work) and reports the dead subgraph as down, with why only on health_check.listen', async () => {
    const { status, body } = await readinessOnceProbed(gateway.url);
    expect(status).toBe(200);
    expect(body.subgraphs).toEqual({ users: { status: 'up' }, products: { status: 'up' }, orders: { status: 'down' } });
    const full = await readinessOnceProbed(gateway.healthCheckUrl!);
    expect(full.status).toBe(200);
    expect(full.body.subgraphs.orders).toEqual({ status: 'down', checkedAt: expect.any(String), error: "HTTP fetch failed from 'orders': connection refused" });
  });

  it('still answers the parts of a query that other subgraphs serve, with an error for the rest', async () => {
    // Signed in as the user whose orders are asked for, so only the dead subgraph stands in the way.
    const token = await platform.issuer.issue('usr_001', { scopes: ['orders:read'] });
    const res = await fetch(gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ user(id: "usr_001") { name orders(first: 1) { edges { node { id } } } } products(first: 1) { edges { node { id } } } }' }),
    });
    const body = await res.json();
    expect(body.data.products.edges).toHaveLength(1);
    // User.orders is non-null, so its failure nulls the user, as GraphQL's null propagation requires.
    expect(body.data.user).toBeNull();
    expect(body.errors).toEqual([
      {
        message: "HTTP fetch failed from 'orders': connection refused",
        extensions: { code: 'SUBREQUEST_HTTP_ERROR', service: 'orders', reason: 'connection refused' },
      },
    ]);
  });
});
