import { hashApiKey } from '../identity/api-keys';
import { startTestGateway, testClock, type TestClock, type TestGateway } from '../../testing/test-gateway';

const PRODUCTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost"])
  type Query { product: Product expensive: Product @cost(weight: 40) }
  type Product @key(fields: "id") { id: ID! name: String! }
`;
const KEY = 'sy_test_key_partner';

describe('useRateLimit through the whole gateway, on a test clock', () => {
  let clock: TestClock;
  let gateway: TestGateway;
  beforeEach(async () => {
    clock = testClock();
    gateway = await startTestGateway({
      clock,
      subgraphs: { products: { sdl: PRODUCTS, resolvers: { Query: { product: () => ({ id: 'p1', name: 'Lamp' }), expensive: () => ({ id: 'p2', name: 'Desk' }) } } } },
      config: {
        'rate_limit.enabled': true,
        'rate_limit.classes': { anonymous: { requests: 3, cost: 1000, window: '1m' }, user: { requests: 100, cost: 100, window: '1m' } },
        'authentication.api_keys.keys': [{ name: 'partner', sha256: hashApiKey(KEY), scopes: [] }],
      },
    });
  });
  afterEach(() => gateway.close());

  const status = async (headers: Record<string, string> = {}) => (await gateway.graphql('{ product { name } }', { headers })).status;

  it('bad credentials of every kind are charged to the client address: after three, the fourth and an anonymous request are 429', async () => {
    expect([
      await status({ authorization: 'Bearer not.a.token' }),
      await status({ authorization: 'Basic dXNlcjpwYXNz' }),
      await status({ 'x-api-key': 'sy_guessed_key' }),
    ]).toEqual([401, 401, 401]);
    const refused = await gateway.graphql('{ product { name } }', { headers: { 'x-api-key': 'sy_another_guess' } });
    expect(refused.status).toBe(429);
    expect(refused.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', limit: 'requests', class: 'anonymous', retryAfter: 20 });
    expect(refused.headers['retry-after']).toBe('20');
    expect(await status()).toBe(429);
    // A valid key is its own client, with its own budget.
    expect(await status({ 'x-api-key': KEY })).toBe(200);
    clock.advance(60_000);
    expect(await status()).toBe(200);
  });

  it('a client over its request budget is refused before its body is read: even a malformed body gets 429', async () => {
    for (let i = 0; i < 3; i++) expect(await status()).toBe(200);
    const res = await gateway.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: '{"query": ' });
    expect([res.statusCode, JSON.parse(res.body).errors[0].extensions.code]).toEqual([429, 'RATE_LIMITED']);
  });

  it('the cost is charged once known, and refused once the budget cannot take it; the requests spent stay spent', async () => {
    const expensive = () => gateway.graphql('{ expensive { id } }', { headers: { 'x-api-key': KEY } });
    const answers = [await expensive(), await expensive(), await expensive()];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(answers[0]!.headers.ratelimit).toBe('"requests";r=99;t=1, "cost";r=60;t=24');
    // Each costs 40 of 100: the third finds 20 left, and 20 more refill in 12 s. Its request was still counted.
    expect(answers[2]!.body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', limit: 'cost', class: 'user', retryAfter: 12 });
    expect(answers[2]!.headers.ratelimit).toBe('"requests";r=97;t=2, "cost";r=20;t=48');
    expect(gateway.received.products).toHaveLength(2);
  });
});
