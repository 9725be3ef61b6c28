import diagnostics from 'node:diagnostics_channel';
import type { AddressInfo, Server } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { getIntrospectionQuery } from 'graphql';
import { startPlatform, type Platform } from './support/platform';

/**
 * Gateway config overrides for this file, in one place (their keys follow the gateway config). Empty:
 * the corpus runs against the default limits, which are what protect a deployment.
 */
const GATEWAY_OVERRIDES: Record<string, unknown> = {};

/** Generous: the old depth check spent 7 s on the 22 doubling fragments; every bomb here takes milliseconds. */
const QUICKLY_MS = 1500;

const repeat = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(' ');

/** `{ ...F<n> }` where F0 selects `leaf` and each F<i> spreads F<i-1> twice: 2^n expansions in about 10n tokens. */
function doublingFragments(n: number, leaf: string): string {
  let source = `{ ...F${n} }\nfragment F0 on Query { ${leaf} }\n`;
  for (let i = 1; i <= n; i++) source += `fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }\n`;
  return source;
}

/** A valid query 200 fields deep: user -> orders -> edges -> node -> user -> ... */
function depth200(): string {
  const cycle = ['orders', 'edges', 'node', 'user'];
  const path = ['user(id: "usr_001")', ...Array.from({ length: 198 }, (_, i) => cycle[i % 4]!)];
  const leaf = { orders: '__typename', edges: 'cursor', node: 'id', user: 'id' }[path[path.length - 1] as 'edges'];
  return `{ ${path.map((field) => `${field} { `).join('')}${leaf}${' }'.repeat(path.length)} }`;
}

interface Bomb {
  name: string;
  query: string;
  codes: string[];
  /** Extensions of the first error, where the numbers are worth pinning. */
  first?: Record<string, unknown>;
}

const productsPage = 'products(first: 100) { edges { node { id name } } }';

const CORPUS: Bomb[] = [
  { name: 'a query 200 fields deep', query: depth200(), codes: ['MAX_DEPTH_LIMIT'], first: { code: 'MAX_DEPTH_LIMIT', depth: 200, max_depth: 15 } },
  {
    name: '10 000 aliases of product(id)',
    query: `{ ${repeat(10_000, (i) => `p${i}: product(id: "prd_0001") { id }`)} }`,
    codes: ['PARSER_MAX_TOKENS'],
    first: { code: 'PARSER_MAX_TOKENS', tokens: 5001, parser_max_tokens: 5000 },
  },
  {
    name: '400 aliases of product(id), within the token limit',
    query: `{ ${repeat(400, (i) => `p${i}: product(id: "prd_0001") { id }`)} }`,
    codes: ['MAX_HEIGHT_LIMIT', 'MAX_ROOT_FIELDS_LIMIT', 'MAX_ALIASES_LIMIT'],
  },
  { name: '1 000 x products(first: 100), written out', query: `{ ${repeat(1000, () => productsPage)} }`, codes: ['PARSER_MAX_TOKENS'] },
  {
    name: '1 024 x products(first: 100), through doubling fragments',
    query: doublingFragments(10, productsPage),
    codes: ['MAX_HEIGHT_LIMIT', 'MAX_ROOT_FIELDS_LIMIT'],
  },
  {
    name: 'a fragment cycle',
    query: '{ ...A } fragment A on Query { ...B } fragment B on Query { __typename ...A }',
    codes: ['GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: 'a fragment cycle that also doubles',
    query: '{ ...A } fragment A on Query { ...B ...B } fragment B on Query { __typename ...A ...A }',
    codes: ['GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: '22 doubling fragments of __typename (858 bytes)',
    query: doublingFragments(21, '__typename'),
    codes: ['MAX_HEIGHT_LIMIT', 'MAX_ROOT_FIELDS_LIMIT'],
    first: { code: 'MAX_HEIGHT_LIMIT', height: 2 ** 21, max_height: 300 },
  },
  {
    name: '2^50 fragment expansions',
    query: doublingFragments(50, '__typename'),
    codes: ['MAX_HEIGHT_LIMIT', 'MAX_ROOT_FIELDS_LIMIT'],
    first: { code: 'MAX_HEIGHT_LIMIT', height: 2 ** 50, max_height: 300 },
  },
  { name: 'a 10 000-token soup', query: `{ ${'__typename '.repeat(9_998)}}`, codes: ['PARSER_MAX_TOKENS'] },
  { name: 'a 1 MB token soup', query: `{ ${'__typename '.repeat(90_000)}}`, codes: ['PARSER_MAX_TOKENS'] },
  {
    // 0.9 MB, since JSON doubles each line break; graphql-js does not count comments as tokens.
    name: 'a soup of 75 000 comments',
    query: `{ __typename ${'#          \n'.repeat(75_000)}}`,
    codes: ['PARSER_MAX_TOKENS'],
    first: { code: 'PARSER_MAX_TOKENS', comments: 5001, parser_max_tokens: 5000 },
  },
  { name: '10 000 @include directives', query: `{ ${'__typename @include(if: true) '.repeat(10_000)}}`, codes: ['PARSER_MAX_TOKENS'] },
  {
    name: '600 @include directives, within the token limit',
    query: `{ ${'__typename @include(if: true) '.repeat(600)}}`,
    codes: ['MAX_DIRECTIVES_LIMIT'],
    first: { code: 'MAX_DIRECTIVES_LIMIT', directives: 600, max_directives: 50 },
  },
  {
    name: 'a list nested 2 400 deep in an argument',
    query: `{ product(id: ${'['.repeat(2400)}${']'.repeat(2400)}) { id } }`,
    codes: ['PARSER_MAX_RECURSION'],
    first: { code: 'PARSER_MAX_RECURSION', recursion: 2401, parser_max_recursion: 500 },
  },
];

describe('query bombs against the platform', () => {
  let platform: Platform;
  let subgraphPorts: Set<number>;
  let subgraphRequests = 0;
  // Requests made for a client carry its x-request-id; the gateway's background readiness probes a `gateway-` one of their own.
  const countSubgraphRequest = (message: unknown) => {
    const { server, request } = message as { server: Server; request: IncomingMessage };
    const { port } = server.address() as AddressInfo;
    const requestId = request.headers['x-request-id'];
    if (subgraphPorts.has(port) && typeof requestId === 'string' && !requestId.startsWith('gateway-')) subgraphRequests++;
  };
  const statements = () => platform.db.users.stats.statements + platform.db.products.stats.statements + platform.db.orders.stats.statements;

  beforeAll(async () => {
    platform = await startPlatform('pglite', GATEWAY_OVERRIDES);
    subgraphPorts = new Set(platform.gateway.subgraphs.map((s) => Number(new URL(s.url).port)));
    // Every request any subgraph's HTTP server receives, counted as it arrives.
    diagnostics.subscribe('http.server.request.start', countSubgraphRequest);
  });
  afterAll(async () => {
    diagnostics.unsubscribe('http.server.request.start', countSubgraphRequest);
    await platform?.close();
  });

  it.each(CORPUS)('$name: refused with $codes, quickly, before any subgraph sees a request', async ({ query, codes, first }) => {
    const [requestsBefore, statementsBefore] = [subgraphRequests, statements()];
    const started = performance.now();
    const res = await platform.graphql(query);
    const elapsed = performance.now() - started;

    expect(res.status).toBe(400);
    expect(res.data).toBeUndefined();
    expect(res.errors!.map((e) => e.extensions?.code)).toEqual(codes);
    if (first) expect(res.errors![0]!.extensions).toEqual(first);
    expect(elapsed).toBeLessThan(QUICKLY_MS);
    expect(subgraphRequests).toBe(requestsBefore);
    expect(statements()).toBe(statementsBefore);
  });

  it('a 1 MB string literal is one token: no gateway limit refuses it (nor Router’s); it is answered in linear time, the subgraph refusing the id before any SQL', async () => {
    const [requestsBefore, statementsBefore] = [subgraphRequests, statements()];
    const started = performance.now();
    const res = await platform.graphql(`{ product(id: "${'x'.repeat(1_000_000)}") { id } }`);
    expect(res).toEqual({
      status: 200,
      data: { product: null },
      errors: [{ message: 'id is longer than 256 characters', path: ['product'], extensions: { code: 'BAD_USER_INPUT', argument: 'id', serviceName: 'products' } }],
    });
    expect(statements()).toBe(statementsBefore);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(subgraphRequests).toBe(requestsBefore + 1);
  });

  it('after the corpus, the gateway answers normally, and its subgraphs are asked', async () => {
    const requestsBefore = subgraphRequests;
    const res = await platform.graphql('{ product(id: "prd_0001") { id } users(first: 1) { edges { node { id } } } }', undefined, {
      sub: 'usr_001',
      scopes: ['users:read'],
    });
    expect(res).toEqual({ status: 200, data: { product: { id: 'prd_0001' }, users: { edges: [{ node: { id: 'usr_001' } }] } } });
    expect(subgraphRequests).toBe(requestsBefore + 2);
  });

  describe('under the default limits, everyday operations are answered', () => {
    it.each([
      ['GraphiQL’s', getIntrospectionQuery({ inputValueDeprecation: true })],
      ['Sandbox’s (every option)', getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true })],
    ])('%s introspection query', async (_, query) => {
      const res = await platform.graphql(query);
      expect(res.errors).toBeUndefined();
      expect(res.data.__schema.queryType).toMatchObject({ name: 'Query' });
      expect(res.data.__schema.types.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['User', 'Product', 'Order']));
    });

    it('the README’s example queries', async () => {
      const crossing = await platform.graphql(
        '{ user(id: "usr_002") { name orders(first: 2) { edges { node { id totalCents status items { quantity unitPriceCents product { name stock } } } } pageInfo { hasNextPage endCursor } } } }',
        undefined,
        'usr_002',
      );
      expect(crossing.errors).toBeUndefined();
      expect(crossing.data.user.orders.edges).toHaveLength(2);

      const search = await platform.graphql('{ products(first: 5, search: "lamp") { edges { cursor node { id name priceCents stock } } pageInfo { hasNextPage endCursor } } }');
      expect(search.errors).toBeUndefined();
      expect(search.data.products.edges).toHaveLength(5);

      const order = await platform.graphql(
        'mutation { placeOrder(input: { items: [{ productId: "prd_0003", quantity: 2 }] }) { id totalCents status items { product { name stock } } } }',
        undefined,
        'usr_003',
      );
      expect(order.errors).toBeUndefined();
      expect(order.data.placeOrder.status).toBe('PLACED');

      const mine = await platform.graphql('{ me { name orders(first: 3) { edges { node { id status } } } } }', undefined, 'usr_003');
      expect(mine.errors).toBeUndefined();
      expect(mine.data.me.orders.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(order.data.placeOrder.id);
    });
  });
});
