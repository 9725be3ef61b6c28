/**
 * npm run bench measures correct answers only: the stand-in subgraphs (bench/stand-in-subgraphs.ts) answer
 * its three queries through Switchyard, in its production configuration as the benchmark starts it, with
 * exactly the data they hold, for the same client and for another identity alike, and count the fetches
 * each query makes. (The benchmark itself refuses to measure a peer gateway whose answers differ from
 * Switchyard's; starting the peers here would cost CI more than the 20 s this file may take.)
 */
import { startDevIssuer, type DevIssuer } from '@switchyard/dev-tools/dev-issuer';
import { loadGatewayConfig, type GatewayConfig } from '../gateway/src/config';
import { startGateway, type RunningGateway } from '../gateway/src/main';
import { switchyardEnv } from '../bench/compare';
import { BENCH_SCOPES } from '../bench/load';
import { COMPARED_QUERIES, standInData, startStandInSubgraphs, type ComparedQuery, type FetchCount } from '../bench/stand-in-subgraphs';

describe('npm run bench: the stand-in subgraphs through Switchyard', () => {
  const { users, products, orders } = standInData();
  let standIns: Awaited<ReturnType<typeof startStandInSubgraphs>>;
  let issuer: DevIssuer;
  let config: GatewayConfig;
  let gateway: RunningGateway;
  let tokens: string[];

  beforeAll(async () => {
    standIns = await startStandInSubgraphs();
    issuer = await startDevIssuer({ port: 0 });
    const stage = { supergraph: '', urls: standIns.urls, jwt: { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: issuer.audience } };
    config = loadGatewayConfig({ env: { ...switchyardEnv(stage), IDENTITY_SIGNING_SECRET: process.env.IDENTITY_SIGNING_SECRET! }, overrides: { 'supergraph.listen': '127.0.0.1:0' } });
    gateway = await startGateway(config);
    tokens = await Promise.all(['bench_client_0', 'bench_client_1'].map((sub) => issuer.issue(sub, { scopes: BENCH_SCOPES })));
  });

  afterAll(async () => {
    await gateway?.close();
    await issuer?.close();
    await standIns?.close();
  });

  /** Sends a compared query as the benchmark does, and returns the answer and how many fetches the stand-ins received for it. */
  async function send(query: ComparedQuery, token = tokens[0]) {
    await fetch(`${standIns.url}/fetches`, { method: 'DELETE' });
    const res = await fetch(gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: COMPARED_QUERIES[query] }),
    });
    const { total } = (await (await fetch(`${standIns.url}/fetches`)).json()) as FetchCount;
    return { status: res.status, body: await res.json(), fetches: total };
  }

  it('Switchyard runs in production with the plugins that are off by default on: rate limiting, retries, circuit breakers', () => {
    expect({
      // Off only under NODE_ENV=production's closed defaults.
      introspection: config.supergraph.introspection,
      rateLimit: config.rate_limit.enabled,
      retry: config.traffic_shaping.all.retry.enabled,
      circuitBreaker: config.traffic_shaping.all.circuit_breaker.enabled,
      demandControl: config.demand_control.enabled,
      authorization: config.authorization.directives.enabled,
      jwt: config.authentication.router.jwt?.jwks.map((j) => j.url),
    }).toEqual({ introspection: false, rateLimit: true, retry: true, circuitBreaker: true, demandControl: true, authorization: true, jwt: [issuer.jwksUrl] });
  });

  const product = (id: string) => products.find((p) => p.id === id)!;

  it('one subgraph: the first 20 products, in one fetch to products', async () => {
    const answer = await send('one subgraph');
    const expected = products.slice(0, 20).map(({ id, sku, name, priceCents, currency, stock }) => ({ node: { id, sku, name, priceCents, currency, stock } }));
    expect(expected[0]).toEqual({ node: { id: 'prd_0001', sku: 'SKU-00001', name: 'Compact Chair 1', priceCents: 8418, currency: 'USD', stock: 81 } });
    expect(answer).toEqual({ status: 200, body: { data: { products: { edges: expected } } }, fetches: 1 });
  });

  it('an order with its user and its three products, in three fetches (orders, then users and products)', async () => {
    expect(await send('order, user, products')).toEqual({
      status: 200,
      body: {
        data: {
          order: {
            id: 'ord_0001_3',
            status: 'PLACED',
            totalCents: 92912,
            currency: 'USD',
            createdAt: '2026-01-05T06:00:00.000Z',
            user: { id: 'usr_001', name: 'Ada Lovelace', email: 'ada.lovelace@example.com' },
            items: [
              { quantity: 1, unitPriceCents: 19284, product: { id: 'prd_0015', name: 'Classic Notebook 15', priceCents: 19284 } },
              { quantity: 2, unitPriceCents: 8935, product: { id: 'prd_0044', name: 'Modular Cable 44', priceCents: 8935 } },
              { quantity: 3, unitPriceCents: 18586, product: { id: 'prd_0073', name: 'Compact Lamp 73', priceCents: 18586 } },
            ],
          },
        },
      },
      fetches: 3,
    });
  });

  it('100 orders of 20 users with their users and products, in four fetches, the same for another client identity', async () => {
    const expected = {
      users: {
        edges: users.slice(0, 20).map((user) => ({
          node: {
            id: user.id,
            name: user.name,
            orders: {
              edges: orders
                .filter((o) => o.userId === user.id)
                .map((o) => ({
                  node: {
                    id: o.id,
                    totalCents: o.totalCents,
                    status: o.status,
                    user: { email: user.email },
                    items: o.items.map((i) => {
                      const { name, priceCents, stock } = product(i.productId);
                      return { quantity: i.quantity, unitPriceCents: i.unitPriceCents, product: { name, priceCents, stock } };
                    }),
                  },
                })),
            },
          },
        })),
      },
    };
    expect(expected.users.edges.flatMap((u) => u.node.orders.edges)).toHaveLength(100);
    const asFirstClient = await send('100 orders, nested');
    expect(asFirstClient).toEqual({ status: 200, body: { data: expected }, fetches: 4 });
    expect(await send('100 orders, nested', tokens[1])).toEqual(asFirstClient);
  });
});
