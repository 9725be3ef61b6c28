import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { composeSupergraph } from '@switchyard/schema-tools';
import { freePort, npmRun, spawnService } from './support/processes';

/** A subgraph that has nothing to do with Switchyard's own domain. */
const INVENTORY_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
  type Warehouse @key(fields: "code") { code: ID! city: String! }
  type Query { warehouses: [Warehouse!]! }
`;

describe('npm run start:gateway on someone else’s supergraph', () => {
  let inventory: ApolloServer;
  let supergraphPath: string;
  beforeAll(async () => {
    inventory = new ApolloServer({
      schema: buildSubgraphSchema({
        typeDefs: parse(INVENTORY_SDL),
        resolvers: { Query: { warehouses: () => [{ code: 'AMS1', city: 'Amsterdam' }, { code: 'BER2', city: 'Berlin' }] } },
      }),
    });
    const { url } = await startStandaloneServer(inventory, { listen: { port: 0, host: '127.0.0.1' } });
    const composed = composeSupergraph([{ name: 'inventory', url, sdl: INVENTORY_SDL }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    supergraphPath = join(mkdtempSync(join(tmpdir(), 'switchyard-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
  });
  afterAll(() => inventory?.stop());

  it('serves that supergraph on the given PORT', async () => {
    const port = await freePort();
    const gateway = npmRun('start:gateway', { SUPERGRAPH_PATH: supergraphPath, PORT: String(port), LOG_LEVEL: 'warn' });
    try {
      await gateway.waitFor(/gateway ready at http:\/\/localhost:\d+\/graphql/);
      const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ warehouses { code city } }' }),
      });
      expect(await res.json()).toEqual({
        data: { warehouses: [{ code: 'AMS1', city: 'Amsterdam' }, { code: 'BER2', city: 'Berlin' }] },
      });
    } finally {
      gateway.signal('SIGTERM');
      await gateway.exited;
    }
  });

  it('drains and exits 0 on SIGTERM, as Kubernetes stops a pod', async () => {
    // The process npm would run, started directly so that the signal reaches it and its exit code reaches us.
    const gateway = spawnService('gateway/src/main.ts', { SUPERGRAPH_PATH: supergraphPath, PORT: '0', LOG_LEVEL: 'warn' });
    await gateway.waitFor(/gateway ready at/);
    gateway.signal('SIGTERM');
    const { code, stderr } = await gateway.exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it.each([
    [{ PORT: 'eighty' }, /supergraph\.listen \(from env PORT\): port must be an integer from 0 to 65535, got "eighty"/],
    [{ SUPERGRAPH_PATH: '/nonexistent/supergraph.graphql' }, /supergraphPath: cannot read \/nonexistent/],
    [{ JWT_JWKS_URL: 'not a url' }, /authentication\.router\.jwt\.jwks\.0\.url \(from env JWT_JWKS_URL\): must be an absolute http: or https: URL/],
    [{ NODE_ENV: 'production', DEBUG_TRACES: 'true' }, /telemetry\.exporters\.tracing\.debug_traces\.enabled \(from env DEBUG_TRACES\): must be false under NODE_ENV=production/],
  ])('refuses to start with bad config %p, naming the key', async (env, message) => {
    const gateway = npmRun('start:gateway', { SUPERGRAPH_PATH: supergraphPath, PORT: '0', ...env });
    const { code, stderr } = await gateway.exited;
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
