import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends } from './support/servers';
import { ANONYMOUS, signSubgraphRequest } from '@switchyard/service-kit';
import { startGateway, type RunningGateway } from '../gateway/src/main';
import { composeTestSupergraph, startTestSubgraph, type TestSubgraph } from './support/execution';
import { makeSigningKey, startJwksServer, type JwksServer, type TestSigningKey } from './support/jwks-server';
import { gatewayConfig, send, startPlatform, type Caller, type Platform } from './support/platform';

const ANON = undefined;
/** usr_002 owns ord_s00001 (and others); the customer scopes are orders:read and orders:write. */
const CUSTOMER = 'usr_002';
const NO_SCOPES: Caller = { sub: 'usr_002', scopes: [] };
const SUPPORT: Caller = { sub: 'usr_003', scopes: ['users:read'] };

const denied = (...path: (string | number)[]) => ({ message: 'Unauthorized field or type', path, extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' } });
const PRODUCT = { id: 'prd_0001', name: 'Compact Chair 1' };
const FIRST_PRODUCT = { edges: [{ node: { id: 'prd_0001' } }] };

interface Case {
  name: string;
  as?: Caller;
  query: string;
  variables?: Record<string, unknown>;
  data: unknown;
  errors?: ReturnType<typeof denied>[];
  /** Field names no request to that subgraph may contain (the removed ones). */
  notSent?: Partial<Record<'users' | 'products' | 'orders', string[]>>;
}

const CASES: Case[] = [
  { name: 'anonymous `me` is null with an error', as: ANON, query: '{ me { id } }', data: { me: null }, errors: [denied('me')], notSent: { users: ['me'] } },
  {
    name: 'anonymous `me` beside `products`: products are still served',
    query: '{ me { id name } products(first: 1) { edges { node { id } } } }',
    data: { me: null, products: FIRST_PRODUCT },
    errors: [denied('me')],
    notSent: { users: ['me'] },
  },
  {
    name: 'anonymous `User.email` is null, the rest of the user is served',
    query: '{ user(id: "usr_001") { id name email } }',
    data: { user: { id: 'usr_001', name: 'Ada Dijkstra', email: null } },
    errors: [denied('user', 'email')],
    notSent: { users: ['email'] },
  },
  {
    name: 'aliases: the error paths use the aliases',
    query: '{ a: me { id } b: user(id: "usr_001") { id mail: email } }',
    data: { a: null, b: { id: 'usr_001', mail: null } },
    errors: [denied('a'), denied('b', 'mail')],
    notSent: { users: ['me', 'email'] },
  },
  {
    name: 'a named fragment keeps its allowed fields',
    query: '{ user(id: "usr_001") { ...Card } } fragment Card on User { id email name }',
    data: { user: { id: 'usr_001', email: null, name: 'Ada Dijkstra' } },
    errors: [denied('user', 'email')],
    notSent: { users: ['email'] },
  },
  {
    name: 'an inline fragment on the same type',
    query: '{ user(id: "usr_001") { id ... on User { email } } }',
    data: { user: { id: 'usr_001', email: null } },
    errors: [denied('user', 'email')],
    notSent: { users: ['email'] },
  },
  {
    name: 'an inline fragment without a type condition',
    query: '{ ... { me { id } } products(first: 1) { edges { node { id } } } }',
    data: { me: null, products: FIRST_PRODUCT },
    errors: [denied('me')],
    notSent: { users: ['me'] },
  },
  {
    name: 'a fragment on Query spreading the protected root field',
    query: '{ ...Root } fragment Root on Query { me { id } product(id: "prd_0001") { id name } }',
    data: { me: null, product: PRODUCT },
    errors: [denied('me')],
    notSent: { users: ['me'] },
  },
  {
    name: 'a fragment used only under the removed field is dropped with it',
    query: '{ me { ...Me } product(id: "prd_0001") { id name } } fragment Me on User { id name }',
    data: { me: null, product: PRODUCT },
    errors: [denied('me')],
    notSent: { users: ['me'] },
  },
  {
    name: 'a variable used only by the removed field is dropped with it',
    query: 'query ($id: ID!) { order(id: $id) { id } product(id: "prd_0001") { id name } }',
    variables: { id: 'ord_s00001' },
    data: { order: null, product: PRODUCT },
    errors: [denied('order')],
    notSent: { orders: ['order'] },
  },
  {
    name: 'a removed field that @skip leaves out is not reported',
    query: '{ me @skip(if: true) { id } product(id: "prd_0001") { id name } }',
    data: { product: PRODUCT },
    notSent: { users: ['me'] },
  },
  {
    name: 'only protected root fields: the selection set left empty still runs and shows nothing extra',
    query: '{ me { id } order(id: "ord_s00001") { id } }',
    data: { me: null, order: null },
    errors: [denied('me'), denied('order')],
    notSent: { users: ['me'], orders: ['order'] },
  },
  {
    name: '`__typename` beside a removed field is untouched',
    query: '{ __typename me { id } }',
    data: { __typename: 'Query', me: null },
    errors: [denied('me')],
    notSent: { users: ['me'] },
  },
  {
    name: '`__schema` introspection beside a removed field is untouched',
    query: '{ __schema { queryType { name } } me { id } }',
    data: { __schema: { queryType: { name: 'Query' } }, me: null },
    errors: [denied('me')],
    notSent: { users: ['me'] },
  },
  {
    name: '`__type` introspection still describes protected fields',
    query: '{ __type(name: "User") { fields(includeDeprecated: false) { name } } me { __typename } }',
    // includeDeprecated: false leaves out User.name, deprecated for displayName.
    data: { __type: { fields: [{ name: 'id' }, { name: 'orders' }, { name: 'email' }, { name: 'displayName' }, { name: 'createdAt' }] }, me: null },
    errors: [denied('me')],
    notSent: { users: ['me'] },
  },
  {
    name: 'a non-null protected root field nulls the whole data',
    query: '{ users(first: 1) { edges { node { id } } } product(id: "prd_0001") { id } }',
    data: null,
    errors: [denied('users')],
    notSent: { users: ['users'] },
  },
  {
    name: 'a customer without users:read cannot list users',
    as: CUSTOMER,
    query: '{ users(first: 1) { edges { node { id } } } }',
    data: null,
    errors: [denied('users')],
    notSent: { users: ['users'] },
  },
  {
    name: 'users:read lists users with their emails',
    as: SUPPORT,
    query: '{ users(first: 2) { edges { node { id email } } } }',
    data: { users: { edges: [{ node: { id: 'usr_001', email: 'ada.dijkstra.1@example.com' } }, { node: { id: 'usr_002', email: 'grace.allen.2@example.com' } }] } },
  },
  {
    name: 'anonymous `User.orders` is non-null, so its user becomes null',
    query: '{ user(id: "usr_002") { id orders(first: 1) { edges { node { id } } } } product(id: "prd_0001") { id name } }',
    data: { user: null, product: PRODUCT },
    errors: [denied('user', 'orders')],
    notSent: { orders: ['orders'] },
  },
  {
    name: 'anonymous `order` is null with an error',
    query: '{ order(id: "ord_s00001") { id } }',
    data: { order: null },
    errors: [denied('order')],
    notSent: { orders: ['order'] },
  },
  {
    name: 'a token without orders:read: `order` returns the protected Order type',
    as: NO_SCOPES,
    query: '{ order(id: "ord_s00001") { id } }',
    data: { order: null },
    errors: [denied('order')],
    notSent: { orders: ['order'] },
  },
  {
    name: 'without orders:read, the non-null order connection nulls up to the nullable user, and orders is never asked',
    as: NO_SCOPES,
    query: '{ user(id: "usr_002") { id orders(first: 2) { edges { cursor node { id } } } } }',
    data: { user: null },
    errors: [denied('user', 'orders')],
    notSent: { orders: ['orders'] },
  },
  {
    name: 'without orders:read, `me` with order nodes becomes null',
    as: NO_SCOPES,
    query: '{ me { id orders(first: 1) { edges { node { id } } } } }',
    data: { me: null },
    errors: [denied('me', 'orders')],
    notSent: { orders: ['orders'] },
  },
  {
    name: 'without orders:read, the cursors of your orders are not served (OrderEdge needs orders:read, like Order)',
    as: NO_SCOPES,
    query: '{ me { id orders(first: 2) { edges { cursor } } } }',
    data: { me: null },
    errors: [denied('me', 'orders')],
    notSent: { orders: ['cursor'] },
  },
  {
    name: 'without orders:read, neither is the page info of your orders: its endCursor is a position in them',
    as: NO_SCOPES,
    query: '{ me { id orders(first: 1) { pageInfo { hasNextPage endCursor } } } }',
    data: { me: null },
    errors: [denied('me', 'orders')],
    notSent: { orders: ['pageInfo'] },
  },
  {
    name: 'a customer reads their own order',
    as: CUSTOMER,
    query: '{ order(id: "ord_s00001") { id user { id } } }',
    data: { order: { id: 'ord_s00001', user: { id: 'usr_002' } } },
  },
  {
    name: "a customer cannot read another user's order by id: null, as if missing",
    as: 'usr_003',
    query: '{ order(id: "ord_s00001") { id } }',
    data: { order: null },
  },
  {
    name: "a customer sees another user's orders through user(id) as an empty page",
    as: 'usr_003',
    query: '{ user(id: "usr_002") { id orders(first: 5) { edges { node { id } } pageInfo { hasNextPage } } } }',
    data: { user: { id: 'usr_002', orders: { edges: [], pageInfo: { hasNextPage: false } } } },
  },
  {
    name: "a customer sees their own email, not another user's",
    as: CUSTOMER,
    query: '{ me { email } user(id: "usr_001") { email } }',
    data: { me: { email: 'grace.allen.2@example.com' }, user: { email: null } },
  },
  {
    name: "users:read sees another user's email",
    as: SUPPORT,
    query: '{ user(id: "usr_001") { email } }',
    data: { user: { email: 'ada.dijkstra.1@example.com' } },
  },
  {
    name: 'two aliased users, one error each',
    query: '{ a: user(id: "usr_001") { email } b: user(id: "usr_002") { email } }',
    data: { a: { email: null }, b: { email: null } },
    errors: [denied('a', 'email'), denied('b', 'email')],
    notSent: { users: ['email'] },
  },
  {
    name: 'nested cross-subgraph path: order items and products under a denied order',
    as: NO_SCOPES,
    query: '{ order(id: "ord_s00001") { id items { quantity product { id name } } } product(id: "prd_0001") { id name } }',
    data: { order: null, product: PRODUCT },
    errors: [denied('order')],
    notSent: { orders: ['order', 'items'] },
  },
  {
    name: 'mutation without orders:write: placeOrder is non-null, so data is null',
    as: NO_SCOPES,
    query: 'mutation { placeOrder(input: { items: [{ productId: "prd_0002", quantity: 1 }] }) { id } }',
    data: null,
    errors: [denied('placeOrder')],
    notSent: { orders: ['placeOrder'] },
  },
  {
    name: 'anonymous cancelOrder is refused the same way',
    query: 'mutation { cancelOrder(id: "ord_s00001") { id } }',
    data: null,
    errors: [denied('cancelOrder')],
    notSent: { orders: ['cancelOrder'] },
  },
  {
    name: 'an operation chosen by name among several',
    query: 'query A { me { id } } query B { product(id: "prd_0001") { id name } me { name } }',
    data: { product: PRODUCT, me: null },
    errors: [denied('me')],
    notSent: { users: ['me'] },
  },
];

describe.each(backends)('authorization directives on the running platform (%s)', (backend) => {
  let platform: Platform;
  // One platform for the whole file: starting one seeds three databases, slow on a loaded machine.
  beforeAll(async () => {
    // What each case removes, with the bare error: what the caller lacks is proven in useAuthorization.test.ts and `npm run scenarios`.
    platform = await startPlatform(backend, { 'authorization.explain_denials': false }, { record: true });
  }, 300_000);
  afterAll(() => platform?.close());

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const recorded = platform.recorded!;
    const before = { users: recorded.users.received.length, products: recorded.products.received.length, orders: recorded.orders.received.length };
    const body = c.name.startsWith('an operation chosen by name')
      ? await namedOperation(platform, c.query, 'B')
      : await platform.graphql(c.query, c.variables, c.as);
    expect({ data: body.data, errors: body.errors }).toEqual({ data: c.data, errors: c.errors });
    for (const [subgraph, fields] of Object.entries(c.notSent ?? {}) as ['users' | 'products' | 'orders', string[]][]) {
      const sent = recorded[subgraph].received.slice(before[subgraph]);
      for (const field of fields) expect(sent.filter((q) => new RegExp(`\\b${field}\\b`).test(q))).toEqual([]);
    }
  });

  it('a request without a token gets UNAUTHORIZED_FIELD_OR_TYPE for `me` and still gets `products` (status 200)', async () => {
    const res = await platform.graphql('{ me { id } products(first: 1) { edges { node { id name } } } }');
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ me: null, products: { edges: [{ node: PRODUCT }] } });
    expect(res.errors).toEqual([denied('me')]);
  });

  it('a token without orders:write cannot place an order, and no stock moves', async () => {
    const stock = async () => (await platform.db.products.query<{ stock: number }>("SELECT stock FROM products WHERE id = 'prd_0003'"))[0]!.stock;
    const orders = async () => Number((await platform.db.orders.query<{ n: string }>("SELECT count(*) AS n FROM orders WHERE user_id = 'usr_010'"))[0]!.n);
    const [stockBefore, ordersBefore] = [await stock(), await orders()];
    const res = await platform.graphql(
      'mutation { placeOrder(input: { items: [{ productId: "prd_0003", quantity: 2 }] }) { id } }',
      undefined,
      { sub: 'usr_010', scopes: ['orders:read'] },
    );
    expect({ data: res.data, errors: res.errors }).toEqual({ data: null, errors: [denied('placeOrder')] });
    expect(await stock()).toBe(stockBefore);
    expect(await orders()).toBe(ordersBefore);
  });

  describe('requests sent straight to a subgraph', () => {
    const ME = JSON.stringify({ query: '{ me { id email } }' });
    const LIST_USERS = JSON.stringify({ query: '{ users(first: 3) { edges { node { id email } } } }' });
    const user = { kind: 'user' as const, id: 'usr_001', scopes: ['users:read'] };
    const secret = () => process.env.IDENTITY_SIGNING_SECRET!;
    const sign = (edits: Partial<Parameters<typeof signSubgraphRequest>[0]> = {}) =>
      signSubgraphRequest({ secret: secret(), principal: user, requestId: 'req-a', subgraph: 'users', body: ME, ...edits });
    const callUsers = async (headers: Record<string, string>, body = ME) => {
      // The recording proxy forwards headers and body unchanged: this is a request straight to the users subgraph.
      const res = await fetch(platform.recorded!.users.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } };
    };
    const refused = (message: string) => ({ status: 401, body: { errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] } });
    const UNSIGNED = refused('unsigned request: only the gateway may call this service');
    const MISMATCH = refused('identity signature does not match');

    it('an anonymous request without a signature is refused with 401, not served (it listed users before)', async () => {
      expect(await callUsers({}, LIST_USERS)).toEqual(UNSIGNED);
      expect(await callUsers({}, ME)).toEqual(UNSIGNED);
      expect(await callUsers({ 'x-switchyard-principal-kind': 'anonymous' }, LIST_USERS)).toEqual(UNSIGNED);
    });

    it('identity headers without a signature, or signed with another secret, are refused with 401', async () => {
      const { 'x-switchyard-identity-signature': _, ...unsigned } = sign();
      expect(await callUsers(unsigned)).toEqual(UNSIGNED);
      expect(await callUsers(sign({ secret: 'not-the-platform-secret-but-long-enough' }))).toEqual(MISMATCH);
    });

    it('a real signature replayed to another subgraph, with another body, request id or scopes is refused', async () => {
      expect(await callUsers(sign({ subgraph: 'orders' }))).toEqual(MISMATCH);
      expect(await callUsers(sign(), LIST_USERS)).toEqual(MISMATCH);
      expect(await callUsers({ ...sign(), 'x-request-id': 'req-b' })).toEqual(MISMATCH);
      expect(await callUsers({ ...sign(), 'x-switchyard-scopes': 'users:read orders:write' })).toEqual(MISMATCH);
      expect(await callUsers({ ...sign({ principal: ANONYMOUS }), 'x-switchyard-principal-kind': 'user', 'x-switchyard-principal-id': 'usr_001' })).toEqual(MISMATCH);
    });

    it('a stale signature (older than 60 s) is refused; a fresh one is served', async () => {
      expect(await callUsers(sign({ now: Date.now() - 61_000 }))).toEqual(refused('stale identity signature'));
      expect(await callUsers(sign())).toEqual({ status: 200, body: { data: { me: { id: 'usr_001', email: 'ada.dijkstra.1@example.com' } } } });
    });

    it('a signed anonymous request is anonymous; a signed service identity may not query the graph', async () => {
      expect(await callUsers(sign({ principal: ANONYMOUS }))).toEqual({ status: 200, body: { data: { me: null } } });
      expect(await callUsers(sign({ principal: { kind: 'service', id: 'orders', scopes: [] } }))).toEqual({
        status: 403,
        body: { errors: [{ message: 'only the gateway may query the graph', extensions: { code: 'FORBIDDEN' } }] },
      });
    });

    it('GET is not served: its operation would travel in the URL, which no signature covers', async () => {
      const query = encodeURIComponent('{ users(first: 3) { edges { node { id } } } }');
      const res = await fetch(`${platform.subgraphs.users}/graphql?query=${query}`, { headers: sign({ body: '' }) });
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 404,
        body: { errors: [{ message: 'no route for GET /graphql', extensions: { code: 'NOT_FOUND' } }] },
      });
    });

    it('health, readiness and metrics stay open to unsigned requests', async () => {
      for (const [name, origin] of Object.entries(platform.subgraphs)) {
        const statuses = await Promise.all(['/healthz', '/readyz', '/metrics'].map(async (path) => [path, (await fetch(`${origin}${path}`)).status]));
        expect([name, statuses]).toEqual([name, [['/healthz', 200], ['/readyz', 200], ['/metrics', 200]]]);
      }
    });
  });

  describe('authorization modes', () => {
    /** A second gateway on the same subgraphs with other authorization settings; quicker than a second platform. */
    async function gatewayWith(overrides: Record<string, unknown>) {
      const { recorded, issuer } = platform;
      return startGateway(
        gatewayConfig({
          override_subgraph_url: { users: recorded!.users.url, products: recorded!.products.url, orders: recorded!.orders.url },
          'authentication.router.jwt': { jwks: [{ url: issuer.jwksUrl, issuers: [issuer.issuer], audiences: [issuer.audience] }] },
          'authorization.explain_denials': false,
          ...overrides,
        }),
      );
    }
    const post = async (url: string, query: string) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      return { status: res.status, ...((await res.json()) as { data?: unknown; errors?: unknown }) };
    };

    it('reject_unauthorized refuses the whole operation with every error and no data, and asks no subgraph', async () => {
      const gateway = await gatewayWith({ 'authorization.directives.reject_unauthorized': true });
      try {
        const before = platform.recorded!.products.received.length;
        const res = await post(gateway.graphqlUrl, '{ me { id } user(id: "usr_001") { id email } products(first: 1) { edges { node { id } } } }');
        expect(res.status).toBe(400);
        expect({ data: res.data, errors: res.errors }).toEqual({ data: undefined, errors: [denied('me'), denied('user', 'email')] });
        expect(platform.recorded!.products.received.slice(before).filter((q) => q.includes('products'))).toEqual([]);
        const allowed = await post(gateway.graphqlUrl, '{ product(id: "prd_0001") { id name } }');
        expect({ data: allowed.data, errors: allowed.errors }).toEqual({ data: { product: PRODUCT }, errors: undefined });
      } finally {
        await gateway.close();
      }
    });

    it('dry_run removes nothing: the subgraphs are asked for everything and their own rules still apply', async () => {
      const gateway = await gatewayWith({ 'authorization.directives.dry_run': true });
      try {
        const before = platform.recorded!.users.received.length;
        const res = await post(gateway.graphqlUrl, '{ me { id } user(id: "usr_001") { id email } }');
        // `me` is null without a principal and another user's email is null: the users subgraph decides that.
        expect({ data: res.data, errors: res.errors }).toEqual({ data: { me: null, user: { id: 'usr_001', email: null } }, errors: undefined });
        expect(platform.recorded!.users.received.slice(before).some((q) => /\bme\b/.test(q) && /\bemail\b/.test(q))).toBe(true);
      } finally {
        await gateway.close();
      }
    });
  });
});

async function namedOperation(platform: Platform, query: string, operationName: string) {
  const res = await fetch(platform.gateway.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, operationName }),
  });
  return (await res.json()) as { data?: unknown; errors?: unknown };
}

/**
 * @policy on a subgraph of its own: on a field that composition carries onto its interface
 * (Employee.salary, so Person.salary), and on a type as an OR of ANDs (Dossier: hr and cleared, or admin).
 */
const HR_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@policy"])
  interface Person { id: ID! name: String! salary: Int }
  type Employee implements Person @key(fields: "id") { id: ID! name: String! salary: Int @policy(policies: [["payroll"]]) }
  type Contractor implements Person @key(fields: "id") { id: ID! name: String! salary: Int }
  type Dossier @key(fields: "id") @policy(policies: [["hr", "cleared"], ["admin"]]) { id: ID! summary: String! }
  type Query { headcount: Int! people: [Person!]! dossier(id: ID!): Dossier }
`;
const HR_POLICIES = {
  payroll: { scopes: [['payroll:read']] },
  hr: { claims: { groups: 'hr' } },
  cleared: { claims: { clearance: ['secret', 'top-secret'] } },
  admin: { scopes: [['hr:admin']] },
};

describe('@policy through the gateway, with tokens from an identity provider', () => {
  let hr: TestSubgraph;
  let jwks: JwksServer;
  let key: TestSigningKey;
  let supergraphPath: string;
  let gateway: RunningGateway;
  const configWith = (overrides: Record<string, unknown>) =>
    gatewayConfig({
      'supergraph.schema_path': supergraphPath,
      'authentication.router.jwt': { jwks: [{ url: jwks.url, issuers: [jwks.issuer], audiences: [jwks.audience] }] },
      'authorization.policies': HR_POLICIES,
      'authorization.explain_denials': false,
      ...overrides,
    });

  beforeAll(async () => {
    hr = await startTestSubgraph('hr', HR_SDL, {
      Query: {
        headcount: () => 2,
        people: () => [
          { __typename: 'Employee', id: 'e1', name: 'Ada', salary: 100 },
          { __typename: 'Contractor', id: 'c1', name: 'Bob', salary: 50 },
        ],
        dossier: (_: unknown, { id }: { id: string }) => ({ id, summary: 'clean' }),
      },
    });
    jwks = await startJwksServer();
    key = await makeSigningKey('hr-key');
    jwks.keys = [key];
    supergraphPath = join(mkdtempSync(join(tmpdir(), 'switchyard-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composeTestSupergraph([hr]));
    gateway = await startGateway(configWith({}));
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([hr?.close(), jwks?.close()]);
  });

  const QUERY = '{ headcount people { name salary } dossier(id: "d1") { summary } }';
  const PEOPLE = [{ name: 'Ada', salary: 100 }, { name: 'Bob', salary: 50 }];
  const NO_SALARIES = [{ name: 'Ada', salary: null }, { name: 'Bob', salary: null }];
  const SALARIES_DENIED = [denied('people', 0, 'salary'), denied('people', 1, 'salary')];
  const cases: { name: string; claims?: Record<string, unknown>; query?: string; data: unknown; errors?: unknown[]; notSent: string[] }[] = [
    {
      name: 'no token: the salaries and the dossier are null with an error each',
      data: { headcount: 2, people: NO_SALARIES, dossier: null },
      errors: [...SALARIES_DENIED, denied('dossier')],
      notSent: ['salary', 'dossier'],
    },
    {
      name: 'a token lacking payroll:read, with the hr and clearance claims: the dossier is served, the salaries are not',
      claims: { groups: 'hr', clearance: 'secret' },
      data: { headcount: 2, people: NO_SALARIES, dossier: { summary: 'clean' } },
      errors: SALARIES_DENIED,
      notSent: ['salary'],
    },
    {
      name: 'payroll:read serves the salaries, through the interface, to a token with no claims; the dossier stays null',
      claims: { scope: 'payroll:read' },
      data: { headcount: 2, people: PEOPLE, dossier: null },
      errors: [denied('dossier')],
      notSent: ['dossier'],
    },
    {
      name: 'a wrong claim value (groups: finance) does not meet hr',
      claims: { scope: 'payroll:read', groups: 'finance', clearance: 'secret' },
      data: { headcount: 2, people: PEOPLE, dossier: null },
      errors: [denied('dossier')],
      notSent: ['dossier'],
    },
    {
      name: 'hr without one of the listed clearances does not meet the AND of hr and cleared',
      claims: { scope: 'payroll:read', groups: 'hr', clearance: 'confidential' },
      data: { headcount: 2, people: PEOPLE, dossier: null },
      errors: [denied('dossier')],
      notSent: ['dossier'],
    },
    {
      name: 'an array claim holding hr among other groups meets hr',
      claims: { scope: 'payroll:read', groups: ['ops', 'hr'], clearance: 'top-secret' },
      data: { headcount: 2, people: PEOPLE, dossier: { summary: 'clean' } },
      notSent: [],
    },
    {
      name: 'the other alternative, admin (hr:admin) alone, serves the dossier',
      claims: { scope: 'hr:admin' },
      data: { headcount: 2, people: NO_SALARIES, dossier: { summary: 'clean' } },
      errors: SALARIES_DENIED,
      notSent: ['salary'],
    },
    {
      name: 'aliases and fragments: errors at the aliased paths, only where a fragment applies',
      query: '{ people { ... on Employee { pay: salary } ...Card } d: dossier(id: "d1") { ...Summary } } fragment Card on Person { n: name s: salary } fragment Summary on Dossier { summary }',
      data: { people: [{ pay: null, n: 'Ada', s: null }, { n: 'Bob', s: null }], d: null },
      errors: [denied('people', 0, 'pay'), denied('people', 0, 's'), denied('people', 1, 's'), denied('d')],
      notSent: ['salary', 'dossier', 'Summary'],
    },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const before = hr.received.length;
    const headers: Record<string, string> = c.claims ? { authorization: `Bearer ${await jwks.sign(key, { sub: 'usr_hr', ...c.claims })}` } : {};
    const { status, body } = await send(gateway.graphqlUrl, c.query ?? QUERY, headers);
    expect({ status, data: body.data, errors: body.errors }).toEqual({ status: 200, data: c.data, errors: c.errors });
    for (const field of c.notSent) expect(hr.received.slice(before).filter((q) => new RegExp(`\\b${field}\\b`).test(q))).toEqual([]);
  });

  it('a supergraph naming a policy the config does not define stops the start, naming the policy and where it is applied', async () => {
    const { cleared: _, ...withoutCleared } = HR_POLICIES;
    await expect(startGateway(configWith({ 'authorization.policies': withoutCleared }))).rejects.toThrow(
      `authorization.policies: ${supergraphPath} applies @policy "cleared" (at Dossier), which is not defined; define it there`,
    );
  });

  it('with authorization off the gateway does not start on this supergraph, unless unsafe_allow_unenforced serves it open', async () => {
    await expect(startGateway(configWith({ 'authorization.directives.enabled': false }))).rejects.toThrow(
      `authorization.directives.enabled: false, but ${supergraphPath} protects Dossier, Employee.salary, Person.salary with @authenticated, ` +
        '@requiresScopes or @policy, so every caller would get them; enable it, or set authorization.directives.unsafe_allow_unenforced: true',
    );
    const open = await startGateway(configWith({ 'authorization.directives.enabled': false, 'authorization.directives.unsafe_allow_unenforced': true }));
    try {
      expect((await send(open.graphqlUrl, QUERY)).body).toEqual({ data: { headcount: 2, people: PEOPLE, dossier: { summary: 'clean' } } });
    } finally {
      await open.close();
    }
  });
});
