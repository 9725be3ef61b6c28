import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePrometheusText } from './support/prometheus';
import { freePort } from './support/processes';
import { spawnPlatform, type SpawnedPlatform } from './support/spawned-platform';

/** Products (critical) and orders (optional) in one operation; anonymous, with authorization off, so orders is called and answers null. */
const OVERVIEW = 'query Overview { products(first: 1) { edges { node { id } } } order(id: "ord_00001") { id } }';
const PRODUCTS = { products: { edges: [{ node: { id: 'prd_0001' } }] } };

/**
 * The platform's gateway (npm start's settings: retries, breakers, orders optional) over real processes,
 * with a breaker quick enough to watch: open once 18 of the last 20 fetches failed, half-open after 2 s.
 */
function outageConfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'switchyard-outage-')), 'gateway.yaml');
  writeFileSync(
    file,
    [
      'authorization: { directives: { enabled: false, unsafe_allow_unenforced: true } }',
      'traffic_shaping:',
      '  subgraphs:',
      '    orders: { circuit_breaker: { volume_threshold: 20, error_threshold: 0.9, reset_timeout: 2s, half_open_attempts: 2 } }',
    ].join('\n'),
  );
  return file;
}

describe('a killed subgraph, on real processes', () => {
  let platform: SpawnedPlatform;
  /** health_check.listen, where the full readiness report (the breakers' states) is served. */
  let healthCheck: string;
  /** The gateway's log lines (JSON, on stderr in production mode) since it started taking requests. */
  const logs: string[] = [];
  beforeAll(async () => {
    healthCheck = `127.0.0.1:${await freePort()}`;
    platform = await spawnPlatform({ gatewayEnv: { CONFIG_FILE: outageConfig(), HEALTH_CHECK_LISTEN: healthCheck } });
    platform.services.gateway.process.child.stderr!.on('data', (chunk) => logs.push(...String(chunk).split('\n').filter(Boolean)));
  }, 180_000);
  afterAll(() => platform?.stop());

  const overview = async () => {
    const began = performance.now();
    const res = await fetch(`${platform.services.gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: OVERVIEW }) });
    return { status: res.status, body: (await res.json()) as any, ms: performance.now() - began };
  };
  const breaker = async () => ((await (await fetch(`http://${healthCheck}/readyz`)).json()) as any).circuit_breakers.orders.state;
  const metric = async (name: string, labels: Record<string, string>) => {
    const samples = parsePrometheusText(await (await fetch(`${platform.services.gateway.url}/metrics`)).text()).get(name)?.samples ?? [];
    return samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
  };

  it('gives partial data naming the dead subgraph, opens its breaker, and closes it once the subgraph is back', async () => {
    expect(await overview()).toMatchObject({ status: 200, body: { data: { ...PRODUCTS, order: null } } });
    expect(await breaker()).toBe('closed');

    platform.services.orders.process.signal('SIGKILL');
    await platform.services.orders.process.exited;

    // Breaker closed: each request calls orders (and retries within the budget) and gets connection refused.
    const closed = [];
    while ((await breaker()) === 'closed' && closed.length < 20) closed.push(await overview());
    expect(closed.length).toBeGreaterThan(1);
    for (const answer of closed) {
      expect(answer.status).toBe(200);
      expect(answer.body.data).toEqual({ ...PRODUCTS, order: null });
      expect(answer.body.extensions).toEqual({ degraded: ['orders'] });
      expect(answer.body.errors.map((e: any) => e.extensions.service)).toEqual(['orders']);
    }
    expect(closed[0]!.body.errors).toEqual([
      { message: "HTTP fetch failed from 'orders': connection refused", extensions: { code: 'SUBREQUEST_HTTP_ERROR', service: 'orders', reason: 'connection refused' } },
    ]);
    expect(await breaker()).toBe('open');
    expect(logs.map((line) => JSON.parse(line)).filter((l) => l.subgraph === 'orders').map(({ level, msg, from, to }) => ({ level, msg, from, to }))).toEqual([
      { level: 'warn', msg: 'circuit breaker for orders: open', from: 'closed', to: 'open' },
    ]);
    const fetchesWhenOpened = await metric('http_client_request_duration_seconds_count', { subgraph_name: 'orders', error_type: 'connection_refused' });

    // Breaker open: answered at once, orders not called.
    const open = [];
    for (let i = 0; i < 20; i++) open.push(await overview());
    for (const answer of open) {
      expect(answer.body).toEqual({
        data: { ...PRODUCTS, order: null },
        errors: [{ message: "Subgraph 'orders' was not called: its circuit breaker is open", extensions: { code: 'SUBGRAPH_CIRCUIT_BREAKER_REJECTED', service: 'orders' } }],
        extensions: { degraded: ['orders'] },
      });
    }
    expect(await metric('http_client_request_duration_seconds_count', { subgraph_name: 'orders', error_type: 'connection_refused' })).toBe(fetchesWhenOpened);
    expect(await metric('switchyard_graphql_operations_degraded_total', { graphql_operation_name: 'Overview' })).toBe(closed.length + open.length);
    // The retry budget: 20% of the requests (the first, healthy one included) plus 1 a second of its 10 s window.
    const retries = await metric('switchyard_subgraph_retries_total', { subgraph_name: 'orders', outcome: 'sent' });
    expect(retries).toBeGreaterThan(0);
    expect(retries).toBeLessThanOrEqual(0.2 * (closed.length + 1) + 10);

    // Back: after reset_timeout two trial fetches succeed and the breaker closes.
    await platform.restart('orders');
    for (let waited = 0; (await breaker()) !== 'half_open' && waited < 5_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    expect(await breaker()).toBe('half_open');
    expect(await overview()).toMatchObject({ status: 200, body: { data: { ...PRODUCTS, order: null } } });
    expect((await overview()).body).toEqual({ data: { ...PRODUCTS, order: null } });
    expect(await breaker()).toBe('closed');
    expect(await metric('switchyard_circuit_breaker_transitions_total', { subgraph_name: 'orders' })).toBe(3);
  }, 120_000);
});
