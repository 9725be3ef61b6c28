/**
 * npm run bench:transport: Switchyard's gateway (undici transport, full pipeline) against the bare Apollo
 * Gateway (default make-fetch-happen fetcher), side by side in one run on the same subgraphs and query.
 * Each gateway runs in its own process; rounds alternate A/B so machine noise hits both alike.
 * Reported: throughput, latency, and the gateway process's CPU time per request (from /proc).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import { startOrders } from '../subgraphs/orders/src/main';
import { startProducts } from '../subgraphs/products/src/main';
import { startUsers } from '../subgraphs/users/src/main';
import { freePort, spawnService, type WatchedProcess } from '../tests/support/processes';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const root = resolve(__dirname, '..');
const QUERY = JSON.stringify({
  query: `{ users(first: 20) { edges { node { name orders(first: 5) { edges { node { id totalCents user { email }
    items { quantity unitPriceCents product { name priceCents stock } } } } } } } } }`,
});

interface Contender {
  name: string;
  entry: string;
  process?: WatchedProcess;
  url?: string;
  results: { rps: number; p50: number; p99: number; cpuMsPerRequest: number }[];
}

function cpuMs(pid: number): number {
  // utime + stime in clock ticks (100 per second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** The node process running the gateway: tsx starts it as a child of its own launcher. */
function gatewayPid(launcher: number): number {
  const children = readFileSync(`/proc/${launcher}/task/${launcher}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return children.length ? Number(children[0]) : launcher;
}

async function start(c: Contender, env: Record<string, string>): Promise<void> {
  const port = await freePort();
  c.process = spawnService(c.entry, { ...env, PORT: String(port), LOG_LEVEL: 'error', NODE_ENV: 'production' });
  await c.process.waitFor(/ready at/);
  c.url = `http://127.0.0.1:${port}`;
}

async function load(c: Contender): Promise<void> {
  const pool = new Pool(c.url!, { connections: CONCURRENCY });
  const pid = gatewayPid(c.process!.child.pid!);
  const latencies: number[] = [];
  const cpuBefore = cpuMs(pid);
  const deadline = Date.now() + SECONDS * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const began = performance.now();
      const res = await pool.request({ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' }, body: QUERY });
      const text = await res.body.text();
      if (res.statusCode !== 200 || text.includes('"errors"')) throw new Error(`${c.name}: ${res.statusCode} ${text.slice(0, 200)}`);
      latencies.push(performance.now() - began);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const cpu = cpuMs(pid) - cpuBefore;
  await pool.close();
  latencies.sort((a, b) => a - b);
  c.results.push({
    rps: latencies.length / SECONDS,
    p50: latencies[Math.floor(latencies.length * 0.5)]!,
    p99: latencies[Math.floor(latencies.length * 0.99)]!,
    cpuMsPerRequest: cpu / latencies.length,
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const quiet = { 'server.port': 0, logLevel: 'error', 'database.poolMax': 4 };
  const [users, products] = await Promise.all([startUsers(quiet), startProducts(quiet)]);
  const orders = await startOrders({ ...quiet, 'products.internalUrl': products.url });
  const env = {
    SUPERGRAPH_PATH: join(root, 'gateway', 'supergraph.graphql'),
    SUBGRAPH_USERS_URL: users.graphqlUrl,
    SUBGRAPH_PRODUCTS_URL: products.graphqlUrl,
    SUBGRAPH_ORDERS_URL: orders.graphqlUrl,
  };
  const contenders: Contender[] = [
    { name: 'switchyard gateway (undici transport)', entry: 'gateway/src/main.ts', results: [] },
    { name: 'bare Apollo Gateway (make-fetch-happen)', entry: 'bench/bare-gateway.ts', results: [] },
  ];
  try {
    for (const c of contenders) await start(c, env);
    process.stdout.write(`query: 100 orders with users and products; ${CONCURRENCY} concurrent clients; ${ROUNDS} rounds of ${SECONDS}s each, alternating\n`);
    for (const c of contenders) await load({ ...c, results: [] }); // warm-up, discarded
    for (let round = 0; round < ROUNDS; round++) for (const c of contenders) await load(c);
    const rows = contenders.map((c) => ({
      name: c.name,
      rps: median(c.results.map((r) => r.rps)),
      p50: median(c.results.map((r) => r.p50)),
      p99: median(c.results.map((r) => r.p99)),
      cpu: median(c.results.map((r) => r.cpuMsPerRequest)),
    }));
    process.stdout.write(`\n${'gateway'.padEnd(42)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'gateway CPU ms/req'.padStart(19)}\n`);
    for (const r of rows) {
      process.stdout.write(`${r.name.padEnd(42)} ${r.rps.toFixed(1).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${r.cpu.toFixed(2).padStart(19)}\n`);
    }
    const [ours, bare] = rows as [typeof rows[0], typeof rows[0]];
    process.stdout.write(
      `\nswitchyard / bare: throughput ${(ours.rps / bare.rps).toFixed(2)}x, gateway CPU per request ${(ours.cpu / bare.cpu).toFixed(2)}x (medians of ${ROUNDS} rounds)\n`,
    );
  } finally {
    for (const c of contenders) c.process?.signal('SIGTERM');
    await Promise.all([users.close(), products.close(), orders.close()]);
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
