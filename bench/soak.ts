/**
 * npm run bench:soak: does the gateway's memory stay flat under steady load? The compiled `switchyard`
 * command in production with the platform's config (scripts/platform-gateway.yaml, as npm start and the
 * k8s base run it: rate limits, demand control, authorization, retries, breakers, the response cache in
 * memory; no API key file, since the soak signs in with tokens) on the replaying subgraphs
 * (bench/replay-subgraphs.ts). An open-loop client sends BENCH_SOAK_RATE requests a second (default 100)
 * for BENCH_SOAK_MINUTES (default 10), a mix that churns every cache and map the gateway keeps:
 *   - 45% products by id and first pages (public, cacheable: response-cache hits);
 *   - 10% a user list (private: a response-cache entry per principal);
 *   - 15% the cross-subgraph query (100 orders with users and products; stock makes it uncacheable);
 *   - 15% a product search, each string new until the strings come round again (new cache entries);
 *   - 15% a document not seen for a while (more than the gateway's document cache holds: every one is
 *     parsed, validated and planned again);
 * one request in 25 from one hot principal (kept under the platform's 600 requests a minute per user), the
 * rest from BENCH_SOAK_IDENTITIES distinct ones (default 12,000, more than the verified-token cache holds).
 * Every BENCH_SOAK_SAMPLE_SECONDS (default 10) the gateway's memory after a full garbage collection (resident,
 * heap total and used, external; printed by bench/memory-probe.cjs inside it) is recorded with the answers
 * of that window. Printed, and written to
 * bench/results/soak.md: the samples, the slope of resident memory and heap over the last 80% of the run
 * in MB a minute, and the verdict (flat below FLAT_RSS_MB_PER_MINUTE). BENCH_SOAK_SNAPSHOTS=1 writes heap
 * snapshots of the gateway after the warm-up and at the end into bench/results/heap/ (git-ignored), to diff.
 * Everything runs on loopback; requests in flight are capped, so a stalled gateway shows as skipped sends.
 *
 * Every cache the gateway keeps is bounded; a soak asks whether anything is not. So every key space of the
 * mix is finite and seen within the warm-up (the first 20%, left out of the slope), and the response and
 * entity caches are given CACHE_BYTES each instead of the platform's 64 MiB: full by then, they evict from
 * there on (the entity cache keeps a private entity per principal, and there are 12,000 principals).
 * Memory still growing after that is growth no bound holds.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { parse as parseYaml } from 'yaml';
import { PLATFORM_GATEWAY_CONFIG } from '../scripts/platform-gateway';
import { freePort, repoRoot, spawnCommand } from '../tests/support/processes';
import { BENCH_SCOPES, CROSS_SUBGRAPH_QUERY, runBenchmark, startReplayingSubgraphs, writeResults } from './load';
import { FLAT_RSS_MB_PER_MINUTE, soakVerdict, type MemorySample } from './soak-stats';

const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
const RATE = Number(process.env.BENCH_SOAK_RATE ?? 100);
const SAMPLE_SECONDS = Number(process.env.BENCH_SOAK_SAMPLE_SECONDS ?? 10);
const IDENTITIES = Number(process.env.BENCH_SOAK_IDENTITIES ?? 12_000);
const SNAPSHOTS = process.env.BENCH_SOAK_SNAPSHOTS === '1';
/** Beyond this many requests in flight the client skips sends rather than queue without bound. */
const MAX_IN_FLIGHT = 400;
const HEAP_DIR = join(repoRoot, 'bench', 'results', 'heap');
/** Of the response cache, so that it is full before the warm-up ends (its entries come to about 1 MB a minute here). */
const CACHE_BYTES = '512KiB';
/** Distinct search strings and distinct documents, each cycled: 15 of each a second see them all in 100 s. */
const CYCLE = 1500;

const PRODUCT = `query Product($id: ID!) { product(id: $id) { id name priceCents currency } }`;
const PRODUCT_PAGE = `query ProductPage($first: Int!) { products(first: $first) { edges { node { id name priceCents } } } }`;
const SEARCH = `query Search($search: String!) { products(first: 5, search: $search) { edges { node { id name } } } }`;
const USERS = `query Users($first: Int!) { users(first: $first) { edges { node { id name } } } }`;
const productId = (i: number) => `prd_${String((i % 200) + 1).padStart(4, '0')}`;

/** The n-th request's body: the mix above, in a fixed order of twenty. */
export function soakBody(n: number): string {
  const slot = n % 20;
  const round = Math.floor(n / 20);
  if (slot < 6) return JSON.stringify({ query: PRODUCT, variables: { id: productId(n) } });
  if (slot < 9) return JSON.stringify({ query: PRODUCT_PAGE, variables: { first: (round % 20) + 1 } });
  if (slot < 11) return JSON.stringify({ query: USERS, variables: { first: (round % 5) + 1 } });
  if (slot < 14) return CROSS_SUBGRAPH_QUERY;
  const distinct = (round * 3 + (slot % 3)) % CYCLE;
  if (slot < 17) return JSON.stringify({ query: SEARCH, variables: { search: `soak ${distinct}` } });
  return JSON.stringify({ query: `{ soak${distinct}: product(id: "${productId(distinct)}") { id name } }` });
}

/** The platform's gateway config as a file, without the API key file (the soak signs in with tokens) and with small caches. */
function platformConfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-soak-')), 'gateway.yaml');
  const { authentication: _apiKeys, ...platform } = parseYaml(readFileSync(PLATFORM_GATEWAY_CONFIG, 'utf8'));
  const small = { memory: { max_bytes: CACHE_BYTES } };
  writeFileSync(file, JSON.stringify({ ...platform, response_cache: { ...platform.response_cache, ...small }, entity_cache: { ...platform.entity_cache, ...small } }));
  return file;
}

/** One sample as printed: the verdict's figures and the rest of the gateway's memory. */
interface Sample extends MemorySample {
  heapTotalMb: number;
  externalMb: number;
  window: Window;
}

/** What the client saw in one sampling window. */
interface Window {
  answered: number;
  errors: number;
  skipped: number;
  latencies: number[];
  /** Status (or "errors" for a 200 with errors) of the first failures, to print. */
  failures: Map<string, number>;
}

const newWindow = (): Window => ({ answered: 0, errors: 0, skipped: 0, latencies: [], failures: new Map() });
const mb = (bytes: number) => bytes / 1024 / 1024;

async function main(): Promise<void> {
  process.stdout.write('building the switchyard command (npm run build)...\n');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  const { env, process: subgraphs, issuer } = await startReplayingSubgraphs();
  process.stdout.write(`signing ${IDENTITIES} client identities...\n`);
  const tokens = await Promise.all(Array.from({ length: IDENTITIES }, (_, i) => issuer.issue(`soak_client_${i}`, { scopes: BENCH_SCOPES })));
  const port = await freePort();
  if (SNAPSHOTS) mkdirSync(HEAP_DIR, { recursive: true });
  const nodeFlags = ['--expose-gc', '--require', join(repoRoot, 'bench', 'memory-probe.cjs'), ...(SNAPSHOTS ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${HEAP_DIR}`] : [])];
  const gateway = spawnCommand(process.execPath, [...nodeFlags, join(repoRoot, 'node_modules', '.bin', 'switchyard')], {
    ...env,
    CONFIG_FILE: platformConfig(),
    PORT: String(port),
    LOG_LEVEL: 'error',
    NODE_ENV: 'production',
    SOAK_SAMPLE_MS: String(SAMPLE_SECONDS * 1000),
  });
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64 });
  const samples: Sample[] = [];
  let window = newWindow();
  let began = 0;
  gateway.child.stdout!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.startsWith('soak-memory ') || !began) continue;
      const { at, rss, heapTotal, heapUsed, external } = JSON.parse(line.slice('soak-memory '.length)) as Record<'at' | 'rss' | 'heapTotal' | 'heapUsed' | 'external', number>;
      const sample = { seconds: Math.round((at - began) / 1000), rssMb: mb(rss), heapTotalMb: mb(heapTotal), heapUsedMb: mb(heapUsed), externalMb: mb(external), window };
      samples.push(sample);
      window = newWindow();
      printSample(sample);
    }
  });
  try {
    await gateway.waitFor(/ready at/, 60_000);
    process.stdout.write(`${RATE} requests/s open-loop for ${MINUTES} min, sampled every ${SAMPLE_SECONDS}s\n${'s'.padStart(5)} ${'RSS MB'.padStart(8)} ${'heap tot'.padStart(8)} ${'heap use'.padStart(8)} ${'extern'.padStart(7)} ${'answered'.padStart(9)} ${'errors'.padStart(7)} ${'skipped'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)}\n`);
    let inFlight = 0;
    let sent = 0;
    const send = async (n: number) => {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${tokens[n % 25 === 0 ? 0 : n % tokens.length]}` };
      const start = performance.now();
      const w = window;
      try {
        const res = await pool.request({ method: 'POST', path: '/graphql', headers, body: soakBody(n) });
        const text = await res.body.text();
        const failure = res.statusCode !== 200 ? String(res.statusCode) : text.includes('"errors"') ? `200 with errors: ${text.slice(0, 160)}` : undefined;
        if (failure) {
          w.errors++;
          w.failures.set(failure, (w.failures.get(failure) ?? 0) + 1);
        } else {
          w.answered++;
          w.latencies.push(performance.now() - start);
        }
      } catch (err) {
        w.errors++;
        const failure = (err as Error).message;
        w.failures.set(failure, (w.failures.get(failure) ?? 0) + 1);
      }
    };
    began = Date.now();
    const end = began + MINUTES * 60_000;
    const snapshotAt = began + MINUTES * 60_000 * 0.2;
    let snapshotted = false;
    // Every 10 ms, send what is due by now: the rate holds however long answers take (open loop).
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - began) / 1000) * RATE);
      for (; sent < due; sent++) {
        if (inFlight >= MAX_IN_FLIGHT) {
          window.skipped++;
          continue;
        }
        inFlight++;
        void send(sent).finally(() => inFlight--);
      }
      if (SNAPSHOTS && !snapshotted && Date.now() >= snapshotAt) {
        snapshotted = true;
        process.kill(gateway.child.pid!, 'SIGUSR2');
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    // The last sample lands at most one interval after the load ends; wait for it.
    const want = Math.floor((MINUTES * 60) / SAMPLE_SECONDS);
    const waitUntil = Date.now() + (SAMPLE_SECONDS + 5) * 1000;
    while (samples.length < want && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 200));
    if (SNAPSHOTS) process.kill(gateway.child.pid!, 'SIGUSR2');
    writeReport(samples);
    if (SNAPSHOTS) {
      // Writing a snapshot stops the gateway for seconds; let the second one finish before SIGTERM.
      await new Promise((r) => setTimeout(r, 30_000));
      process.stdout.write(`heap snapshots in ${HEAP_DIR}\n`);
    }
  } finally {
    await pool.close();
    gateway.signal('SIGTERM');
    subgraphs.signal('SIGTERM');
    await issuer.close();
  }
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)] ?? NaN;

function printSample({ seconds, rssMb, heapTotalMb, heapUsedMb, externalMb, window: w }: Sample): void {
  process.stdout.write(
    `${String(seconds).padStart(5)} ${rssMb.toFixed(1).padStart(8)} ${heapTotalMb.toFixed(1).padStart(8)} ${heapUsedMb.toFixed(1).padStart(8)} ${externalMb.toFixed(1).padStart(7)} ${String(w.answered).padStart(9)} ${String(w.errors).padStart(7)} ` +
      `${String(w.skipped).padStart(8)} ${quantile(w.latencies, 0.5).toFixed(1).padStart(7)} ${quantile(w.latencies, 0.99).toFixed(1).padStart(7)}\n`,
  );
  for (const [failure, count] of w.failures) process.stdout.write(`      ${count}x ${failure}\n`);
}

function writeReport(samples: Sample[]): void {
  const verdict = soakVerdict(samples, MINUTES * 60);
  const total = (key: 'answered' | 'errors' | 'skipped') => samples.reduce((sum, s) => sum + s.window[key], 0);
  const failures = new Map<string, number>();
  for (const s of samples) for (const [failure, count] of s.window.failures) failures.set(failure, (failures.get(failure) ?? 0) + count);
  const summary =
    `resident memory ${verdict.rssSlope.toFixed(2)} MB/min, used heap (after a full GC) ${verdict.heapSlope.toFixed(2)} MB/min over the last 80% of the run: ` +
    (verdict.flat ? `FLAT (below ${FLAT_RSS_MB_PER_MINUTE} MB/min)` : `GROWING (${FLAT_RSS_MB_PER_MINUTE} MB/min or more)`);
  const lines = [
    '# npm run bench:soak',
    '',
    `${new Date().toISOString()}, Node ${process.version}: the compiled gateway with the platform's config on the replaying subgraphs, ` +
      `${RATE} requests/s open-loop for ${MINUTES} min (the mix in bench/soak.ts; ${IDENTITIES} identities and one hot one; response and entity caches ${CACHE_BYTES} each), memory sampled every ${SAMPLE_SECONDS}s.`,
    '',
    `**${summary}.** Answered ${total('answered')}, errors ${total('errors')}, skipped sends (over ${MAX_IN_FLIGHT} in flight) ${total('skipped')}.`,
    ...[...failures].map(([failure, count]) => `- ${count}x ${failure}`),
    '',
    '| s | RSS MB | heap total MB | heap used MB | external MB | answered | errors | skipped | p50 ms | p99 ms |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...samples.map(
      ({ seconds, rssMb, heapTotalMb, heapUsedMb, externalMb, window: w }) =>
        `| ${seconds} | ${rssMb.toFixed(1)} | ${heapTotalMb.toFixed(1)} | ${heapUsedMb.toFixed(1)} | ${externalMb.toFixed(1)} | ${w.answered} | ${w.errors} | ${w.skipped} | ${quantile(w.latencies, 0.5).toFixed(1)} | ${quantile(w.latencies, 0.99).toFixed(1)} |`,
    ),
  ];
  process.stdout.write(`\n${summary}\n`);
  writeResults('soak.md', lines, { print: false });
}

if (require.main === module) runBenchmark(main);
