import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { filterSupergraph } from '@switchyard/schema-tools';
import { loadGatewayConfig } from '../config';
import { startTestGateway, type TestGateway } from '../testing/test-gateway';

/**
 * A catalogue whose stock, internal notes and warehouses are tagged internal; the public contract leaves
 * them out. Notes are reachable only through an interface and a union shared with products, and the
 * warehouse sits in a second subgraph that the planner still reaches through Product's key.
 */
const CATALOGUE = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@tag", "@authenticated"])
  interface Node { id: ID! }
  type Product implements Node @key(fields: "id") { id: ID! name: String! stock: Int! @tag(name: "internal") weight: Int! @tag(name: "internal") }
  type Note implements Node @tag(name: "internal") { id: ID! text: String! }
  union Result = Product | Note
  type Account { id: ID! email: String }
  type Query {
    product(id: ID!): Product
    node(id: ID!): Node
    search: [Result!]!
    notes: [Note!]! @tag(name: "internal")
    me: Account @authenticated
  }
`;
const INVENTORY = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@tag", "@external", "@requires"])
  type Product @key(fields: "id") {
    id: ID!
    rating: Int!
    warehouse: String! @tag(name: "internal")
    weight: Int! @external
    "Needs the weight, which the contract hides but the planner still fetches."
    shipping: Int! @requires(fields: "weight")
  }
`;
const lamp = { __typename: 'Product', id: 'p1', name: 'Lamp', stock: 7, weight: 3 };
const note = { __typename: 'Note', id: 'n1', text: 'supplier owes us 40 lamps' };

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway({
    subgraphs: {
      catalogue: {
        sdl: CATALOGUE,
        resolvers: {
          Query: { product: () => lamp, node: (_: unknown, { id }: { id: string }) => (id === 'n1' ? note : lamp), search: () => [lamp, note], notes: () => [note], me: () => ({ id: 'a1', email: 'a@example.com' }) },
          Node: { __resolveType: (value: { __typename: string }) => value.__typename },
          Result: { __resolveType: (value: { __typename: string }) => value.__typename },
        },
      },
      inventory: {
        sdl: INVENTORY,
        resolvers: {
          Product: {
            __resolveReference: (ref: { id: string; weight?: number }) => ({ id: ref.id, rating: 4, warehouse: 'Leeds', weight: ref.weight }),
            shipping: (product: { weight: number }) => product.weight * 150,
          },
        },
      },
    },
    contracts: { public: { path: '/public/graphql', exclude: ['internal'] } },
    config: { 'limits.max_aliases': 4, 'telemetry.exporters.logging.level': 'warn' },
  });
});
afterAll(() => gateway.close());

const onPublic = (query: string, variables?: Record<string, unknown>) => gateway.graphql(query, { path: '/public/graphql', variables });
const invalid = (...messages: string[]) => ({
  status: 400,
  body: { errors: messages.map((message) => expect.objectContaining({ message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) },
});
const answer = (r: { status: number; body: unknown }) => ({ status: r.status, body: r.body });

describe('a contract served on its own path', () => {
  it('serves what the contract keeps, across subgraphs, as /graphql does', async () => {
    const query = '{ product(id: "p1") { id name rating } node(id: "p1") { id ... on Product { name } } }';
    const expected = { status: 200, body: { data: { product: { id: 'p1', name: 'Lamp', rating: 4 }, node: { id: 'p1', name: 'Lamp' } } } };
    expect(answer(await onPublic(query))).toEqual(expected);
    expect(answer(await gateway.graphql(query))).toEqual(expected);
  });

  it('a field that @requires a hidden field is served: the planner still fetches the hidden one, the client never sees it', async () => {
    const asked = gateway.received.catalogue!.length;
    expect(answer(await onPublic('{ product(id: "p1") { shipping } }'))).toEqual({ status: 200, body: { data: { product: { shipping: 450 } } } });
    expect(gateway.received.catalogue!.slice(asked).map((call) => JSON.parse(call.body).query)).toEqual([expect.stringContaining('weight')]);
  });

  it('the full supergraph on /graphql still serves what the contract hides', async () => {
    const answered = await gateway.graphql('{ product(id: "p1") { stock warehouse } notes { text } }');
    expect(answered.body).toEqual({ data: { product: { stock: 7, warehouse: 'Leeds' }, notes: [{ text: note.text }] } });
  });

  // Suggestions come from the contract's own schema, so they never name what it hides.
  it.each([
    ['a direct selection', '{ product(id: "p1") { stock } }', ['Cannot query field "stock" on type "Product".']],
    ['an alias', '{ product(id: "p1") { inStock: stock } }', ['Cannot query field "stock" on type "Product".']],
    ['a field of another subgraph', '{ product(id: "p1") { warehouse } }', ['Cannot query field "warehouse" on type "Product".']],
    ['a field another field @requires', '{ product(id: "p1") { shipping weight } }', ['Cannot query field "weight" on type "Product".']],
    ['a named fragment', '{ product(id: "p1") { ...Internal } } fragment Internal on Product { stock }', ['Cannot query field "stock" on type "Product".']],
    ['an inline fragment on the hidden type', '{ search { ... on Note { text } } }', ['Unknown type "Note". Did you mean "Node"?']],
    ['a fragment on the hidden type through an interface', '{ node(id: "n1") { ...N } } fragment N on Note { text }', ['Unknown type "Note". Did you mean "Node"?']],
    ['a hidden root field', '{ notes { id } }', ['Cannot query field "notes" on type "Query". Did you mean "node"?']],
    ['a variable of the hidden type', 'query ($n: Note) { product(id: "p1") { id } }', ['Unknown type "Note". Did you mean "Node"?', 'Variable "$n" is never used.']],
    [
      '_entities',
      '{ _entities(representations: [{ __typename: "Product", id: "p1" }]) { ... on Product { stock } } }',
      ['Cannot query field "_entities" on type "Query".', 'Cannot query field "stock" on type "Product".'],
    ],
    ['_service', '{ _service { sdl } }', ['Cannot query field "_service" on type "Query".']],
  ])('refuses %s as if it did not exist, and asks no subgraph', async (_, query, messages) => {
    const asked = gateway.received.catalogue!.length + gateway.received.inventory!.length;
    expect(answer(await onPublic(query))).toEqual(invalid(...messages));
    expect(gateway.received.catalogue!.length + gateway.received.inventory!.length).toBe(asked);
  });

  it('refuses an operation registered by automatic persisted queries on /graphql when its hash is sent to the contract', async () => {
    const query = '{ product(id: "p1") { stock } }';
    const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') };
    expect((await gateway.graphql(query, { extensions: { persistedQuery } })).body).toEqual({ data: { product: { stock: 7 } } });
    const byHash = await gateway.graphql(undefined, { extensions: { persistedQuery }, path: '/public/graphql' });
    expect(answer(byHash)).toEqual(invalid('Cannot query field "stock" on type "Product".'));
  });

  it('introspection shows the contract only', async () => {
    const answered = await onPublic('{ product: __type(name: "Product") { fields { name } } note: __type(name: "Note") { name } node: __type(name: "Node") { possibleTypes { name } } result: __type(name: "Result") { possibleTypes { name } } }');
    expect(answered.body).toEqual({
      data: {
        product: { fields: [{ name: 'id' }, { name: 'name' }, { name: 'rating' }, { name: 'shipping' }] },
        note: null,
        node: { possibleTypes: [{ name: 'Product' }] },
        result: { possibleTypes: [{ name: 'Product' }] },
      },
    });
    const types = (await onPublic('{ __schema { types { name } queryType { fields { name } } } }')).body.data.__schema;
    expect(types.types.map((t: { name: string }) => t.name)).not.toContain('Note');
    expect(types.queryType.fields.map((f: { name: string }) => f.name)).toEqual(['product', 'node', 'search', 'me']);
  });

  it('a hidden type a subgraph returns through an interface or a union is an error, never its __typename or fields', async () => {
    const invalidTypename = (message: string, path: (string | number)[]) => ({ message, path, extensions: { code: 'INVALID_GRAPHQL' } });
    const answered = await onPublic('{ node(id: "n1") { __typename id } }');
    expect(answer(answered)).toEqual({
      status: 200,
      body: { data: { node: null }, extensions: { valueCompletion: [invalidTypename('Invalid __typename found for object at field Query.node.', ['node'])] } },
    });
    // search is a non-null list of non-null results: the hidden one nulls it all.
    const listed = await onPublic('{ search { __typename ... on Product { id } } }');
    expect(listed.body).toEqual({
      data: null,
      extensions: { valueCompletion: [invalidTypename('Invalid __typename found for object at array element of type Result at index 1.', ['search', 1])] },
    });
    expect(JSON.stringify([answered.body, listed.body])).not.toMatch(/Note|n1|supplier/);
  });

  it.each(['/graphql', '/public/graphql'])('%s has the authorization and limits of the full graph', async (path) => {
    const anonymous = await gateway.graphql('{ me { id } product(id: "p1") { id } }', { path });
    expect(answer(anonymous)).toEqual({
      status: 200,
      body: { data: { me: null, product: { id: 'p1' } }, errors: [{ message: 'Unauthorized field or type: the request has no credential (a bearer token or an API key)', path: ['me'], extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE', missingCredential: true } }] },
    });
    const aliased = await gateway.graphql('{ a: product(id: "p1") { id } b: product(id: "p1") { id } c: product(id: "p1") { id } d: me { id } e: me { id } }', { path });
    expect(answer(aliased)).toEqual({
      status: 400,
      body: { errors: [{ message: 'Maximum aliases limit exceeded in this operation (aliases: 5, max_aliases: 4)', extensions: { code: 'MAX_ALIASES_LIMIT', aliases: 5, max_aliases: 4 } }] },
    });
  });
});

describe('a contract file that changes', () => {
  it('is reloaded like the supergraph: the new contract is served on the same path without a restart', async () => {
    const reloading = await startTestGateway({
      subgraphs: { catalogue: { sdl: CATALOGUE, resolvers: { Query: { product: () => lamp } } } },
      contracts: { public: { path: '/public/graphql', exclude: ['internal'] } },
      config: { 'supergraph.hot_reload': true, 'telemetry.exporters.logging.level': 'warn' },
    });
    try {
      const stock = () => reloading.graphql('{ product(id: "p1") { stock } }', { path: '/public/graphql' });
      expect((await stock()).status).toBe(400);
      const contract = reloading.gateway.execution.contracts.get('public')!.supergraph;
      // The same supergraph, now filtered without hiding stock: what npm run compose writes after a contracts.yaml edit.
      const next = filterSupergraph(reloading.gateway.execution.supergraph.active.sdl, { name: 'public', include: [], exclude: ['partner'], hideUnreachableTypes: true });
      if (!next.ok) throw new Error(next.errors.join('\n'));
      const before = contract.active.hash;
      writeFileSync(contract.active.path, next.supergraphSdl);
      // The file watcher's event, not a clock, decides when: wait for the swap.
      for (const deadline = Date.now() + 10_000; contract.active.hash === before && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
      expect((await stock()).body).toEqual({ data: { product: { stock: 7 } } });
    } finally {
      await reloading.close();
    }
  });
});

describe('contracts config', () => {
  it('refuses a contract on the supergraph\'s path or on another contract\'s', () => {
    const load = (contracts: unknown) => () => loadGatewayConfig({ env: {}, overrides: { contracts } });
    expect(load({ public: { path: '/graphql', schema_path: 'public.graphql' } })).toThrow(/contracts\.public\.path.*is already supergraph\.path's path/);
    expect(load({ a: { path: '/v/graphql', schema_path: 'a.graphql' }, b: { path: '/v/graphql', schema_path: 'b.graphql' } })).toThrow(/contracts\.b\.path.*is already contracts\.a's path/);
  });

  it('the full readiness report shows each contract\'s file and hash; the public one shows no contract', async () => {
    const report = await gateway.gateway.readiness();
    const file = (report.body.contracts as Record<string, { path: string; hash: string }>).public;
    expect(file.path).toMatch(/\/public\.graphql$/);
    expect(file.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(file.hash).not.toBe(report.body.supergraph.hash);
    const publicReport = await gateway.inject({ method: 'GET', url: '/readyz' });
    expect(publicReport.json()).not.toHaveProperty('contracts');
  });

  it('a missing contract file stops the gateway at start, naming the contract', async () => {
    const start = startTestGateway({
      subgraphs: { catalogue: { sdl: CATALOGUE, resolvers: {} } },
      config: { contracts: { partner: { path: '/partner/graphql', schema_path: '/nonexistent/partner.graphql' } } },
    });
    await expect(start).rejects.toThrow(/^contracts\.partner\.schema_path: supergraphPath: cannot read \/nonexistent\/partner\.graphql: ENOENT/);
  });

  it('answers 404 on a path that serves no contract', async () => {
    expect((await gateway.graphql('{ product(id: "p1") { id } }', { path: '/internal/graphql' })).status).toBe(404);
  });
});
