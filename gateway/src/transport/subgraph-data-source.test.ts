import { ANONYMOUS, createLogger, verifySubgraphRequest, type Principal } from '@switchyard/service-kit';
import type { RequestContext } from '../core/context';
import type { SubgraphRequest } from '../core/plugin';
import { hashApiKey } from '../plugins/identity/api-keys';
import { usePrincipalSigning } from '../plugins/principal-signing/usePrincipalSigning';
import { startTestGateway, testClock, type FakeSubgraphContext } from '../testing/test-gateway';
import { SubgraphDataSource, type PrepareSubgraphRequest } from './subgraph-data-source';
import type { SubgraphCall, SubgraphHttpClient } from './subgraph-http-client';

function recordingClient(answer: unknown): SubgraphHttpClient & { calls: SubgraphCall[] } {
  const calls: SubgraphCall[] = [];
  return { calls, post: async (call) => (calls.push(call), answer), close: async () => undefined };
}

const SECRET = 'a-test-secret-of-at-least-32-characters';
const silent = createLogger('gateway', 'silent');

function requestContext(principal: Principal): RequestContext {
  return {
    requestId: 'req-1',
    logger: silent,
    receivedAt: 0,
    deadline: 30_000,
    signal: new AbortController().signal,
    http: { method: 'POST', headers: { authorization: 'Bearer client-token', cookie: 'session=1' }, clientAddress: '127.0.0.1' },
    client: { name: 'unknown', version: 'unknown' },
    principal,
    responseHeaders: {},
    responseExtensions: {},
    fetches: [],
    decisions: [],
  };
}
const user: Principal = { kind: 'user', id: 'usr_001', scopes: ['orders:write', 'profile'], claims: { sub: 'usr_001', secret: 'x' } };

const BODY = '{"query":"{ __typename }"}';

/** What the principal-signing plugin adds to one fetch's headers. */
function signedHeaders(secret: string | null, context: RequestContext | undefined): Record<string, string> {
  const request: SubgraphRequest = { subgraph: 'users', url: 'http://users.test/graphql', body: BODY, headers: { 'content-type': 'application/json', 'x-request-id': 'req-1' } };
  usePrincipalSigning({ signing_secret: secret }, silent).onSubgraphRequest!(context, request);
  return request.headers;
}

describe('the subgraph data source', () => {
  it('sends exactly the body and headers the plugins prepared, with the request id, timeout and the client request’s signal', async () => {
    const client = recordingClient({ data: { __typename: 'Query' } });
    const prepared: [RequestContext | undefined, SubgraphRequest][] = [];
    const prepare: PrepareSubgraphRequest = (context, request) => {
      prepared.push([context, { ...request, headers: { ...request.headers } }]);
      request.headers['x-added-by-a-plugin'] = 'yes';
    };
    const source = new SubgraphDataSource('users', 'http://users.test/graphql', client, { timeout: 1234, deduplicateQuery: false }, prepare, () => 0);
    const context = requestContext(user);
    const answer = await source.process({
      kind: 'incoming operation' as never,
      request: { query: '{ __typename }', variables: { a: 1 }, operationName: 'Typename' },
      context,
      incomingRequestContext: {} as never,
    });
    expect(answer).toEqual({ data: { __typename: 'Query' } });
    const body = JSON.stringify({ query: '{ __typename }', variables: { a: 1 }, operationName: 'Typename' });
    expect(prepared).toEqual([
      [context, { subgraph: 'users', url: 'http://users.test/graphql', body, headers: { 'content-type': 'application/json', 'x-request-id': 'req-1' } }],
    ]);
    expect(client.calls).toEqual([
      {
        subgraph: 'users',
        url: 'http://users.test/graphql',
        // None of the client's own headers (its token, its cookie): only what the plugins prepared.
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-1', 'x-added-by-a-plugin': 'yes' },
        body,
        timeoutMs: 1234,
        signal: context.signal,
        context,
      },
    ]);
  });

  it('a fetch outside any client request (a health check, a schema load) has no context or signal, and a gateway- request id', async () => {
    const client = recordingClient({ data: {} });
    const contexts: (RequestContext | undefined)[] = [];
    const source = new SubgraphDataSource('users', 'http://users.test/graphql', client, { timeout: 1000, deduplicateQuery: true }, (context) => void contexts.push(context));
    await source.process({ kind: 'health check' as never, request: { query: '{ __typename }' }, context: {} as never });
    expect(contexts).toEqual([undefined]);
    expect(client.calls).toEqual([
      { subgraph: 'users', url: 'http://users.test/graphql', headers: { 'content-type': 'application/json', 'x-request-id': expect.stringMatching(/^gateway-[0-9a-f-]{36}$/) }, body: JSON.stringify({ query: '{ __typename }' }), timeoutMs: 1000, signal: undefined, context: undefined },
    ]);
  });
});

describe('principal signing', () => {
  const verify = (headers: Record<string, string>, overrides: { body?: string; subgraph?: string } = {}) =>
    verifySubgraphRequest(headers, Buffer.from(overrides.body ?? BODY), { secret: SECRET, subgraph: overrides.subgraph ?? 'users' });

  it('adds the verified principal, signed over the request id, the subgraph and the body, which the subgraph reads back', () => {
    const headers = signedHeaders(SECRET, requestContext(user));
    expect(headers).toEqual({
      'content-type': 'application/json',
      'x-request-id': 'req-1',
      'x-switchyard-principal-kind': 'user',
      'x-switchyard-principal-id': 'usr_001',
      'x-switchyard-scopes': 'orders:write profile',
      'x-switchyard-identity-signature': expect.stringMatching(/^t=\d+,v2=[\w-]{43}$/),
    });
    // The claims stay at the gateway.
    expect(verify(headers)).toEqual({ kind: 'user', id: 'usr_001', scopes: ['orders:write', 'profile'] });
  });

  it('a signed request cannot be replayed under another id, to another subgraph or with another body', () => {
    const headers = signedHeaders(SECRET, requestContext(user));
    expect(() => verify({ ...headers, 'x-request-id': 'req-2' })).toThrow('identity signature does not match');
    expect(() => verify(headers, { subgraph: 'orders' })).toThrow('identity signature does not match');
    expect(() => verify(headers, { body: '{"query":"{ users { email } }"}' })).toThrow('identity signature does not match');
  });

  it('signs anonymous requests and the gateway\'s own fetches as anonymous: subgraphs refuse anything unsigned', () => {
    for (const context of [requestContext(ANONYMOUS), undefined]) {
      const headers = signedHeaders(SECRET, context);
      expect(headers['x-switchyard-principal-kind']).toBe('anonymous');
      expect(verify(headers)).toEqual({ kind: 'anonymous', id: '', scopes: [] });
    }
  });

  it('without a signing secret signs nothing and forwards no principal', () => {
    expect(signedHeaders(null, requestContext(user))).toEqual({ 'content-type': 'application/json', 'x-request-id': 'req-1' });
  });
});

describe('principal signing through the gateway', () => {
  const USERS = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
    type Query { whoami: String! }
  `;
  const KEY = 'sy_test_key_reporting';

  it('the subgraph gets the caller the gateway verified, signed, with the request id, and none of the client’s headers', async () => {
    const gateway = await startTestGateway({
      subgraphs: {
        users: {
          sdl: USERS,
          // The subgraph side of the trust model: it believes only what verifies with the shared secret.
          resolvers: { Query: { whoami: (_: unknown, __: unknown, { headers, body }: FakeSubgraphContext) => JSON.stringify(verifySubgraphRequest(headers, Buffer.from(body), { secret: SECRET, subgraph: 'users' })) } },
        },
      },
      config: {
        'subgraph_identity.signing_secret': SECRET,
        'authentication.api_keys.keys': [{ name: 'reporting', sha256: hashApiKey(KEY), scopes: ['reports:read'] }],
      },
    });
    try {
      const res = await gateway.graphql('{ whoami }', { headers: { 'x-api-key': KEY, cookie: 'session=1', 'x-request-id': 'req-42' } });
      expect([res.status, res.body]).toEqual([200, { data: { whoami: JSON.stringify({ kind: 'apiKey', id: 'reporting', scopes: ['reports:read'] }) } }]);
      expect(gateway.received.users).toHaveLength(1);
      expect(gateway.received.users![0]!.headers).toEqual({
        'content-type': 'application/json',
        'x-request-id': 'req-42',
        'x-switchyard-principal-kind': 'apiKey',
        'x-switchyard-principal-id': 'reporting',
        'x-switchyard-scopes': 'reports:read',
        'x-switchyard-identity-signature': expect.stringMatching(/^t=\d+,v2=[\w-]{43}$/),
      });
      const anonymous = await gateway.graphql('{ whoami }');
      expect(anonymous.body).toEqual({ data: { whoami: JSON.stringify({ kind: 'anonymous', id: '', scopes: [] }) } });
      expect(Object.keys(gateway.received.users![1]!.headers)).toEqual(['content-type', 'x-request-id', 'x-switchyard-principal-kind', 'x-switchyard-identity-signature']);
    } finally {
      await gateway.close();
    }
  });
});

describe('the request deadline', () => {
  it('a fetch gets what is left of the request deadline when that is shorter than the subgraph timeout', async () => {
    const clock = testClock();
    const gateway = await startTestGateway({
      clock,
      subgraphs: {
        products: {
          sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
            type Query { product: Product } type Product @key(fields: "id") { id: ID! }`,
          resolvers: { Query: { product: () => ({ id: 'p1' }) } },
          // The first fetch takes 25 s of the request's 30 s.
          answer: () => void clock.advance(25_000),
        },
        reviews: {
          sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
            type Product @key(fields: "id") { id: ID! stars: Int! }`,
          resolvers: { Product: { __resolveReference: () => ({ stars: 4 }) } },
        },
      },
      config: { 'traffic_shaping.router.timeout': '30s', 'traffic_shaping.all.timeout': '10s' },
    });
    try {
      expect((await gateway.graphql('{ product { id stars } }')).body).toEqual({ data: { product: { id: 'p1', stars: 4 } } });
      expect(gateway.received.products!.map((c) => c.timeoutMs)).toEqual([10_000]);
      expect(gateway.received.reviews!.map((c) => c.timeoutMs)).toEqual([5_000]);
    } finally {
      await gateway.close();
    }
  });
});
