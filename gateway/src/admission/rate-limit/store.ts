import type { ClassLimits, GcraOutcome } from './gcra';

/** Where the per-client GCRA state lives; each charge is one atomic step. */
export interface RateLimitStore {
  readonly kind: 'memory' | 'redis';
  /** Charges one request of this estimated cost to the client's budgets, or refuses it and charges nothing. */
  charge(client: string, limits: ClassLimits, cost: number): Promise<GcraOutcome>;
  close(): Promise<void>;
}
