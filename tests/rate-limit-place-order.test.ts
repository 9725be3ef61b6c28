import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { GraphQLResolveInfo } from 'graphql';
import { createPlaceOrderLimit } from '../subgraphs/orders/src/place-order-limit';
import { startPlatform, type Platform } from './support/platform';
import { freePort, spawnCommand, type WatchedProcess } from './support/processes';
import { inCI } from './support/servers';

const PLACE = 'mutation ($items: [OrderLineInput!]!) { placeOrder(input: { items: $items }) { id status } }';

describe('placeOrder per-field limit (graphql-rate-limit) through the gateway', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform('pglite');
  }, 180_000);
  afterAll(async () => {
    await platform?.close();
  });

  it('a user places 10 orders in a minute; the 11th gets RATE_LIMITED from orders, and another user is unaffected', async () => {
    const items = [{ productId: 'prd_0100', quantity: 1 }];
    const results = [];
    for (let i = 0; i < 11; i++) results.push(await platform.graphql(PLACE, { items }, 'usr_024'));
    expect(results.slice(0, 10).every((r) => r.data?.placeOrder?.status === 'PLACED')).toBe(true);
    expect(results[10]).toMatchObject({
      data: null,
      errors: [{ message: 'placeOrder is limited to 10 orders per 60s per user; try again later.', path: ['placeOrder'], extensions: { code: 'RATE_LIMITED', limit: 'placeOrder', max: 10 } }],
    });
    expect((await platform.graphql(PLACE, { items }, 'usr_025')).data.placeOrder.status).toBe('PLACED');
  });
});

const haveRedisServer = (() => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const describeWithRedis = haveRedisServer || inCI || process.env.REDIS_URL ? describe : describe.skip;

describeWithRedis('placeOrder limit on Redis', () => {
  let url: string;
  let own: WatchedProcess | undefined;
  beforeAll(async () => {
    if (process.env.REDIS_URL) url = process.env.REDIS_URL;
    else {
      const port = await freePort();
      own = spawnCommand('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {});
      await own.waitFor(/Ready to accept connections/, 10_000);
      url = `redis://127.0.0.1:${port}`;
    }
  });
  afterAll(async () => {
    own?.signal('SIGKILL');
    await own?.exited;
  });

  it('two orders replicas sharing one Redis admit exactly 10 of 30 concurrent orders from one user (the store is atomic)', async () => {
    const replicas = [createPlaceOrderLimit({ max: 10, windowMs: 60_000, redisUrl: url }), createPlaceOrderLimit({ max: 10, windowMs: 60_000, redisUrl: url })];
    const user = `usr_${randomBytes(4).toString('hex')}`;
    const info = { fieldName: 'placeOrder' } as GraphQLResolveInfo;
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 30 }, (_, i) => replicas[i % 2]!.check(user, {}, info).then(() => 'placed', (err: { extensions?: { code?: string } }) => err.extensions?.code)),
      );
      expect(outcomes.filter((o) => o === 'placed')).toHaveLength(10);
      expect(outcomes.filter((o) => o === 'RATE_LIMITED')).toHaveLength(20);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });
});
