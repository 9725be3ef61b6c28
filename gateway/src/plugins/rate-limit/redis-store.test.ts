import { randomBytes } from 'node:crypto';
import { ANONYMOUS } from '@switchyard/service-kit';
import pino from 'pino';
import { createClient } from 'redis';
import { rateLimitConfigSchema } from './config';
import type { ClassLimits } from './gcra';
import { RateLimiter } from './limiter';
import { GCRA_SCRIPT, RedisRateLimitStore } from './redis-store';

const LIMITS: ClassLimits = { name: 'user', requests: { limit: 10, windowMs: 60_000 }, cost: { limit: 100, windowMs: 60_000 } };
const NOT_CHARGEABLE = [-1, -100_000, -0.5, -Infinity, Infinity, NaN];

/** .ci/run's Redis (REDIS_URL). Without it these skip, except under CI=true, where they fail. */
const redisUrl = process.env.REDIS_URL ?? (process.env.CI === 'true' ? 'redis://127.0.0.1:6379' : undefined);
if (!redisUrl) process.stderr.write('note: no REDIS_URL: the Redis store\'s refusal of bad charges is not tested (it is required when CI=true)\n');
const describeWithRedis = redisUrl ? describe : describe.skip;

describeWithRedis('the Redis store refuses units that are not a finite number, 0 or more', () => {
  const keyPrefix = `test:gcra:${randomBytes(4).toString('hex')}:`;
  let store: RedisRateLimitStore;
  const redis = createClient({ url: redisUrl });
  beforeAll(async () => {
    store = new RedisRateLimitStore({ url: redisUrl!, timeoutMs: 2_000, keyPrefix, onStatus: () => undefined });
    await store.connect();
    await redis.connect();
  });
  afterAll(async () => {
    for (const key of await redis.keys(`${keyPrefix}*`)) await redis.del(key);
    await redis.quit();
    await store.close();
  });

  it('after 60 of 100 units, a charge of -100000 is thrown before Redis is asked: 50 more are refused, 40 fit', async () => {
    expect((await store.charge('usr_1', LIMITS, { requests: 1, cost: 60 })).cost.remaining).toBe(40);
    for (const units of NOT_CHARGEABLE) await expect(store.charge('usr_1', LIMITS, { requests: 1, cost: units })).rejects.toThrow(RangeError);
    const refused = await store.charge('usr_1', LIMITS, { requests: 1, cost: 50 });
    expect({ allowed: refused.allowed, exceeded: refused.exceeded, remaining: refused.cost.remaining }).toEqual({ allowed: false, exceeded: ['cost'], remaining: 40 });
    expect(await store.charge('usr_1', LIMITS, { requests: 1, cost: 40 })).toMatchObject({ allowed: true, cost: { remaining: 0 } });
  });

  it.each(['-1', '-100000', '-inf', 'inf', 'Infinity', '1e999', 'nan', 'NaN', 'ten', ''])(
    'the script itself, sent units %p of cost or of requests by another caller, answers an error and writes nothing',
    async (units) => {
      const key = `${keyPrefix}script:${units}`;
      for (const [cost, requests] of [[units, '1'], ['0', units]]) {
        await expect(redis.eval(GCRA_SCRIPT, { keys: [key], arguments: ['10', '60000', '100', '60000', cost!, requests!] })).rejects.toThrow(
          'ERR gcra: the charge must be a finite number of units, 0 or more',
        );
      }
      expect(await redis.exists(key)).toBe(0);
    },
  );

  it('the script charges 0 units, and -0, as nothing off the cost budget', async () => {
    const key = `${keyPrefix}script:zero`;
    for (const units of ['0', '-0']) {
      const [allowed, , costOffset] = (await redis.eval(GCRA_SCRIPT, { keys: [key], arguments: ['10', '60000', '100', '60000', units, '1'] })) as [number, string, string];
      expect([allowed, costOffset]).toEqual([1, '0.000']);
    }
  });
});

describe('the limiter: a bad charge is a bug to throw, not Redis being unavailable', () => {
  it('with Redis down and on_unavailable fail_closed, a charge of -1 throws a RangeError instead of answering unavailable', async () => {
    const config = rateLimitConfigSchema.parse({ enabled: true, store: 'redis', redis: { url: 'redis://127.0.0.1:1', timeout: '50ms', on_unavailable: 'fail_closed' } });
    const limiter = await RateLimiter.create(config, pino({ level: 'silent' }));
    try {
      await expect(limiter.charge('198.51.100.1', ANONYMOUS, { requests: 1, cost: -1 })).rejects.toThrow(RangeError);
      expect(await limiter.charge('198.51.100.1', ANONYMOUS, { requests: 1, cost: 1 })).toEqual({ kind: 'unavailable', limits: limiter.classFor(ANONYMOUS) });
    } finally {
      await limiter.close();
    }
  });
});
