/**
 * How the platform runs its gateway in front of its own three subgraphs: the settings `npm start`, the
 * test platform and the Kubernetes base (k8s/kustomize/base/config/gateway.env, held to these by
 * tests/platform/service-config.test.ts) share. A bare gateway keeps its documented defaults.
 *
 * - A 15 s deadline for the whole request and 5 s for each fetch: our subgraphs answer in milliseconds,
 *   so 5 s is a broken fetch, and the deadline leaves room for a plan's sequential fetches
 *   (orders, then products and users) and a retry.
 * - Retries on, within the default budget (20% of requests per subgraph over 10 s).
 * - Circuit breakers on, with the defaults (half of the last 10 fetches failed: open for 10 s).
 * - users and products critical: who is asking and what is sold are in nearly every answer, and their
 *   non-null fields would null most of it anyway; a clear 502 beats an answer of nulls. orders optional:
 *   a profile or a catalogue page is still worth answering while order history is down.
 * - Our subgraphs' errors reach clients as written: they are written for clients (BAD_USER_INPUT,
 *   OUT_OF_STOCK with the product), and each subgraph already masks its unexpected errors itself.
 * - Cache-Control merged from our subgraphs' cache hints, and the response cache on (memory here, Redis
 *   in the k8s base): product names and prices are public for a minute, a user's data private to them.
 */
export const PLATFORM_GATEWAY_ENV: Readonly<Record<string, string>> = {
  REQUEST_TIMEOUT: '15s',
  SUBGRAPH_TIMEOUT: '5s',
  SUBGRAPH_RETRY: 'true',
  CIRCUIT_BREAKER: 'true',
  CRITICAL_SUBGRAPHS: 'users,products',
  INCLUDE_SUBGRAPH_ERRORS: 'users,products,orders',
  CACHE_CONTROL: 'true',
  RESPONSE_CACHE: 'true',
};
