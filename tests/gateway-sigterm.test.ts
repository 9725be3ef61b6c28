import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { Agent, request } from 'undici';
import { composeSupergraph } from '@switchyard/schema-tools';
import { freePort, spawnService } from './support/processes';

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
  type Query { slow(n: Int!): Int! }
`;
const IN_FLIGHT = 30;

describe('SIGTERM to a gateway process with requests in flight, as Kubernetes stops a pod', () => {
  let subgraph: ApolloServer;
  let supergraphPath: string;
  /** Requests the subgraph holds until the test lets them go, so they are in flight when the signal comes. */
  const held: (() => void)[] = [];
  beforeAll(async () => {
    subgraph = new ApolloServer({
      schema: buildSubgraphSchema({
        typeDefs: parse(SDL),
        resolvers: { Query: { slow: (_: unknown, { n }: { n: number }) => new Promise<number>((resolve) => held.push(() => resolve(n))) } },
      }),
      plugins: [ApolloServerPluginInlineTraceDisabled()],
    });
    const { url } = await startStandaloneServer(subgraph, { listen: { port: 0, host: '127.0.0.1' } });
    const composed = composeSupergraph([{ name: 'slow', url, sdl: SDL }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    supergraphPath = join(mkdtempSync(join(tmpdir(), 'switchyard-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
  });
  afterAll(() => subgraph?.stop());

  it('finishes every accepted request, refuses new connections, and exits 0', async () => {
    const port = await freePort();
    const gateway = spawnService('gateway/src/main.ts', { SUPERGRAPH_PATH: supergraphPath, PORT: String(port), LOG_LEVEL: 'warn' });
    await gateway.waitFor(/gateway ready at/);
    const url = `http://127.0.0.1:${port}/graphql`;
    const ask = (n: number) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ slow(n: ${n}) }` }) });

    const accepted = Array.from({ length: IN_FLIGHT }, (_, n) =>
      ask(n).then(async (res) => ({ status: res.status, connection: res.headers.get('connection'), body: await res.json() })),
    );
    const deadline = Date.now() + 10_000;
    while (held.length < IN_FLIGHT) {
      if (Date.now() > deadline) throw new Error(`only ${held.length} of ${IN_FLIGHT} requests reached the subgraph`);
      await new Promise((r) => setTimeout(r, 10));
    }
    gateway.signal('SIGTERM');

    // A new client (its own connection) is refused once the signal is handled, while the accepted requests
    // are still held. (A probe that gets in first is answered by the gateway alone: __typename.)
    let refusal: unknown;
    while (Date.now() < deadline && refusal === undefined) {
      const fresh = new Agent();
      refusal = await request(url, { method: 'POST', dispatcher: fresh, headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' }).then(
        async (res) => void (await res.body.dump()),
        (err: NodeJS.ErrnoException) => err.code,
      );
      await fresh.close();
    }
    expect(refusal).toBe('ECONNREFUSED');
    expect(gateway.child.exitCode).toBeNull();

    for (const release of held.splice(0)) release();
    const answers = await Promise.all(accepted);
    const answeredAt = Date.now();
    // Each answer closes its connection, so no idle keep-alive holds the process for the 10 s grace period.
    expect(answers).toEqual(Array.from({ length: IN_FLIGHT }, (_, n) => ({ status: 200, connection: 'close', body: { data: { slow: n } } })));
    const { code, stderr } = await gateway.exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(Date.now() - answeredAt).toBeLessThan(5_000);
  }, 30_000);
});
