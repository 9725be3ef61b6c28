import { gcraStep, type ChargeUnits, type ClassLimits, type GcraOutcome, type GcraState } from './gcra';
import type { RateLimitStore } from './store';

/** How often clients whose budgets are full again are forgotten. */
const SWEEP_INTERVAL_MS = 60_000;

/** Per process: each replica limits on its own. JavaScript runs the step without interleaving, so it is atomic. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly kind = 'memory';
  private readonly states = new Map<string, GcraState>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  async charge(client: string, limits: ClassLimits, units: ChargeUnits): Promise<GcraOutcome> {
    return this.chargeNow(client, limits, units);
  }

  chargeNow(client: string, limits: ClassLimits, units: ChargeUnits): GcraOutcome {
    const key = `${limits.name}:${client}`;
    const { state, outcome } = gcraStep(this.states.get(key) ?? { requests: 0, cost: 0 }, this.now(), limits, units);
    this.states.set(key, state);
    return outcome;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.states.clear();
  }

  /** A client whose TATs are both past has full budgets, the same as one never seen. */
  private sweep(): void {
    const now = this.now();
    for (const [key, state] of this.states) {
      if (state.requests <= now && state.cost <= now) this.states.delete(key);
    }
  }
}
