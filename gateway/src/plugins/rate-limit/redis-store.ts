import { createHash } from 'node:crypto';
import { RedisConnection, type RedisConnectionOptions } from '../../redis/redis-connection';
import { assertChargeableUnits, outcomeFrom, type ChargeUnits, type ClassLimits, type GcraOutcome } from './gcra';
import type { RateLimitStore } from './store';

/**
 * gcra.ts's step in Lua, so that every replica charges one shared state in one round trip, atomically
 * (Redis runs a script without interleaving). The clock is Redis's, so replicas' clock skew does not
 * matter. TATs are kept to the microsecond; the reply is their offsets from now and each budget's
 * retry-after, as decimal strings (Redis would truncate Lua numbers to integers). Like gcraStep, it
 * refuses a charge that is not a finite number of units, 0 or more, before it reads or writes anything
 * (`units ~= units` is NaN; Lua's tonumber reads "inf", "nan" and "1e999" too).
 */
export const GCRA_SCRIPT = `
local cost, requests = tonumber(ARGV[5]), tonumber(ARGV[6])
for _, units in ipairs({ cost or -1, requests or -1 }) do
  if units ~= units or units < 0 or units == math.huge then
    return redis.error_reply('ERR gcra: the charge must be a finite number of units, 0 or more')
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'r', 'c')
local function step(stored, limit, window, units)
  local tat = math.max(tonumber(stored) or 0, now)
  local new_tat = tat + units * (window / limit)
  if new_tat - now <= window then return true, tat, new_tat, 0 end
  return false, tat, new_tat, new_tat - window - now
end
local r_fits, r_tat, r_new, r_retry = step(state[1], tonumber(ARGV[1]), tonumber(ARGV[2]), requests)
local c_fits, c_tat, c_new, c_retry = step(state[2], tonumber(ARGV[3]), tonumber(ARGV[4]), cost)
local allowed = r_fits and c_fits
if allowed then
  r_tat, c_tat = r_new, c_new
  redis.call('HSET', KEYS[1], 'r', string.format('%.3f', r_new), 'c', string.format('%.3f', c_new))
  redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(r_new, c_new) - now) + 1)
end
local function ms(x) return string.format('%.3f', x) end
return { allowed and 1 or 0, ms(r_tat - now), ms(c_tat - now), ms(r_retry), ms(c_retry) }
`;
const GCRA_SHA = createHash('sha1').update(GCRA_SCRIPT).digest('hex');

export interface RedisStoreOptions extends RedisConnectionOptions {
  keyPrefix: string;
}

/** Shared by every gateway replica. Throws when Redis does not answer; the limiter applies the policy. */
export class RedisRateLimitStore implements RateLimitStore {
  readonly kind = 'redis';
  private readonly redis: RedisConnection;

  constructor(private readonly options: RedisStoreOptions) {
    this.redis = new RedisConnection(options);
  }

  get isUp(): boolean {
    return this.redis.isUp;
  }

  connect(): Promise<void> {
    return this.redis.connect();
  }

  async charge(client: string, limits: ClassLimits, units: ChargeUnits): Promise<GcraOutcome> {
    assertChargeableUnits(units);
    const options = {
      keys: [`${this.options.keyPrefix}${limits.name}:${client}`],
      arguments: [limits.requests.limit, limits.requests.windowMs, limits.cost.limit, limits.cost.windowMs, units.cost, units.requests].map(String),
    };
    let reply: unknown;
    try {
      reply = await this.redis.commands.evalSha(GCRA_SHA, options);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      // First use on this Redis (or after a restart): EVAL sends the script once and caches it.
      reply = await this.redis.commands.eval(GCRA_SCRIPT, options);
    }
    const [allowed, requestsTat, costTat, requestsRetry, costRetry] = reply as [number, string, string, string, string];
    return outcomeFrom(allowed === 1, { requests: Number(requestsTat), cost: Number(costTat) }, 0, limits, {
      requests: Number(requestsRetry),
      cost: Number(costRetry),
    });
  }

  async close(): Promise<void> {
    this.redis.close();
  }
}
