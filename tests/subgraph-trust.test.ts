import { ANONYMOUS, MAX_ARGUMENT_LENGTH, signSubgraphRequest, type Caller } from '@switchyard/service-kit';
import { backends } from './support/servers';
import { startPlatform, type Platform } from './support/platform';
import { postRaw, postToSubgraph } from './support/subgraph-requests';

/**
 * Callers who bypass the gateway and talk to a subgraph's port directly, as an attacker inside the
 * network would: what each subgraph accepts is decided by the subgraph itself, not by the network.
 */
describe.each(backends)('a subgraph reached directly on %s', (backend) => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform(backend);
  });
  afterAll(() => platform?.close());

  const secret = () => process.env.IDENTITY_SIGNING_SECRET!;
  const stockOf = async (id: string) => (await platform.db.products.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [id]))[0]!.stock;
  const reservationOf = async (orderId: string) =>
    (await platform.db.products.query<{ status: string }>('SELECT status FROM reservations WHERE order_id = $1', [orderId]))[0]?.status ?? null;

  describe('the stock reservation API', () => {
    const ORDERS: Caller = { kind: 'service', id: 'orders', scopes: [] };
    const body = (orderId: string) => JSON.stringify({ orderId, items: [{ productId: 'prd_0042', quantity: 3 }] });
    const signed = (payload: string, edits: Partial<Parameters<typeof signSubgraphRequest>[0]> = {}) => ({
      'content-type': 'application/json',
      ...signSubgraphRequest({ secret: secret(), principal: ORDERS, requestId: 'req-reserve', subgraph: 'products', body: payload, ...edits }),
    });
    const reserve = (payload: string, headers: Record<string, string>) => postRaw(`${platform.subgraphs.products}/internal/reservations`, payload, headers);
    const release = (payload: string, headers: Record<string, string>) => postRaw(`${platform.subgraphs.products}/internal/reservations/release`, payload, headers);
    const refused = (status: number, message: string, code: string) => ({ status, body: { errors: [{ message, extensions: { code } }] } });
    const UNSIGNED = refused(401, 'unsigned request: only the gateway may call this service', 'UNAUTHENTICATED');
    const MISMATCH = refused(401, 'identity signature does not match', 'UNAUTHENTICATED');
    const NOT_ORDERS = refused(403, 'only the orders service may reserve or release stock', 'FORBIDDEN');

    it('refuses a reservation with no identity, a forged or misdirected one, or another caller, and takes no stock', async () => {
      const before = await stockOf('prd_0042');
      const payload = body('ord_attacker_1');
      const cases: [string, Record<string, string>, unknown][] = [
        ['no identity at all', { 'content-type': 'application/json' }, UNSIGNED],
        ['orders identity headers without a signature', { 'content-type': 'application/json', 'x-switchyard-principal-kind': 'service', 'x-switchyard-principal-id': 'orders', 'x-request-id': 'r' }, UNSIGNED],
        ['orders identity signed with another secret', signed(payload, { secret: 'not-the-platform-secret-but-long-enough' }), MISMATCH],
        ['orders identity signed for another service', signed(payload, { subgraph: 'orders' }), MISMATCH],
        ['orders identity signed for another body', signed(body('ord_other'), {}), MISMATCH],
        ['orders identity signed 61 s ago', signed(payload, { now: Date.now() - 61_000 }), refused(401, 'stale identity signature', 'UNAUTHENTICATED')],
        ['a user identity, signed as the gateway signs it', signed(payload, { principal: { kind: 'user', id: 'usr_001', scopes: ['orders:write'] } }), NOT_ORDERS],
        ['an API key identity, signed as the gateway signs it', signed(payload, { principal: { kind: 'apiKey', id: 'ci', scopes: [] } }), NOT_ORDERS],
        ['the gateway signing an anonymous caller', signed(payload, { principal: ANONYMOUS }), NOT_ORDERS],
        ['another service', signed(payload, { principal: { kind: 'service', id: 'users', scopes: [] } }), NOT_ORDERS],
      ];
      for (const [scenario, headers, expected] of cases) {
        expect([scenario, await reserve(payload, headers)]).toEqual([scenario, expected]);
      }
      expect(await stockOf('prd_0042')).toBe(before);
      expect(await reservationOf('ord_attacker_1')).toBeNull();
    });

    it('refuses a release from anyone but the orders service, and the stock stays reserved', async () => {
      const before = await stockOf('prd_0042');
      const reserved = await reserve(body('ord_direct_1'), signed(body('ord_direct_1')));
      expect(reserved).toEqual({ status: 200, body: { orderId: 'ord_direct_1', lines: [{ productId: 'prd_0042', quantity: 3, unitPriceCents: expect.any(Number), currency: 'USD' }] } });
      expect(await stockOf('prd_0042')).toBe(before - 3);

      const payload = JSON.stringify({ orderId: 'ord_direct_1' });
      expect(await release(payload, { 'content-type': 'application/json' })).toEqual(UNSIGNED);
      expect(await release(payload, signed(payload, { principal: { kind: 'user', id: 'usr_001', scopes: [] } }))).toEqual(NOT_ORDERS);
      // A signature for the reservation call cannot be replayed against release: the body differs.
      expect(await release(payload, signed(body('ord_direct_1')))).toEqual(MISMATCH);
      expect(await reservationOf('ord_direct_1')).toBe('RESERVED');
      expect(await stockOf('prd_0042')).toBe(before - 3);

      expect(await release(payload, signed(payload))).toEqual({ status: 200, body: { orderId: 'ord_direct_1', released: true } });
      expect(await stockOf('prd_0042')).toBe(before);
    });

    it('the orders service still reserves through the gateway: placing an order takes the stock', async () => {
      const before = await stockOf('prd_0043');
      const res = await platform.graphql('mutation { placeOrder(input: { items: [{ productId: "prd_0043", quantity: 2 }] }) { status } }', {}, 'usr_004');
      expect({ data: res.data, errors: res.errors }).toEqual({ data: { placeOrder: { status: 'PLACED' } }, errors: undefined });
      expect(await stockOf('prd_0043')).toBe(before - 2);
    });
  });

  describe('string arguments', () => {
    const LONG = 'x'.repeat(MAX_ARGUMENT_LENGTH + 1);
    const CUSTOMER: Caller = { kind: 'user', id: 'usr_002', scopes: ['orders:read', 'orders:write'] };
    const STAFF: Caller = { kind: 'user', id: 'usr_001', scopes: ['users:read', 'orders:read', 'orders:read:any'] };
    const statements = () => ({ users: platform.db.users.stats.statements, products: platform.db.products.stats.statements, orders: platform.db.orders.stats.statements });
    const tooLong = (argument: string, path: (string | number)[]) => ({
      message: `${argument} is longer than ${MAX_ARGUMENT_LENGTH} characters`,
      locations: [expect.objectContaining({ line: 1 })],
      path,
      extensions: { code: 'BAD_USER_INPUT', argument },
    });

    // Every string (and ID) argument and input field of the three subgraphs, as the gateway would send them.
    const CASES: [subgraph: 'users' | 'products' | 'orders', query: string, caller: Caller, argument: string, path: (string | number)[]][] = [
      ['users', 'query($v: ID!) { user(id: $v) { id } }', STAFF, 'id', ['user']],
      ['users', 'query($v: String) { users(first: 5, after: $v) { edges { cursor } } }', STAFF, 'after', ['users']],
      ['users', 'query($v: _Any!) { _entities(representations: [$v]) { ... on User { id } } }', STAFF, 'representations[0].id', ['_entities']],
      ['products', 'query($v: ID!) { product(id: $v) { id } }', ANONYMOUS, 'id', ['product']],
      ['products', 'query($v: String) { products(first: 5, search: $v) { edges { cursor } } }', ANONYMOUS, 'search', ['products']],
      ['products', 'query($v: String) { products(first: 5, after: $v) { edges { cursor } } }', ANONYMOUS, 'after', ['products']],
      ['products', 'query($v: _Any!) { _entities(representations: [$v]) { ... on Product { id } } }', ANONYMOUS, 'representations[0].id', ['_entities']],
      ['orders', 'query($v: ID!) { order(id: $v) { id } }', CUSTOMER, 'id', ['order']],
      ['orders', 'query($v: String) { _entities(representations: [{ __typename: "User", id: "usr_002" }]) { ... on User { orders(first: 5, after: $v) { edges { cursor } } } } }', CUSTOMER, 'after', ['_entities', 0, 'orders']],
      ['orders', 'query($v: _Any!) { _entities(representations: [$v]) { ... on Order { id } } }', CUSTOMER, 'representations[0].id', ['_entities']],
      ['orders', 'mutation($v: ID!) { placeOrder(input: { items: [{ productId: "prd_0001", quantity: 1 }, { productId: $v, quantity: 1 }] }) { id } }', CUSTOMER, 'input.items[1].productId', ['placeOrder']],
      ['orders', 'mutation($v: ID!) { cancelOrder(id: $v) { id } }', CUSTOMER, 'id', ['cancelOrder']],
    ];

    it.each(CASES)('%s: %s with a long string is BAD_USER_INPUT before any SQL', async (subgraph, query, caller, argument, path) => {
      const value = query.includes('_Any') ? { __typename: query.match(/on (\w+)/)![1], id: LONG } : LONG;
      const before = statements();
      const answer = await postToSubgraph(`${platform.subgraphs[subgraph]}/graphql`, subgraph, { query, variables: { v: value } }, caller);
      expect(answer.status).toBe(200);
      expect(answer.body.errors).toEqual([tooLong(argument, path)]);
      // No statement reached any database, not even the stock reservation behind placeOrder.
      expect(statements()).toEqual(before);
    });

    it('a 1 MB search through the gateway is BAD_USER_INPUT at once, and products queries beside it are answered', async () => {
      const search = 'lamp'.repeat(250_000);
      const before = platform.db.products.stats.statements;
      const [long, normal] = await Promise.all([
        platform.graphql('query($s: String) { products(first: 5, search: $s) { edges { node { id } } } }', { s: search }),
        platform.graphql('{ products(first: 2, search: "lamp") { edges { node { name } } } }'),
      ]);
      expect({ data: long.data, codes: long.errors?.map((e) => [e.message, e.extensions?.code]) }).toEqual({
        data: null,
        codes: [[`search is longer than ${MAX_ARGUMENT_LENGTH} characters`, 'BAD_USER_INPUT']],
      });
      expect(normal.errors).toBeUndefined();
      expect(normal.data.products.edges.map((e: any) => e.node.name.toLowerCase().includes('lamp'))).toEqual([true, true]);
      // Only the ordinary query reached the database.
      expect(platform.db.products.stats.statements - before).toBe(1);
    });
  });

  describe('page cursors', () => {
    const STAFF_USERS = { sub: 'usr_001', scopes: ['users:read'] };
    const MY_ORDERS = 'query($after: String) { me { orders(first: 2, after: $after) { edges { cursor node { id createdAt } } pageInfo { hasNextPage endCursor } } } }';
    const badCursor = { message: 'after is not a valid cursor', code: 'BAD_USER_INPUT' };
    const errorsOf = (res: { errors?: { message: string; extensions?: Record<string, any> }[] }) => res.errors?.map((e) => ({ message: e.message, code: e.extensions?.code }));
    /** The cursor with one bit flipped in its byte at `index`. */
    const flip = (cursor: string, index: number) => {
      const bytes = Buffer.from(cursor, 'base64url');
      bytes[index] = bytes[index]! ^ 0x01;
      return bytes.toString('base64url');
    };

    it("an order cursor tells nothing about the order, and pages on to the customer's next orders", async () => {
      const first = await platform.graphql(MY_ORDERS, {}, 'usr_005');
      const { edges, pageInfo } = first.data.me.orders;
      expect(pageInfo.hasNextPage).toBe(true);
      for (const { cursor, node } of edges) {
        const decoded = Buffer.from(cursor, 'base64url').toString('latin1');
        expect([cursor, decoded.includes(node.id), decoded.includes(node.createdAt.slice(0, 10)), cursor.includes(node.id)]).toEqual([cursor, false, false, false]);
      }
      const next = await platform.graphql(MY_ORDERS, { after: pageInfo.endCursor }, 'usr_005');
      expect(next.errors).toBeUndefined();
      const ids = (page: any) => page.data.me.orders.edges.map((e: any) => e.node.id);
      expect(ids(next)).toHaveLength(2);
      expect(ids(next).filter((id: string) => ids(first).includes(id))).toEqual([]);
    });

    it('an altered or forged cursor is BAD_USER_INPUT, and no order is read with it', async () => {
      const { edges, pageInfo } = (await platform.graphql(MY_ORDERS, {}, 'usr_005')).data.me.orders;
      const oldFormat = Buffer.from(`${edges[1].node.createdAt}|${edges[1].node.id}`).toString('base64url');
      const productCursor = (await platform.graphql('{ products(first: 1) { pageInfo { endCursor } } }')).data.products.pageInfo.endCursor;
      const before = platform.db.orders.stats.statements;
      for (const [scenario, after] of [
        ['a bit flipped in the ciphertext', flip(pageInfo.endCursor, 20)],
        ['a bit flipped in the tag', flip(pageInfo.endCursor, Buffer.from(pageInfo.endCursor, 'base64url').length - 1)],
        ['the old, readable format, made by hand', oldFormat],
        ['a products cursor', productCursor],
        ['truncated', pageInfo.endCursor.slice(0, -3)],
      ]) {
        const res = await platform.graphql(MY_ORDERS, { after }, 'usr_005');
        expect([scenario, res.data, errorsOf(res)]).toEqual([scenario, { me: null }, [badCursor]]);
      }
      expect(platform.db.orders.stats.statements).toBe(before);
    });

    it('product and user cursors are opaque too, and valid only for their own list', async () => {
      const products = (await platform.graphql('{ products(first: 1) { edges { cursor node { id } } } }')).data.products.edges[0];
      const users = (await platform.graphql('{ users(first: 1) { edges { cursor node { id } } } }', {}, STAFF_USERS)).data.users.edges[0];
      expect(Buffer.from(products.cursor, 'base64url').toString('latin1')).not.toContain(products.node.id);
      expect(Buffer.from(users.cursor, 'base64url').toString('latin1')).not.toContain(users.node.id);
      const productsAfterUser = await platform.graphql('query($a: String) { products(first: 1, after: $a) { edges { cursor } } }', { a: users.cursor });
      expect(errorsOf(productsAfterUser)).toEqual([badCursor]);
      const usersAfterForged = await platform.graphql('query($a: String) { users(first: 1, after: $a) { edges { cursor } } }', { a: Buffer.from('usr_010').toString('base64url') }, STAFF_USERS);
      expect(errorsOf(usersAfterForged)).toEqual([badCursor]);
    });
  });
});
