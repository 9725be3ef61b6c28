import { startTestGateway, type TestGateway } from './testing/test-gateway';

const PRODUCTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  enum Sort { NEWEST CHEAPEST }
  input ProductFilter { nameContains: String }
  type Query { products(first: Int = 2, sort: Sort = NEWEST, filter: ProductFilter): [Product!]! product(id: ID!): Product }
  type Product @key(fields: "id") { id: ID! name: String! }
`;
const products = [{ id: 'p1', name: 'Lamp' }, { id: 'p2', name: 'Desk' }];

function gatewayUnder(env: NodeJS.ProcessEnv): Promise<TestGateway> {
  return startTestGateway({
    env,
    subgraphs: {
      products: {
        sdl: PRODUCTS,
        resolvers: { Query: { products: (_: unknown, { first }: { first: number }) => products.slice(0, first), product: (_: unknown, { id }: { id: string }) => products.find((p) => p.id === id) ?? null } },
      },
    },
  });
}

/** Operations that read the schema through introspection, in every shape a client can give them, and the fields refused. */
const INTROSPECTION: [string, string, string[]][] = [
  ['the whole schema', '{ __schema { types { name } } }', ['__schema', 'types']],
  ['one type by name', '{ __type(name: "Product") { fields { name } } }', ['__type', 'fields']],
  ['under an alias', '{ shape: __schema { queryType { name } } }', ['__schema', 'queryType']],
  ['inside a named fragment', 'query { ...Schema } fragment Schema on Query { __schema { types { name } } }', ['__schema', 'types']],
  ['inside an inline fragment, beside a real field', '{ product(id: "p1") { name } ... on Query { __type(name: "Sort") { enumValues { name } } } }', ['__type', 'enumValues']],
];

/** Misspellings: the operation, its variables, the code and message production gives, and the suggestion development adds. */
const MISSPELT: [string, string, Record<string, unknown> | undefined, string, string, string][] = [
  ['field', '{ prodcts { name } }', undefined, 'GRAPHQL_VALIDATION_FAILED', 'Cannot query field "prodcts" on type "Query".', 'Did you mean "products" or "product"?'],
  ['field of an object type', '{ product(id: "p1") { nme } }', undefined, 'GRAPHQL_VALIDATION_FAILED', 'Cannot query field "nme" on type "Product".', 'Did you mean "name"?'],
  ['argument', '{ products(frist: 1) { name } }', undefined, 'GRAPHQL_VALIDATION_FAILED', 'Unknown argument "frist" on field "Query.products".', 'Did you mean "first"?'],
  ['type condition', '{ product(id: "p1") { ... on Prodct { name } } }', undefined, 'GRAPHQL_VALIDATION_FAILED', 'Unknown type "Prodct".', 'Did you mean "Product"?'],
  ['enum value in the text', '{ products(sort: NEWST) { name } }', undefined, 'GRAPHQL_VALIDATION_FAILED', 'Value "NEWST" does not exist in "Sort" enum.', 'Did you mean the enum value "NEWEST"?'],
  [
    'input field in the text',
    '{ products(filter: { nameContain: "a" }) { name } }',
    undefined,
    'GRAPHQL_VALIDATION_FAILED',
    'Field "nameContain" is not defined by type "ProductFilter".',
    'Did you mean "nameContains"?',
  ],
  [
    'enum value in a variable',
    'query List($sort: Sort) { products(sort: $sort) { name } }',
    { sort: 'NEWST' },
    'BAD_USER_INPUT',
    'Variable "$sort" got invalid value "NEWST"; Value "NEWST" does not exist in "Sort" enum.',
    'Did you mean the enum value "NEWEST"?',
  ],
  [
    'input field in a variable',
    'query List($filter: ProductFilter) { products(filter: $filter) { name } }',
    { filter: { nameContain: 'a' } },
    'BAD_USER_INPUT',
    'Variable "$filter" got invalid value { nameContain: "a" }; Field "nameContain" is not defined by type "ProductFilter".',
    'Did you mean "nameContains"?',
  ],
];

describe('a gateway under NODE_ENV=production', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await gatewayUnder({ NODE_ENV: 'production' });
  });
  afterAll(() => gateway.close());

  it.each(INTROSPECTION)('refuses introspection (%s) with GRAPHQL_VALIDATION_FAILED, by POST and by GET, before any subgraph is called', async (_shape, query, fields) => {
    const before = gateway.received.products.length;
    for (const method of ['POST', 'GET'] as const) {
      const res = await gateway.graphql(query, { method });
      expect({ method, status: res.status, errors: res.body.errors.map((e: { message: string; extensions: { code: string } }) => [e.extensions.code, e.message]), data: res.body.data }).toEqual({
        method,
        status: 400,
        errors: fields.map((field) => ['GRAPHQL_VALIDATION_FAILED', `GraphQL introspection has been disabled, but the requested query contained the field "${field}".`]),
        data: undefined,
      });
    }
    expect(gateway.received.products.length).toBe(before);
  });

  it('still answers __typename, which names a type the client already holds', async () => {
    expect((await gateway.graphql('{ __typename product(id: "p1") { __typename name } }')).body).toEqual({ data: { __typename: 'Query', product: { __typename: 'Product', name: 'Lamp' } } });
  });

  it.each(MISSPELT)('names a misspelt %s without a "Did you mean"', async (_what, query, variables, code, message) => {
    const res = await gateway.graphql(query, { variables });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { message: string; extensions: { code: string } }) => [e.extensions.code, e.message])).toEqual([[code, message]]);
    expect(JSON.stringify(res.body)).not.toMatch(/did you mean/i);
  });

  it('serves no /debug/traces page, nor any trace under it', async () => {
    for (const url of ['/debug/traces', `/debug/traces/${'0'.repeat(32)}`, `/debug/traces/${'0'.repeat(32)}/text`, '/debug/traces/assets/traces.css']) {
      const res = await gateway.inject({ url });
      expect({ url, status: res.statusCode, code: JSON.parse(res.body).errors[0].extensions.code }).toEqual({ url, status: 404, code: 'NOT_FOUND' });
    }
  });

  it('answers the public /readyz with the status and what is up, and no path, URL or error text', async () => {
    let res = await gateway.inject({ url: '/readyz' });
    for (let i = 0; i < 100 && JSON.parse(res.body).subgraphs.products.status !== 'up'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      res = await gateway.inject({ url: '/readyz' });
    }
    expect([res.statusCode, JSON.parse(res.body)]).toEqual([
      200,
      { status: 'ready', supergraph: { loaded: true, hash: expect.stringMatching(/^[0-9a-f]{64}$/) }, subgraphs: { products: { status: 'up' } } },
    ]);
    const full = await gateway.gateway.readiness();
    expect(full.body.supergraph.path).toMatch(/supergraph\.graphql$/);
    expect(res.body).not.toContain(full.body.supergraph.path!);
  });
});

describe('the same misspellings and introspection in development, and in production with INTROSPECTION=true', () => {
  let development: TestGateway;
  let openedInProduction: TestGateway;
  beforeAll(async () => {
    [development, openedInProduction] = await Promise.all([gatewayUnder({}), gatewayUnder({ NODE_ENV: 'production', INTROSPECTION: 'true' })]);
  });
  afterAll(() => Promise.all([development.close(), openedInProduction.close()]));

  it.each(MISSPELT)('suggests the right spelling of a misspelt %s', async (_what, query, variables, code, message, suggestion) => {
    for (const gateway of [development, openedInProduction]) {
      const res = await gateway.graphql(query, { variables });
      expect([res.status, res.body.errors.map((e: { message: string; extensions: { code: string } }) => [e.extensions.code, e.message])]).toEqual([400, [[code, `${message} ${suggestion}`]]]);
    }
  });

  it('answers introspection', async () => {
    for (const gateway of [development, openedInProduction]) {
      expect((await gateway.graphql('{ __type(name: "Sort") { enumValues { name } } }')).body).toEqual({ data: { __type: { enumValues: [{ name: 'NEWEST' }, { name: 'CHEAPEST' }] } } });
    }
  });
});
