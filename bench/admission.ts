/**
 * npm run bench:admission: the admission stage's cost, side by side in one run, on the replaying
 * subgraphs (bench/replay-subgraphs.ts) and the cross-subgraph query of bench/gateway.ts:
 *   - off: rate limits and demand control off (operation limits stay: they are part of parsing);
 *   - memory: demand control enforced and rate limits on the in-memory store;
 *   - redis: the same on Redis (REDIS_URL, else a redis-server started here).
 * Limits are high enough never to refuse. Each gateway is its own process (this checkout under tsx);
 * rounds alternate so machine noise hits all alike; medians are reported.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendLoad, startReplayingSubgraphs } from './load';
import { freePort, spawnCommand, spawnService, type WatchedProcess } from '../tests/support/processes';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const QUERY = JSON.stringify({
  query: `{ users(first: 20) { edges { node { name orders(first: 5) { edges { node { id totalCents user { email }
    items { quantity unitPriceCents product { name priceCents stock } } } } } } } } }`,
});
/** One client (the bench) sends everything, so its class must allow all of it. */
const HIGH = { requests: 1_000_000_000, cost: 1_000_000_000_000, window: '1m' };

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

interface Contender {
  name: string;
  config: Record<string, unknown>;
  process?: WatchedProcess;
  url?: string;
  results: Result[];
}

async function start(c: Contender, env: Record<string, string>): Promise<void> {
  const port = await freePort();
  const file = join(mkdtempSync(join(tmpdir(), 'bench-admission-')), 'gateway.yaml');
  writeFileSync(file, JSON.stringify(c.config));
  c.process = spawnService('gateway/src/main.ts', { ...env, CONFIG_FILE: file, PORT: String(port), LOG_LEVEL: 'error', NODE_ENV: 'production' });
  await c.process.waitFor(/ready at/, 60_000);
  c.url = `http://127.0.0.1:${port}`;
}

async function load(c: Contender, headers: Record<string, string>): Promise<Result> {
  const { rps, p50, p99 } = await sendLoad(c.name, c.url!, QUERY, SECONDS, CONCURRENCY, headers);
  return { rps, p50, p99 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  let redis: WatchedProcess | undefined;
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    const port = await freePort();
    redis = spawnCommand('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {});
    await redis.waitFor(/Ready to accept connections/, 10_000);
    redisUrl = `redis://127.0.0.1:${port}`;
  }
  const { env, headers, process: subgraphs, issuer } = await startReplayingSubgraphs();
  const classes = { anonymous: HIGH, user: HIGH };
  const contenders: Contender[] = [
    { name: 'admission off', config: { demand_control: { enabled: false }, rate_limit: { enabled: false } }, results: [] },
    { name: 'on, memory limiter', config: { rate_limit: { enabled: true, store: 'memory', classes } }, results: [] },
    { name: 'on, Redis limiter', config: { rate_limit: { enabled: true, store: 'redis', redis: { url: redisUrl, key_prefix: `bench:${process.pid}:` }, classes } }, results: [] },
  ];
  try {
    for (const c of contenders) await start(c, env);
    process.stdout.write(`query: 100 orders with users and products; ${CONCURRENCY} concurrent clients; ${ROUNDS} rounds of ${SECONDS}s each, alternating\n`);
    for (const c of contenders) await load(c, headers); // warm-up, discarded
    for (let round = 0; round < ROUNDS; round++) for (const c of contenders) c.results.push(await load(c, headers));
    const rows = contenders.map((c) => ({ name: c.name, rps: median(c.results.map((r) => r.rps)), p50: median(c.results.map((r) => r.p50)), p99: median(c.results.map((r) => r.p99)) }));
    const off = rows[0]!;
    process.stdout.write(`\n${'admission'.padEnd(22)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'vs off'.padStart(8)}\n`);
    for (const r of rows) {
      const change = `${(((r.rps - off.rps) / off.rps) * 100).toFixed(1)}%`;
      process.stdout.write(`${r.name.padEnd(22)} ${r.rps.toFixed(1).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${change.padStart(8)}\n`);
    }
    process.stdout.write(`(medians of ${ROUNDS} rounds; target: admission on costs less than 5% of throughput)\n`);
  } finally {
    for (const c of contenders) c.process?.signal('SIGTERM');
    subgraphs.signal('SIGTERM');
    await issuer.close();
    redis?.signal('SIGKILL');
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
