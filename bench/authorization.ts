/**
 * npm run bench:authz: the authorization stage's cost, side by side in one run, on the replaying
 * subgraphs (bench/replay-subgraphs.ts) and the cross-subgraph query of bench/gateway.ts, signed in
 * with a token that holds every scope the query needs (so nothing is removed):
 *   - off: authorization.directives.enabled false;
 *   - on: directives enforced (the policy read, the principal's grant looked up, the pruning cached).
 * Each gateway is its own process (this checkout under tsx); rounds alternate so machine noise hits
 * both alike; medians are reported. Also times the identity signature the transport adds per subgraph call.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signIdentity } from '@switchyard/service-kit';
import { BENCH_SCOPES, sendLoad, startReplayingSubgraphs } from './load';
import { freePort, spawnService, type WatchedProcess } from '../tests/support/processes';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const QUERY = JSON.stringify({
  query: `{ users(first: 20) { edges { node { name email orders(first: 5) { edges { node { id totalCents user { email }
    items { quantity unitPriceCents product { name priceCents stock } } } } } } } } }`,
});

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
  const file = join(mkdtempSync(join(tmpdir(), 'bench-authz-')), 'gateway.yaml');
  writeFileSync(file, JSON.stringify(c.config));
  c.process = spawnService('gateway/src/main.ts', { ...env, CONFIG_FILE: file, PORT: String(port), LOG_LEVEL: 'error', NODE_ENV: 'production' });
  await c.process.waitFor(/ready at/, 60_000);
  c.url = `http://127.0.0.1:${port}`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Microseconds per signature, as the transport computes one per subgraph request. */
function signatureCost(): number {
  const secret = process.env.IDENTITY_SIGNING_SECRET!;
  const principal = { kind: 'user' as const, id: 'usr_001', scopes: BENCH_SCOPES };
  const n = 100_000;
  const began = performance.now();
  for (let i = 0; i < n; i++) signIdentity(secret, principal, `req-${i}`, Date.now());
  return ((performance.now() - began) * 1000) / n;
}

async function main(): Promise<void> {
  const { env, headers, process: subgraphs, issuer } = await startReplayingSubgraphs();
  // Rate limits and demand control off in both: only authorization differs.
  const common = { demand_control: { enabled: false }, rate_limit: { enabled: false } };
  const contenders: Contender[] = [
    { name: 'authorization off', config: { ...common, authorization: { directives: { enabled: false } } }, results: [] },
    { name: 'authorization on', config: { ...common, authorization: { directives: { enabled: true } } }, results: [] },
  ];
  try {
    for (const c of contenders) await start(c, env);
    process.stdout.write(`query: 100 orders with users and products, as usr_001 with ${BENCH_SCOPES.join(' ')}; ${CONCURRENCY} concurrent clients; ${ROUNDS} rounds of ${SECONDS}s each, alternating\n`);
    for (const c of contenders) await sendLoad(c.name, c.url!, QUERY, SECONDS, CONCURRENCY, headers); // warm-up, discarded
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of contenders) {
        const { rps, p50, p99 } = await sendLoad(c.name, c.url!, QUERY, SECONDS, CONCURRENCY, headers);
        c.results.push({ rps, p50, p99 });
      }
    }
    const rows = contenders.map((c) => ({ name: c.name, rps: median(c.results.map((r) => r.rps)), p50: median(c.results.map((r) => r.p50)), p99: median(c.results.map((r) => r.p99)) }));
    const off = rows[0]!;
    process.stdout.write(`\n${'gateway'.padEnd(22)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'vs off'.padStart(8)}\n`);
    for (const r of rows) {
      const change = `${(((r.rps - off.rps) / off.rps) * 100).toFixed(1)}%`;
      process.stdout.write(`${r.name.padEnd(22)} ${r.rps.toFixed(1).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${change.padStart(8)}\n`);
    }
    process.stdout.write(`(medians of ${ROUNDS} rounds; target: authorization on costs less than 5% of throughput)\n`);
    process.stdout.write(`identity signature (HMAC-SHA256, per subgraph request): ${signatureCost().toFixed(2)} µs\n`);
  } finally {
    for (const c of contenders) c.process?.signal('SIGTERM');
    subgraphs.signal('SIGTERM');
    await issuer.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
