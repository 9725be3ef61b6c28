import { join } from 'node:path';
import { Pool } from 'undici';
import { repoRoot, spawnService, type WatchedProcess } from '../tests/support/processes';

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
 * Starts bench/replay-subgraphs.ts and returns the env that points a gateway at it (the committed
 * supergraph, each subgraph's replaying URL) and the process, to stop when the benchmark ends.
 */
export async function startReplayingSubgraphs(): Promise<{ env: Record<string, string>; process: WatchedProcess }> {
  const subgraphs = spawnService('bench/replay-subgraphs.ts', {});
  const urls = JSON.parse(/subgraphs ready (.*)/.exec(await subgraphs.waitFor(/subgraphs ready .*\n/, 60_000))![1]!) as Record<string, string>;
  return {
    process: subgraphs,
    env: {
      SUPERGRAPH_PATH: join(repoRoot, 'gateway', 'supergraph.graphql'),
      SUBGRAPH_USERS_URL: urls.users!,
      SUBGRAPH_PRODUCTS_URL: urls.products!,
      SUBGRAPH_ORDERS_URL: urls.orders!,
    },
  };
}
