import { signedHeaders } from './subgraph-requests';
import type { Platform } from './platform';

/**
 * What the hostile-input suites (tests/hostile/) share: one way to send anything to the gateway, one
 * check that an answer gives nothing away, and the proof, after each category, that every service still
 * answers and that no data changed.
 */

/** The outcome a case must have: the HTTP status and every error's extensions.code, in order ([] for none). */
export interface Outcome {
  status: number;
  codes: string[];
  /** The whole `data`, where it is worth pinning. */
  data?: unknown;
}

export interface Answer {
  status: number;
  headers: Headers;
  /** The body exactly as received, for the leak check. */
  text: string;
  /** The body read as JSON; undefined when it is not JSON. */
  body: any;
}

/** Sends any request to the gateway's GraphQL endpoint: a body of any bytes, any headers, any method. */
export async function sendToGateway(platform: Platform, request: { method?: string; headers?: Record<string, string>; body?: string | Buffer; search?: string }): Promise<Answer> {
  const url = `${platform.gateway.graphqlUrl}${request.search ?? ''}`;
  // A Buffer is sent as its bytes; fetch's types name only the views it accepts.
  const res = await fetch(url, { method: request.method ?? 'POST', headers: request.headers, body: request.body as BodyInit | undefined });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** A GraphQL POST with a JSON body, as a client library sends it, plus any headers. */
export function postGraphql(platform: Platform, params: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  return sendToGateway(platform, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(params) });
}

/** The outcome an answer had, in the shape of the tables' expectations. */
export function outcomeOf(answer: Answer, withData = false): Outcome {
  const codes = ((answer.body?.errors ?? []) as { extensions?: { code?: string } }[]).map((e) => e.extensions?.code ?? '(no code)');
  return { status: answer.status, codes, ...(withData && { data: answer.body?.data }) };
}

/**
 * What an answer must never show a client: a stack frame, a source file or a path on the server, or an
 * address inside the deployment (loopback, the subgraphs', the proxies' and the issuer's ports).
 */
export function leaksIn(text: string, platform: Platform): string[] {
  const internal = [
    platform.subgraphs.users,
    platform.subgraphs.products,
    platform.subgraphs.orders,
    platform.issuer.url,
    ...Object.values(platform.recorded ?? {}).map((proxy) => proxy.url),
  ].map((url) => new URL(url));
  const patterns: [string, RegExp][] = [
    ['a stack frame', /\bat (?:async )?[\w$.<>]+ \(|\bat (?:file:\/\/)?\/[\w./-]+:\d+:\d+/],
    ['a source location', /\.(?:[cm]?[jt]s|tsx?):\d+/],
    ['a file path', /\/(?:work|home|root|tmp|usr|opt|srv|app)\/|node_modules|file:\/\//],
    ['a loopback address', /127\.0\.0\.1|localhost:|\[::1\]/],
    ['an http(s) URL', /https?:\/\//],
    ...internal.map((url): [string, RegExp] => [`the port of ${url.href}`, new RegExp(`:${url.port}\\b`)]),
    ['the working directory', new RegExp(process.cwd().replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))],
  ];
  return patterns.filter(([, pattern]) => pattern.test(text)).map(([what]) => what);
}

/**
 * Sends a case and reads what the tables compare: its outcome, what leaked, and (for a refusal) what the
 * subgraphs were sent, which must be nothing; `wanted` is the same shape built from the expected outcome.
 */
export async function observeCase(platform: Platform, send: () => Promise<Answer>, expected: Outcome): Promise<{ actual: unknown; wanted: unknown; elapsedMs: number }> {
  const before = recordedCounts(platform);
  const started = performance.now();
  const answer = await send();
  const elapsedMs = performance.now() - started;
  return {
    actual: { ...outcomeOf(answer, expected.data !== undefined), leaks: leaksIn(answer.text, platform), ...(answer.status >= 400 && { sent: sentSince(platform, before) }) },
    wanted: { ...expected, leaks: [], ...(expected.status >= 400 && { sent: { users: [], products: [], orders: [] } }) },
    elapsedMs,
  };
}

/** What a subgraph was sent for clients since `since` (the gateway's background readiness probes left out). */
export function sentSince(platform: Platform, since: Record<SubgraphName, number>): Record<SubgraphName, string[]> {
  const recorded = platform.recorded!;
  const forClients = (name: SubgraphName) => recorded[name].received.slice(since[name]).filter((query) => !query.includes('SwitchyardReadiness'));
  return { users: forClients('users'), products: forClients('products'), orders: forClients('orders') };
}

export type SubgraphName = 'users' | 'products' | 'orders';

export function recordedCounts(platform: Platform): Record<SubgraphName, number> {
  const recorded = platform.recorded!;
  return { users: recorded.users.received.length, products: recorded.products.received.length, orders: recorded.orders.received.length };
}

/** Everything a hostile request could try to change, read straight from each subgraph's database. */
export async function dataSnapshot(platform: Platform): Promise<Record<string, unknown>> {
  const { users, products, orders } = platform.db;
  return {
    stock: await products.query('SELECT id, sku, name, price_cents, stock FROM products ORDER BY id'),
    reservations: await products.query("SELECT status, count(*)::int AS n FROM reservations GROUP BY status ORDER BY status"),
    reservationItems: await products.query('SELECT count(*)::int AS n FROM reservation_items'),
    orders: await orders.query("SELECT user_id, status, count(*)::int AS n, sum(total_cents)::int AS total FROM orders GROUP BY user_id, status ORDER BY user_id, status"),
    orderItems: await orders.query('SELECT count(*)::int AS n, sum(quantity)::int AS quantity FROM order_items'),
    users: await users.query('SELECT id, email, name FROM users ORDER BY id'),
  };
}

/** `{ __typename }` answered by the gateway, and by each subgraph asked directly (signed, as the gateway asks). */
export async function typenames(platform: Platform): Promise<Record<string, unknown>> {
  const body = JSON.stringify({ query: '{ __typename }' });
  const ask = async (url: string, headers: Record<string, string>) => (await fetch(url, { method: 'POST', headers, body })).json();
  return {
    gateway: await ask(platform.gateway.graphqlUrl, { 'content-type': 'application/json' }),
    users: await ask(`${platform.subgraphs.users}/graphql`, signedHeaders('users', body)),
    products: await ask(`${platform.subgraphs.products}/graphql`, signedHeaders('products', body)),
    orders: await ask(`${platform.subgraphs.orders}/graphql`, signedHeaders('orders', body)),
  };
}

export const EVERY_SERVICE_ANSWERS = {
  gateway: { data: { __typename: 'Query' } },
  users: { data: { __typename: 'Query' } },
  products: { data: { __typename: 'Query' } },
  orders: { data: { __typename: 'Query' } },
};

/**
 * Closes a category (call it last in its describe): the data is read before the category's first case,
 * and the category's last test proves that every service still answers and that nothing changed.
 */
export function afterCategory(platform: () => Platform): void {
  let before: Record<string, unknown>;
  beforeAll(async () => {
    before = await dataSnapshot(platform());
  });
  it('afterwards every service answers { __typename } and no stock, order, reservation or user changed', async () => {
    expect(await typenames(platform())).toEqual(EVERY_SERVICE_ANSWERS);
    expect(await dataSnapshot(platform())).toEqual(before);
  });
}
