import { ANONYMOUS, principalFromHeaders } from '@switchyard/service-kit';
import type { RequestContext } from '../core/context';
import { SubgraphDataSource } from './subgraph-data-source';
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
  it('sends the verified principal, signed, and the request id, and nothing the client sent', async () => {
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
          'x-switchyard-identity-signature': expect.stringMatching(/^t=\d+,v1=[\w-]{43}$/),
        },
        body: JSON.stringify({ query: '{ __typename }', variables: { a: 1 }, operationName: null }),
        timeoutMs: 1234,
        signal: ctx.signal,
      },
    ]);
    // What a subgraph holding the same secret reads back from those headers.
    expect(principalFromHeaders(client.calls[0]!.headers, SECRET)).toEqual({ kind: 'user', id: 'usr_001', scopes: ['orders:write', 'profile'], claims: {} });
  });

  it('sends no principal headers for an anonymous request', async () => {
    const client = recordingClient({ data: {} });
    const source = new SubgraphDataSource('users', 'http://users.test/graphql', client, 1000, SECRET);
    await source.process({
      kind: 'incoming operation' as never,
      request: { query: '{ __typename }' },
      context: context(ANONYMOUS),
      incomingRequestContext: {} as never,
    });
    expect(client.calls[0]!.headers).toEqual({ 'content-type': 'application/json', 'x-request-id': 'req-1' });
  });

  it('without a signing secret forwards no principal at all, not an unsigned one', async () => {
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
