import { GraphQLError, type ExecutionResult } from 'graphql';
import { DeadlinePassed, type RequestContext } from '../core/context';
import type { SubgraphResponse } from '../core/plugin';
import type { PlannedOperation } from './supergraph-gateway';

/**
 * Client headers that differ between otherwise identical requests without changing the answer: tracing,
 * the request id, and what only the HTTP exchange reads. Every other header is part of what must match,
 * so a header a rule forwards to subgraphs (a cookie, a locale) can never be answered for another value.
 */
const PER_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'x-request-id',
  'traceparent',
  'tracestate',
  'baggage',
  'content-length',
  'connection',
  'keep-alive',
  'accept-encoding',
  'host',
]);

/** What decides an execution's answer: the contract and supergraph served, the planned document, the variables, who asks and how. */
export function executionIdentity(context: RequestContext, planned: PlannedOperation): string {
  const { operation } = planned;
  const { principal } = context;
  const headers = Object.entries(context.http.headers)
    .filter(([name, value]) => value !== undefined && !PER_REQUEST_HEADERS.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    context.contract ?? null,
    operation.served.supergraph.hash,
    planned.queryHash,
    operation.operationName ?? null,
    operation.variables,
    principal.kind,
    principal.id,
    principal.scopes,
    context.http.method,
    headers,
  ]);
}

interface Waiter {
  resolve(result: ExecutionResult): void;
  context: RequestContext;
  onAbort: () => void;
}

interface Flight {
  readonly waiters: Set<Waiter>;
  readonly controller: AbortController;
  /** The execution's subgraph answers, which every waiter's response headers are made from. */
  readonly fetches: SubgraphResponse[];
}

/** What a request that stopped waiting is left with; its client is gone, so nobody reads it. */
const CLIENT_GONE: ExecutionResult = { errors: [new GraphQLError('the client closed the request', { extensions: { code: 'CLIENT_CLOSED_REQUEST' } })] };

/**
 * traffic_shaping.router.dedupe (Hive Router's key): identical queries from the same caller in flight
 * at once share one plan execution. The first request's execution runs under a signal of its own that
 * aborts at the first request's deadline (the earliest) or once every waiting request's client has gone,
 * so one client leaving does not fail the others. Every waiter is given the execution's subgraph answers
 * (their headers make its response headers: Set-Cookie, the merged Cache-Control). Each waiter gets
 * its own copy of the result, taken when it arrives: plugins complete a result in place (authorization
 * puts nulls back), so two requests must never hold the same objects. Mutations are always executed.
 */
export class InflightExecutions {
  private readonly flights = new Map<string, Flight>();

  async execute(context: RequestContext, planned: PlannedOperation, run: (context: RequestContext) => Promise<ExecutionResult>): Promise<ExecutionResult> {
    if (planned.operation.type !== 'query') return run(context);
    const key = executionIdentity(context, planned);
    const flight = this.flights.get(key);
    if (flight) {
      context.answeredBy = 'shared_execution';
      return this.wait(key, flight, context);
    }

    const started: Flight = { waiters: new Set(), controller: new AbortController(), fetches: [] };
    this.flights.set(key, started);
    const answer = this.wait(key, started, context);
    run({ ...context, signal: started.controller.signal, fetches: started.fetches }).then(
      (result) => this.land(key, started, result),
      // The executor answers its own failures with errors; this is only a safety net.
      () => this.land(key, started, { errors: [new GraphQLError('internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] }),
    );
    return answer;
  }

  private wait(key: string, flight: Flight, context: RequestContext): Promise<ExecutionResult> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        context,
        onAbort: () => {
          // A deadline stops the execution, whose answer (what was fetched, with errors) everyone waiting
          // gets: the first request's deadline is the earliest, so no one waits past their own.
          if (context.signal.reason instanceof DeadlinePassed) return flight.controller.abort(context.signal.reason);
          flight.waiters.delete(waiter);
          resolve(CLIENT_GONE);
          if (flight.waiters.size > 0) return;
          // Nobody waits any more: forget it at once, so the next identical request executes afresh.
          if (this.flights.get(key) === flight) this.flights.delete(key);
          flight.controller.abort(context.signal.reason);
        },
      };
      flight.waiters.add(waiter);
      if (context.signal.aborted) return waiter.onAbort();
      context.signal.addEventListener('abort', waiter.onAbort, { once: true });
    });
  }

  private land(key: string, flight: Flight, result: ExecutionResult): void {
    if (this.flights.get(key) === flight) this.flights.delete(key);
    let first = true;
    for (const waiter of flight.waiters) {
      waiter.context.signal.removeEventListener('abort', waiter.onAbort);
      waiter.context.fetches.push(...flight.fetches);
      waiter.resolve(first ? result : copyOf(result));
      first = false;
    }
    flight.waiters.clear();
  }
}

/** A result nobody else holds: its data deep-copied, its lists of errors and extensions new (errors themselves are never changed). */
function copyOf(result: ExecutionResult): ExecutionResult {
  return {
    ...(result.data !== undefined && { data: structuredClone(result.data) }),
    ...(result.errors && { errors: [...result.errors] }),
    ...(result.extensions && { extensions: structuredClone(result.extensions) }),
  };
}
