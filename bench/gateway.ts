/**
 * npm run bench:gateway: the gateway alone, side by side in one run, on the same replaying subgraphs
 * (bench/replay-subgraphs.ts) and the same cross-subgraph query:
 *   - switchyard: this checkout's `switchyard` command (compiled JavaScript, the full pipeline);
 *   - switchyard without metrics: the same with telemetry.exporters.metrics.prometheus.enabled false,
 *     which records no metrics at all, to price them;
 *   - switchyard with dedupe off: every client sends the same query, which in-flight dedupe (on by
 *     default) collapses; off, each request is executed and fetched on its own;
 *   - switchyard with resilience on: the platform's retries, breakers, deadlines and criticality, to price them;
 *   - switchyard with header rules on: request and response rules and the merged Cache-Control, to price them;
 *   - switchyard, response cache off and on: both sent CACHE_MIX instead (repeated product queries, a few
 *     uncacheable or never repeated), the second with the response cache in memory; its hit rate is read
 *     from the gateway's /metrics around every measured round;
 *   - baseline: an earlier commit's gateway as it ran then (BENCH_BASELINE, default the commit before
 *     the Fastify edge), under tsx;
 *   - bare: Apollo Gateway as its documentation shows it (bench/bare-gateway.ts).
 * Each gateway is its own process; rounds alternate so machine noise hits all alike. Reported:
 * throughput, latency, the gateway process's CPU time per request and its resident memory (from /proc).
 * BENCH_ONLY (keys, comma-separated: switchyard, metrics-off, dedupe-off, resilience-on, header-rules,
 * cache-off, cache-on, baseline, bare) runs only those contenders, to make a run short.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readSupergraphFile } from '../gateway/src/execution/supergraph';
import { freePort, spawnCommand, spawnService, type WatchedProcess } from '../tests/support/processes';
import { scrapeMetrics } from '../tests/support/prometheus';
import { prepareBaseline } from './baseline';
import { CROSS_SUBGRAPH_QUERY, sendLoad, startReplayingSubgraphs } from './load';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const BASELINE = process.env.BENCH_BASELINE ?? '6bec66e';
const root = resolve(__dirname, '..');
const QUERY = CROSS_SUBGRAPH_QUERY;
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());

const PRODUCT = `query Product($id: ID!) { product(id: $id) { id name priceCents currency } }`;
const PRODUCT_PAGE = `query ProductPage($first: Int!) { products(first: $first) { edges { node { id name priceCents } } } }`;
const STOCK = `query Stock { products(first: 10) { edges { node { id name stock } } } }`;
const SEARCH = `query Search($search: String!) { products(first: 5, search: $search) { edges { node { id name } } } }`;

/**
 * The n-th request of the response cache's mix, in a fixed order of twenty: 18 product queries out of 40
 * (30 products by id, the first 1 to 10 products: public for a minute in the products subgraph's cache
 * hints, so cacheable), one with stock (never cacheable) and one search for a string never sent before
 * (cacheable, but never asked again).
 */
export function cacheMixBody(n: number): string {
  const slot = n % 20;
  if (slot === 18) return JSON.stringify({ query: STOCK });
  if (slot === 19) return JSON.stringify({ query: SEARCH, variables: { search: `bench ${n}` } });
  const pick = n % 40;
  return pick < 30
    ? JSON.stringify({ query: PRODUCT, variables: { id: `prd_${String(pick + 1).padStart(4, '0')}` } })
    : JSON.stringify({ query: PRODUCT_PAGE, variables: { first: pick - 29 } });
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  rssMb: number;
  /** The response cache's hits and misses during the round, when it is on. */
  cache?: { hits: number; misses: number };
}

interface Contender {
  /** What BENCH_ONLY names it by. */
  key: string;
  name: string;
  /** What its clients send: the cross-subgraph query unless said. */
  operation?: (request: number) => string;
  /** Its response cache is on: its hit rate is read from /metrics. */
  cached?: boolean;
  launch: (env: Record<string, string>) => WatchedProcess;
  process?: WatchedProcess;
  url?: string;
  results: Result[];
}

function procStat(pid: number): { cpuMs: number; rssMb: number } {
  // utime + stime in clock ticks (100 per second on Linux); resident set from status.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
  return { cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100, rssMb: Number(rss) / 1024 };
}

async function start(c: Contender, env: Record<string, string>): Promise<void> {
  const port = await freePort();
  c.process = c.launch({ ...env, PORT: String(port), LOG_LEVEL: 'error', NODE_ENV: 'production' });
  await c.process.waitFor(/ready at/, 60_000);
  c.url = `http://127.0.0.1:${port}`;
}

async function cacheCounts(c: Contender): Promise<{ hits: number; misses: number }> {
  const scrape = await scrapeMetrics(c.url!);
  return { hits: scrape.value('switchyard_response_cache_hits_total'), misses: scrape.value('switchyard_response_cache_misses_total') };
}

async function load(c: Contender, headers: Record<string, string>): Promise<Result> {
  // Every contender is a node process of its own (tsx is loaded with --import, not as a parent process).
  const pid = c.process!.child.pid!;
  const cacheBefore = c.cached ? await cacheCounts(c) : undefined;
  const before = procStat(pid);
  const { rps, p50, p99, requests } = await sendLoad(c.name, c.url!, c.operation ?? QUERY, SECONDS, CONCURRENCY, headers);
  const after = procStat(pid);
  const cacheAfter = c.cached ? await cacheCounts(c) : undefined;
  const cache = cacheBefore && cacheAfter && { hits: cacheAfter.hits - cacheBefore.hits, misses: cacheAfter.misses - cacheBefore.misses };
  return { rps, p50, p99, cpuMsPerRequest: (after.cpuMs - before.cpuMs) / requests, rssMb: after.rssMb, cache };
}

interface Row {
  key: string;
  name: string;
  rps: number;
  p50: number;
  p99: number;
  cpu: number;
  rss: number;
}

/** The platform's subgraph-call settings (scripts/platform-gateway.yaml) as env vars: retries, breakers, deadlines, criticality. */
const RESILIENCE_ON = { REQUEST_TIMEOUT: '15s', SUBGRAPH_TIMEOUT: '5s', SUBGRAPH_RETRY: 'true', CIRCUIT_BREAKER: 'true', CRITICAL_SUBGRAPHS: 'users,products' };

/**
 * Header rules both ways and the merged Cache-Control, as a deployment might set them: client headers
 * forwarded to every subgraph, and subgraph headers propagated back. Caching stays off.
 */
function headerRulesConfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-headers-')), 'gateway.yaml');
  const rules = {
    cache_control: { enabled: true },
    headers: {
      all: {
        request: [{ propagate: { named: 'accept-language' } }, { propagate: { matching: '^x-feature-' } }, { insert: { name: 'x-client-name', from_context: 'client_name' } }],
        response: [{ propagate: { named: 'set-cookie' } }, { propagate: { named: 'x-served-by', algorithm: 'append' } }],
      },
    },
  };
  writeFileSync(file, JSON.stringify(rules));
  return file;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A copy of the supergraph as ApolloGateway gets it from our supergraph manager: no @authenticated/@requiresScopes. */
function withoutSecurityFeatures(path: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-supergraph-')), 'supergraph.graphql');
  writeFileSync(file, readSupergraphFile(path, {}).gatewaySdl);
  return file;
}

async function main(): Promise<void> {
  const switchyard = (e: Record<string, string>) => spawnCommand(process.execPath, [join(root, 'node_modules', '.bin', 'switchyard')], e);
  const all: Contender[] = [
    { key: 'switchyard', name: 'switchyard (compiled CLI)', launch: switchyard, results: [] },
    { key: 'metrics-off', name: 'switchyard, metrics off', launch: (e) => switchyard({ ...e, METRICS_PROMETHEUS: 'false' }), results: [] },
    // Every client sends the same query with the same token, so in-flight dedupe collapses most of the work.
    { key: 'dedupe-off', name: 'switchyard, dedupe off', launch: (e) => switchyard({ ...e, OPERATION_DEDUPE: 'false', SUBGRAPH_DEDUPLICATE_QUERY: 'false' }), results: [] },
    { key: 'resilience-on', name: 'switchyard, resilience on', launch: (e) => switchyard({ ...e, ...RESILIENCE_ON }), results: [] },
    { key: 'header-rules', name: 'switchyard, header rules on', launch: (e) => switchyard({ ...e, CONFIG_FILE: headerRulesConfig() }), results: [] },
    { key: 'cache-off', name: 'switchyard, cache off (mix)', operation: cacheMixBody, launch: switchyard, results: [] },
    { key: 'cache-on', name: 'switchyard, cache on (mix)', operation: cacheMixBody, cached: true, launch: (e) => switchyard({ ...e, RESPONSE_CACHE: 'true' }), results: [] },
    {
      key: 'baseline',
      name: `baseline ${BASELINE} (tsx)`,
      // The baseline predates the security features, which its ApolloGateway refuses: it gets the supergraph without them.
      launch: (e) => spawnService('gateway/src/main.ts', { ...e, SUPERGRAPH_PATH: withoutSecurityFeatures(e.SUPERGRAPH_PATH!) }, prepareBaseline(root, BASELINE).dir),
      results: [],
    },
    { key: 'bare', name: 'bare Apollo Gateway', launch: (e) => spawnService('bench/bare-gateway.ts', e), results: [] },
  ];
  const unknown = ONLY?.filter((key) => !all.some((c) => c.key === key)) ?? [];
  if (unknown.length) throw new Error(`BENCH_ONLY: no contender ${unknown.join(', ')}; there are ${all.map((c) => c.key).join(', ')}`);
  const contenders = all.filter((c) => !ONLY || ONLY.includes(c.key));
  process.stdout.write('building the switchyard command (npm run build)...\n');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const { env, headers, process: subgraphs, issuer } = await startReplayingSubgraphs();
  try {
    for (const c of contenders) await start(c, env);
    process.stdout.write(
      `query: 100 orders with users and products (the cache rows: the product mix of cacheMixBody); ${CONCURRENCY} concurrent clients; ${ROUNDS} rounds of ${SECONDS}s each, alternating\n`,
    );
    for (const c of contenders) await load(c, headers); // warm-up (and the replaying subgraphs learn the query), discarded
    for (let round = 0; round < ROUNDS; round++) for (const c of contenders) c.results.push(await load(c, headers));
    const rows: Row[] = contenders.map((c) => ({
      key: c.key,
      name: c.name,
      rps: median(c.results.map((r) => r.rps)),
      p50: median(c.results.map((r) => r.p50)),
      p99: median(c.results.map((r) => r.p99)),
      cpu: median(c.results.map((r) => r.cpuMsPerRequest)),
      rss: Math.max(...c.results.map((r) => r.rssMb)),
    }));
    const head = `${'gateway'.padEnd(30)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'CPU ms/req'.padStart(11)} ${'RSS MB'.padStart(8)}`;
    process.stdout.write(`\n${head}\n`);
    for (const r of rows) {
      process.stdout.write(
        `${r.name.padEnd(30)} ${r.rps.toFixed(1).padStart(8)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${r.cpu.toFixed(2).padStart(11)} ${r.rss.toFixed(0).padStart(8)}\n`,
      );
    }
    const row = (key: string) => rows.find((r) => r.key === key);
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    // Each comparison whose two contenders ran.
    const comparisons: [string, string, string][] = [
      ['switchyard / bare:    ', 'switchyard', 'bare'],
      ['switchyard / baseline:', 'switchyard', 'baseline'],
      ['metrics on / off:     ', 'switchyard', 'metrics-off'],
      ['dedupe off / bare:    ', 'dedupe-off', 'bare'],
      ['header rules on / off:', 'header-rules', 'switchyard'],
      ['resilience on / off:  ', 'resilience-on', 'switchyard'],
      ['cache on / off (mix): ', 'cache-on', 'cache-off'],
    ];
    process.stdout.write('\n');
    for (const [label, a, b] of comparisons) {
      const [x, y] = [row(a), row(b)];
      if (x && y) process.stdout.write(`${label} throughput ${ratio(x.rps, y.rps)}, CPU per request ${ratio(x.cpu, y.cpu)}, memory ${ratio(x.rss, y.rss)}\n`);
    }
    const cached = contenders.find((c) => c.cached);
    if (cached) {
      const hits = cached.results.reduce((sum, r) => sum + r.cache!.hits, 0);
      const misses = cached.results.reduce((sum, r) => sum + r.cache!.misses, 0);
      process.stdout.write(`response cache hit rate (mix, measured rounds): ${((hits / (hits + misses)) * 100).toFixed(1)}% (${hits} hits, ${misses} misses)\n`);
    }
    process.stdout.write(`(medians of ${ROUNDS} rounds; memory is the largest resident set seen after a round)\n`);
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
