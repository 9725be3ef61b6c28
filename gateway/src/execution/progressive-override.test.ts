import { startMetrics } from '@switchyard/service-kit';
import { parsePrometheusText } from '../../../tests/support/prometheus';
import { startTestGateway, type TestGateway } from '../testing/test-gateway';

/**
 * Pricing moves from the catalogue subgraph to a new pricing subgraph field by field: price on 30% of
 * requests, discount not yet (percent(0)), currency entirely (percent(100)). Each subgraph answers with
 * its own values, so an answer shows which one served it.
 */
const CATALOGUE = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Product @key(fields: "id") { id: ID! price: Int! discount: Int! currency: String! }
  type Query { product(id: ID!): Product }
`;
const PRICING = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@override"])
  type Product @key(fields: "id") {
    id: ID!
    price: Int! @override(from: "catalogue", label: "percent(30)")
    discount: Int! @override(from: "catalogue", label: "percent(0)")
    currency: String! @override(from: "catalogue", label: "percent(100)")
  }
`;

/** mulberry32: a small seeded generator, so that which requests draw under 30% is the same every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let gateway: TestGateway;
let metrics: ReturnType<typeof startMetrics>;
beforeAll(async () => {
  metrics = startMetrics({ serviceName: 'gateway', env: {} });
  gateway = await startTestGateway({
    subgraphs: {
      catalogue: { sdl: CATALOGUE, resolvers: { Query: { product: () => ({ id: 'p1', price: 100, discount: 0, currency: 'GBP' }) } } },
      pricing: { sdl: PRICING, resolvers: { Product: { __resolveReference: () => ({ id: 'p1', price: 200, discount: 5, currency: 'EUR' }) } } },
    },
    random: seeded(42),
    metrics,
  });
});
afterAll(async () => {
  await gateway.close();
  await metrics.shutdown();
});

async function served(field: 'price' | 'discount' | 'currency', requests: number): Promise<unknown[]> {
  const values: unknown[] = [];
  for (let i = 0; i < requests; i++) {
    const answer = await gateway.graphql(`{ product(id: "p1") { ${field} } }`);
    expect(answer.status).toBe(200);
    values.push(answer.body.data.product[field]);
  }
  return values;
}

const resolutions = async () =>
  Object.fromEntries(
    (parsePrometheusText(await metrics.scrape()).get('switchyard_override_resolutions_total')?.samples ?? []).map((s) => [`${s.labels.schema_coordinate} ${s.labels.subgraph_name}`, s.value]),
  );

describe('progressive override: @override(from:, label: "percent(N)")', () => {
  // percent(0) and percent(100) draw nothing, so the seeded draws are price's alone whatever runs first.
  it('percent(0) never moves the field: the old subgraph serves it every time, and pricing is never asked', async () => {
    const asked = gateway.received.pricing!.length;
    expect(new Set(await served('discount', 200))).toEqual(new Set([0]));
    expect(gateway.received.pricing!.length).toBe(asked);
    expect((await resolutions())['Product.discount catalogue']).toBe(200);
  });

  it('percent(100) always moves it: the new subgraph serves it every time', async () => {
    expect(new Set(await served('currency', 200))).toEqual(new Set(['EUR']));
    expect((await resolutions())['Product.currency pricing']).toBe(200);
  });

  it('percent(30) moves it on 284 of 1000 requests with seed 42, each planned once per label state, and the metric says which served it', async () => {
    const asked = gateway.received.pricing!.length;
    const values = await served('price', 1000);
    const moved = values.filter((v) => v === 200).length;
    expect(moved).toBe(284);
    expect(values.filter((v) => v === 100).length).toBe(1000 - moved);
    // Only the requests the label moved asked pricing, each once for the price.
    expect(gateway.received.pricing!.length - asked).toBe(moved);
    const counted = await resolutions();
    expect([counted['Product.price pricing'], counted['Product.price catalogue']]).toEqual([moved, 1000 - moved]);
  });

  it('plans each operation once per state of its labels: on and off for price, one each for the others', () => {
    expect(gateway.gateway.execution.gateway.planCacheSize()).toBe(4);
  });
});
