import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { npmRun } from './support/processes';
import { scrapeMetrics, type Scrape } from './support/prometheus';
import { startGateway } from '../gateway/src/main';
import { deprecatedUsesFromMetrics, deprecationReport, deprecationsOf } from '../gateway/src/plugins/metrics/deprecation-report';
import { gatewayConfig, startPlatform, type Platform } from './support/platform';

/**
 * /metrics on the real platform. Each test reads the counters before and after its own traffic, so the
 * deltas are exactly what it sent: users' traffic goes as a user (a generous class), and only the
 * rate-limit test sends anonymous requests (a class of 2 a minute).
 */
let platform: Platform;
let services: Record<'gateway' | 'users' | 'products' | 'orders', string>;

beforeAll(async () => {
  platform = await startPlatform('pglite', {
    'rate_limit.enabled': true,
    'rate_limit.classes': { anonymous: { requests: 4, cost: 100_000, window: '1m' }, user: { requests: 1_000, cost: 1_000_000, window: '1m' } },
    'demand_control.strategy.static_estimated.max': 100,
  });
  const origin = (name: string) => new URL(platform.gateway.subgraphs.find((s) => s.name === name)!.url).origin;
  services = { gateway: platform.gateway.url, users: origin('users'), products: origin('products'), orders: origin('orders') };
}, 180_000);
afterAll(async () => {
  await platform?.close();
});

const AS_USER = 'usr_001';
const gateway = () => scrapeMetrics(services.gateway);

describe('GET /metrics', () => {
  it.each(['gateway', 'users', 'products', 'orders'] as const)('on %s parses as Prometheus text, names its service and reports process metrics', async (service) => {
    const scrape = await scrapeMetrics(services[service]);
    expect(scrape.families.get('target_info')!.samples[0]!.labels).toMatchObject({ service_name: service });
    for (const name of ['process_cpu_time_seconds_total', 'process_memory_usage_bytes', 'v8js_memory_heap_used_bytes', 'nodejs_eventloop_delay_p99_seconds', 'http_server_active_requests']) {
      expect(scrape.families.has(name)).toBe(true);
    }
    expect(scrape.value('process_memory_usage_bytes')).toBeGreaterThan(0);
  });

  it('a client that still reads the deprecated User.name is named in the deprecations report, with its version and count', async () => {
    const client = { 'apollographql-client-name': 'storefront', 'apollographql-client-version': `1.${Date.now()}` };
    await platform.graphql('query Profile { me { name } }', undefined, AS_USER, client);
    await platform.graphql('query Profile { me { name displayName } }', undefined, AS_USER, client);
    await platform.graphql('query Profile { me { displayName } }', undefined, AS_USER, client);
    const text = await (await fetch(`${services.gateway}/metrics`)).text();
    const uses = deprecatedUsesFromMetrics(text).filter((u) => u.client.version === client['apollographql-client-version']);
    expect(uses).toEqual([{ coordinate: 'User.name', client: { name: 'storefront', version: client['apollographql-client-version'] }, operations: 2 }]);
    const supergraph = readFileSync(join(__dirname, '..', 'gateway', 'supergraph.graphql'), 'utf8');
    expect(deprecationReport(deprecationsOf(supergraph), uses, 'the gateway')).toContain(`User.name  (Use displayName`);
    expect(deprecationReport(deprecationsOf(supergraph), uses, 'the gateway')).toContain(`  storefront ${client['apollographql-client-version']}: 2 operations\n`);
    // The command prints the same report from the running gateway's /metrics.
    const { code, stdout } = await npmRun('deprecations', {}, ['--metrics', `${services.gateway}/metrics`]).exited;
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^User\\.name  \\(Use displayName[^\\n]*\\n(  .*\\n)*  storefront ${client['apollographql-client-version'].replace('.', '\\.')}: 2 operations\n`, 'm'));
  });

  it('three TopProducts queries move the TopProducts counter by exactly 3, the products fetches and the Query.products resolver by 3, and plan once', async () => {
    const [gatewayBefore, productsBefore] = await Promise.all([gateway(), scrapeMetrics(services.products)]);
    for (let i = 0; i < 3; i++) {
      const answer = await platform.graphql('query TopProducts { products(first: 2) { edges { node { id } } } }', undefined, AS_USER);
      expect(answer).toEqual({ status: 200, data: { products: { edges: [{ node: { id: 'prd_0001' } }, { node: { id: 'prd_0002' } }] } } });
    }
    const [gatewayAfter, productsAfter] = await Promise.all([gateway(), scrapeMetrics(services.products)]);
    const delta = (name: string, labels: Record<string, string>) => gatewayAfter.value(name, labels) - gatewayBefore.value(name, labels);
    const histogramDelta = (after: Scrape, before: Scrape, name: string, labels: Record<string, string>) => after.histogram(name, labels).count - before.histogram(name, labels).count;

    const topProducts = { graphql_operation_name: 'TopProducts', graphql_operation_type: 'query', outcome: 'success' };
    expect(delta('switchyard_graphql_operations_total', topProducts)).toBe(3);
    expect(histogramDelta(gatewayAfter, gatewayBefore, 'switchyard_graphql_operation_duration_seconds', topProducts)).toBe(3);
    expect(histogramDelta(gatewayAfter, gatewayBefore, 'http_client_request_duration_seconds', { subgraph_name: 'products', http_response_status_code: '200' })).toBe(3);
    expect(histogramDelta(gatewayAfter, gatewayBefore, 'http_client_request_duration_seconds', { subgraph_name: 'users' })).toBe(0);
    expect(histogramDelta(gatewayAfter, gatewayBefore, 'http_server_request_duration_seconds', { http_route: '/graphql', http_response_status_code: '200' })).toBe(3);
    // Planned once, then served from the cache twice.
    expect(histogramDelta(gatewayAfter, gatewayBefore, 'apollo_router_cache_miss_time_seconds', { kind: 'query planner' })).toBe(1);
    expect(histogramDelta(gatewayAfter, gatewayBefore, 'apollo_router_cache_hit_time_seconds', { kind: 'query planner' })).toBe(2);
    expect(gatewayAfter.value('apollo_router_cache_size') - gatewayBefore.value('apollo_router_cache_size')).toBe(1);
    // Each estimate is 2 (first: 2) products of cost 1, the connection and edges: see tests/demand-control.test.ts.
    const cost = { cost_result: 'COST_OK' };
    expect(gatewayAfter.histogram('cost_estimated', cost).count - gatewayBefore.histogram('cost_estimated', cost).count).toBe(3);

    expect(histogramDelta(productsAfter, productsBefore, 'switchyard_graphql_resolver_duration_seconds', { graphql_field: 'Query.products' })).toBe(3);
    expect(histogramDelta(productsAfter, productsBefore, 'db_client_operation_duration_seconds', { db_operation_name: 'SELECT' })).toBeGreaterThanOrEqual(3);
  });

  it('the user who sent the traffic appears in no label of any service (the operation name cap is tested in gateway-metrics.test.ts)', async () => {
    await platform.graphql('query Me { me { id } }', undefined, AS_USER);
    for (const url of Object.values(services)) {
      expect(await (await fetch(`${url}/metrics`)).text()).not.toContain(AS_USER);
    }
  });

  it('an operation over the cost maximum is refused, counted once with reason cost, and its estimate recorded as COST_ESTIMATED_TOO_EXPENSIVE', async () => {
    const before = await gateway();
    const answer = await platform.graphql('query Expensive { products(first: 100) { edges { node { id } } } }', undefined, AS_USER);
    expect(answer.status).toBe(400);
    expect(answer.errors![0]!.extensions!.code).toBe('COST_ESTIMATED_TOO_EXPENSIVE');
    const estimate: number = answer.errors![0]!.extensions!.estimatedCost;
    const after = await gateway();
    const refused = { code: 'COST_ESTIMATED_TOO_EXPENSIVE', reason: 'cost', enforced: 'true' };
    expect(after.value('switchyard_decisions_total', refused) - before.value('switchyard_decisions_total', refused)).toBe(1);
    const tooExpensive = { cost_result: 'COST_ESTIMATED_TOO_EXPENSIVE' };
    expect(after.histogram('cost_estimated', tooExpensive).count - before.histogram('cost_estimated', tooExpensive).count).toBe(1);
    expect(after.histogram('cost_estimated', tooExpensive).sum - before.histogram('cost_estimated', tooExpensive).sum).toBe(estimate);
  });

  it('a query deeper than max_depth is counted once with reason limit and code MAX_DEPTH_LIMIT', async () => {
    const before = await gateway();
    // user -> orders -> edges -> node -> user ... : 16 fields and the leaf, over the default max_depth of 15.
    const path = ['user(id: "usr_001")', ...Array.from({ length: 15 }, (_, i) => ['orders(first: 1)', 'edges', 'node', 'user'][i % 4]!)];
    const deep = `{ ${path.map((field) => `${field} { `).join('')}id${' }'.repeat(path.length)} }`;
    const answer = await platform.graphql(deep, undefined, AS_USER);
    expect(answer.errors![0]!.extensions!.code).toBe('MAX_DEPTH_LIMIT');
    const after = await gateway();
    const refused = { code: 'MAX_DEPTH_LIMIT', reason: 'limit', enforced: 'true' };
    expect(after.value('switchyard_decisions_total', refused) - before.value('switchyard_decisions_total', refused)).toBe(1);
  });

  it('a user without users:read asking for users gets UNAUTHORIZED_FIELD_OR_TYPE, counted once per coordinate and once as an authorization decision', async () => {
    const before = await gateway();
    const answer = await platform.graphql('query Staff { users(first: 1) { edges { node { id } } } }', undefined, AS_USER);
    // users is non-null, so its removal nulls the whole data.
    expect(answer.data).toBeNull();
    expect(answer.errors!.map((e) => [e.path, e.extensions!.code])).toEqual([[['users'], 'UNAUTHORIZED_FIELD_OR_TYPE']]);
    const after = await gateway();
    const delta = (name: string, labels: Record<string, string>) => after.value(name, labels) - before.value(name, labels);
    expect(delta('switchyard_authorization_denials_total', { coordinate: 'Query.users', mode: 'enforced' })).toBe(1);
    expect(delta('switchyard_decisions_total', { stage: 'authorization', code: 'UNAUTHORIZED_FIELD_OR_TYPE', reason: 'authorization', enforced: 'true' })).toBe(1);
  });

  it('a refused token is counted once as an authentication decision, and the JWKS fetches and key age are reported', async () => {
    const before = await gateway();
    const res = await fetch(platform.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.token' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(res.status).toBe(401);
    const after = await gateway();
    const refused = { stage: 'identity', code: 'UNAUTHENTICATED', reason: 'authentication', enforced: 'true' };
    expect(after.value('switchyard_decisions_total', refused) - before.value('switchyard_decisions_total', refused)).toBe(1);
    expect(after.value('switchyard_jwks_fetch_total', { outcome: 'success' })).toBeGreaterThanOrEqual(1);
    expect(after.value('switchyard_jwks_fetch_total', { outcome: 'failure' })).toBe(0);
    expect(after.families.has('switchyard_jwks_age_seconds')).toBe(true);
  });

  it('a body over the limit, answered 413 on the socket by hand, is counted once and leaves no request active', async () => {
    const tooLarge = { http_route: '/graphql', http_response_status_code: '413' };
    const before = await gateway();
    const statusLine = await new Promise<string>((resolve, reject) => {
      const socket = connect(platform.gateway.port, '127.0.0.1', () => {
        socket.write('POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100000000\r\n\r\n{');
      });
      socket.once('data', (data) => {
        resolve(String(data).split('\r\n')[0]!);
        socket.destroy();
      });
      socket.once('error', reject);
    });
    expect(statusLine).toBe('HTTP/1.1 413 Payload Too Large');
    const after = await gateway();
    expect(after.histogram('http_server_request_duration_seconds', tooLarge).count - before.histogram('http_server_request_duration_seconds', tooLarge).count).toBe(1);
    expect(after.value('http_server_active_requests', { http_request_method: 'POST' })).toBe(0);
  });

  it('reports the rate limiter\'s in-memory store as up and the active supergraph by its hash', async () => {
    const scrape = await gateway();
    expect(scrape.value('switchyard_rate_limit_store_up', { store: 'memory' })).toBe(1);
    const readiness = (await (await fetch(`${services.gateway}/readyz`)).json()) as { supergraph: { hash: string } };
    expect(scrape.families.get('switchyard_supergraph_info')!.samples.map((s) => [s.labels.hash, s.value])).toEqual([[readiness.supergraph.hash, 1]]);
  });

  it('with telemetry.exporters.metrics.prometheus.path the gateway serves them there, and with enabled: false not at all, answering queries the same', async () => {
    const subgraphUrls = Object.fromEntries(platform.gateway.subgraphs.map((s) => [s.name, s.url]));
    const elsewhere = await startGateway(gatewayConfig({ override_subgraph_url: subgraphUrls, 'telemetry.exporters.metrics.prometheus.path': '/internal/metrics' }));
    const off = await startGateway(gatewayConfig({ override_subgraph_url: subgraphUrls, 'telemetry.exporters.metrics.prometheus.enabled': false }));
    try {
      expect((await fetch(`${elsewhere.url}/metrics`)).status).toBe(404);
      expect((await scrapeMetrics(`${elsewhere.url}/internal`)).families.has('target_info')).toBe(true);
      expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
      const res = await fetch(off.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ product(id: "prd_0001") { id } }' }) });
      expect(await res.json()).toEqual({ data: { product: { id: 'prd_0001' } } });
    } finally {
      await Promise.all([elsewhere.close(), off.close()]);
    }
  });

  // Last: by now the tests above have made every series the dashboard draws exist.
  it('every metric the Grafana dashboard queries is exported by some service', async () => {
    const dashboard = JSON.parse(readFileSync(join(__dirname, '..', 'k8s', 'observability', 'grafana-dashboard.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exported = new Set<string>();
    for (const url of Object.values(services)) {
      for (const family of (await scrapeMetrics(url)).families.values()) for (const sample of family.samples) exported.add(sample.name);
    }
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        // The dashboard writes every selector with {...} or a range [...], so a metric name is what precedes one.
        const names = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(?=\{|\[)/g)].map((m) => m[1]!);
        expect({ panel: panel.title, expr, names: names.length > 0 }).toEqual({ panel: panel.title, expr, names: true });
        for (const name of names) queried.add(name);
      }
    }
    expect([...queried].filter((name) => !exported.has(name))).toEqual([]);
    expect(queried.size).toBeGreaterThanOrEqual(20);
  });

  // Last: the anonymous budget of 4 has 2 left after the refused-token and oversized-body requests above, which are charged to it.
  it('the third anonymous request in a minute is a 429 before its body is read, and the refusal counter for reason rate moves by exactly 1', async () => {
    const refused = { stage: 'admission', code: 'RATE_LIMITED', reason: 'rate', enforced: 'true' };
    const before = await gateway();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await platform.graphql('query Anonymous { products(first: 1) { edges { node { id } } } }')).status);
    expect(statuses).toEqual([200, 200, 429]);
    const after = await gateway();
    expect(after.value('switchyard_decisions_total', refused) - before.value('switchyard_decisions_total', refused)).toBe(1);
    expect(after.value('switchyard_decisions_total') - before.value('switchyard_decisions_total')).toBe(1);
    // Refused before its body was read as GraphQL, so the operation is not known.
    const anonymousErrors = { graphql_operation_name: 'unknown', outcome: 'error' };
    expect(after.value('switchyard_graphql_operations_total', anonymousErrors) - before.value('switchyard_graphql_operations_total', anonymousErrors)).toBe(1);
  });

});
