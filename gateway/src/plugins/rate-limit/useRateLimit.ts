import type { Attributes, Meter } from '@opentelemetry/api';
import type { Logger } from '@switchyard/service-kit';
import type { RequestContext } from '../../core/context';
import { Refusal, type GatewayPlugin } from '../../core/plugin';
import { clientKey } from './client';
import type { RateLimitConfig } from './config';
import type { ChargeUnits } from './gcra';
import { rateLimitHeader, rateLimitPolicyHeader, retryAfterSeconds } from './headers';
import { RateLimiter, type ChargeResult } from './limiter';

const ONE_REQUEST: ChargeUnits = { requests: 1, cost: 0 };

/**
 * Per-client budgets of requests and estimated cost (rate_limit; Router has no per-client limit), charged
 * in two atomic steps:
 * - one request when it arrives, after identity and before its body is read as GraphQL, so a client over
 *   its budget costs no parsing; a request identity refused is charged to its address when answered, so
 *   bad credentials cannot be tried without limit;
 * - its estimated cost once demand control has estimated the operation that will run (listed after it).
 * Over either budget: 429 RATE_LIMITED with Retry-After. Every answer carries RateLimit-Policy and RateLimit.
 */
export async function useRateLimit(config: RateLimitConfig, options: { logger: Logger; meter?: Meter; now?: () => number }): Promise<GatewayPlugin> {
  const limiter = await RateLimiter.create(config, options.logger, options.now);
  if (options.meter) observeStore(options.meter, limiter);
  const charged = new WeakSet<RequestContext>();

  async function charge(context: RequestContext, units: ChargeUnits): Promise<void> {
    charged.add(context);
    const result = await limiter.charge(clientKey(context.principal, context.http.clientAddress), context.principal, units);
    record(context, result, units.cost);
    context.responseHeaders['ratelimit-policy'] = rateLimitPolicyHeader(result.limits);
    if (result.kind === 'charged') context.responseHeaders.ratelimit = rateLimitHeader(result.outcome);
    const refusal = refusalFor(result);
    if (refusal) throw refusal;
  }

  return {
    name: 'rate_limit',
    stage: 'admission',
    onRequest: (context) => charge(context, ONE_REQUEST),
    async beforePlanning(context) {
      const cost = context.cost?.result === 'COST_OK' ? context.cost.estimated : 0;
      if (cost > 0) await charge(context, { requests: 0, cost });
    },
    async onResponse(context) {
      if (!charged.has(context)) await charge(context, ONE_REQUEST);
    },
    readiness: () => ({ rate_limit: limiter.status() }),
    dispose: () => limiter.close(),
  };
}

/** switchyard.rate_limit.store.up{store}: 1 while the rate limiter's store answers, 0 while it does not. */
function observeStore(meter: Meter, limiter: RateLimiter): void {
  const byStore = new Map<string, Attributes>();
  meter
    .createObservableGauge('switchyard.rate_limit.store.up', { description: 'Whether the rate-limit store (memory or Redis) answers: 1 up, 0 down.' })
    .addCallback((result) => {
      const { store, status } = limiter.status();
      let attributes = byStore.get(store);
      if (!attributes) byStore.set(store, (attributes = { store }));
      result.observe(status === 'up' ? 1 : 0, attributes);
    });
}
function refusalFor(result: ChargeResult): Refusal | undefined {
  if (result.kind === 'unavailable') {
    return new Refusal(503, 'RATE_LIMIT_UNAVAILABLE', 'The rate limiter is unavailable; try again shortly.', { headers: { 'retry-after': '1' } });
  }
  const { outcome, limits } = result;
  if (outcome.allowed) return undefined;
  const limit = outcome.exceeded.includes('requests') ? 'requests' : 'cost';
  const budget = limits[limit];
  const retryAfter = retryAfterSeconds(outcome.retryAfterMs);
  const what = limit === 'requests' ? `${budget.limit} requests` : `an estimated cost of ${budget.limit}`;
  return new Refusal(429, 'RATE_LIMITED', `Rate limit exceeded: the ${limits.name} class allows ${what} per ${budget.windowMs / 1000}s. Retry in ${retryAfter}s.`, {
    extensions: { limit, class: limits.name, retryAfter },
    headers: { 'retry-after': String(retryAfter) },
  });
}

/** Decisions that are not the refusal itself (the core records that): a fallback to memory. */
function record(context: RequestContext, result: ChargeResult, cost: number): void {
  if (result.kind === 'charged' && result.fallback) {
    context.decisions.push({ stage: 'admission', code: 'RATE_LIMIT_STORE_FALLBACK', enforced: false, message: 'Redis did not answer; limited on this replica\'s memory (fail_open)' });
  }
  if (result.kind === 'charged' && !result.outcome.allowed) {
    context.logger.info({ class: result.limits.name, exceeded: result.outcome.exceeded, cost, retryAfterMs: Math.ceil(result.outcome.retryAfterMs) }, 'rate limited');
  }
}
