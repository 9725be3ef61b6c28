/**
 * The generic cell rate algorithm (GCRA) over two budgets per client, requests and estimated cost,
 * charged together: a request goes through only when both budgets have room, and then both are charged.
 * Each budget's state is one number, its theoretical arrival time (TAT, epoch ms): the moment the budget
 * would be full again. A budget of `limit` units per `windowMs` refills one unit every windowMs / limit
 * and holds at most `limit` units, so a client may burst the whole budget and then goes at the refill rate.
 *
 * redis-store.ts runs the same step in Lua; the two must agree on every number.
 */

export type BudgetName = 'requests' | 'cost';

export interface Budget {
  /** Units per window. */
  limit: number;
  windowMs: number;
}

export interface ClassLimits {
  /** The class's name, for headers and errors. */
  name: string;
  requests: Budget;
  cost: Budget;
}

/** The TATs the store keeps per client; 0 when the client was never seen (or its state expired). */
export interface GcraState {
  requests: number;
  cost: number;
}

export interface BudgetStanding {
  limit: number;
  windowMs: number;
  /** Units left after this request. */
  remaining: number;
  /** Milliseconds until the budget is full again. */
  resetMs: number;
}

export interface GcraOutcome {
  allowed: boolean;
  /** The budgets that had no room; empty when allowed. */
  exceeded: BudgetName[];
  /** When refused, milliseconds until both budgets have room for this request. */
  retryAfterMs: number;
  requests: BudgetStanding;
  cost: BudgetStanding;
}

/**
 * What one charge takes from each budget. A request is charged when it arrives (one request, before its
 * body is read) and again once its cost is known (that cost, no request).
 */
export interface ChargeUnits {
  requests: number;
  cost: number;
}

/**
 * A charge is a finite number of units, 0 or more, in each budget. Fewer than 0 would move the TAT back
 * and refill the budget (one request charged -100000 would undo a hundred thousand units of others), NaN
 * would poison the stored TAT and Infinity lock the client out for good: a caller that computes one has a
 * bug, and it is thrown, never charged.
 */
export function assertChargeableUnits(units: ChargeUnits): void {
  for (const [budget, value] of Object.entries(units)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`A rate-limit charge must be a finite number of units, 0 or more; got ${String(value)} ${budget}.`);
    }
  }
}

/** One atomic step: the new state (unchanged when refused) and what the client is told. */
export function gcraStep(state: GcraState, now: number, limits: ClassLimits, units: ChargeUnits): { state: GcraState; outcome: GcraOutcome } {
  assertChargeableUnits(units);
  const requests = budgetStep(state.requests, now, limits.requests, units.requests);
  const costs = budgetStep(state.cost, now, limits.cost, units.cost);
  const allowed = requests.fits && costs.fits;
  const tats = allowed ? { requests: requests.newTat, cost: costs.newTat } : { requests: requests.tat, cost: costs.tat };
  return { state: tats, outcome: outcomeFrom(allowed, tats, now, limits, { requests: requests.retryAfterMs, cost: costs.retryAfterMs }) };
}

/**
 * What the client is told, from the TATs after the step: shared by the memory store and the Redis store
 * (whose script returns the TATs' offsets from its clock).
 */
export function outcomeFrom(
  allowed: boolean,
  tats: GcraState,
  now: number,
  limits: ClassLimits,
  retryAfterMs: Record<BudgetName, number>,
): GcraOutcome {
  const exceeded = allowed ? [] : (['requests', 'cost'] as const).filter((budget) => retryAfterMs[budget] > 0);
  return {
    allowed,
    exceeded,
    retryAfterMs: allowed ? 0 : Math.max(retryAfterMs.requests, retryAfterMs.cost),
    requests: standing(tats.requests, now, limits.requests),
    cost: standing(tats.cost, now, limits.cost),
  };
}

interface BudgetStep {
  fits: boolean;
  /** The TAT before this charge, never in the past. */
  tat: number;
  newTat: number;
  /** 0 when it fits. */
  retryAfterMs: number;
}

function budgetStep(storedTat: number, now: number, budget: Budget, units: number): BudgetStep {
  const interval = budget.windowMs / budget.limit;
  const tat = Math.max(storedTat, now);
  const newTat = tat + units * interval;
  const fits = newTat - now <= budget.windowMs;
  return { fits, tat, newTat, retryAfterMs: fits ? 0 : newTat - budget.windowMs - now };
}

function standing(tat: number, now: number, budget: Budget): BudgetStanding {
  const used = Math.max(tat - now, 0);
  const interval = budget.windowMs / budget.limit;
  // The epsilon absorbs float error (7 units of 60000/7 ms are not exactly 60000 ms).
  return { limit: budget.limit, windowMs: budget.windowMs, remaining: Math.max(Math.floor((budget.windowMs - used) / interval + 1e-9), 0), resetMs: used };
}
