import { SubgraphDataSource } from './subgraph-data-source';

function outgoingHeaders(context: unknown): Record<string, string> {
  const source = new SubgraphDataSource('http://subgraph.test/graphql', async () => {
    throw new Error('not called');
  });
  const headers = new Headers({ 'content-type': 'application/json' });
  const request = { query: '{ __typename }', http: { method: 'POST', url: 'http://subgraph.test/graphql', headers } };
  source.willSendRequest({ request, context } as never);
  return Object.fromEntries(headers.entries());
}

describe('the subgraph transport', () => {
  it('sends the verified principal and the request id, and nothing the client sent', () => {
    const headers = outgoingHeaders({ requestId: 'req-1', principal: { userId: 'usr_001', scopes: ['orders:write', 'profile'] } });
    expect(headers).toEqual({
      'content-type': 'application/json',
      'x-request-id': 'req-1',
      'x-switchyard-user-id': 'usr_001',
      'x-switchyard-scopes': 'orders:write profile',
    });
  });

  it('sends no principal headers for an anonymous request', () => {
    const headers = outgoingHeaders({ requestId: 'req-2', principal: null });
    expect(headers['x-switchyard-user-id']).toBeUndefined();
    expect(headers['x-request-id']).toBe('req-2');
  });
});
