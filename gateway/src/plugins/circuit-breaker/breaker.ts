import type { CircuitBreakerConfig } from './config';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
  /** Failures among the outcomes that decided it (closed to open), or why it changed. */
  reason: string;
}

/**
 * One subgraph's circuit breaker, a three-state machine on counted outcomes (as Hive Router's):
 * - closed: fetches go through; the last volume_threshold outcomes are kept, and once that many are in and
 *   the failed share reaches error_threshold, it opens;
 * - open: every fetch is rejected without a call, until reset_timeout has passed on the clock;
 * - half-open: up to half_open_attempts trial fetches go through; that many successes close it, one
 *   failure opens it again for another reset_timeout.
 * Time moves only when it is read (the injected clock), so no timer runs.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private changedAt: number;
  /** Closed: the last outcomes, true for a failure, as a ring. */
  private readonly outcomes: boolean[] = [];
  private next = 0;
  private failures = 0;
  /** Half-open: trial fetches let through, and how many of them succeeded. */
  private trials = 0;
  private successes = 0;

  constructor(
    private readonly config: CircuitBreakerConfig,
    private readonly now: () => number,
    private readonly changed: (transition: BreakerTransition) => void,
  ) {
    this.changedAt = now();
  }

  /** The state now: an open breaker whose reset_timeout has passed is half-open. */
  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.changedAt >= this.config.reset_timeout) this.become('half_open', `reset_timeout (${this.config.reset_timeout} ms) passed`);
    return this.current;
  }

  /** When the state last changed (epoch ms). */
  get since(): number {
    return this.changedAt;
  }

  /** Whether a fetch may be sent now; a half-open breaker counts it as a trial. */
  admit(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trials >= this.config.half_open_attempts) return false;
    this.trials += 1;
    return true;
  }

  /** What a fetch came to: failed (the subgraph is unhealthy), succeeded, or undefined (cancelled by the client: says nothing). */
  record(failed: boolean | undefined): void {
    const state = this.state;
    if (state === 'open') return;
    if (state === 'half_open') {
      if (failed === undefined) this.trials = Math.max(0, this.trials - 1);
      else if (failed) this.become('open', 'a trial fetch failed');
      else if (++this.successes >= this.config.half_open_attempts) this.become('closed', `${this.successes} trial fetches succeeded`);
      return;
    }
    if (failed === undefined) return;
    const volume = this.config.volume_threshold;
    if (this.outcomes.length < volume) this.outcomes.push(failed);
    else {
      if (this.outcomes[this.next]) this.failures -= 1;
      this.outcomes[this.next] = failed;
    }
    this.next = (this.next + 1) % volume;
    if (failed) this.failures += 1;
    if (this.outcomes.length === volume && this.failures / volume >= this.config.error_threshold) {
      this.become('open', `${this.failures} of the last ${volume} fetches failed`);
    }
  }

  private become(to: BreakerState, reason: string): void {
    const from = this.current;
    this.current = to;
    this.changedAt = this.now();
    this.outcomes.length = 0;
    this.next = 0;
    this.failures = 0;
    this.trials = 0;
    this.successes = 0;
    this.changed({ from, to, reason });
  }
}
