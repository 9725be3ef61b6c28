import { RedisConnection, type RedisConnectionOptions } from '../../redis/redis-connection';
import type { ResponseCacheStore } from './store';

export interface RedisResponseCacheStoreOptions extends RedisConnectionOptions {
  keyPrefix: string;
}

/**
 * Answers shared by every replica, on the Redis client the rate limiter uses: one string per answer with
 * its TTL, and one set per tag naming the answers that carry it, kept as long as its longest answer.
 * Redis evicts by its own maxmemory policy; the gateway does not see those evictions.
 */
export class RedisResponseCacheStore implements ResponseCacheStore {
  readonly kind = 'redis';
  private readonly redis: RedisConnection;

  constructor(private readonly options: RedisResponseCacheStoreOptions) {
    this.redis = new RedisConnection(options);
  }

  get isUp(): boolean {
    return this.redis.isUp;
  }

  connect(): Promise<void> {
    return this.redis.connect();
  }

  async get(keys: readonly string[]): Promise<(string | undefined)[]> {
    const values = await this.redis.commands.mGet(keys.map((key) => this.entryKey(key)));
    return values.map((value) => value ?? undefined);
  }

  async set(key: string, value: string, ttlMs: number, tags: readonly string[]): Promise<void> {
    const entry = this.entryKey(key);
    const write = this.redis.commands.multi().set(entry, value, { expiration: { type: 'PX', value: ttlMs } });
    for (const tag of tags) {
      const set = this.tagKey(tag);
      // A tag's set lives as long as its longest-lived answer: NX gives a new set its TTL, GT extends it.
      write.sAdd(set, entry).pExpire(set, ttlMs, 'NX').pExpire(set, ttlMs, 'GT');
    }
    await write.exec();
  }

  async invalidate(tags: readonly string[]): Promise<number> {
    const sets = tags.map((tag) => this.tagKey(tag));
    const members = [...new Set((await Promise.all(sets.map((set) => this.redis.commands.sMembers(set)))).flat())];
    if (members.length === 0) {
      await this.redis.commands.del(sets);
      return 0;
    }
    const [dropped] = (await this.redis.commands.multi().del(members).del(sets).exec()) as unknown as [number, number];
    return dropped;
  }

  async close(): Promise<void> {
    this.redis.close();
  }

  private entryKey(key: string): string {
    return `${this.options.keyPrefix}answer:${key}`;
  }

  private tagKey(tag: string): string {
    return `${this.options.keyPrefix}tag:${tag}`;
  }
}
