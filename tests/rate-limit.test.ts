import { startGateway, type RunningGateway } from '../gateway/src/main';
import { gatewayConfig, send, startPlatform, type Answer, type Platform } from './support/platform';

/**
 * Rate limits and cost quotas with the in-memory store: one gateway, its own budgets. Every test uses
 * its own client (a user, or an address through a trusted proxy hop), so budgets do not leak between tests.
 */
const CLASSES = {
  // GCRA refills one request every window / requests (2 s): the tests' requests come well within that.
  anonymous: { requests: 3, cost: 1_000, window: '6s' },
  user: { requests: 5, cost: 100, window: '1m' },
};

let platform: Platform;
/** A second gateway on the same subgraphs that trusts one proxy hop of X-Forwarded-For. */
let behindProxy: RunningGateway;

beforeAll(async () => {
  platform = await startPlatform('pglite', { 'rate_limit.enabled': true, 'rate_limit.classes': CLASSES });
  behindProxy = await startGateway(
    gatewayConfig({
      override_subgraph_url: Object.fromEntries(platform.gateway.subgraphs.map((s) => [s.name, s.url])),
      'rate_limit.enabled': true,
      'rate_limit.classes': CLASSES,
      'rate_limit.trusted_proxy_hops': 1,
    }),
  );
}, 180_000);
afterAll(async () => {
  await behindProxy?.close();
  await platform?.close();
});

const asUser = async (user: string) => ({ authorization: `Bearer ${await platform.issuer.issue(user)}` });
const PRODUCT = '{ product(id: "prd_0001") { id } }';

describe('rate limits, in-memory store', () => {
  it('an anonymous client gets its 3 requests with the headers counting down, then 429 RATE_LIMITED with Retry-After; after the window its whole budget is back', async () => {
    const url = behindProxy.graphqlUrl;
    const client = { 'x-forwarded-for': '203.0.113.7' };
    const answers: Answer[] = [];
    for (let i = 0; i < 4; i++) answers.push(await send(url, PRODUCT, client));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers[0]!.body).toEqual({ data: { product: { id: 'prd_0001' } } });
    for (const answer of answers) {
      expect(answer.headers.get('ratelimit-policy')).toBe('"requests";q=3;qu="request";w=6, "cost";q=1000;w=6;switchyard-unit="estimated-cost"');
    }
    expect(answers.map((a) => a.headers.get('ratelimit')!.match(/^"requests";r=(\d+)/)![1])).toEqual(['2', '1', '0', '0']);
    expect(answers[0]!.headers.get('ratelimit')).toMatch(/^"requests";r=2;t=2, "cost";r=999;t=1$/);
    const refused = answers[3]!;
    expect(refused.headers.get('retry-after')).toMatch(/^[12]$/);
    expect(refused.body).toEqual({
      errors: [
        {
          message: `Rate limit exceeded: the anonymous class allows 3 requests per 6s. Retry in ${refused.headers.get('retry-after')}s.`,
          extensions: { code: 'RATE_LIMITED', limit: 'requests', class: 'anonymous', retryAfter: Number(refused.headers.get('retry-after')) },
        },
      ],
    });
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const refilled = await send(url, PRODUCT, client);
    expect(refilled.status).toBe(200);
    expect(refilled.headers.get('ratelimit')).toMatch(/^"requests";r=2;/);
  });

  it('anonymous clients are told apart by the trusted hop of X-Forwarded-For, never by what the client wrote further left', async () => {
    const url = behindProxy.graphqlUrl;
    for (let i = 0; i < 3; i++) expect((await send(url, PRODUCT, { 'x-forwarded-for': `10.9.9.${i}, 198.51.100.1` })).status).toBe(200);
    expect((await send(url, PRODUCT, { 'x-forwarded-for': '10.9.9.9, 198.51.100.1' })).status).toBe(429);
    expect((await send(url, PRODUCT, { 'x-forwarded-for': '198.51.100.2' })).status).toBe(200);
  });

  it('a gateway trusting no proxy ignores X-Forwarded-For: a client cannot buy a fresh budget by inventing one', async () => {
    const url = platform.gateway.graphqlUrl;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(url, PRODUCT, { 'x-forwarded-for': `192.0.2.${i}` })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('a user is limited by the user class and by user id, whatever address it comes from', async () => {
    const url = platform.gateway.graphqlUrl;
    const headers = await asUser('usr_010');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await send(url, PRODUCT, headers)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect((await send(url, PRODUCT, await asUser('usr_011'))).status).toBe(200);
  });

  it('a cost quota is exhausted by a few expensive queries long before the request budget: 429 naming the cost limit', async () => {
    const url = platform.gateway.graphqlUrl;
    const headers = await asUser('usr_012');
    // connection 1 + 24 x (edge 1 + node 1) = 49 of the user class's 100 per minute.
    const expensive = '{ products(first: 24) { edges { node { id } } } }';
    const first = await send(url, expensive, headers);
    const second = await send(url, expensive, headers);
    const third = await send(url, expensive, headers);
    expect([first.status, second.status, third.status]).toEqual([200, 200, 429]);
    expect(first.headers.get('ratelimit')).toMatch(/^"requests";r=4;t=\d+, "cost";r=51;t=\d+$/);
    expect(second.headers.get('ratelimit')).toMatch(/^"requests";r=3;t=\d+, "cost";r=2;t=\d+$/);
    expect(third.body.errors).toEqual([
      {
        message: `Rate limit exceeded: the user class allows an estimated cost of 100 per 60s. Retry in ${third.headers.get('retry-after')}s.`,
        extensions: { code: 'RATE_LIMITED', limit: 'cost', class: 'user', retryAfter: Number(third.headers.get('retry-after')) },
      },
    ]);
    // The refused query was not charged: a cheap one still fits the 2 points left.
    expect((await send(url, PRODUCT, headers)).status).toBe(200);
  });

  it('a request that fails to parse is counted too, and answered 429 once the budget is gone', async () => {
    const url = behindProxy.graphqlUrl;
    const client = { 'x-forwarded-for': '203.0.113.99' };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(url, '{ product(', client)).status);
    expect(statuses).toEqual([400, 400, 400, 429]);
    const refused = await send(url, PRODUCT, client);
    expect(refused.status).toBe(429);
    expect(refused.body.errors[0].extensions.code).toBe('RATE_LIMITED');
  });

  it('/readyz on health_check.listen reports the store; the public /readyz does not say whether limits are weakened', async () => {
    const res = await fetch(`${platform.gateway.healthCheckUrl}/readyz`);
    expect(((await res.json()) as any).rate_limit).toEqual({ store: 'memory', status: 'up' });
    const shown = await fetch(`${platform.gateway.url}/readyz`);
    expect(((await shown.json()) as any).rate_limit).toBeUndefined();
  });
});
