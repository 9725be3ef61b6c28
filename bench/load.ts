import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Pool } from 'undici';
import { startDevIssuer } from '../scripts/dev-issuer';
import { repoRoot, spawnService, type WatchedProcess } from '../tests/support/processes';

// Shared by every process the benchmark spawns (they inherit the environment), as npm start does.
process.env.IDENTITY_SIGNING_SECRET ??= randomBytes(32).toString('hex');

/** What the benchmarks' token may do: list users and read everyone's orders, as the cross-subgraph query needs. */
export const BENCH_SCOPES = ['users:read', 'orders:read', 'orders:read:any'];

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
}

/**
 * Sends `body` (with `headers`) to `${url}/graphql` from `concurrency` clients for `seconds`, each waiting for its answer
 * before the next request; any answer that is not a 200 without errors stops the run.
 */
export async function sendLoad(
  name: string,
  url: string,
  body: string,
  seconds: number,
  concurrency: number,
  headers: Record<string, string> = {},
): Promise<LoadResult> {
  const pool = new Pool(url, { connections: concurrency });
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const began = performance.now();
      const res = await pool.request({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', ...headers }, body });
      const text = await res.body.text();
      if (res.statusCode !== 200 || text.includes('"errors"')) throw new Error(`${name}: ${res.statusCode} ${text.slice(0, 200)}`);
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
    p50: latencies[Math.floor(latencies.length * 0.5)]!,
    p99: latencies[Math.floor(latencies.length * 0.99)]!,
    requests: latencies.length,
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
  issuer: { close(): Promise<void> };
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
