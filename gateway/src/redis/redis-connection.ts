import { createClient, type RedisClientType } from 'redis';

export interface RedisConnectionOptions {
  url: string;
  /** Longest a command may wait for Redis, and for a connection. */
  timeoutMs: number;
  /** Connection state changes, for logs and readiness. */
  onStatus(up: boolean, error?: Error): void;
}

/**
 * One Redis client as the gateway's shared stores (rate limits, the response cache) use it. While
 * disconnected a command fails at once rather than queueing behind a reconnect, and every command gives
 * up after the timeout: each store decides what an unanswered command means (the rate limiter's policy,
 * a cache miss), never a request held up by Redis.
 */
export class RedisConnection {
  readonly commands: RedisClientType;
  private readonly client: RedisClientType;
  private up = false;

  constructor(private readonly options: RedisConnectionOptions) {
    this.client = createClient({
      url: options.url,
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

  /** Connects, waiting at most the timeout: a Redis that is down at start is the store's to handle, not a failed start. */
  async connect(): Promise<void> {
    const connecting = this.client.connect().catch(() => undefined);
    await Promise.race([connecting, new Promise((resolve) => setTimeout(resolve, this.options.timeoutMs).unref())]);
  }

  close(): void {
    this.client.destroy();
  }

  private setUp(up: boolean, error?: Error): void {
    if (up === this.up) return;
    this.up = up;
    this.options.onStatus(up, error);
  }
}
