import type { Counter, Meter } from '@opentelemetry/api';
import type { RetryConfig } from './config';
import type { FetchFailure } from './subgraph-http-client';

/** Failures after which the same query may well succeed: no answer at all, or an answer saying "not now". */
const RETRYABLE_FAILURES: ReadonlySet<string> = new Set(['timeout', 'connection_refused', 'connection_reset', '502', '503', '504']);

/** The budget's window is counted in this many slices, each forgotten whole as it slides out. */
const BUDGET_SLICES = 10;

/**
 * Retries one subgraph may still get: at most `ratio` of its requests over the sliding window, plus
 * `min_per_second` for each second of it. Under a full outage every request fails and every retry is
 * refused once the budget is spent, so the load on the subgraph is at most (1 + ratio) times the requests
 * (plus the small floor), however many attempts the policy allows.
 */
export class RetryBudget {
  private readonly sliceMs: number;
  private readonly requests = new Array<number>(BUDGET_SLICES).fill(0);
  private readonly retries = new Array<number>(BUDGET_SLICES).fill(0);
  private slice = 0;
  private readonly floor: number;

  constructor(
    private readonly config: RetryConfig['budget'],
    private readonly now: () => number,
  ) {
    this.sliceMs = config.window / BUDGET_SLICES;
    this.floor = (config.min_per_second * config.window) / 1000;
    this.slice = Math.floor(now() / this.sliceMs);
  }

  /** A request to the subgraph (its first attempt): each one earns `ratio` of a retry. */
  recordRequest(): void {
    this.requests[this.advance()]! += 1;
  }

  /** Takes one retry from the budget, or says none is left. */
  tryRetry(): boolean {
    const current = this.advance();
    const requests = this.requests.reduce((a, b) => a + b, 0);
    const retries = this.retries.reduce((a, b) => a + b, 0);
    if (retries + 1 > this.config.ratio * requests + this.floor) return false;
    this.retries[current]! += 1;
    return true;
  }

  /** Forgets the slices the window slid past; returns the current one's index. */
  private advance(): number {
    const slice = Math.floor(this.now() / this.sliceMs);
    for (let s = Math.max(this.slice + 1, slice - BUDGET_SLICES + 1); s <= slice; s++) {
      this.requests[s % BUDGET_SLICES] = 0;
      this.retries[s % BUDGET_SLICES] = 0;
    }
    this.slice = Math.max(this.slice, slice);
    return this.slice % BUDGET_SLICES;
  }
}

export type RetryOutcome = 'sent' | 'budget_exhausted';

export interface RetryClock {
  now(): number;
  /** A number in [0, 1), for the jitter. */
  random(): number;
}

/**
 * When to retry one subgraph's queries (traffic_shaping.all|subgraphs.<name>.retry). The caller re-sends
 * the request prepared afresh (a new signature), waiting the delay this returns.
 */
export class RetryPolicy {
  constructor(
    readonly subgraph: string,
    private readonly config: RetryConfig,
    readonly budget: RetryBudget,
    private readonly clock: RetryClock,
    private readonly counted?: (subgraph: string, outcome: RetryOutcome) => void,
  ) {}

  get enabled(): boolean {
    return this.config.enabled;
  }

  /**
   * The wait before attempt `attempts + 1`, after `attempts` failed with `failure`; undefined means give
   * up: the failure is not one a retry can fix, attempts are used up, the Retry-After asks for longer
   * than max_delay, the wait would reach the deadline, or the budget is spent.
   */
  delayBefore(attempts: number, failure: FetchFailure, deadline: number): number | undefined {
    if (!this.config.enabled || attempts >= this.config.max_attempts || !RETRYABLE_FAILURES.has(failure.type)) return undefined;
    const now = this.clock.now();
    // Full jitter: anywhere between 0 and the exponential cap, so clients failing together retry apart.
    const cap = Math.min(this.config.max_delay, this.config.min_delay * 2 ** (attempts - 1));
    let delay = this.clock.random() * cap;
    const asked = failure.retryAfter === undefined ? undefined : retryAfterMs(failure.retryAfter, now);
    if (asked !== undefined) {
      // Coming back sooner than asked would not honour it; waiting longer than max_delay is not worth it.
      if (asked > this.config.max_delay) return undefined;
      delay = Math.max(delay, asked);
    }
    if (now + delay >= deadline) return undefined;
    if (!this.budget.tryRetry()) {
      this.counted?.(this.subgraph, 'budget_exhausted');
      return undefined;
    }
    this.counted?.(this.subgraph, 'sent');
    return delay;
  }
}

/** The HTTP date form, `Wed, 21 Oct 2015 07:28:00 GMT`: Date.parse alone would take "-1" for a year. */
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** Retry-After in milliseconds from now: delay-seconds or an HTTP date; undefined when it is neither. */
export function retryAfterMs(value: string, now: number): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!IMF_FIXDATE.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** switchyard.subgraph.retries{subgraph.name, outcome}: retries sent, and retries the budget refused. */
export function retryCounter(meter: Meter): (subgraph: string, outcome: RetryOutcome) => void {
  const counter: Counter = meter.createCounter('switchyard.subgraph.retries', {
    unit: '{retry}',
    description: 'Subgraph query retries, by subgraph and outcome: sent, or budget_exhausted (refused by the retry budget).',
  });
  const attributes = new Map<string, { 'subgraph.name': string; outcome: RetryOutcome }>();
  return (subgraph, outcome) => {
    const key = `${subgraph}\u0000${outcome}`;
    let found = attributes.get(key);
    if (!found) attributes.set(key, (found = { 'subgraph.name': subgraph, outcome }));
    counter.add(1, found);
  };
}
