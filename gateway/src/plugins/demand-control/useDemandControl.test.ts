import { hashApiKey } from '../identity/api-keys';
import { startTestGateway } from '../../testing/test-gateway';
import { parse } from 'graphql';
import type { CostSchema } from './estimate';
import { RememberedEstimates } from './useDemandControl';

const KEY = 'sy_test_key_ops';

describe('remembered estimates', () => {
  const schema = {} as CostSchema;
  const document = parse('query Q($q: String) { a(q: $q) }');

  it('are keyed by the coerced variables: other values are other estimates, the same values one walk', () => {
    const remembered = new RememberedEstimates();
    let walks = 0;
    const estimate = () => ++walks;
    expect(remembered.get(schema, document, 'Q', { q: 'a' }, estimate)).toBe(1);
    expect(remembered.get(schema, document, 'Q', { q: 'a' }, estimate)).toBe(1);
    expect(remembered.get(schema, document, 'Q', { q: 'b' }, estimate)).toBe(2);
    expect(walks).toBe(2);
  });

  it('never keep a key longer than 4 Ki characters, and forget the oldest past 4 Mi characters of keys, however many requests come', () => {
    const remembered = new RememberedEstimates();
    const big = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 330; i++) remembered.get(schema, document, 'Q', { q: `${i}${big}` }, () => 1);
    expect(remembered.size).toBe(0);
    for (let i = 0; i < 3000; i++) remembered.get(schema, document, 'Q', { q: `${i}${'y'.repeat(3000)}` }, () => 1);
    expect(remembered.size).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(remembered.size).toBeGreaterThan(4 * 1024 * 1024 - 4096);
  });

  it('keep at most 10,000 estimates however short their keys: an operation parsed anew 25,000 times (a churning document cache) leaves 10,000', () => {
    const remembered = new RememberedEstimates();
    const documents = Array.from({ length: 25_000 }, () => parse('{ a }'));
    for (const fresh of documents) remembered.get(schema, fresh, undefined, {}, () => 1);
    expect(remembered.count).toBe(10_000);
    expect(remembered.size).toBe(30_000);
    // The newest are the ones kept: the last document's estimate is remembered, the first one's is walked again.
    let walks = 0;
    remembered.get(schema, documents[24_999]!, undefined, {}, () => ++walks);
    remembered.get(schema, documents[0]!, undefined, {}, () => ++walks);
    expect(walks).toBe(1);
  });
});

describe('demand control through the whole gateway', () => {
  const SDL = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@authenticated"])
    type Query { cheap: Int report: Int @cost(weight: 5000) @authenticated }
  `;

  it('estimates the operation that will run: a field authorization removed costs nothing, for anonymous callers only', async () => {
    const gateway = await startTestGateway({
      subgraphs: { reports: { sdl: SDL, resolvers: { Query: { cheap: () => 1, report: () => 2 } } } },
      config: { 'demand_control.strategy.static_estimated.max': 1000, 'authentication.api_keys.keys': [{ name: 'ops', sha256: hashApiKey(KEY), scopes: [] }] },
    });
    try {
      const anonymous = await gateway.graphql('{ cheap report }', { extensions: { cost: true } });
      expect(anonymous.status).toBe(200);
      expect(anonymous.body.data).toEqual({ cheap: 1, report: null });
      expect(anonymous.body.errors.map((e: any) => e.extensions.code)).toEqual(['UNAUTHORIZED_FIELD_OR_TYPE']);
      expect(anonymous.body.extensions.cost).toEqual({ estimated: 0, max: 1000, mode: 'enforce', result: 'COST_OK' });
      const signedIn = await gateway.graphql('{ cheap report }', { headers: { 'x-api-key': KEY } });
      expect([signedIn.status, signedIn.body.errors[0].extensions]).toEqual([400, { code: 'COST_ESTIMATED_TOO_EXPENSIVE', estimatedCost: 5000, maxCost: 1000 }]);
    } finally {
      await gateway.close();
    }
  });
});

describe('negative slicing arguments through the whole gateway', () => {
  const SDL = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize"])
    type Query {
      products(first: Int = 10): [Product!]! @listSize(slicingArguments: ["first"], requireOneSlicingArgument: false)
      report: Int @cost(weight: 5000)
    }
    type Product @key(fields: "id") { id: ID! name: String! @cost(weight: 20) }
  `;

  it('are BAD_USER_INPUT before any estimate, however they arrive, and cost the client nothing', async () => {
    const gateway = await startTestGateway({
      subgraphs: { shop: { sdl: SDL, resolvers: { Query: { products: () => [], report: () => 1 } } } },
      config: { 'demand_control.strategy.static_estimated.max': 1000 },
    });
    try {
      const variants: [string, Record<string, unknown>?][] = [
        ['{ products(first: -100000) { name } }'],
        ['{ report decoy: products(first: -100000) { name } }'],
        ['query($n: Int) { products(first: $n) { name } }', { n: -5 }],
        ['query($n: Int = -3) { products(first: $n) { name } }'],
        ['{ ...F } fragment F on Query { products(first: -1) { name } }'],
        ['{ ... on Query { report products(first: -2) { id } } }'],
      ];
      for (const [query, variables] of variants) {
        const res = await gateway.graphql(query, { variables });
        expect({ query, status: res.status, codes: res.body.errors.map((e: any) => e.extensions.code), data: res.body.data }).toEqual({
          query,
          status: 400,
          codes: ['BAD_USER_INPUT'],
          data: undefined,
        });
        expect(res.body.errors[0].message).toMatch(/^Slicing argument "first" of Query\.products at "(products|decoy)" must not be negative; got -\d+\.$/);
      }
      expect(gateway.received.shop).toEqual([]);
      // The decoy no longer brings the expensive field under the maximum: without it, it is refused for its cost.
      expect((await gateway.graphql('{ report }')).body.errors[0].extensions.code).toBe('COST_ESTIMATED_TOO_EXPENSIVE');
    } finally {
      await gateway.close();
    }
  });
});
