import { ANONYMOUS, IdentityRefused, verifySubgraphRequest } from '@switchyard/service-kit';
import type { RequestContext } from '../context';
import { SubgraphDataSource, subgraphHeaders } from './subgraph-data-source';
import type { SubgraphCall, SubgraphHttpClient } from './subgraph-http-client';

function recordingClient(answer: unknown): SubgraphHttpClient & { calls: SubgraphCall[] } {
  const calls: SubgraphCall[] = [];
  return { calls, post: async (call) => (calls.push(call), answer), close: async () => undefined };
}

const SECRET = 'a-test-secret-of-at-least-32-characters';

const context = (principal: RequestContext['principal']): RequestContext => ({
  requestId: 'req-1',
  logger: undefined as never,
  deadline: 0,
  signal: new AbortController().signal,
  clientAddress: '127.0.0.1',
  principal,
  decisions: [],
});

describe('the subgraph transport', () => {
  it('sends the verified principal and the request id, signed for this subgraph and body, and nothing the client sent', async () => {
    const client = recordingClient({ data: { __typename: 'Query' } });
    const source = new SubgraphDataSource('users', 'http://users.test/graphql', client, 1234, SECRET);
    const ctx = context({ kind: 'user', id: 'usr_001', scopes: ['orders:write', 'profile'], claims: { sub: 'usr_001', secret: 'x' } });
    const answer = await source.process({
      kind: 'incoming operation' as never,
      request: { query: '{ __typename }', variables: { a: 1 }, operationName: null as never },
      context: ctx,
      incomingRequestContext: {} as never,
    });
    expect(answer).toEqual({ data: { __typename: 'Query' } });
    expect(client.calls).toEqual([
      {
        subgraph: 'users',
        url: 'http://users.test/graphql',
        headers: {
          'content-type': 'application/json',
          'x-request-id': 'req-1',
          'x-switchyard-principal-kind': 'user',
          'x-switchyard-principal-id': 'usr_001',
          'x-switchyard-scopes': 'orders:write profile',
          'x-switchyard-identity-signature': expect.stringMatching(/^t=\d+,v2=[\w-]{43}$/),
        },
        body: JSON.stringify({ query: '{ __typename }', variables: { a: 1 }, operationName: null }),
        timeoutMs: 1234,
        signal: ctx.signal,
      },
    ]);
    // What the users subgraph, holding the same secret, reads back from those headers and that body; not another.
    const { headers, body } = client.calls[0]!;
    expect(verifySubgraphRequest(headers, Buffer.from(body), { secret: SECRET, subgraph: 'users' })).toEqual({ kind: 'user', id: 'usr_001', scopes: ['orders:write', 'profile'] });
    expect(() => verifySubgraphRequest(headers, Buffer.from(body), { secret: SECRET, subgraph: 'orders' })).toThrow(IdentityRefused);
  });

  it('signs an anonymous request too, as anonymous', async () => {
    const client = recordingClient({ data: {} });
    const source = new SubgraphDataSource('users', 'http://users.test/graphql', client, 1000, SECRET);
    await source.process({
      kind: 'incoming operation' as never,
      request: { query: '{ __typename }' },
      context: context(ANONYMOUS),
      incomingRequestContext: {} as never,
    });
    const { headers, body } = client.calls[0]!;
    expect(headers).toEqual({
      'content-type': 'application/json',
      'x-request-id': 'req-1',
      'x-switchyard-principal-kind': 'anonymous',
      'x-switchyard-identity-signature': expect.stringMatching(/^t=\d+,v2=[\w-]{43}$/),
    });
    expect(verifySubgraphRequest(headers, Buffer.from(body), { secret: SECRET, subgraph: 'users' })).toEqual({ kind: 'anonymous', id: '', scopes: [] });
  });

  it("signs the gateway's own requests (readiness probes) as anonymous, each under a request id of its own", () => {
    const body = JSON.stringify({ query: 'query SwitchyardReadiness { __typename }' });
    const [first, second] = [subgraphHeaders(undefined, SECRET, 'products', body), subgraphHeaders(undefined, SECRET, 'products', body)];
    expect(first['x-request-id']).toMatch(/^gateway-[0-9a-f-]{36}$/);
    expect(second['x-request-id']).not.toBe(first['x-request-id']);
    expect(verifySubgraphRequest(first, Buffer.from(body), { secret: SECRET, subgraph: 'products' })).toEqual({ kind: 'anonymous', id: '', scopes: [] });
  });

  it('without a signing secret signs nothing and forwards no principal at all, not an unsigned one', async () => {
    const client = recordingClient({ data: {} });
    const source = new SubgraphDataSource('users', 'http://users.test/graphql', client, 1000, undefined);
    await source.process({
      kind: 'incoming operation' as never,
      request: { query: '{ __typename }' },
      context: context({ kind: 'user', id: 'usr_001', scopes: ['orders:read'], claims: {} }),
      incomingRequestContext: {} as never,
    });
    expect(client.calls[0]!.headers).toEqual({ 'content-type': 'application/json', 'x-request-id': 'req-1' });
  });
});
