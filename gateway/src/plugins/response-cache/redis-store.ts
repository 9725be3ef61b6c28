import { createClient, type RedisClientType } from 'redis';
import type { ResponseCacheStore } from './store';

export interface RedisResponseCacheStoreOptions {
  url: string;
  /** Longest a command may wait for Redis, and for a connection. */
  timeoutMs: number;
  keyPrefix: string;
  /** Connection state changes, for logs and readiness. */
  onStatus(up: boolean, error?: Error): void;
}

/**
 * Answers shared by every replica, on the Redis client the rate limiter uses: one string per answer with
 * its TTL, and one set per tag naming the answers that carry it, kept as long as its longest answer.
 * Redis evicts by its own maxmemory policy; the gateway does not see those evictions.
 */
export class RedisResponseCacheStore implements ResponseCacheStore {
  readonly kind = 'redis';
  private readonly client: RedisClientType;
  private readonly commands: RedisClientType;
  private up = false;

  constructor(private readonly options: RedisResponseCacheStoreOptions) {
    this.client = createClient({
      url: options.url,
      // Fail at once while disconnected: a lookup that cannot be answered is a miss, not a wait.
      disableOfflineQueue: true,
      socket: { connectTimeout: options.timeoutMs, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2_000) },
    }) as RedisClientType;
    this.commands = this.client.withCommandOptions({ timeout: options.timeoutMs }) as RedisClientType;
    this.client.on('ready', () => this.setUp(true));
    this.client.on('error', (err: Error) => this.setUp(false, err));
  }

  get isUp(): boolean {
    return this.up;
  }

  /** Connects, waiting at most the timeout: a Redis that is down at start means misses, not a failed start. */
  async connect(): Promise<void> {
    const connecting = this.client.connect().catch(() => undefined);
    await Promise.race([connecting, new Promise((resolve) => setTimeout(resolve, this.options.timeoutMs).unref())]);
  }

  async get(keys: readonly string[]): Promise<(string | undefined)[]> {
    const values = await this.commands.mGet(keys.map((key) => this.entryKey(key)));
    return values.map((value) => value ?? undefined);
  }

  async set(key: string, value: string, ttlMs: number, tags: readonly string[]): Promise<void> {
    const entry = this.entryKey(key);
    const write = this.commands.multi().set(entry, value, { expiration: { type: 'PX', value: ttlMs } });
    for (const tag of tags) {
      const set = this.tagKey(tag);
      // A tag's set lives as long as its longest-lived answer: NX gives a new set its TTL, GT extends it.
      write.sAdd(set, entry).pExpire(set, ttlMs, 'NX').pExpire(set, ttlMs, 'GT');
    }
    await write.exec();
  }

  async invalidate(tags: readonly string[]): Promise<number> {
    const sets = tags.map((tag) => this.tagKey(tag));
    const members = [...new Set((await Promise.all(sets.map((set) => this.commands.sMembers(set)))).flat())];
    if (members.length === 0) {
      await this.commands.del(sets);
      return 0;
    }
    const [dropped] = (await this.commands.multi().del(members).del(sets).exec()) as unknown as [number, number];
    return dropped;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private entryKey(key: string): string {
    return `${this.options.keyPrefix}answer:${key}`;
  }

  private tagKey(tag: string): string {
    return `${this.options.keyPrefix}tag:${tag}`;
  }

  private setUp(up: boolean, error?: Error): void {
    if (up === this.up) return;
    this.up = up;
    this.options.onStatus(up, error);
  }
}
