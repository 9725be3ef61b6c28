import { createServer, type Server, type Socket } from 'node:net';
import { startGateway, type RunningGateway } from '../gateway/src/main';
import { gatewayConfig, startPlatform, type Platform } from './support/platform';

/** A "subgraph" that accepts connections and reads requests but never answers: the worst kind of down. */
async function startHungServer(): Promise<{ url: string; sockets: Set<Socket>; closed: Socket[]; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const closed: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      closed.push(socket);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    sockets,
    closed,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** /readyz at `base` (the public port, or health_check.listen's) once `until` holds of its body. */
async function readyz(base: string, until: (body: any) => boolean): Promise<{ status: number; body: any; ms: number }> {
  for (let attempt = 0; ; attempt++) {
    const began = Date.now();
    const res = await fetch(`${base}/readyz`);
    const result = { status: res.status, body: await res.json(), ms: Date.now() - began };
    if (until(result.body) || attempt === 200) return result;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a gateway in front of a hung subgraph', () => {
  let platform: Platform;
  let hung: Awaited<ReturnType<typeof startHungServer>>;
  let gateway: RunningGateway;
  let strict: RunningGateway;
  beforeAll(async () => {
    platform = await startPlatform('pglite');
    hung = await startHungServer();
    const urls = {
      users: platform.gateway.subgraphs.find((s) => s.name === 'users')!.url,
      products: platform.gateway.subgraphs.find((s) => s.name === 'products')!.url,
      orders: hung.url,
    };
    // Authorization off (so the opt-out too): every orders field needs a signed-in caller, and this is about the transport.
    gateway = await startGateway(
      gatewayConfig({ override_subgraph_url: urls, 'authorization.directives.enabled': false, 'authorization.directives.unsafe_allow_unenforced': true }),
    );
    strict = await startGateway(gatewayConfig({ override_subgraph_url: urls, 'health_check.required_subgraphs': ['orders'] }));
  });
  afterAll(async () => {
    await Promise.all([gateway?.close(), strict?.close()]);
    await hung?.close();
    await platform?.close();
  });

  it('stays ready, answers /readyz at once, and shows the hung subgraph as down, with why only on health_check.listen', async () => {
    const { status, body, ms } = await readyz(gateway.url, (b) => b.subgraphs.orders.status === 'down');
    expect(status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.subgraphs).toEqual({ users: { status: 'up' }, products: { status: 'up' }, orders: { status: 'down' } });
    expect(ms).toBeLessThan(1000);
    const full = await readyz(gateway.healthCheckUrl!, (b) => b.subgraphs.orders.status === 'down');
    expect(full.body.subgraphs.orders).toEqual({ status: 'down', checkedAt: expect.any(String), error: "HTTP fetch failed from 'orders': timed out" });
  });

  it('is not ready when config names the hung subgraph as required', async () => {
    const { status, body } = await readyz(strict.url, (b) => b.subgraphs.orders.status === 'down');
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'not ready', required_subgraphs_not_up: ['orders'] });
  });

  it("cancels the subgraph fetch when the client disconnects", async () => {
    const before = hung.closed.length;
    const controller = new AbortController();
    const request = fetch(gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ order(id: "ord_00001") { id } }' }),
      signal: controller.signal,
    }).catch((err: Error) => err.name);
    // Wait until the gateway's fetch reached the hung subgraph, then hang up.
    for (let i = 0; i < 100 && hung.sockets.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const open = [...hung.sockets];
    expect(open.length).toBeGreaterThan(0);
    controller.abort();
    expect(await request).toBe('AbortError');
    // The gateway gives up its subgraph request long before the 10 s subgraph timeout.
    for (let i = 0; i < 100 && !open.some((s) => hung.closed.includes(s)); i++) await new Promise((r) => setTimeout(r, 20));
    expect(hung.closed.length).toBeGreaterThan(before);
  });
});

describe('health_check.enabled: false', () => {
  let platform: Platform;
  let gateway: RunningGateway;
  beforeAll(async () => {
    platform = await startPlatform('pglite');
    const urls = Object.fromEntries(platform.gateway.subgraphs.map((s) => [s.name, s.url]));
    gateway = await startGateway(gatewayConfig({ override_subgraph_url: urls, 'health_check.enabled': false }));
  });
  afterAll(async () => {
    await gateway?.close();
    await platform?.close();
  });

  it('serves no /healthz or /readyz, as Router does, not even on health_check.listen, and still serves GraphQL', async () => {
    expect(gateway.healthCheckUrl).toBeUndefined();
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(404);
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(404);
    const res = await fetch(gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
  });
});
