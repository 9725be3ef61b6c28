import { randomUUID } from 'node:crypto';
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import { getGraphQLRateLimiter, type Identity, type Store } from 'graphql-rate-limit';
import { createClient, type RedisClientType } from 'redis';

export interface PlaceOrderLimitConfig {
  max: number;
  windowMs: number;
  /** Shared by every orders replica when set; otherwise each process counts on its own. */
  redisUrl?: string;
}

/**
 * graphql-rate-limit reads a client's call timestamps from its store, decides, then writes them back:
 * two steps, so concurrent calls could all read the same count and all pass (its bundled Redis store
 * does exactly that). These stores make the read the whole step: getForIdentity records this call and
 * returns the calls before it, atomically, and setForIdentity has nothing left to do. That counts
 * refused calls too, as the library does by default (uncountRejected off).
 */
class RedisCallLog implements Store {
  /** A sorted set of call times per identity: drop those out of the window, read the rest, add this call. */
  private static readonly SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
local calls = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local times = {}
for i = 2, #calls, 2 do times[#times + 1] = calls[i] end
return times
`;

  constructor(
    private readonly client: RedisClientType,
    private readonly windowMs: number,
  ) {}

  async getForIdentity(identity: Identity): Promise<readonly number[]> {
    const key = `switchyard:field-limit:${identity.contextIdentity}:${identity.fieldIdentity}`;
    const times = (await this.client.eval(RedisCallLog.SCRIPT, { keys: [key], arguments: [String(Date.now()), String(this.windowMs), randomUUID()] })) as string[];
    return times.map(Number);
  }

  setForIdentity(): void {}
}

/** The same step in memory: JavaScript runs it without interleaving. */
class MemoryCallLog implements Store {
  private readonly calls = new Map<string, number[]>();

  constructor(private readonly windowMs: number) {}

  getForIdentity(identity: Identity): readonly number[] {
    const key = `${identity.contextIdentity}:${identity.fieldIdentity}`;
    const now = Date.now();
    const before = (this.calls.get(key) ?? []).filter((t) => t > now - this.windowMs);
    this.calls.set(key, [...before, now]);
    return before;
  }

  setForIdentity(): void {}
}

export interface PlaceOrderLimit {
  /** Throws RATE_LIMITED when this user has placed `max` orders in the window. */
  check(userId: string, args: Record<string, unknown>, info: GraphQLResolveInfo): Promise<void>;
  close(): Promise<void>;
}

/** Redis commands wait at most this long (queued while connecting), then the order is refused as unavailable. */
const REDIS_TIMEOUT_MS = 1_000;

export function createPlaceOrderLimit(config: PlaceOrderLimitConfig): PlaceOrderLimit {
  let client: RedisClientType | undefined;
  if (config.redisUrl) {
    client = createClient({ url: config.redisUrl }) as RedisClientType;
    // A check that fails is reported to the caller; reconnecting is the client's job.
    client.on('error', () => undefined);
    client.connect().catch(() => undefined);
  }
  const limiter = getGraphQLRateLimiter({
    identifyContext: (userId: string) => userId,
    store: client ? new RedisCallLog(client.withCommandOptions({ timeout: REDIS_TIMEOUT_MS }) as RedisClientType, config.windowMs) : new MemoryCallLog(config.windowMs),
    formatError: ({ max, window }) => `placeOrder is limited to ${max} orders per ${window / 1000}s per user; try again later.`,
  });
  return {
    async check(userId, args, info) {
      let refusal: string | undefined;
      try {
        refusal = await limiter({ parent: undefined, args, context: userId, info }, { max: config.max, window: `${config.windowMs}ms` });
      } catch {
        throw new GraphQLError('the order rate limit cannot be checked right now; try again shortly', { extensions: { code: 'SERVICE_UNAVAILABLE' } });
      }
      if (refusal) throw new GraphQLError(refusal, { extensions: { code: 'RATE_LIMITED', limit: 'placeOrder', max: config.max, windowMs: config.windowMs } });
    },
    async close() {
      client?.destroy();
    },
  };
}
