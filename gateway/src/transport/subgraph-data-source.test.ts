import { ANONYMOUS, createLogger, principalFromHeaders, type Principal } from '@switchyard/service-kit';
import type { RequestContext } from '../core/context';
import type { SubgraphRequest } from '../core/plugin';
import { hashApiKey } from '../plugins/identity/api-keys';
import { usePrincipalSigning } from '../plugins/principal-signing/usePrincipalSigning';
import { startTestGateway, type FakeSubgraphContext } from '../testing/test-gateway';
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
    principal,
    responseHeaders: {},
    responseExtensions: {},
    decisions: [],
  };
}
const user: Principal = { kind: 'user', id: 'usr_001', scopes: ['orders:write', 'profile'], claims: { sub: 'usr_001', secret: 'x' } };

/** What the principal-signing plugin adds to one fetch's headers. */
function signedHeaders(secret: string | null, context: RequestContext | undefined): Record<string, string> {
  const request: SubgraphRequest = { subgraph: 'users', url: 'http://users.test/graphql', body: '{}', headers: { 'content-type': 'application/json' } };
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
    const source = new SubgraphDataSource('users', 'http://users.test/graphql', client, 1234, prepare);
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

  it('a fetch outside any client request (a health check, a schema load) has no context, request id or signal', async () => {
    const client = recordingClient({ data: {} });
    const contexts: (RequestContext | undefined)[] = [];
    const source = new SubgraphDataSource('users', 'http://users.test/graphql', client, 1000, (context) => void contexts.push(context));
    await source.process({ kind: 'health check' as never, request: { query: '{ __typename }' }, context: {} as never });
    expect(contexts).toEqual([undefined]);
    expect(client.calls).toEqual([
      { subgraph: 'users', url: 'http://users.test/graphql', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }), timeoutMs: 1000, signal: undefined, context: undefined },
    ]);
  });
});

describe('principal signing', () => {
  it('adds the verified principal, signed over the request id, which a subgraph holding the secret reads back', () => {
    const headers = signedHeaders(SECRET, requestContext(user));
    expect(headers).toEqual({
      'content-type': 'application/json',
      'x-switchyard-principal-kind': 'user',
      'x-switchyard-principal-id': 'usr_001',
      'x-switchyard-scopes': 'orders:write profile',
      'x-switchyard-identity-signature': expect.stringMatching(/^t=\d+,v1=[\w-]{43}$/),
    });
    // The claims stay at the gateway; the signature binds the request id the subgraph is sent.
    expect(principalFromHeaders({ ...headers, 'x-request-id': 'req-1' }, SECRET)).toEqual({ kind: 'user', id: 'usr_001', scopes: ['orders:write', 'profile'], claims: {} });
    expect(() => principalFromHeaders({ ...headers, 'x-request-id': 'req-2' }, SECRET)).toThrow('identity signature does not match');
  });

  it('adds no principal headers for an anonymous request, nor for a fetch outside a client request', () => {
    expect(signedHeaders(SECRET, requestContext(ANONYMOUS))).toEqual({ 'content-type': 'application/json' });
    expect(signedHeaders(SECRET, undefined)).toEqual({ 'content-type': 'application/json' });
  });

  it('without a signing secret forwards no principal at all, not an unsigned one', () => {
    expect(signedHeaders(null, requestContext(user))).toEqual({ 'content-type': 'application/json' });
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
          resolvers: { Query: { whoami: (_: unknown, __: unknown, { headers }: FakeSubgraphContext) => JSON.stringify(principalFromHeaders(headers, SECRET)) } },
        },
      },
      config: {
        'subgraph_identity.signing_secret': SECRET,
        'authentication.api_keys.keys': [{ name: 'reporting', sha256: hashApiKey(KEY), scopes: ['reports:read'] }],
      },
    });
    try {
      const res = await gateway.graphql('{ whoami }', { headers: { 'x-api-key': KEY, cookie: 'session=1', 'x-request-id': 'req-42' } });
      expect([res.status, res.body]).toEqual([200, { data: { whoami: JSON.stringify({ kind: 'apiKey', id: 'reporting', scopes: ['reports:read'], claims: {} }) } }]);
      expect(gateway.received.users).toHaveLength(1);
      expect(gateway.received.users![0]!.headers).toEqual({
        'content-type': 'application/json',
        'x-request-id': 'req-42',
        'x-switchyard-principal-kind': 'apiKey',
        'x-switchyard-principal-id': 'reporting',
        'x-switchyard-scopes': 'reports:read',
        'x-switchyard-identity-signature': expect.stringMatching(/^t=\d+,v1=[\w-]{43}$/),
      });
      const anonymous = await gateway.graphql('{ whoami }');
      expect(anonymous.body).toEqual({ data: { whoami: JSON.stringify(ANONYMOUS) } });
      expect(Object.keys(gateway.received.users![1]!.headers)).toEqual(['content-type', 'x-request-id']);
    } finally {
      await gateway.close();
    }
  });
});
