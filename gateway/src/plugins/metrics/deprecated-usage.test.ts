import { startMetrics } from '@switchyard/service-kit';
import { startTestGateway, type TestGateway } from '../../testing/test-gateway';
import { deprecatedUsesFromMetrics, deprecationReport, deprecationsOf } from './deprecation-report';

/** A catalogue mid-migration: sku, the search argument's old name and one enum value are deprecated. */
const CATALOGUE = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@tag"])
  enum Sort { NAME  PRICE  NEWEST @deprecated(reason: "Use PRICE.") }
  input Filter { maxPrice: Int  max: Int @deprecated(reason: "Use maxPrice.") }
  type Product @key(fields: "id") {
    id: ID!
    name: String!
    sku: String! @deprecated(reason: "Use code.")
    code: String!
    legacy: String @deprecated(reason: "Internal only.") @tag(name: "internal")
  }
  type Query {
    products(sort: Sort = NAME, q: String @deprecated(reason: "Use search."), search: String, filter: Filter): [Product!]!
  }
`;
const lamp = { id: 'p1', name: 'Lamp', sku: 'L-1', code: 'L-1', legacy: 'x' };
const web = { 'apollographql-client-name': 'web', 'apollographql-client-version': '2.3.1' };
const ios = { 'apollographql-client-name': 'ios', 'apollographql-client-version': '1.0' };

let gateway: TestGateway;
let metrics: ReturnType<typeof startMetrics>;
beforeAll(async () => {
  metrics = startMetrics({ serviceName: 'gateway', env: {} });
  gateway = await startTestGateway({
    subgraphs: { catalogue: { sdl: CATALOGUE, resolvers: { Query: { products: () => [lamp] } } } },
    contracts: { public: { path: '/public/graphql', exclude: ['internal'] } },
    metrics,
  });
});
afterAll(async () => {
  await gateway.close();
  await metrics.shutdown();
});

const uses = async () => deprecatedUsesFromMetrics(await metrics.scrape()).sort((a, b) => a.coordinate.localeCompare(b.coordinate) || a.client.name.localeCompare(b.client.name));

describe('deprecated-field usage', () => {
  it('counts each deprecated coordinate an operation uses once per operation, by client, through fragments and on every path', async () => {
    // sku twice (directly and in a fragment) and the deprecated argument and enum value: one count each.
    await gateway.graphql('{ products(q: "la", sort: NEWEST) { sku ...P } } fragment P on Product { sku name }', { headers: web });
    await gateway.graphql('query Codes { products { code } } query Skus { products { sku } }', { operationName: 'Skus', headers: ios });
    // The other operation of the document is not run, so its use of code (not deprecated anyway) and sku do not count.
    await gateway.graphql('query Codes { products { code } } query Skus { products { sku legacy } }', { operationName: 'Codes', headers: ios });
    await gateway.graphql('{ products { sku } }', { headers: ios, path: '/public/graphql' });
    // Refused by validation: no operation, nothing counted.
    await gateway.graphql('{ products { sku nope } }', { headers: web });
    // Without client headers: unknown.
    await gateway.graphql('{ products { legacy } }');
    expect(await uses()).toEqual([
      { coordinate: 'Product.legacy', client: { name: 'unknown', version: 'unknown' }, operations: 1 },
      { coordinate: 'Product.sku', client: { name: 'ios', version: '1.0' }, operations: 2 },
      { coordinate: 'Product.sku', client: { name: 'web', version: '2.3.1' }, operations: 1 },
      { coordinate: 'Query.products(q:)', client: { name: 'web', version: '2.3.1' }, operations: 1 },
      { coordinate: 'Sort.NEWEST', client: { name: 'web', version: '2.3.1' }, operations: 1 },
    ]);
  });

  it('a deprecated enum value or input field counts whether written in the document or sent as a variable', async () => {
    const count = async (coordinate: string) => (await uses()).find((u) => u.coordinate === coordinate)?.operations ?? 0;
    const [sorted, filtered] = [await count('Sort.NEWEST'), await count('Filter.max')];
    await gateway.graphql('query ($s: Sort) { products(sort: $s) { code } }', { variables: { s: 'NEWEST' }, headers: web });
    await gateway.graphql('{ products(filter: { max: 3 }) { code } }', { headers: web });
    await gateway.graphql('query ($f: Filter) { products(filter: $f) { code } }', { variables: { f: { max: 3 } }, headers: web });
    await gateway.graphql('query ($f: Filter) { products(filter: $f) { code } }', { variables: { f: { maxPrice: 3 } }, headers: web });
    expect([await count('Sort.NEWEST'), await count('Filter.max')]).toEqual([sorted + 1, filtered + 2]);
  });

  it('the report lists who still uses each deprecated coordinate, and what no client uses', async () => {
    const supergraph = gateway.gateway.execution.supergraph.active.sdl;
    const report = deprecationReport(deprecationsOf(supergraph), await uses(), 'http://gateway/metrics');
    expect(report).toBe(
      [
        '5 deprecated in the schema; usage from http://gateway/metrics:',
        '',
        'Filter.max  (Use maxPrice.)',
        '  web 2.3.1: 2 operations',
        '',
        'Product.legacy  (Internal only.)',
        '  unknown unknown: 1 operation',
        '',
        'Product.sku  (Use code.)',
        '  ios 1.0: 2 operations',
        '  web 2.3.1: 1 operation',
        '',
        'Query.products(q:)  (Use search.)',
        '  web 2.3.1: 1 operation',
        '',
        'Sort.NEWEST  (Use PRICE.)',
        '  web 2.3.1: 2 operations',
        '',
      ].join('\n'),
    );
    expect(deprecationReport([{ coordinate: 'Product.sku', reason: 'Use code.' }], [], 'x')).toBe(
      '1 deprecated in the schema; usage from x:\n\nProduct.sku  (Use code.)\n  no client has used it: safe to remove as far as these counters saw\n',
    );
  });
});
