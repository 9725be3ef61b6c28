import type { BudgetStanding, ClassLimits, GcraOutcome } from './gcra';

/*
 * The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10): RateLimit-Policy states each
 * quota (q units per w seconds), RateLimit what is left of it (r) and seconds until it is full (t).
 * The request budget uses the registered "request" unit; estimated cost has no registered unit, so
 * its policy says what it counts in a parameter of ours (vendor-prefixed, as the draft asks).
 */

const seconds = (ms: number) => Math.ceil(ms / 1000);

export function rateLimitPolicyHeader(limits: ClassLimits): string {
  const window = seconds(limits.requests.windowMs);
  return `"requests";q=${limits.requests.limit};qu="request";w=${window}, "cost";q=${limits.cost.limit};w=${seconds(limits.cost.windowMs)};switchyard-unit="estimated-cost"`;
}

export function rateLimitHeader(outcome: GcraOutcome): string {
  const item = (name: string, standing: BudgetStanding) => `"${name}";r=${standing.remaining};t=${seconds(standing.resetMs)}`;
  return `${item('requests', outcome.requests)}, ${item('cost', outcome.cost)}`;
}

/** Whole seconds, at least 1: Retry-After: 0 would invite an immediate retry that is refused again. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(seconds(ms), 1);
}
