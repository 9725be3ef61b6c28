import { Pool } from 'undici';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
}

/**
 * Sends `body` to `${url}/graphql` from `concurrency` clients for `seconds`, each waiting for its answer
 * before the next request; any answer that is not a 200 without errors stops the run.
 */
export async function sendLoad(name: string, url: string, body: string, seconds: number, concurrency: number): Promise<LoadResult> {
  const pool = new Pool(url, { connections: concurrency });
  const latencies: number[] = [];
  const deadline = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const began = performance.now();
      const res = await pool.request({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' }, body });
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
