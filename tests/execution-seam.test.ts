import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { buildASTSchema, parse, print, visit, type DirectiveNode } from 'graphql';
import { Refusal, type GatewayPlugin } from '../gateway/src/core/plugin';
import { checkSupergraph } from '../gateway/src/execution/supergraph';
import { composeTestSupergraph, startTestGateway, startTestSubgraph, type TestGateway, type TestSubgraph } from './support/execution';

const writeSupergraph = (sdl: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'switchyard-')), 'supergraph.graphql');
  writeFileSync(path, sdl);
  return path;
};

const CATALOG_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Query { product(id: ID!): Product }
  type Product @key(fields: "id") { id: ID! name: String! priceCents: Int! }
`;
const REVIEWS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Product @key(fields: "id") { id: ID! reviews: [String!]! }
`;
const PRODUCT_QUERY = 'query Product { product(id: "prd_1") { id name priceCents reviews } }';

/** Hides one field per caller: priceCents from anonymous callers, reviews from usr_noreviews, nothing from others. */
const hideFields: GatewayPlugin = {
  name: 'hide-fields',
  stage: 'authorization',
  beforePlanning(context, { document }) {
    const hidden = context.principal.kind === 'anonymous' ? 'priceCents' : context.principal.id === 'usr_noreviews' ? 'reviews' : undefined;
    if (!hidden) return undefined;
    return { document: visit(document, { Field: (node) => (node.name.value === hidden ? null : undefined) }), cacheKey: hidden };
  },
};

const refuseByName: GatewayPlugin = {
  name: 'refuse-by-name',
  stage: 'authorization',
  beforePlanning(_context, { original: { operationName } }) {
    if (operationName === 'Refused') throw new Refusal(400, 'OPERATION_REFUSED', 'refused by policy');
    if (operationName === 'Forbidden') throw new Refusal(403, 'FORBIDDEN', 'not for you');
    if (operationName === 'Broken') throw new Error('a bug in the stage');
    return undefined;
  },
};

describe('the pre-planning slot', () => {
  let catalog: TestSubgraph;
  let reviews: TestSubgraph;
  let gateway: TestGateway;
  beforeAll(async () => {
    catalog = await startTestSubgraph('catalog', CATALOG_SDL, {
      Query: { product: (_: unknown, { id }: { id: string }) => ({ id, name: 'Desk lamp', priceCents: 4200 }) },
      Product: { __resolveReference: ({ id }: { id: string }) => ({ id, name: 'Desk lamp', priceCents: 4200 }) },
    });
    reviews = await startTestSubgraph('reviews', REVIEWS_SDL, {
      Product: { __resolveReference: ({ id }: { id: string }) => ({ id, reviews: ['bright', 'sturdy'] }) },
    });
    gateway = await startTestGateway({ supergraphPath: writeSupergraph(composeTestSupergraph([catalog, reviews])), plugins: [refuseByName, hideFields] });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([catalog?.close(), reviews?.close()]);
  });
  beforeEach(() => {
    catalog.received.length = 0;
    reviews.received.length = 0;
  });

  it('plans and executes the changed operation: a field removed before planning reaches no subgraph and is not in the data', async () => {
    const res = await gateway.graphql(PRODUCT_QUERY);
    expect(res).toEqual({ status: 200, body: { data: { product: { id: 'prd_1', name: 'Desk lamp', reviews: ['bright', 'sturdy'] } } } });
    expect(catalog.received).toHaveLength(1);
    expect(reviews.received).toHaveLength(1);
    for (const query of [...catalog.received, ...reviews.received]) expect(query).not.toMatch(/priceCents/);
  });

  it('gives the same operation text unchanged its own plan, with the field, after the changed one was planned', async () => {
    expect((await gateway.graphql(PRODUCT_QUERY)).body).toEqual({
      data: { product: { id: 'prd_1', name: 'Desk lamp', reviews: ['bright', 'sturdy'] } },
    });
    const res = await gateway.graphql(PRODUCT_QUERY, { as: 'usr_full' });
    expect(res).toEqual({
      status: 200,
      body: { data: { product: { id: 'prd_1', name: 'Desk lamp', priceCents: 4200, reviews: ['bright', 'sturdy'] } } },
    });
    expect(catalog.received.at(-1)).toMatch(/priceCents/);
  });

  it('never shares a plan between two requests whose operations were changed differently', async () => {
    expect((await gateway.graphql(PRODUCT_QUERY)).body).toEqual({
      data: { product: { id: 'prd_1', name: 'Desk lamp', reviews: ['bright', 'sturdy'] } },
    });
    reviews.received.length = 0;
    expect((await gateway.graphql(PRODUCT_QUERY, { as: 'usr_noreviews' })).body).toEqual({
      data: { product: { id: 'prd_1', name: 'Desk lamp', priceCents: 4200 } },
    });
    expect(reviews.received).toEqual([]);
  });

  it('a plugin refusing before planning gets the client its error, code and status, and no subgraph is called', async () => {
    expect(await gateway.graphql('query Refused { product(id: "prd_1") { id } }')).toEqual({
      status: 400,
      body: { errors: [{ message: 'refused by policy', extensions: { code: 'OPERATION_REFUSED' } }] },
    });
    expect(await gateway.graphql('query Forbidden { product(id: "prd_1") { id } }')).toEqual({
      status: 403,
      body: { errors: [{ message: 'not for you', extensions: { code: 'FORBIDDEN' } }] },
    });
    expect(catalog.received).toEqual([]);
  });

  it('a plugin failing unexpectedly gets the client a masked 500, not its message', async () => {
    expect(await gateway.graphql('query Broken { product(id: "prd_1") { id } }')).toEqual({
      status: 500,
      body: { errors: [{ message: 'internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] },
    });
    expect(catalog.received).toEqual([]);
  });
});

const ENFORCED = ['authenticated', 'requiresScopes', 'policy', 'cost', 'listSize'];
const ACCOUNTS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9",
    import: ["@key", "@authenticated", "@requiresScopes", "@policy", "@cost", "@listSize"])
  type Query {
    me: Account @authenticated
    accounts(first: Int = 10): [Account!]! @listSize(slicingArguments: ["first"]) @cost(weight: 2)
    audit: String @requiresScopes(scopes: [["admin"]]) @policy(policies: [["audit"]])
  }
  type Account @key(fields: "id") { id: ID! name: String @cost(weight: 3) }
  enum Tier @cost(weight: 1) { FREE PAID }
`;
const BILLING_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@policy", "@cost"])
  type Account @key(fields: "id") @authenticated { id: ID! balanceCents(currency: String @cost(weight: 4)): Int @policy(policies: [["billing"]]) }
  scalar Money @authenticated
`;

describe('a supergraph that uses @authenticated, @requiresScopes, @policy, @cost and @listSize', () => {
  let accounts: TestSubgraph;
  let billing: TestSubgraph;
  let supergraphSdl: string;
  beforeAll(async () => {
    const account = { id: 'acc_1', name: 'Ada' };
    accounts = await startTestSubgraph('accounts', ACCOUNTS_SDL, {
      Query: { me: () => account, accounts: () => [account], audit: () => 'clean' },
      Account: { __resolveReference: () => account },
    });
    billing = await startTestSubgraph('billing', BILLING_SDL, {
      Account: { __resolveReference: ({ id }: { id: string }) => ({ id, balanceCents: 1250 }) },
    });
    supergraphSdl = composeTestSupergraph([accounts, billing]);
  });
  afterAll(() => Promise.all([accounts?.close(), billing?.close()]));

  it('keeps every link, definition and application in the raw form', () => {
    const supergraph = checkSupergraph('/test/supergraph.graphql', supergraphSdl, {});
    expect(supergraph.sdl).toBe(supergraphSdl);
    expect(supergraph.directiveNames).toEqual(Object.fromEntries(ENFORCED.map((name) => [name, name])));
    for (const name of ENFORCED) expect(supergraph.schema.getDirective(name)).toBeDefined();
    const directivesOf = (node?: { directives?: readonly DirectiveNode[] } | null) => node?.directives?.map((d) => print(d)) ?? [];
    const query = supergraph.schema.getQueryType()!.getFields();
    expect(directivesOf(query.me!.astNode)).toContain('@authenticated');
    expect(directivesOf(query.accounts!.astNode)).toEqual(expect.arrayContaining(['@listSize(slicingArguments: ["first"])', '@cost(weight: 2)']));
    expect(directivesOf(query.audit!.astNode)).toEqual(expect.arrayContaining(['@requiresScopes(scopes: [["admin"]])', '@policy(policies: [["audit"]])']));
    expect(directivesOf(supergraph.schema.getType('Account')!.astNode!)).toContain('@authenticated');
    expect(directivesOf(supergraph.schema.getType('Tier')!.astNode!)).toContain('@cost(weight: 1)');
    expect(directivesOf(supergraph.schema.astNode!).filter((d) => /authenticated|requiresScopes|policy|cost/.test(d))).toHaveLength(4);
  });

  it('gives ApolloGateway a copy with none of them: no @link, definition, feature type or application', () => {
    const { gatewaySdl } = checkSupergraph('/test/supergraph.graphql', supergraphSdl, {});
    expect(gatewaySdl).not.toMatch(/authenticated|requiresScopes|policy|cost|listSize/i);
    const schema = buildASTSchema(parse(gatewaySdl));
    expect(Object.keys(schema.getQueryType()!.getFields())).toEqual(['me', 'accounts', 'audit']);
    expect(schema.getType('Money')).toBeDefined();
  });

  it('is refused by ApolloGateway as written, which is why it gets the sanitized copy', async () => {
    const gateway = new ApolloGateway({ supergraphSdl, logger: { debug() {}, info() {}, warn() {}, error() {} } });
    await expect(gateway.load()).rejects.toThrow(/feature https:\/\/specs\.apollo\.dev\/authenticated\/v0\.1 is for: SECURITY but is unsupported/);
  });

  it('is served through ApolloGateway: a query across both subgraphs over the directive-carrying fields', async () => {
    const gateway = await startTestGateway({ supergraphPath: writeSupergraph(supergraphSdl) });
    try {
      const res = await gateway.graphql('{ me { id name balanceCents(currency: "EUR") } accounts(first: 1) { id } audit }');
      expect(res).toEqual({
        status: 200,
        body: { data: { me: { id: 'acc_1', name: 'Ada', balanceCents: 1250 }, accounts: [{ id: 'acc_1' }], audit: 'clean' } },
      });
    } finally {
      await gateway.close();
    }
  });
});

describe('a supergraph whose subgraphs renamed the enforced directives', () => {
  it('names them as this supergraph does, and the gateway copy drops them under those names too', () => {
    const sdl = composeTestSupergraph([
      {
        name: 'a',
        url: 'http://a.invalid/graphql',
        sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9",
                import: [{ name: "@authenticated", as: "@signedIn" }, { name: "@cost", as: "@weight" }])
              type Query { me: String @signedIn @weight(weight: 5) }`,
      },
    ]);
    const supergraph = checkSupergraph('/test/supergraph.graphql', sdl, {});
    expect(supergraph.directiveNames).toEqual({ authenticated: 'signedIn', cost: 'weight', listSize: 'cost__listSize' });
    expect(supergraph.schema.getQueryType()!.getFields().me!.astNode!.directives!.map((d) => d.name.value)).toEqual(
      expect.arrayContaining(['signedIn', 'weight']),
    );
    expect(supergraph.gatewaySdl).not.toMatch(/signedIn|weight|authenticated|cost/);
    expect(Object.keys(buildASTSchema(parse(supergraph.gatewaySdl)).getQueryType()!.getFields())).toEqual(['me']);
  });
});
