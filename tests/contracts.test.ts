import { join } from 'node:path';
import { repoRoot } from './support/processes';
import { send, startPlatform, type Platform } from './support/platform';

/**
 * The committed public contract (contracts.yaml, composed by npm run compose) served beside the full
 * supergraph by one gateway in front of the real subgraphs.
 */
let platform: Platform;
let token: string;
beforeAll(async () => {
  platform = await startPlatform('pglite', {
    contracts: { public: { path: '/public/graphql', schema_path: join(repoRoot, 'gateway', 'contracts', 'public.graphql') } },
  });
  token = await platform.issuer.issue('usr_002', { scopes: ['orders:read'] });
}, 180_000);
afterAll(() => platform?.close());

const on = (path: string, query: string) => send(`${platform.gateway.url}${path}`, query, { authorization: `Bearer ${token}` });

describe('the public contract on /public/graphql', () => {
  it('serves a signed-in user their profile, orders and products as /graphql does', async () => {
    const query = '{ me { id displayName orders(first: 1) { edges { node { items { product { id name priceCents } } } } } } product(id: "prd_0001") { id name } }';
    const [full, contract] = await Promise.all([on('/graphql', query), on('/public/graphql', query)]);
    expect(contract.status).toBe(200);
    expect(contract.body.errors).toBeUndefined();
    expect(contract.body.data.me.id).toBe('usr_002');
    expect(contract.body).toEqual(full.body);
  });

  it.each([
    ['User.email', '{ me { email } }', 'Cannot query field "email" on type "User".'],
    ['Product.stock', '{ product(id: "prd_0001") { stock } }', 'Cannot query field "stock" on type "Product".'],
    ['Query.users', '{ users { edges { node { id } } } }', 'Cannot query field "users" on type "Query". Did you mean "user"?'],
    ['UserConnection, only Query.users reached it', '{ __type(name: "UserConnection") { name } }', undefined],
  ])('hides %s, which /graphql serves', async (_, query, message) => {
    const contract = await on('/public/graphql', query);
    if (message) expect(contract.body).toEqual({ errors: [expect.objectContaining({ message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })] });
    else expect(contract.body).toEqual({ data: { __type: null } });
    const full = await on('/graphql', query);
    expect(full.body.errors?.find((e: { extensions: { code: string } }) => e.extensions.code === 'GRAPHQL_VALIDATION_FAILED')).toBeUndefined();
  });
});
