import type { Logger, Principal } from '@switchyard/service-kit';
import type { RateLimitConfig, RateLimitClassConfig } from './config';
import { assertChargeableUnits, type ChargeUnits, type ClassLimits, type GcraOutcome } from './gcra';
import { MemoryRateLimitStore } from './memory-store';
import { RedisRateLimitStore } from './redis-store';

export type ChargeResult =
  | { kind: 'charged'; limits: ClassLimits; outcome: GcraOutcome; store: 'memory' | 'redis'; fallback: boolean }
  /** Redis did not answer and the policy is fail_closed. */
  | { kind: 'unavailable'; limits: ClassLimits };

export interface RateLimitStatus {
  store: 'memory' | 'redis';
  status: 'up' | 'down';
  on_unavailable?: 'fail_open' | 'fail_closed';
}

/**
 * Per-client budgets: picks the client's class, charges the store, and when Redis does not answer
 * applies rate_limit.redis.on_unavailable (this replica's memory, or refusal), saying so in the logs
 * once per change and in status() for /readyz.
 */
export class RateLimiter {
  private readonly classes: Map<string, ClassLimits>;
  private readonly memory: MemoryRateLimitStore;
  private readonly redis?: RedisRateLimitStore;

  private constructor(
    private readonly config: RateLimitConfig,
    private readonly logger: Logger,
    now: () => number,
  ) {
    this.memory = new MemoryRateLimitStore(now);
    this.classes = new Map(Object.entries(config.classes).map(([name, c]) => [name, classLimits(name, c)]));
    if (config.store === 'redis') {
      const policy = config.redis.on_unavailable;
      this.redis = new RedisRateLimitStore({
        url: config.redis.url,
        timeoutMs: config.redis.timeout,
        keyPrefix: config.redis.key_prefix,
        onStatus: (up, error) => {
          if (up) logger.info({ store: 'redis' }, 'rate limit store: Redis is up');
          else logger.error({ store: 'redis', on_unavailable: policy, error: error?.message }, `rate limit store: Redis is down, ${policy === 'fail_open' ? 'limiting on this replica\'s memory' : 'refusing requests'}`);
        },
      });
    }
  }

  static async create(config: RateLimitConfig, logger: Logger, now: () => number = Date.now): Promise<RateLimiter> {
    const limiter = new RateLimiter(config, logger, now);
    if (limiter.redis) {
      await limiter.redis.connect();
      if (!limiter.redis.isUp) {
        logger.error({ store: 'redis', on_unavailable: config.redis.on_unavailable }, 'rate limit store: Redis is not reachable at start');
      }
    }
    return limiter;
  }

  classFor(principal: Principal): ClassLimits {
    if (principal.kind === 'anonymous') return this.classes.get('anonymous')!;
    if (principal.rateLimitClass && this.classes.has(principal.rateLimitClass)) return this.classes.get(principal.rateLimitClass)!;
    const scoped = principal.scopes.find((scope) => Object.hasOwn(this.config.scope_classes, scope));
    return this.classes.get(scoped ? this.config.scope_classes[scoped]! : 'user')!;
  }

  async charge(client: string, principal: Principal, units: ChargeUnits): Promise<ChargeResult> {
    // Before the stores: a bad charge is a bug to throw, not Redis being unavailable.
    assertChargeableUnits(units);
    const limits = this.classFor(principal);
    if (!this.redis) return { kind: 'charged', limits, outcome: this.memory.chargeNow(client, limits, units), store: 'memory', fallback: false };
    try {
      return { kind: 'charged', limits, outcome: await this.redis.charge(client, limits, units), store: 'redis', fallback: false };
    } catch (err) {
      // A connection that drops is logged by the store's status change; a charge that times out on a live one is logged here.
      if (this.redis.isUp) this.logger.warn({ store: 'redis', error: (err as Error).message }, 'rate limit charge failed');
      if (this.config.redis.on_unavailable === 'fail_closed') return { kind: 'unavailable', limits };
      return { kind: 'charged', limits, outcome: this.memory.chargeNow(client, limits, units), store: 'memory', fallback: true };
    }
  }

  status(): RateLimitStatus {
    if (!this.redis) return { store: 'memory', status: 'up' };
    return { store: 'redis', status: this.redis.isUp ? 'up' : 'down', on_unavailable: this.config.redis.on_unavailable };
  }

  async close(): Promise<void> {
    await Promise.all([this.memory.close(), this.redis?.close()]);
  }
}

function classLimits(name: string, config: RateLimitClassConfig): ClassLimits {
  return { name, requests: { limit: config.requests, windowMs: config.window }, cost: { limit: config.cost, windowMs: config.window } };
}
