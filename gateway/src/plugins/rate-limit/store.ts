import type { ChargeUnits, ClassLimits, GcraOutcome } from './gcra';

/** Where the per-client GCRA state lives; each charge is one atomic step. */
export interface RateLimitStore {
  readonly kind: 'memory' | 'redis';
  /** Charges these units to the client's budgets, or refuses them and charges nothing. */
  charge(client: string, limits: ClassLimits, units: ChargeUnits): Promise<GcraOutcome>;
  close(): Promise<void>;
}
