import { gcraStep, type ClassLimits } from './gcra';
import { MemoryRateLimitStore } from './memory-store';

const LIMITS: ClassLimits = { name: 'user', requests: { limit: 10, windowMs: 60_000 }, cost: { limit: 100, windowMs: 60_000 } };
const NOW = 1_700_000_000_000;

/** Charges no caller may make: each would refill the budget, poison its state, or lock the client out. */
const NOT_CHARGEABLE = [-1, -100_000, -0.5, -Number.MIN_VALUE, -Infinity, Infinity, NaN];

describe('gcraStep refuses units that are not a finite number, 0 or more', () => {
  it.each(NOT_CHARGEABLE)('%p units of cost or of requests throw a RangeError naming them', (units) => {
    expect(() => gcraStep({ requests: NOW, cost: NOW + 30_000 }, NOW, LIMITS, { requests: 1, cost: units })).toThrow(
      new RangeError(`A rate-limit charge must be a finite number of units, 0 or more; got ${String(units)} cost.`),
    );
    expect(() => gcraStep({ requests: NOW, cost: NOW + 30_000 }, NOW, LIMITS, { requests: units, cost: 0 })).toThrow(
      new RangeError(`A rate-limit charge must be a finite number of units, 0 or more; got ${String(units)} requests.`),
    );
  });

  it('0 and -0 units charge the request budget only (an operation refused as too expensive is charged 0)', () => {
    for (const units of [0, -0]) {
      const { state, outcome } = gcraStep({ requests: 0, cost: NOW + 30_000 }, NOW, LIMITS, { requests: 1, cost: units });
      expect(state).toEqual({ requests: NOW + 6_000, cost: NOW + 30_000 });
      expect(outcome.allowed).toBe(true);
      expect(outcome.cost.remaining).toBe(50);
    }
  });
});

describe('the memory store: a negative charge cannot refill a client\'s cost budget', () => {
  it('after 60 of 100 units, a charge of -100000 throws and leaves the budget as it was: 50 more are refused, 40 fit', async () => {
    const store = new MemoryRateLimitStore(() => NOW);
    try {
      expect((await store.charge('usr_1', LIMITS, { requests: 1, cost: 60 })).cost.remaining).toBe(40);
      for (const units of NOT_CHARGEABLE) await expect(store.charge('usr_1', LIMITS, { requests: 1, cost: units })).rejects.toThrow(RangeError);
      const refused = await store.charge('usr_1', LIMITS, { requests: 1, cost: 50 });
      expect({ allowed: refused.allowed, exceeded: refused.exceeded, remaining: refused.cost.remaining, requests: refused.requests.remaining }).toEqual({
        allowed: false,
        exceeded: ['cost'],
        remaining: 40,
        requests: 9,
      });
      const admitted = await store.charge('usr_1', LIMITS, { requests: 1, cost: 40 });
      expect({ allowed: admitted.allowed, remaining: admitted.cost.remaining, requests: admitted.requests.remaining }).toEqual({ allowed: true, remaining: 0, requests: 8 });
    } finally {
      await store.close();
    }
  });
});
