import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { RequestContext } from '../../context';
import { clientKey } from './client';
import { rateLimitHeader, rateLimitPolicyHeader, retryAfterSeconds } from './headers';
import type { ChargeResult, RateLimiter } from './limiter';

const STAGE = 'admission';

/** The estimated cost of the request's resolved operation (demand control's static estimate). */
export type CostOf = (request: GraphQLRequestContext<RequestContext>) => number;

/**
 * Charges every GraphQL request once to its client's budgets, in one atomic step:
 * - an operation that resolved (parsed, valid, operation chosen) is charged with its estimated cost
 *   right after resolution, before planning, and refused there with 429 RATE_LIMITED;
 * - a request that never got that far (a parse or validation error, an unknown persisted query) is
 *   charged one request and no cost when its response is sent, and answered 429 if it had no room,
 *   so that invalid operations cannot be sent without limit.
 * Every response carries RateLimit-Policy and RateLimit.
 */
export function rateLimitPlugin(limiter: RateLimiter, costOf: CostOf): ApolloServerPlugin<RequestContext> {
  const charges = new WeakMap<RequestContext, ChargeResult>();
  const charge = async (context: RequestContext, cost: number) => {
    const result = await limiter.charge(clientKey(context.principal, context.clientAddress), context.principal, cost);
    charges.set(context, result);
    record(context, result, cost);
    return result;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(request) {
          const refusal = refusalFor(await charge(request.contextValue, costOf(request)));
          if (refusal) throw refusal.error;
        },

        async willSendResponse({ contextValue, response }) {
          let result = charges.get(contextValue);
          if (!result) {
            result = await charge(contextValue, 0);
            const refusal = refusalFor(result);
            if (refusal && response.body.kind === 'single') {
              response.body.singleResult = { errors: [{ message: refusal.error.message, extensions: refusal.extensions }] };
              response.http.status = refusal.status;
              for (const [name, value] of refusal.headers) response.http.headers.set(name, value);
            }
          }
          response.http.headers.set('ratelimit-policy', rateLimitPolicyHeader(result.limits));
          if (result.kind === 'charged') response.http.headers.set('ratelimit', rateLimitHeader(result.outcome));
        },
      };
    },
  };
}

interface Refusal {
  /** Thrown from a plugin hook; Apollo Server takes status and headers from extensions.http. */
  error: GraphQLError;
  /** The same without http, for a response rewritten after the fact. */
  extensions: Record<string, unknown>;
  status: number;
  headers: HeaderMap;
}

function refusal(message: string, extensions: Record<string, unknown>, status: number, headers: [string, string][]): Refusal {
  const http = { status, headers: new HeaderMap(headers) };
  return { error: new GraphQLError(message, { extensions: { ...extensions, http } }), extensions, ...http };
}

function refusalFor(result: ChargeResult): Refusal | null {
  if (result.kind === 'unavailable') {
    return refusal('The rate limiter is unavailable; try again shortly.', { code: 'RATE_LIMIT_UNAVAILABLE' }, 503, [['retry-after', '1']]);
  }
  const { outcome, limits } = result;
  if (outcome.allowed) return null;
  const limit = outcome.exceeded.includes('requests') ? 'requests' : 'cost';
  const budget = limits[limit];
  const retryAfter = retryAfterSeconds(outcome.retryAfterMs);
  const what = limit === 'requests' ? `${budget.limit} requests` : `an estimated cost of ${budget.limit}`;
  return refusal(
    `Rate limit exceeded: the ${limits.name} class allows ${what} per ${budget.windowMs / 1000}s. Retry in ${retryAfter}s.`,
    { code: 'RATE_LIMITED', limit, class: limits.name, retryAfter },
    429,
    [
      ['retry-after', String(retryAfter)],
      ['ratelimit-policy', rateLimitPolicyHeader(limits)],
      ['ratelimit', rateLimitHeader(outcome)],
    ],
  );
}

function record(context: RequestContext, result: ChargeResult, cost: number): void {
  if (result.kind === 'unavailable') {
    context.decisions.push({ stage: STAGE, code: 'RATE_LIMIT_UNAVAILABLE', enforced: true, message: 'Redis did not answer; on_unavailable is fail_closed' });
    return;
  }
  if (result.fallback) {
    context.decisions.push({ stage: STAGE, code: 'RATE_LIMIT_STORE_FALLBACK', enforced: false, message: 'Redis did not answer; limited on this replica\'s memory (fail_open)' });
  }
  if (!result.outcome.allowed) {
    context.decisions.push({
      stage: STAGE,
      code: 'RATE_LIMITED',
      enforced: true,
      message: `${result.outcome.exceeded.join(' and ')} budget of class ${result.limits.name} exhausted`,
      details: { class: result.limits.name, exceeded: result.outcome.exceeded, cost, retryAfterMs: Math.ceil(result.outcome.retryAfterMs) },
    });
  }
}
