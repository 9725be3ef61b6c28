import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { startDevIssuer, type DevIssuer } from '@switchyard/dev-tools/dev-issuer';
import { freePort, repoRoot, spawnService, type WatchedProcess } from '../tests/support/processes';

// Shared by every process the benchmark spawns (they inherit the environment), as npm start does.
process.env.IDENTITY_SIGNING_SECRET ??= randomBytes(32).toString('hex');

/** What the benchmarks' token may do: list users and read everyone's orders, as the cross-subgraph query needs. */
export const BENCH_SCOPES = ['users:read', 'orders:read', 'orders:read:any'];

export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
export const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

/** The cross-subgraph query every benchmark sends: 20 users, 5 orders each, their items and products. */
export const CROSS_SUBGRAPH_QUERY = JSON.stringify({
  query: `{ users(first: 20) { edges { node { name orders(first: 5) { edges { node { id totalCents user { email }
    items { quantity unitPriceCents product { name priceCents stock } } } } } } } } }`,
});

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Answers that were not a 200 without errors (counted only with countErrors; otherwise the first one stops the run). */
  errors: number;
}

/** One request of an operation: a path on the load's origin and the JSON body POSTed there. */
export interface Post {
  path: string;
  body: string;
}

/**
 * Sends `operation` (with `headers`, or the headers for the n-th request) to `url` from `concurrency` clients
 * for `seconds`, each waiting for its answer before the next request. An operation is a body for /graphql,
 * posts sent one after the other, or the n-th request's body for /graphql (a mix of queries). Any answer that
 * is not a 200 without errors stops the run, unless `countErrors`, when it is counted and left out of the
 * latencies and throughput.
 */
export async function sendLoad(
  name: string,
  url: string,
  operation: string | Post[] | ((request: number) => string),
  seconds: number,
  concurrency: number,
  headers: Record<string, string> | ((request: number) => Record<string, string>) = {},
  { countErrors = false } = {},
): Promise<LoadResult> {
  const postsOf =
    typeof operation === 'function' ? (n: number) => [{ path: '/graphql', body: operation(n) }] : () => (typeof operation === 'string' ? [{ path: '/graphql', body: operation }] : operation);
  const headersOf = typeof headers === 'function' ? headers : () => headers;
  const pool = new Pool(url, { connections: concurrency });
  const latencies: number[] = [];
  let sent = 0;
  let errors = 0;
  const post = async ({ path, body }: Post, requestHeaders: Record<string, string>) => {
    const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json', ...requestHeaders }, body });
    const text = await res.body.text();
    if (res.statusCode !== 200 || text.includes('"errors"')) throw new Error(`${name}: ${res.statusCode} ${text.slice(0, 200)}`);
  };
  const deadline = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const began = performance.now();
      const request = sent++;
      const requestHeaders = headersOf(request);
      try {
        for (const p of postsOf(request)) await post(p, requestHeaders);
      } catch (err) {
        if (!countErrors) throw err;
        errors++;
        continue;
      }
      latencies.push(performance.now() - began);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await pool.close();
  }
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / seconds,
    p50: latencies[Math.floor(latencies.length * 0.5)] ?? NaN,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
    requests: latencies.length,
    errors,
  };
}

/**
 * Starts bench/replay-subgraphs.ts and a development token issuer, and returns the env that points a
 * gateway at them (the committed supergraph, each subgraph's replaying URL, the issuer), the headers
 * that sign a request in as usr_001 with BENCH_SCOPES, the subgraphs' process and the issuer, to stop.
 */
export async function startReplayingSubgraphs(): Promise<{
  env: Record<string, string>;
  headers: Record<string, string>;
  process: WatchedProcess;
  /** The issuer, to sign more identities with and to close. */
  issuer: DevIssuer;
}> {
  const issuer = await startDevIssuer({ port: 0 });
  // Valid for the whole run: the benchmark measures verification, not token refresh.
  const token = await issuer.issue('usr_001', { scopes: BENCH_SCOPES });
  const subgraphs = spawnService('bench/replay-subgraphs.ts', {});
  const urls = JSON.parse(/subgraphs ready (.*)/.exec(await subgraphs.waitFor(/subgraphs ready .*\n/, 60_000))![1]!) as Record<string, string>;
  return {
    process: subgraphs,
    issuer,
    headers: { authorization: `Bearer ${token}` },
    env: {
      JWT_JWKS_URL: issuer.jwksUrl,
      JWT_ISSUER: issuer.issuer,
      JWT_AUDIENCE: issuer.audience,
      SUPERGRAPH_PATH: join(repoRoot, 'gateway', 'supergraph.graphql'),
      SUBGRAPH_USERS_URL: urls.users!,
      SUBGRAPH_PRODUCTS_URL: urls.products!,
      SUBGRAPH_ORDERS_URL: urls.orders!,
    },
  };
}

/** Starts this checkout's gateway (under tsx) with `config` as its file, on the replaying subgraphs' `env`. */
export async function startBenchGateway(config: Record<string, unknown>, env: Record<string, string>): Promise<{ url: string; process: WatchedProcess }> {
  const port = await freePort();
  const file = join(mkdtempSync(join(tmpdir(), 'bench-gateway-')), 'gateway.yaml');
  writeFileSync(file, JSON.stringify(config));
  const gateway = spawnService('gateway/src/main.ts', { ...env, CONFIG_FILE: file, PORT: String(port), LOG_LEVEL: 'error', NODE_ENV: 'production' });
  await gateway.waitFor(/ready at/, 60_000);
  return { url: `http://127.0.0.1:${port}`, process: gateway };
}

/** One line of a comparison: a gateway URL and the headers its requests carry. */
export interface Variant {
  name: string;
  url: string;
  headers: Record<string, string>;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Several rounds' results as one: the median of each figure, and every error of every round. */
export function medianOf(rs: LoadResult[]): LoadResult {
  const of = (key: keyof LoadResult) => median(rs.map((r) => r[key]));
  return { rps: of('rps'), p50: of('p50'), p99: of('p99'), requests: of('requests'), errors: rs.reduce((sum, r) => sum + r.errors, 0) };
}

/**
 * Loads every variant with the cross-subgraph query: one warm-up each (discarded), then ROUNDS rounds in
 * turn, so machine noise hits all alike, and returns each variant's medians.
 */
export async function compareVariants(variants: Variant[]): Promise<(LoadResult & { name: string })[]> {
  process.stdout.write(`query: 100 orders with users and products; ${CONCURRENCY} concurrent clients; ${ROUNDS} rounds of ${SECONDS}s each, alternating\n`);
  for (const v of variants) await sendLoad(v.name, v.url, CROSS_SUBGRAPH_QUERY, 1, CONCURRENCY, v.headers);
  const results = new Map<string, LoadResult[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of variants) results.get(v.name)!.push(await sendLoad(v.name, v.url, CROSS_SUBGRAPH_QUERY, SECONDS, CONCURRENCY, v.headers));
  }
  return variants.map(({ name }) => {
    const rs = results.get(name)!;
    return { name, ...medianOf(rs) };
  });
}

/** Prints the medians as a table, each row's throughput against the first row's. */
export function printComparison(heading: string, rows: (LoadResult & { name: string })[], target: string): void {
  const first = rows[0]!;
  process.stdout.write(`\n${heading.padEnd(22)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${`vs ${first.name}`.padStart(16)}\n`);
  for (const r of rows) {
    const change = `${(((r.rps - first.rps) / first.rps) * 100).toFixed(1)}%`;
    process.stdout.write(`${r.name.padEnd(22)} ${r.rps.toFixed(1).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${change.padStart(16)}\n`);
  }
  process.stdout.write(`(medians of ${ROUNDS} rounds; target: ${target})\n`);
}

/** Writes a report to bench/results/<file>, printing it first unless told not to, and says where. */
export function writeResults(file: string, lines: readonly string[], { print = true } = {}): void {
  const report = `${lines.join('\n')}\n`;
  if (print) process.stdout.write(`\n${report}`);
  const path = join(repoRoot, 'bench', 'results', file);
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(path, report);
  process.stdout.write(`\nwritten to ${path}\n`);
}

/** Runs a benchmark's main, printing its error and failing the process if it throws. */
export function runBenchmark(main: () => Promise<void>): void {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  });
}
