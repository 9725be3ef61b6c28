import { createServer, type Server } from 'node:http';
import { createSubgraphHttpClient, SubgraphFetchError, type FetchFailure } from './subgraph-http-client';

/** A real HTTP server answering every request with this status, headers and body. */
async function serve(status: number, headers: Record<string, string>, body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`, server };
}

const client = createSubgraphHttpClient({ connections: 2, keep_alive_timeout: 1000 });
afterAll(() => client.close());

async function failureOf(url: string): Promise<FetchFailure> {
  try {
    await client.post({ subgraph: 'orders', url, headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}', timeoutMs: 500 });
  } catch (err) {
    if (err instanceof SubgraphFetchError) return err.failure;
    throw err;
  }
  throw new Error('expected the fetch to fail');
}

describe('what a failed subgraph fetch reports over real HTTP', () => {
  it('a 502, 503 or 504 is a failure with its status and Retry-After, even with GraphQL errors in its body', async () => {
    for (const status of [502, 503, 504]) {
      const { url, server } = await serve(status, { 'retry-after': '2' }, '{"errors":[{"message":"draining"}]}');
      try {
        expect(await failureOf(url)).toEqual({ type: String(status), reason: `HTTP ${status}`, status, retryAfter: '2' });
      } finally {
        server.close();
      }
    }
  });

  it('a 500 with GraphQL errors is the subgraph\'s answer; without them, a failure with its status', async () => {
    const answered = await serve(500, {}, '{"errors":[{"message":"boom"}]}');
    const bare = await serve(500, {}, '{}');
    try {
      expect(await client.post({ subgraph: 'orders', url: answered.url, headers: {}, body: '{}', timeoutMs: 500 })).toEqual({ errors: [{ message: 'boom' }] });
      expect(await failureOf(bare.url)).toEqual({ type: '500', reason: 'HTTP 500', status: 500 });
    } finally {
      answered.server.close();
      bare.server.close();
    }
  });

  it('a closed port is a refused connection', async () => {
    const { url, server } = await serve(200, {}, '{}');
    await new Promise((resolve) => server.close(resolve));
    expect(await failureOf(url)).toEqual({ type: 'connection_refused', reason: 'connection refused' });
  });
});
