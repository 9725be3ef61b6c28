import { PRINCIPAL_HEADERS } from '@switchyard/service-kit';
import type { SubgraphResponse } from '../core/plugin';
import { FETCH_FAILURES, SubgraphFetchError, type SubgraphCall, type SubgraphFetched, type SubgraphHttpClient } from './subgraph-http-client';

/**
 * Headers that differ on every fetch without changing what the subgraph answers: the request id and the
 * identity signature (a timestamp and a MAC over the request id). Everything else a fetch carries (the
 * principal's kind, id and scopes, any header a rule forwards) is part of what must match, so two
 * principals never share an answer.
 */
const PER_FETCH_HEADERS: ReadonlySet<string> = new Set([PRINCIPAL_HEADERS.requestId, PRINCIPAL_HEADERS.signature]);

/** What identifies a fetch's answer: where it goes, what it says and who asks. */
export function fetchIdentity(call: SubgraphCall): string {
  const headers = Object.entries(call.headers)
    .filter(([name]) => !PER_FETCH_HEADERS.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([call.url, headers, call.body]);
}

interface Waiter {
  resolve(body: unknown): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Flight {
  readonly waiters: Set<Waiter>;
  readonly controller: AbortController;
  /** What the fetch sent came to (status, headers), which each request that shared it is told too. */
  outcome?: SubgraphResponse;
}

/**
 * traffic_shaping.all.deduplicate_query: identical subgraph queries in flight share one HTTP exchange.
 * The first is sent, signed for its own request as always; the others wait for its answer instead of
 * sending theirs, so the subgraph sees one request and no signature is reused or replayed. Only fetches
 * the data source marks `shareable` (queries of a subgraph with deduplication on) take part.
 *
 * The first waiter gets the parsed answer itself and every other a structured clone, taken as it
 * arrives: Apollo's executor merges entities into the objects it is given, so executions must never share
 * them. A waiter whose own client goes away stops waiting; the exchange is cancelled only once no one
 * waits for it. The exchange sent is reported to the plugins by the client that sent it; each other
 * waiter is reported as `shared`, with the sent one's status and headers (Set-Cookie and Cache-Control
 * rules read them), when it stops waiting, so every prepared fetch (a circuit breaker's admitted trial,
 * say) gets exactly one outcome.
 */
export function deduplicateInflight(client: SubgraphHttpClient, fetched?: SubgraphFetched): SubgraphHttpClient {
  const flights = new Map<string, Flight>();
  // A flight everyone left is forgotten at once, so a fetch that comes next is sent afresh, not joined to a cancelled one.
  const land = (key: string, flight: Flight) => {
    if (flights.get(key) === flight) flights.delete(key);
  };

  const send = (key: string, call: SubgraphCall, flight: Flight) => {
    flights.set(key, flight);
    const observe = (response: SubgraphResponse) => {
      flight.outcome = response;
      call.observe?.(response);
    };
    client.post({ ...call, signal: flight.controller.signal, observe }).then(
      (body) => {
        land(key, flight);
        let first = true;
        for (const waiter of settle(flight)) {
          waiter.resolve(first ? body : structuredClone(body));
          first = false;
        }
      },
      (err) => {
        land(key, flight);
        for (const waiter of settle(flight)) waiter.reject(err);
      },
    );
  };

  return {
    post(call) {
      if (!call.shareable || call.probe) return client.post(call);
      if (call.signal?.aborted) return Promise.reject(new SubgraphFetchError(call.subgraph, FETCH_FAILURES.cancelled));
      const key = fetchIdentity(call);
      let flight = flights.get(key);
      const leads = flight === undefined;
      flight ??= { waiters: new Set(), controller: new AbortController() };
      const joined = flight;
      const start = performance.now();
      const answer = new Promise<unknown>((resolve, reject) => {
        const waiter: Waiter = { resolve, reject, signal: call.signal };
        if (call.signal) {
          waiter.onAbort = () => {
            joined.waiters.delete(waiter);
            reject(new SubgraphFetchError(call.subgraph, FETCH_FAILURES.cancelled));
            if (joined.waiters.size === 0) {
              land(key, joined);
              joined.controller.abort();
            }
          };
          call.signal.addEventListener('abort', waiter.onAbort, { once: true });
        }
        joined.waiters.add(waiter);
      });
      if (leads) send(key, call, joined);
      else if (fetched || call.observe) {
        // Told the sent fetch's outcome (its status and headers feed this request's response headers), or,
        // for a request that stopped waiting first, that it was cancelled.
        const shared = () => {
          const { status, errorType, headers } = joined.outcome ?? { errorType: FETCH_FAILURES.cancelled.type };
          const response: SubgraphResponse = { subgraph: call.subgraph, seconds: (performance.now() - start) / 1000, status, errorType, headers, shared: true };
          call.observe?.(response);
          fetched?.(call.context, response);
        };
        answer.then(shared, shared);
      }
      return answer;
    },
    close: () => client.close(),
  };
}

/** The flight's waiters, no longer listening for their clients going away. */
function settle(flight: Flight): Waiter[] {
  const waiters = [...flight.waiters];
  flight.waiters.clear();
  for (const waiter of waiters) if (waiter.onAbort) waiter.signal!.removeEventListener('abort', waiter.onAbort);
  return waiters;
}
