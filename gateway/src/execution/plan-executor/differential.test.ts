import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { apiSchemaOf } from '@switchyard/schema-tools';
import { startTestGateway, type TestGateway } from '../../testing/test-gateway';
import { CORPUS_SUBGRAPHS, faultArbitrary, faultySubgraphs, operationArbitrary, type Fault } from '../../testing/differential-corpus';

/**
 * The proof that supergraph.executor: switchyard changes nothing a client or a subgraph sees: the same
 * operations go through two whole gateways, one on Apollo's executor and one on ours, over the same fake
 * subgraphs, and everything is compared: the status, the whole body as text (data, errors with messages,
 * paths and extensions, their order, response-key order, extensions) and every subgraph request body.
 */

const SEED = Number(process.env.DIFFERENTIAL_SEED ?? 20_261_203);
const RUNS = Number(process.env.DIFFERENTIAL_RUNS ?? 240);
const MEDIA_RUNS = Math.ceil(RUNS / 3);

/** Both gateways see every field and every subgraph error as written, so nothing is masked from the comparison. */
const CONFIG = {
  'subgraph_identity.signing_secret': 'a-test-secret-of-at-least-32-characters',
  'include_subgraph_errors.all': true,
  'authorization.directives.enabled': false,
  'authorization.directives.unsafe_allow_unenforced': true,
  'demand_control.enabled': false,
};

interface Seen {
  status: number;
  body: string;
  requests: Record<string, string[]>;
}

/** Two gateways over the same subgraphs, one per executor; `fault` applies to both. */
async function startPair(subgraphs: Parameters<typeof faultySubgraphs>[0], config: Record<string, unknown> = {}) {
  let fault: Fault = { kind: 'none' };
  const start = (executor: string) => startTestGateway({ subgraphs: faultySubgraphs(subgraphs, () => fault), config: { ...CONFIG, ...config, 'supergraph.executor': executor, 'telemetry.exporters.logging.level': 'info' } });
  const [apollo, ours] = await Promise.all([start('apollo'), start('switchyard')]);
  const send = async (gateway: TestGateway, query: string, variables: Record<string, unknown>): Promise<Seen> => {
    const before = Object.fromEntries(Object.entries(gateway.received).map(([name, calls]) => [name, calls.length]));
    const answer = await gateway.graphql(query, { variables });
    const requests = Object.fromEntries(Object.entries(gateway.received).map(([name, calls]) => [name, calls.slice(before[name]).map((call) => call.body)]));
    return { status: answer.status, body: JSON.stringify(answer.body), requests };
  };
  return {
    apollo,
    ours,
    /** The operation through Apollo's executor, then ours, with the same fault. */
    async both(query: string, variables: Record<string, unknown> = {}, withFault: Fault = { kind: 'none' }) {
      fault = withFault;
      try {
        return { apollo: await send(apollo, query, variables), ours: await send(ours, query, variables) };
      } finally {
        fault = { kind: 'none' };
      }
    },
    /** Operations our executor left to Apollo's, as it logs them. */
    leftToApollo: () => ours.logs.filter((line) => line.msg === "operation left to Apollo's executor"),
    close: () => Promise.all([apollo.close(), ours.close()]),
  };
}

describe("our plan executor against Apollo's, on our supergraph", () => {
  let pair: Awaited<ReturnType<typeof startPair>>;
  beforeAll(async () => {
    pair = await startPair(CORPUS_SUBGRAPHS);
  });
  afterAll(() => pair?.close());

  it('each gateway runs the executor its config names: ApolloGateway\'s own, or ours', () => {
    const served = (gateway: TestGateway) => gateway.gateway.execution.gateway.current();
    expect(served(pair.apollo).executor).toBe(served(pair.apollo).gateway.executor);
    expect(served(pair.ours).executor).not.toBe(served(pair.ours).gateway.executor);
  });

  it(`${RUNS} generated operations (seed ${SEED}), a third with a faulty subgraph, get identical answers and send identical subgraph requests`, async () => {
    const schema = apiSchemaOf(readFileSync(join(__dirname, '..', '..', '..', 'supergraph.graphql'), 'utf8'));
    const tally = { executed: 0, withErrors: 0, nullData: 0, valueCompletion: 0, entityFetches: 0 };
    await fc.assert(
      fc.asyncProperty(operationArbitrary(schema), faultArbitrary(Object.keys(CORPUS_SUBGRAPHS)), async ({ query, variables }, fault) => {
        const { apollo, ours } = await pair.both(query, variables, fault);
        expect(ours).toEqual(apollo);
        const body = JSON.parse(ours.body);
        if ('data' in body) tally.executed++;
        if (body.errors && 'data' in body) tally.withErrors++;
        if (body.data === null) tally.nullData++;
        if (body.extensions?.valueCompletion) tally.valueCompletion++;
        if (Object.values(ours.requests).some((bodies) => bodies.some((b) => b.includes('_entities')))) tally.entityFetches++;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The corpus reaches what it is meant to: executions, fetch errors, nulls bubbling to the root,
    // value-completion errors, and entity fetches; and none of it was left to Apollo's executor.
    expect(tally.executed).toBeGreaterThan(RUNS * 0.6);
    for (const [what, count] of Object.entries(tally)) expect([what, count > 5]).toEqual([what, true]);
    expect(pair.leftToApollo()).toEqual([]);
  });

  it.each([
    ['an order with its user and products, one product missing (null bubbles to the nullable order)', 'query { order(id: "ord_009") { id user { displayName } items { quantity product { name priceCents } } } }', {}],
    ['the user\'s orders, each with its items\' products', '{ me { id orders(first: 4) { edges { node { id totalCents items { product { id name stock } } } } pageInfo { hasNextPage endCursor } } } }', {}],
    ['an order of a user who does not exist (User! null bubbles)', '{ order(id: "ord_012") { id user { id displayName } } }', {}],
    ['@skip and @include on variables, defaults included', 'query ($s: Boolean!, $i: Boolean = false) { me { id @skip(if: $s) displayName @include(if: $i) ... @include(if: $s) { email } } }', { s: true }],
    ['aliases and __typename on every level', '{ a: product(id: "prd_0001") { t: __typename __typename n: name } b: product(id: "prd_0009") { name } }', {}],
    ['a mutation with nested entities', 'mutation { placeOrder(input: { items: [{ productId: "prd_0002", quantity: 2 }, { productId: "prd_0009", quantity: 1 }] }) { id items { product { name } } user { displayName } } }', {}],
    ['a mutation that fails', 'mutation { cancelOrder(id: "ord_404") { id } }', {}],
  ])('%s', async (_name, query, variables) => {
    const { apollo, ours } = await pair.both(query, variables);
    expect(ours).toEqual(apollo);
  });

  it.each<[string, Fault]>([
    ['products down: its fields null, its error, as Apollo reports them', { kind: 'down', subgraph: 'products' }],
    ['users answer an entity error at _entities[i].field', { kind: 'field error', subgraph: 'users' }],
    ['products answer a null for a non-null field without an error', { kind: 'null without error', subgraph: 'products' }],
    ['products answer one entity short', { kind: 'short entities', subgraph: 'products' }],
    ['users answer an unknown __typename', { kind: 'unknown typename', subgraph: 'users' }],
    ['orders answer errors only: no message, a federation code, no path', { kind: 'errors only', subgraph: 'orders' }],
    ['products answer a string for an Int', { kind: 'wrong leaf', subgraph: 'products' }],
  ])('%s', async (_name, fault) => {
    const query = '{ me { displayName orders(first: 5) { edges { node { id user { displayName } items { product { id name priceCents } } } } } } }';
    const { apollo, ours } = await pair.both(query, {}, fault);
    expect(ours).toEqual(apollo);
    expect(JSON.parse(ours.body).errors ?? JSON.parse(ours.body).extensions).toBeDefined();
  });

  it("leaves introspection to Apollo's executor, with the same answer", async () => {
    const { apollo, ours } = await pair.both('{ __schema { queryType { name } } product(id: "prd_0001") { name } }');
    expect(ours).toEqual(apollo);
    expect(JSON.parse(ours.body)).toEqual({ data: { __schema: { queryType: { name: 'Query' } }, product: { name: 'Product 1' } } });
    expect(pair.leftToApollo().map((line) => line.reason)).toEqual(['introspection fields are answered by Apollo']);
  });
});

/**
 * A small supergraph with what ours lacks: an interface and a union whose members live in one subgraph
 * and are extended by another, @requires (a fetch needs a field another subgraph has), @provides, and
 * @override. Its lists mix types, so only some of a list's entities have a representation in a fetch.
 */
const CATALOG = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
  interface Media { id: ID! title: String! }
  type Book implements Media @key(fields: "id") { id: ID! title: String! pages: Int! }
  type Movie implements Media @key(fields: "id") { id: ID! title: String! minutes: Int! rating: Int! }
  type Author @key(fields: "id") { id: ID! name: String! @shareable }
  union Result = Book | Movie | Author
  type Query { media: [Media!]! search: [Result]! featured: Media }`;
const REVIEWS = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@external", "@requires", "@provides", "@override", "@shareable"])
  type Book @key(fields: "id") { id: ID! pages: Int! @external readingHours: Float! @requires(fields: "pages") reviews: [Review!]! }
  type Movie @key(fields: "id") { id: ID! rating: Int! @override(from: "catalog") reviews: [Review!]! }
  type Author @key(fields: "id") { id: ID! name: String! @external }
  type Review { id: ID! stars: Int! author: Author! @provides(fields: "name") }`;

const MEDIA = [
  { __typename: 'Book', id: 'b1', title: 'Dune', pages: 600 },
  { __typename: 'Movie', id: 'm1', title: 'Alien', minutes: 117, rating: 1 },
  { __typename: 'Book', id: 'b2', title: 'Emma', pages: 0 },
  { __typename: 'Movie', id: 'm2', title: 'Heat', minutes: 170, rating: 2 },
  { __typename: 'Book', id: 'b404', title: 'Lost', pages: 10 },
];
const AUTHORS = [{ __typename: 'Author', id: 'a1', name: 'Herbert' }];

const reviewsOf = (id: string) => (id === 'b2' ? [] : [{ id: `${id}-r1`, stars: id.length, author: { id: 'a1', name: 'Herbert (as reviews knows)' } }]);
const MEDIA_SUBGRAPHS: Parameters<typeof faultySubgraphs>[0] = {
  catalog: {
    sdl: CATALOG,
    resolvers: {
      Media: { __resolveType: (m: { __typename: string }) => m.__typename },
      Result: { __resolveType: (m: { __typename: string }) => m.__typename },
      Query: { media: () => MEDIA, search: () => [...MEDIA.slice(0, 3), null, ...AUTHORS], featured: () => MEDIA[1] },
      Book: { __resolveReference: ({ id }: { id: string }) => MEDIA.find((m) => m.id === id) ?? null },
      Movie: { __resolveReference: ({ id }: { id: string }) => MEDIA.find((m) => m.id === id) ?? null },
      Author: { __resolveReference: ({ id }: { id: string }) => AUTHORS.find((a) => a.id === id) ?? null },
    } as never,
  },
  reviews: {
    sdl: REVIEWS,
    resolvers: {
      Book: {
        __resolveReference: (ref: { id: string; pages?: number }) => (ref.id === 'b404' ? null : ref),
        readingHours: ({ pages }: { pages: number }) => pages / 50,
        reviews: ({ id }: { id: string }) => reviewsOf(id),
      },
      Movie: {
        __resolveReference: (ref: { id: string }) => ref,
        rating: ({ id }: { id: string }) => (id === 'm2' ? null : 4),
        reviews: ({ id }: { id: string }) => reviewsOf(id),
      },
      Author: { __resolveReference: ({ id }: { id: string }) => AUTHORS.find((a) => a.id === id) ?? null },
    } as never,
  },
};

describe("our plan executor against Apollo's, on abstract types, @requires, @provides and @override", () => {
  let pair: Awaited<ReturnType<typeof startPair>>;
  beforeAll(async () => {
    pair = await startPair(MEDIA_SUBGRAPHS);
  });
  afterAll(() => pair?.close());

  const QUERIES: [string, string][] = [
    ['an interface list, each member extended by the other subgraph (one Book missing there)', '{ media { __typename id title ... on Book { readingHours reviews { stars } } ... on Movie { rating reviews { author { name } } } } }'],
    ['a union list with a null and a type only one subgraph knows', '{ search { __typename ... on Media { title } ... on Book { pages readingHours } ... on Author { name } } }'],
    ['@requires on an aliased field under a fragment on the interface', '{ featured { ... on Media { t: title } ...B } media { ...B } } fragment B on Book { h: readingHours }'],
    ['@provides: the review\'s author name comes from reviews', '{ media { ... on Movie { reviews { stars author { id name } } } } }'],
    ['@override: a null from the overriding subgraph in a non-null field bubbles', '{ media { id ... on Movie { rating } } }'],
    ['__typename only, on abstract fields', '{ featured { __typename } search { __typename } }'],
  ];

  it.each(QUERIES)('%s', async (_name, query) => {
    const { apollo, ours } = await pair.both(query);
    expect(ours).toEqual(apollo);
    expect(JSON.parse(ours.body).data).toBeDefined();
  });

  it.each(QUERIES)('%s, with reviews down', async (_name, query) => {
    const { apollo, ours } = await pair.both(query, {}, { kind: 'down', subgraph: 'reviews' });
    expect(ours).toEqual(apollo);
  });

  it(`${MEDIA_RUNS} generated operations on it (seed ${SEED}), half with a faulty subgraph, get identical answers and send identical subgraph requests`, async () => {
    const schema = pair.ours.gateway.execution.gateway.current().apiSchema;
    await fc.assert(
      fc.asyncProperty(operationArbitrary(schema), faultArbitrary(Object.keys(MEDIA_SUBGRAPHS)), async ({ query, variables }, fault) => {
        const { apollo, ours } = await pair.both(query, variables, fault);
        expect(ours).toEqual(apollo);
      }),
      { seed: SEED, numRuns: MEDIA_RUNS },
    );
  });

  it('none of these was left to Apollo\'s executor', () => {
    expect(pair.leftToApollo()).toEqual([]);
  });
});
